"""Suites 1 (real binaries) and 4 (killed writers): faults and SIGKILL injected into a real
process at every system call it makes, with strace's -e inject (at the kernel boundary), and
short writes with the LD_PRELOAD fault shim.

Environment: AW_PROBE, AW_CLI, AW_SHIM (paths, set by CMake); AW_SOAK=N multiplies the
random-kill runs (soak mode, see scripts/soak.sh).
"""
import collections
import os
import random
import re
import shutil
import signal
import subprocess
import time

import pytest

PROBE = os.environ.get("AW_PROBE", "")
CLI = os.environ.get("AW_CLI", "")
SHIM = os.environ.get("AW_SHIM", "")
SOAK = int(os.environ.get("AW_SOAK", "1"))

pytestmark = pytest.mark.skipif(shutil.which("strace") is None or not PROBE,
                                reason="needs strace and the aw_probe helper")

TRACED = ["openat", "write", "read", "fchmod", "fchown", "fdatasync", "fsync", "linkat",
          "renameat", "renameat2", "unlinkat", "close", "newfstatat", "getrandom"]
ERRNOS = ["EIO", "ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EMFILE", "EINVAL", "EXDEV",
          "EINTR"]
OLD = "old content\n"
NEW = "n" * 70000
TEMP_NAME = re.compile(r"^\..+\.aw-[0-9A-Za-z]{12}\.tmp$")

# Paths through the protocol: (name, overwrite, environment).
PATHS = [
    ("tmpfile-replace", True, {}),
    ("tmpfile-create", False, {}),
    ("named-replace", True, {"AW_SHIM_NO_TMPFILE": "1"}),
    ("named-create", False, {"AW_SHIM_NO_TMPFILE": "1"}),
    ("named-create-link", False, {"AW_SHIM_NO_TMPFILE": "1", "AW_SHIM_NO_RENAMEAT2": "1"}),
]

totals = collections.Counter()


def environment(extra):
    env = dict(os.environ)
    if extra:
        env["LD_PRELOAD"] = SHIM
        env.update(extra)
    return env


def prepare(directory, overwrite):
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    if overwrite:
        with open(os.path.join(directory, "t"), "w") as f:
            f.write(OLD)


def probe_command(directory, overwrite, durability="durable"):
    command = [PROBE, "write", os.path.join(directory, "t"), "--durability", durability,
               "--content", NEW]
    return command + (["--overwrite"] if overwrite else [])


def occurrences(directory, overwrite, env):
    """The traced calls the library makes, as (syscall, its count from process start)."""
    log = os.path.join(os.path.dirname(directory), "trace.log")
    prepare(directory, overwrite)
    subprocess.run(["strace", "-f", "-qq", "-o", log, "-e", "trace=" + ",".join(TRACED)]
                   + probe_command(directory, overwrite), env=env, check=True,
                   stdout=subprocess.DEVNULL)
    counts = collections.Counter()
    found = []
    started = False
    with open(log) as f:
        for line in f:
            match = re.match(r"^\d+\s+(\w+)\(", line)
            if not match:
                continue
            name = match.group(1)
            counts[name] += 1
            if directory in line:
                started = True  # the library's first call names the target's directory
            if started:
                found.append((name, counts[name]))
    os.remove(log)
    return found


def target_state(directory, overwrite):
    path = os.path.join(directory, "t")
    if not os.path.exists(path):
        return "old" if not overwrite else "missing"
    with open(path) as f:
        content = f.read()
    if content == NEW:
        return "new"
    if content == OLD and overwrite:
        return "old"
    return "torn"


def leftovers(directory):
    return sorted(n for n in os.listdir(directory) if n != "t")


