"""What this package adds to Python atomicwrites 1.4.1: durability, modes, links, errors."""
import errno
import os
import stat

import pytest

import atomicwrites
from atomicwrites import AtomicWriter, atomic_write


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def test_new_files_get_0666_minus_umask_not_0600(tmp_path, umask_022):
    with atomic_write(str(tmp_path / "f")) as f:
        f.write("x")
    assert mode_of(tmp_path / "f") == 0o644


def test_replacing_keeps_the_mode(tmp_path, umask_022):
    target = tmp_path / "f"
    target.write_text("old")
    os.chmod(str(target), 0o640)
    with atomic_write(str(target), overwrite=True) as f:
        f.write("new")
    assert mode_of(target) == 0o640


def test_mode_bits(tmp_path):
    with atomic_write(str(tmp_path / "f"), mode_bits=0o600) as f:
        f.write("secret")
    assert mode_of(tmp_path / "f") == 0o600


def test_preserve_false(tmp_path, umask_022):
    target = tmp_path / "f"
    target.write_text("old")
    os.chmod(str(target), 0o600)
    with atomic_write(str(target), overwrite=True, preserve=False) as f:
        f.write("new")
    assert mode_of(target) == 0o644


@pytest.mark.parametrize("durability", ["none", "consistent", "durable"])
def test_each_durability(tmp_path, durability):
    with atomic_write(str(tmp_path / "f"), durability=durability) as f:
        f.write(durability)
    assert (tmp_path / "f").read_text() == durability


def test_symlink_policies(tmp_path):
    (tmp_path / "real").write_text("old")
    os.symlink("real", str(tmp_path / "link"))
    with atomic_write(str(tmp_path / "link"), overwrite=True) as f:
        f.write("followed")
    assert (tmp_path / "real").read_text() == "followed"
    assert os.path.islink(str(tmp_path / "link"))
    with pytest.raises(OSError) as raised:
        with atomic_write(str(tmp_path / "link"), overwrite=True, symlinks="refuse") as f:
            f.write("x")
    assert raised.value.errno == errno.ELOOP
    with atomic_write(str(tmp_path / "link"), overwrite=True, symlinks="replace") as f:
        f.write("replaced")
    assert not os.path.islink(str(tmp_path / "link"))
    assert (tmp_path / "real").read_text() == "followed"


@pytest.mark.parametrize("kwargs", [{"durability": "fast"}, {"symlinks": "maybe"},
                                    {"mode_bits": 0o10000}, {"mode_bits": -1}])
def test_invalid_new_options(tmp_path, kwargs):
    with pytest.raises(ValueError):
        AtomicWriter(str(tmp_path / "f"), **kwargs)


def test_errors_say_phase_and_published(tmp_path):
    (tmp_path / "f").write_text("old")
    with pytest.raises(FileExistsError) as raised:
        with atomic_write(str(tmp_path / "f")) as f:
            f.write("x")
    assert raised.value.phase == "publish"
    assert raised.value.published is False
    assert raised.value.filename == str(tmp_path / "f")


def test_no_temporary_name_while_writing(tmp_path):
    """With O_TMPFILE the file has no name: nothing to clean up after a crash."""
    with atomic_write(str(tmp_path / "f")) as f:
        f.write("x")
        assert os.listdir(str(tmp_path)) == []
    assert os.listdir(str(tmp_path)) == ["f"]


def test_sync_flushes_python_buffers_before_the_core_flush(tmp_path):
    data = "y" * (1 << 20)
    with atomic_write(str(tmp_path / "big"), buffering=1 << 22) as f:
        f.write(data)  # still in Python's buffer when the block ends
    assert (tmp_path / "big").read_text() == data


def test_remove_stale_temp_files(tmp_path):
    (tmp_path / ".f.aw-0123456789ab.tmp").write_text("left by a killed writer")
    (tmp_path / "f").write_text("keep")
    assert atomicwrites.remove_stale_temp_files(str(tmp_path), older_than=0) == 1
    assert os.listdir(str(tmp_path)) == ["f"]


def test_version_names_the_api_level_and_the_core():
    assert atomicwrites.__version__.startswith("1.4.1+cpp.")
