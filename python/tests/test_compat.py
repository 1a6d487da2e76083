"""Behaviour of Python atomicwrites 1.4.1 that users rely on, checked against this package."""
import errno
import importlib.util
import inspect
import io
import os
import pathlib
import tempfile

import pytest

import atomicwrites
from atomicwrites import AtomicWriter, atomic_write, move_atomic, replace_atomic


def listing(directory):
    return sorted(os.listdir(str(directory)))


def test_write_and_overwrite(tmp_path):
    target = tmp_path / "haha"
    with atomic_write(str(target), overwrite=True) as f:
        f.write("honk")
    with atomic_write(str(target), overwrite=True) as f:
        f.write("lel")
    assert target.read_text() == "lel"
    assert listing(tmp_path) == ["haha"]


def test_existing_target_raises_after_the_data_was_written(tmp_path):
    target = tmp_path / "haha"
    target.write_text("honk")
    body_ran = []
    with pytest.raises(FileExistsError) as raised:
        with atomic_write(str(target), overwrite=False) as f:
            f.write("lel")
            body_ran.append(True)
    assert body_ran == [True]
    assert raised.value.errno == errno.EEXIST
    assert target.read_text() == "honk"
    assert listing(tmp_path) == ["haha"]


def test_exception_in_block_propagates_unchanged_and_removes_the_temp(tmp_path):
    target = tmp_path / "haha"
    marker = RuntimeError("from the block")
    with pytest.raises(RuntimeError) as raised:
        with atomic_write(str(target)) as f:
            f.write("partial")
            raise marker
    assert raised.value is marker
    assert listing(tmp_path) == []


def test_failing_rollback_never_replaces_the_original_exception(tmp_path):
    class BrokenRollback(AtomicWriter):
        def rollback(self, f):
            super().rollback(f)
            raise OSError(errno.EIO, "rollback exploded")

    with pytest.raises(KeyError):
        with atomic_write(str(tmp_path / "x"), writer_cls=BrokenRollback) as f:
            f.write("x")
            raise KeyError("original")
    assert listing(tmp_path) == []


def test_target_created_during_write_is_replaced_with_overwrite(tmp_path):
    target = tmp_path / "t"
    with atomic_write(str(target), overwrite=True) as f:
        f.write("ours")
        target.write_text("theirs")
    assert target.read_text() == "ours"
    assert listing(tmp_path) == ["t"]


def test_target_created_during_write_is_kept_without_overwrite(tmp_path):
    target = tmp_path / "t"
    with pytest.raises(FileExistsError):
        with atomic_write(str(target), overwrite=False) as f:
            f.write("ours")
            target.write_text("theirs")
    assert target.read_text() == "theirs"
    assert listing(tmp_path) == ["t"]


def test_bare_name_in_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with atomic_write("haha", overwrite=True) as f:
        f.write("honk")
    assert (tmp_path / "haha").read_text() == "honk"


@pytest.mark.parametrize("mode", ["a", "ab", "w+a", "x", "wx", "r", "rb", "r+"])
def test_unsupported_modes_raise_value_error(tmp_path, mode):
    with pytest.raises(ValueError):
        AtomicWriter(str(tmp_path / "f"), mode=mode)
    assert listing(tmp_path) == []


def test_binary_mode(tmp_path):
    with atomic_write(str(tmp_path / "b"), mode="wb") as f:
        f.write(b"\x00\xffbytes")
    assert (tmp_path / "b").read_bytes() == b"\x00\xffbytes"


def test_unbuffered_binary_mode(tmp_path):
    with atomic_write(str(tmp_path / "b"), mode="wb", buffering=0) as f:
        assert isinstance(f, io.FileIO)
        f.write(b"raw")
    assert (tmp_path / "b").read_bytes() == b"raw"


def test_open_kwargs_reach_the_file_object(tmp_path):
    with atomic_write(str(tmp_path / "t"), encoding="utf-16", newline="\r\n") as f:
        assert f.encoding == "utf-16"
        f.write("héllo\nworld\n")
    raw = (tmp_path / "t").read_bytes()
    assert raw.decode("utf-16") == "héllo\r\nworld\r\n"


def test_path_like_and_bytes_paths(tmp_path):
    with atomic_write(tmp_path / "pathlib") as f:
        f.write("a")
    with atomic_write(os.fsencode(str(tmp_path / "bytes"))) as f:
        f.write("b")
    assert listing(tmp_path) == ["bytes", "pathlib"]


def test_atomic_writer_open(tmp_path):
    writer = AtomicWriter(str(tmp_path / "w"), overwrite=True)
    with writer.open() as f:
        f.write("via open()")
    assert (tmp_path / "w").read_text() == "via open()"


def test_every_hook_is_called_in_order(tmp_path):
    calls = []

    class Recording(AtomicWriter):
        def get_fileobject(self, **kwargs):
            calls.append("get_fileobject")
            return super().get_fileobject(dir=str(tmp_path / "tmp"), **kwargs)

        def sync(self, f):
            calls.append("sync")
            super().sync(f)

        def commit(self, f):
            calls.append("commit")
            super().commit(f)

        def rollback(self, f):
            calls.append("rollback")
            super().rollback(f)

    (tmp_path / "tmp").mkdir()
    with atomic_write(str(tmp_path / "r"), writer_cls=Recording) as f:
        f.write("x")
    assert calls == ["get_fileobject", "sync", "commit"]
    assert (tmp_path / "r").read_text() == "x"
    assert listing(tmp_path / "tmp") == []

    calls.clear()
    with pytest.raises(ZeroDivisionError):
        with atomic_write(str(tmp_path / "s"), writer_cls=Recording) as f:
            1 / 0
    assert calls == ["get_fileobject", "rollback"]
    assert not (tmp_path / "s").exists()