@pytest.mark.parametrize("name,overwrite,extra", PATHS, ids=[p[0] for p in PATHS])
def test_every_syscall_fails_with_every_errno(tmp_path, name, overwrite, extra):
    env = environment(extra)
    directory = str(tmp_path / "d")
    calls = occurrences(directory, overwrite, env)
    assert calls, "the trace found none of the library's calls"
    for syscall, nth in calls:
        for error in ERRNOS:
            prepare(directory, overwrite)
            inject = "inject={}:error={}:when={}".format(syscall, error, nth)
            result = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", inject]
                                    + probe_command(directory, overwrite), env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            where = "{} {}#{} {}: exit {} {}".format(name, syscall, nth, error,
                                                     result.returncode, result.stderr.strip())
            state = target_state(directory, overwrite)
            totals["fault runs"] += 1
            assert state in ("old", "new"), where
            if result.returncode == 0:
                assert state == "new", where
            elif "published" in result.stderr:
                assert state == "new", where
            else:
                assert result.returncode == 1, where
                assert state == "old", where
                assert leftovers(directory) == [], where
            if error == "EINTR":
                assert result.returncode == 0, where
            if syscall == "fdatasync" and error != "EINTR":
                assert "flush failed" in result.stderr and state == "old", where


@pytest.mark.parametrize("limit", ["1", "4096", "65535"])
def test_real_short_writes(tmp_path, limit):
    if not SHIM:
        pytest.skip("the fault shim is not built")
    for name, overwrite, extra in PATHS:
        directory = str(tmp_path / name)
        prepare(directory, overwrite)
        env = environment(dict(extra, AW_SHIM_SHORT_WRITE=limit))
        subprocess.run(probe_command(directory, overwrite), env=env, check=True)
        assert target_state(directory, overwrite) == "new", name
        assert leftovers(directory) == [], name


def cleanup_and_check(directory, overwrite, where):
    """Leftovers of a killed writer are ours, and the cleanup removes exactly them."""
    for leftover in leftovers(directory):
        assert TEMP_NAME.match(leftover), "{}: unrecognisable leftover {}".format(where, leftover)
        totals["temp files left by kills"] += 1
    if CLI:
        subprocess.run([CLI, "--cleanup", directory, "--older-than", "0"], check=True,
                       stdout=subprocess.DEVNULL)
        assert leftovers(directory) == [], where


@pytest.mark.parametrize("name,overwrite,extra", PATHS, ids=[p[0] for p in PATHS])
def test_sigkill_at_every_syscall(tmp_path, name, overwrite, extra):
    env = environment(extra)
    directory = str(tmp_path / "d")
    for syscall, nth in occurrences(directory, overwrite, env):
        prepare(directory, overwrite)
        inject = "inject={}:signal=KILL:when={}".format(syscall, nth)
        result = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", inject]
                                + probe_command(directory, overwrite), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        where = "{}: SIGKILL at {}#{}".format(name, syscall, nth)
        assert result.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL, 137), where
        totals["kills at syscalls"] += 1
        assert target_state(directory, overwrite) in ("old", "new"), where
        cleanup_and_check(directory, overwrite, where)


@pytest.mark.parametrize("name,overwrite,extra", PATHS[:3], ids=[p[0] for p in PATHS[:3]])
def test_sigkill_at_random_moments_in_large_writes(tmp_path, name, overwrite, extra):
    env = environment(extra)
    directory = str(tmp_path / "d")
    size = 16 << 20
    # Calibrate: how long one whole write takes here.
    prepare(directory, overwrite)
    start = time.monotonic()
    subprocess.run([PROBE, "stream", os.path.join(directory, "t"), str(size), "--overwrite"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    duration = time.monotonic() - start
    rng = random.Random(1234)
    outcomes = collections.Counter()
    for _ in range(70 * SOAK):
        prepare(directory, overwrite)
        process = subprocess.Popen([PROBE, "stream", os.path.join(directory, "t"), str(size)]
                                   + (["--overwrite"] if overwrite else []),
                                   env=env, stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration * 1.2))
        process.kill()
        process.wait()
        totals["random kills"] += 1
        path = os.path.join(directory, "t")
        if os.path.exists(path):
            size_now = os.path.getsize(path)
            with open(path) as f:
                state = "old" if f.read(len(OLD)) == OLD and size_now == len(OLD) else \
                    "new" if size_now == size else "torn"
        else:
            state = "old" if not overwrite else "missing"
        outcomes[state] += 1
        assert state in ("old", "new"), "{}: torn or missing target after a kill".format(name)
        cleanup_and_check(directory, overwrite, name)
    print("\n{}: random kills {}".format(name, dict(outcomes)))


def test_zz_summary():
    print("\nreal-process totals: {}".format(dict(totals)))
