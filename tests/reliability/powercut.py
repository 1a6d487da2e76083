#!/usr/bin/env python3
"""Suite 5: power-cut simulation.

A real filesystem lives on a loop device whose backing file is served by aw_logdisk, a FUSE
daemon that logs every write and flush the device receives. One atomic write runs on it;
the harness marks the moment the writer returned. Then the log is replayed into crash
states: at every flush and marker, the writes before the last flush are kept and the writes
since then are kept all, none, or a random subset (a device may reorder unflushed writes).
Each state is checked (fsck), mounted, and the target classified.

Invariants, per scenario's claim:
  consistent  every state: the old or the new content (never missing, empty or partial)
  durable     that, and every state at or after the writer's return: the new content
Batch scenarios commit several files in two directories (some replaced, some created) in
one batch with each flush strategy; every file must be old or new in every state (a mix is
allowed: a batch is not a transaction), and all new in every state after the return.
Positive controls run writers that skip a flush and claim durable anyway: the harness must
report violations for them, or it proves nothing.

  powercut.py [--quick] [--random N] [--only FS]   (root; prints a table, exits 1 on failure)
Environment: AW_LOGDISK, AW_PROBE, AW_SHIM (paths of the helpers).
"""
import argparse
import collections
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time

LOGDISK = os.environ.get("AW_LOGDISK", "")
PROBE = os.environ.get("AW_PROBE", "")
SHIM = os.environ.get("AW_SHIM", "")
OLD = b"O" * 8192
NEW = b"N" * 12288

FILESYSTEMS = {
    # name: (image size, mkfs command, mount options, fsck command or None)
    "ext4": ("32M", ["mkfs.ext4", "-q", "-F"], "", ["e2fsck", "-fy"]),
    "ext4-noauto_da_alloc": ("32M", ["mkfs.ext4", "-q", "-F"], "noauto_da_alloc",
                             ["e2fsck", "-fy"]),
    "xfs": ("64M", ["mkfs.xfs", "-q", "-f"], "", None),    # mount replays the log
    "btrfs": ("128M", ["mkfs.btrfs", "-q", "-f"], "", None),  # mount replays the log tree
}
# Test filesystems below xfsprogs' 300 MB floor are allowed with these variables.
XFS_ENV = dict(os.environ, TEST_DIR="1", TEST_DEV="1", QA_CHECK_FS="1")


def run(command, **kwargs):
    return subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, **kwargs)


def quiet(command):
    return subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# How the new content is published: (overwrite?, fault shim settings, batch flush strategy
# or None for a single write).
MECHANISMS = {
    "tmpfile": (True, {}, None),                                  # linkat temp name + renameat
    "named": (True, {"AW_SHIM_NO_TMPFILE": "1"}, None),           # renameat
    "tmpfile-create": (False, {}, None),                          # linkat onto the target
    "named-create": (False, {"AW_SHIM_NO_TMPFILE": "1"}, None),   # renameat2(RENAME_NOREPLACE)
    "named-create-link": (False, {"AW_SHIM_NO_TMPFILE": "1", "AW_SHIM_NO_RENAMEAT2": "1"}, None),
    # Batches: the targets are BATCH_FILES.
    "batch-per_file": (True, {}, "per_file"),
    "batch-concurrent": (True, {}, "concurrent"),
    "batch-filesystem": (True, {}, "filesystem"),
}
# A batch's targets: path -> whether it exists (with OLD) before the batch.
BATCH_FILES = {"a/1": True, "a/2": False, "a/3": True, "b/1": False, "b/2": True, "b/3": False}


class Scenario:
    def __init__(self, fs, level, mechanism, claim, control=None):
        self.fs, self.level, self.mechanism, self.claim, self.control = \
            fs, level, mechanism, claim, control
        self.overwrite, self.shim, self.flush = MECHANISMS[mechanism]

    @property
    def targets(self):
        """{relative path: exists before} for the files this scenario writes."""
        return BATCH_FILES if self.flush else {"t": self.overwrite}

    @property
    def name(self):
        text = "{} {} {}".format(self.fs, self.level, self.mechanism)
        return text + (" [control: {}]".format(self.control) if self.control else "")


