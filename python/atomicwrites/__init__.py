"""Atomic, durable file writes; a drop-in replacement for Python atomicwrites 1.4.1.

    from atomicwrites import atomic_write

    with atomic_write("settings.json", overwrite=True) as f:
        f.write("...")

The file appears at its path, whole, when the block ends without an exception; readers and
crashes see the old content or the new one. The flush, rename and directory flush run in
the C++ atomicwrites core. Beyond 1.4.1 the writer takes, as keyword arguments:

    durability  "durable" (default): the new content survives a power cut once the block
                has ended; "consistent": after a crash, old or new; "none": no flush.
    mode_bits   permission bits of the new file (e.g. 0o600). Default: a replaced file's
                bits are kept; a new file gets 0o666 & ~umask (1.4.1 left every file 0o600).
    preserve    keep a replaced file's mode and owner (default True).
    symlinks    "follow" (default), "replace" or "refuse", for a target that is a link.
"""

import contextlib
import io
import os
import sys
import tempfile

from . import _atomicwrites as _core

__version__ = "1.4.1+cpp." + _core.core_version
__all__ = ["AtomicWriter", "atomic_write", "move_atomic", "replace_atomic"]

DEFAULT_MODE = "w"


def _encoded(path):
    return os.fsencode(os.fspath(path))


def replace_atomic(src, dst, durability="durable"):
    """Move ``src`` to ``dst``, replacing ``dst`` if it exists, in one atomic step.

    Both must be on the same filesystem. Durable by default: ``src``'s data is flushed
    first and the directories afterwards.
    """
    _core.replace_atomic(_encoded(src), _encoded(dst), durability)


def move_atomic(src, dst, durability="durable"):
    """Move ``src`` to ``dst`` in one atomic step; raise FileExistsError if ``dst`` exists."""
    _core.move_atomic(_encoded(src), _encoded(dst), durability)


def remove_stale_temp_files(directory, older_than=3600):
    """Remove temporary files that killed writers left in ``directory`` (only ours) and that
    are at least ``older_than`` seconds old. Return how many were removed."""
    return _core.remove_stale_temp_files(_encoded(directory), older_than)


def _full_fsync(fd):
    # Where the platform has a stronger flush than fsync (macOS), use it.
    try:
        import fcntl
        if hasattr(fcntl, "F_FULLFSYNC"):
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
            return
    except ImportError:
        pass
    os.fsync(fd)


class AtomicWriter(object):
    """A helper class for performing atomic writes. Usage::

        with AtomicWriter(path).open() as f:
            f.write(...)

    :param path: The destination path (str, bytes or path-like).
    :param mode: The mode for the temporary file; must contain ``w`` and neither ``a`` nor
        ``x``. Text (``"w"``) and binary (``"wb"``) are both fine.
    :param overwrite: If set to False, a FileExistsError is raised when the block ends if
        the target exists (the data has been written by then). Defaults to False.
    :param durability, mode_bits, preserve, symlinks: see the module's documentation.

    Other keyword arguments (``encoding``, ``newline``, ``buffering``, ...) are passed to
    :func:`io.open`. Subclasses may override :meth:`get_fileobject`, :meth:`sync`,
    :meth:`commit` and :meth:`rollback`.
    """

    def __init__(self, path, mode=DEFAULT_MODE, overwrite=False, *, durability="durable",
                 mode_bits=None, preserve=True, symlinks="follow", **open_kwargs):
        if "a" in mode:
            raise ValueError(
                "appending is not supported: an atomic write replaces the whole file; "
                "open with 'w' and copy the old content yourself if you need it")
        if "x" in mode:
            raise ValueError("use overwrite=False instead of mode 'x'")
        if "w" not in mode:
            raise ValueError("an AtomicWriter can only write: the mode must contain 'w'")
        if durability not in ("none", "consistent", "durable"):
            raise ValueError("durability must be 'none', 'consistent' or 'durable'")
        if symlinks not in ("follow", "replace", "refuse"):
            raise ValueError("symlinks must be 'follow', 'replace' or 'refuse'")
        if mode_bits is not None and not 0 <= mode_bits <= 0o7777:
            raise ValueError("mode_bits must be between 0 and 0o7777")
        self._path = os.fspath(path)
        self._mode = mode
        self._overwrite = overwrite
        self._open_kwargs = open_kwargs
        self._durability = durability
        self._mode_bits = mode_bits
        self._preserve = preserve
        self._symlinks = symlinks
        self._staged = None  # the core's write behind the file from get_fileobject()
        self._file = None

    def open(self):
        """Open the temporary file; a context manager that commits when its block ends."""
        return self._open(self.get_fileobject)

    @contextlib.contextmanager
    def _open(self, get_fileobject):
        f = None
        try:
            f = get_fileobject(**self._open_kwargs)
            with f:
                yield f
                self.sync(f)
            self.commit(f)
        except BaseException:
            # The error that brought us here is the one the caller must see: a failing
            # rollback is swallowed rather than allowed to replace it.
            try:
                self.rollback(f)
            except Exception:
                pass
            raise

    def get_fileobject(self, suffix="", prefix=tempfile.gettempprefix(), dir=None, **kwargs):
        """Return the temporary file to write to.

        The core creates it in the target's directory (or ``dir``), without a name where the
        filesystem allows it (Linux O_TMPFILE), so nothing is left behind by a crash.
        ``suffix`` and ``prefix`` are accepted for compatibility; temporary names are the
        library's own (``.NAME.aw-XXXXXXXXXXXX.tmp``).
        """
        staged = _core.StagedWrite(
            _encoded(self._path), overwrite=bool(self._overwrite), durability=self._durability,
            mode_bits=self._mode_bits, preserve=bool(self._preserve), symlinks=self._symlinks,
            temp_dir=_encoded(dir) if dir is not None else b"")
        fd = staged.open()
        try:
            kwargs["mode"] = self._mode
            f = io.open(fd, closefd=False, **kwargs)
        except BaseException:
            staged.discard()
            raise
        temp_path = staged.temp_path
        if temp_path is not None:
            _raw_file(f).name = os.fsdecode(temp_path)
        self._staged, self._file = staged, f
        return f

    def _owns(self, f):
        return f is not None and f is self._file and self._staged is not None

    def sync(self, f):
        """Flush the file's buffers and its data to the device (per ``durability``)."""
        f.flush()
        if self._owns(f):
            self._staged.flush()
        elif self._durability != "none":
            _full_fsync(f.fileno())

    def commit(self, f):
        """Give the temporary file the target's name."""
        if self._owns(f):
            self._staged.publish()
        elif self._overwrite:
            replace_atomic(f.name, self._path, self._durability)
        else:
            move_atomic(f.name, self._path, self._durability)

    def rollback(self, f):
        """Remove the temporary file."""
        if self._owns(f):
            self._staged.discard()
        else:
            os.unlink(f.name)


def _raw_file(f):
    while hasattr(f, "buffer") or hasattr(f, "raw"):
        f = getattr(f, "buffer", None) or f.raw
    return f


def atomic_write(path, writer_cls=AtomicWriter, **cls_kwargs):
    """Write ``path`` atomically::

        with atomic_write(path, overwrite=True) as f:
            f.write(...)

    ``writer_cls`` is the writer class to use (a subclass of :class:`AtomicWriter`);
    other keyword arguments go to it.
    """
    return writer_cls(path, **cls_kwargs).open()