def test_subclass_with_its_own_temporary_file(tmp_path):
    """A 1.4.1-style subclass that makes its own named file still gets a durable publish."""

    class OwnTempFile(AtomicWriter):
        def get_fileobject(self, **kwargs):
            fd, name = tempfile.mkstemp(dir=str(tmp_path), prefix="mine-")
            os.close(fd)
            return io.open(name, mode=self._mode, **kwargs)

    with atomic_write(str(tmp_path / "t"), writer_cls=OwnTempFile) as f:
        f.write("own")
    assert (tmp_path / "t").read_text() == "own"
    assert listing(tmp_path) == ["t"]
    with pytest.raises(FileExistsError):
        with atomic_write(str(tmp_path / "t"), writer_cls=OwnTempFile) as f:
            f.write("again")
    assert listing(tmp_path) == ["t"]


def test_replace_atomic_and_move_atomic(tmp_path):
    (tmp_path / "src").write_text("new")
    (tmp_path / "dst").write_text("old")
    replace_atomic(str(tmp_path / "src"), str(tmp_path / "dst"))
    assert (tmp_path / "dst").read_text() == "new"
    (tmp_path / "src").write_text("newer")
    with pytest.raises(FileExistsError) as raised:
        move_atomic(str(tmp_path / "src"), str(tmp_path / "dst"))
    assert raised.value.errno == errno.EEXIST
    assert (tmp_path / "src").read_text() == "newer"
    move_atomic(tmp_path / "src", tmp_path / "moved")
    assert (tmp_path / "moved").read_text() == "newer"
    with pytest.raises(FileNotFoundError):
        replace_atomic(str(tmp_path / "nothing"), str(tmp_path / "dst"))


def test_errors_are_oserror_subclasses_with_errno(tmp_path):
    with pytest.raises(FileNotFoundError) as raised:
        with atomic_write(str(tmp_path / "missing" / "f")) as f:
            f.write("x")
    assert raised.value.errno == errno.ENOENT
    assert isinstance(raised.value, OSError)


def _reference_141():
    """Python atomicwrites 1.4.1 as Debian installs it, loaded under another name."""
    candidates = [p for p in ("/usr/lib/python3/dist-packages/atomicwrites/__init__.py",)
                  if os.path.exists(p)]
    if not candidates:
        pytest.skip("python3-atomicwrites (1.4.1) is not installed")
    spec = importlib.util.spec_from_file_location("atomicwrites_141", candidates[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.__version__ == "1.4.1"
    return module


def _parameters(function):
    def default(value):  # each module's own AtomicWriter class compares by name
        return value.__name__ if isinstance(value, type) else value
    return [(p.name, p.kind, default(p.default))
            for p in inspect.signature(function).parameters.values()]


def test_public_api_matches_1_4_1():
    reference = _reference_141()
    for name in ("atomic_write", "replace_atomic", "move_atomic", "AtomicWriter", "DEFAULT_MODE"):
        assert hasattr(atomicwrites, name), name
    assert atomicwrites.DEFAULT_MODE == reference.DEFAULT_MODE
    assert _parameters(atomicwrites.atomic_write) == _parameters(reference.atomic_write)
    for method in ("open", "get_fileobject", "sync", "commit", "rollback"):
        ours = _parameters(getattr(atomicwrites.AtomicWriter, method))
        theirs = _parameters(getattr(reference.AtomicWriter, method))
        assert ours == theirs, method
    # The constructor: 1.4.1's parameters, in order, then our keyword-only additions.
    ours = _parameters(atomicwrites.AtomicWriter.__init__)
    theirs = _parameters(reference.AtomicWriter.__init__)
    positional = [p for p in ours if p[1] != inspect.Parameter.KEYWORD_ONLY]
    assert positional == theirs
    for function in ("replace_atomic", "move_atomic"):
        assert _parameters(getattr(atomicwrites, function))[:2] == \
            _parameters(getattr(reference, function))


def test_same_behaviour_as_1_4_1_on_the_same_script(tmp_path):
    """One script, run against both implementations: the same outcomes."""
    reference = _reference_141()

    def scenario(module, directory):
        outcomes = []
        target = directory / "file"
        with module.atomic_write(str(target)) as f:
            f.write("one")
        outcomes.append(target.read_text())
        try:
            with module.atomic_write(str(target)) as f:
                f.write("two")
        except OSError as e:
            outcomes.append(type(e).__name__)
        with module.atomic_write(str(target), overwrite=True) as f:
            f.write("three")
        outcomes.append(target.read_text())
        try:
            with module.atomic_write(str(target), overwrite=True) as f:
                f.write("four")
                raise LookupError
        except LookupError:
            outcomes.append("LookupError")
        outcomes.append(target.read_text())
        outcomes.append(sorted(os.listdir(str(directory))))
        return outcomes

    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    assert scenario(atomicwrites, tmp_path / "ours") == scenario(reference, tmp_path / "theirs")