def make_base(work, fs, targets):
    size, mkfs, options, _ = FILESYSTEMS[fs]
    image = os.path.join(work, "base.img")
    subprocess.run(["truncate", "-s", size, image], check=True)
    run(mkfs + [image], env=XFS_ENV)
    mnt = os.path.join(work, "fs")
    os.makedirs(mnt, exist_ok=True)
    run(["mount", "-o", "loop" + ("," + options if options else ""), image, mnt])
    try:
        for name, exists in list(targets.items()) + [("other", True)]:
            os.makedirs(os.path.dirname(os.path.join(mnt, name)), exist_ok=True)
            if exists:
                with open(os.path.join(mnt, name), "wb") as f:
                    f.write(OLD)
        run(["sync"])
    finally:
        run(["umount", mnt])
    return image


def record(work, scenario, base):
    """Runs the writer on the logging disk; returns the log's records."""
    fuse = os.path.join(work, "fuse")
    mnt = os.path.join(work, "fs")
    log = os.path.join(work, "log")
    os.makedirs(fuse, exist_ok=True)
    daemon = subprocess.Popen([LOGDISK, base, log, fuse, "-f"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    device = None
    mounted = False
    try:
        for _ in range(100):
            if os.path.exists(os.path.join(fuse, "disk")):
                break
            time.sleep(0.05)
        device = subprocess.run(["losetup", "--find", "--show", os.path.join(fuse, "disk")],
                                check=True, capture_output=True, text=True).stdout.strip()
        options = FILESYSTEMS[scenario.fs][2]
        run(["mount"] + (["-o", options] if options else []) + [device, mnt])
        mounted = True
        with open(os.path.join(fuse, "mark"), "w") as f:
            f.write("start")
        env = dict(os.environ)
        if scenario.shim:
            env.update(scenario.shim, LD_PRELOAD=SHIM)
        command = [PROBE, "batch" if scenario.flush else "write"]
        command += [os.path.join(mnt, name) for name in scenario.targets]
        command += ["--durability", scenario.level, "--content", NEW.decode()]
        command += ["--overwrite"] if scenario.overwrite else []
        command += ["--flush", scenario.flush] if scenario.flush else []
        subprocess.run(command, check=True, env=env)
        with open(os.path.join(fuse, "mark"), "w") as f:
            f.write("success")
    finally:
        if mounted:
            quiet(["umount", mnt])
        if device:
            quiet(["losetup", "-d", device])
        quiet(["umount", fuse])
        daemon.wait(timeout=30)
    return parse(log)


def parse(path):
    with open(path, "rb") as f:
        data = f.read()
    records, i = [], 0
    while i < len(data):
        kind = chr(data[i])
        i += 1
        if kind == "W":
            offset, length = struct.unpack_from("<QI", data, i)
            i += 12
            records.append(("W", offset, data[i:i + length]))
            i += length
        elif kind == "M":
            (length,) = struct.unpack_from("<I", data, i)
            records.append(("M", data[i + 4:i + 4 + length].decode(), None))
            i += 4 + length
        elif kind == "F":
            records.append(("F", None, None))
        else:
            raise ValueError("corrupt log at {}".format(i))
    return records


def crash_states(records, rng, random_subsets):
    """Yields (label, after_success, writes) for every crash point."""
    start = next(i for i, r in enumerate(records) if r[0] == "M" and r[1] == "start")
    success = next((i for i, r in enumerate(records) if r[0] == "M" and r[1] == "success"),
                   len(records))
    points = [i for i in range(start, len(records)) if records[i][0] in "FM"] + [len(records)]
    for point in points:
        last_flush = max([i for i in range(point) if records[i][0] == "F"], default=-1)
        durable = [r for r in records[:last_flush + 1] if r[0] == "W"]
        pending = [r for r in records[last_flush + 1:point] if r[0] == "W"]
        after = point >= success
        label = "point {} ({} pending)".format(point, len(pending))
        yield label + " all", after, durable + pending
        if pending:
            yield label + " none", after, durable
            for k in range(random_subsets):
                subset = [w for w in pending if rng.random() < 0.5]
                yield label + " random{}".format(k), after, durable + subset


def classify(work, scenario, base_bytes, writes):
    image = os.path.join(work, "state.img")
    state = bytearray(base_bytes)
    for _, offset, data in writes:
        state[offset:offset + len(data)] = data
    with open(image, "wb") as f:
        f.write(state)
    fsck = FILESYSTEMS[scenario.fs][3]
    if fsck:
        quiet(fsck + [image])
    mnt = os.path.join(work, "check")
    os.makedirs(mnt, exist_ok=True)
    if quiet(["mount", "-o", "loop", image, mnt]).returncode != 0:
        return "unmountable"
    try:
        outcomes = set()
        for name, existed in scenario.targets.items():
            path = os.path.join(mnt, name)
            if not os.path.exists(path):
                outcomes.add("old" if not existed else "missing")  # a create's "old" is absence
                continue
            with open(path, "rb") as f:
                content = f.read()
            outcomes.add("old" if content == OLD else "new" if content == NEW else
                         "empty" if not content else "partial")
        if len(outcomes) == 1:
            return outcomes.pop()
        bad = outcomes - {"old", "new"}
        return "+".join(sorted(bad)) if bad else "mixed"  # some files new, some old
    finally:
        quiet(["umount", mnt])


def check(scenario, random_subsets, seed):
    work = tempfile.mkdtemp(prefix="aw-powercut-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        base = make_base(work, scenario.fs, scenario.targets)
        with open(base, "rb") as f:
            base_bytes = f.read()
        records = record(work, scenario, base)
        outcomes = collections.Counter()
        violations = []
        rng = random.Random(seed)
        for label, after_success, writes in crash_states(records, rng, random_subsets):
            outcome = classify(work, scenario, base_bytes, writes)
            outcomes[outcome] += 1
            if outcome not in ("old", "new", "mixed"):
                violations.append("{}: {}".format(label, outcome))
            elif scenario.claim == "durable" and after_success and outcome != "new":
                violations.append("{} after success: {}".format(label, outcome))
        flushes = sum(1 for r in records if r[0] == "F")
        return outcomes, violations, flushes
    finally:
        quiet(["umount", os.path.join(work, "check")])
        shutil.rmtree(work, ignore_errors=True)


def scenarios(filesystems):
    for fs in filesystems:
        for mechanism in ("tmpfile", "named"):
            for level in ("consistent", "durable"):
                yield Scenario(fs, level, mechanism, level)
        for mechanism in ("tmpfile-create", "named-create", "named-create-link"):
            yield Scenario(fs, "durable", mechanism, "durable")
        # Positive controls: a writer without any flush, and one without the directory
        # flush, both claiming durable. Each must be caught.
        for flush in ("per_file", "concurrent", "filesystem"):
            yield Scenario(fs, "durable", "batch-" + flush, "durable")
        yield Scenario(fs, "none", "tmpfile", "durable", control="no fsync")
        yield Scenario(fs, "consistent", "tmpfile", "durable", control="no directory fsync")
        yield Scenario(fs, "none", "batch-filesystem", "durable", control="batch without flushes")
        yield Scenario(fs, "consistent", "batch-filesystem", "durable",
                       control="batch without directory fsyncs")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--random", type=int, default=2, help="random subsets per crash point")
    parser.add_argument("--only", action="append", help="only these filesystems")
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("SKIP: the power-cut simulation needs root (loop devices, mounts)")
        return 77
    for tool, why in ((LOGDISK, "aw_logdisk (libfuse3)"), (PROBE, "aw_probe"), (SHIM, "the fault shim")):
        if not tool or not os.path.exists(tool):
            print("SKIP: {} was not built".format(why))
            return 77
    if not os.path.exists("/dev/fuse"):
        print("SKIP: no /dev/fuse")
        return 77
    wanted = args.only or list(FILESYSTEMS)
    available = [fs for fs in wanted if shutil.which(FILESYSTEMS[fs][1][0])]
    for fs in set(wanted) - set(available):
        print("SKIP: {} ({} not installed)".format(fs, FILESYSTEMS[fs][1][0]))
    failed = False
    total_states = 0
    print("| scenario | flushes logged | crash states | outcomes | violations | verdict |")
    print("|---|---|---|---|---|---|")
    for scenario in scenarios(available):
        started = time.monotonic()
        outcomes, violations, flushes = check(scenario, args.random, args.seed)
        states = sum(outcomes.values())
        total_states += states
        if scenario.control:
            verdict = "caught" if violations else "NOT CAUGHT: the harness proves nothing"
            failed |= not violations
        else:
            verdict = "ok" if not violations else "VIOLATED"
            failed |= bool(violations)
        print("| {} | {} | {} | {} | {} | {} ({:.1f} s) |".format(
            scenario.name, flushes, states,
            ", ".join("{} {}".format(n, k) for k, n in sorted(outcomes.items())),
            len(violations), verdict, time.monotonic() - started))
        if violations and not scenario.control:
            for v in violations[:5]:
                print("    " + v)
        sys.stdout.flush()
    print("power-cut simulation: {} crash states explored; {}".format(
        total_states, "FAILED" if failed else "0 violations, every control caught"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
