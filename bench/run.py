#!/usr/bin/env python3
"""Benchmark atomicwrites against its peers and the physical limits, in one run.

Every contender is a separate program that times its own work (start-up excluded). All
contenders of a workload run interleaved, the order rotated each round, with `sync` before
each run. For each: the median and min-max time, device writes and flushes per operation
(from /sys/block/DEV/stat), system calls per operation (strace -c, minus a zero-operation
baseline), and peak RSS.

  bench/run.py --dir DIR --bin BUILD_DIR [--rounds 5] [--short-rounds 21] [--out REPORT.md]
               [--chart CHART.png] [--workloads W1,W2,...] [--label NAME]

--rounds is for W3 and W5; the short workloads (W1, W2, W4: about a second per contender)
get --short-rounds, so that a burst of latency on a shared disk cannot decide a median.

Workloads: W1 1000 replaces of one 4 KiB file; W2 1000 new 4 KiB files; W3 one 1 GiB file;
W4 = W1 without any flush; W5 10,000 new 4 KiB files (batch). They run in the order given,
except on an ext4 without a journal, where deleted inodes slow down later creates for up to
six minutes: there no file is deleted before the end, and the workloads that delete inodes
(the replaces) run last (see Scratch).
"""
import argparse
import contextlib
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

WORKLOADS = {
    "W1": ("replace", 1000, 4096, "1000 replaces of one 4 KiB file"),
    "W2": ("create", 1000, 4096, "1000 new 4 KiB files in one directory"),
    "W3": ("big", 1, 1 << 30, "one 1 GiB file"),
    "W4": ("replace", 1000, 4096, "W1 without any flush"),
    "W5": ("create", 10000, 4096, "10,000 new 4 KiB files"),
}
SHORT = ("W1", "W2", "W4")


def contenders(build, available):
    aw = os.path.join(build, "bench", "aw_bench")
    peers = os.path.join(build, "bench")

    def ours(mode):
        return lambda w, d, n, s: [aw, mode, w, d, str(n), str(s)]

    def glib(level):
        return lambda w, d, n, s: [os.path.join(peers, "glib_bench"), level, w, d, str(n), str(s), "-"]

    def qt(level):
        return lambda w, d, n, s: [os.path.join(peers, "qt_bench"), level, w, d, str(n), str(s), "-"]

    def python(level):
        return lambda w, d, n, s: ["/usr/bin/python3", os.path.join(HERE, "peers", "python_bench.py"),
                                   level, w, d, str(n), str(s)]

    def node(level):
        return lambda w, d, n, s: ["node", os.path.join(HERE, "peers", "node_bench.js"),
                                   level, w, d, str(n), str(s)]

    table = [
        # (name, level, workloads, command, requirement)
        ("atomicwrites durable", "durable", "W1 W2 W3 W5", ours("aw-durable"), None),
        ("atomicwrites consistent", "consistent", "W1 W2 W3", ours("aw-consistent"), None),
        ("atomicwrites none", "none", "W3 W4", ours("aw-none"), None),
        ("atomicwrites batch, syncfs", "durable", "W5", ours("aw-batch-filesystem"), None),
        ("atomicwrites batch, io_uring", "durable", "W5", ours("aw-batch-concurrent"), None),
        ("atomicwrites batch, fdatasync each", "durable", "W5", ours("aw-batch-per_file"), None),
        ("C reference: temp, write, fsync, rename, fsync dir", "durable", "W1 W2 W3",
         ours("c-reference"), None),
        ("limit: write + rename, no flush", "none", "W4", ours("write-rename"), None),
        ("limit: overwrite in place + fdatasync (1 flush, not atomic)", "limit", "W1",
         ours("inplace-fdatasync"), None),
        ("limit: write, no flush, no rename", "limit", "W4", ours("write-only"), None),
        ("limit: write + fsync, no rename", "limit", "W3", ours("write-fsync"), None),
        ("Python atomicwrites 1.4.1", "durable", "W1 W2 W3 W5", python("durable"), "python"),
        ("Python atomicwrites 1.4.1, sync overridden", "none", "W4", python("none"), "python"),
        ("GLib g_file_set_contents_full DURABLE", "durable", "W1 W2 W3 W5", glib("durable"), "glib"),
        ("GLib g_file_set_contents_full CONSISTENT", "consistent", "W1 W2", glib("consistent"), "glib"),
        ("GLib g_file_set_contents_full NONE", "none", "W4", glib("none"), "glib"),
        ("Qt QSaveFile", "consistent", "W1 W2 W3 W5", qt("consistent"), "qt"),
        ("npm write-file-atomic", "consistent", "W1 W2 W5", node("consistent"), "node"),
        ("npm write-file-atomic, fsync: false", "none", "W4", node("none"), "node"),
    ]
    return [(n, l, w.split(), c) for n, l, w, c, req in table if req is None or req in available]


def block_stat(directory):
    """(writes completed, flushes completed) of the device under `directory`."""
    dev = os.stat(directory).st_dev
    path = os.path.realpath("/sys/dev/block/{}:{}".format(os.major(dev), os.minor(dev)))
    stat = os.path.join(path, "stat")
    if not os.path.exists(stat):
        return None
    # Documentation/block/stat.rst: field 5 is write requests, field 16 flush requests.
    fields = open(stat).read().split()
    return int(fields[4]), int(fields[15]) if len(fields) > 15 else 0


def ext4_without_journal(directory):
    """True on an ext4 that has no journal (no /proc/fs/jbd2 entry for its device).

    Such an ext4 does not reuse an inode for 60 s after it was deleted, 360 s while the inode
    table block holding it is dirty (as it is while new files are made beside it), and every
    new file pays a buffer lookup per recently deleted inode it skips (fs/ext4/ialloc.c,
    recently_deleted): a benchmark that removes each run's files makes the creates of the
    runs after it slower (measured here: 10,000 new files took 2.0-2.6 s instead of 0.3 s).
    """
    fs_type = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "--target", directory],
                             capture_output=True, text=True).stdout.strip()
    if fs_type != "ext4":
        return False
    dev = os.stat(directory).st_dev
    name = os.path.basename(os.path.realpath("/sys/dev/block/{}:{}".format(os.major(dev), os.minor(dev))))
    journals = os.listdir("/proc/fs/jbd2") if os.path.isdir("/proc/fs/jbd2") else []
    return not any(j.rsplit("-", 1)[0] == name for j in journals)


# How long a journal-less ext4 may skip deleted inodes (RECENTCY_MIN + RECENTCY_DIRTY), plus
# a second.
SETTLE_SECONDS = 361

# The order workloads run in, where files must outlive the runs (see Scratch): those that
# only create files first, those that delete an inode per operation (replaces) last.
EXECUTION_ORDER = ("W2", "W5", "W3", "W1", "W4")


class Scratch:
    """The runs' directories under ROOT.

    Each is removed when its run ends, except on an ext4 without a journal, where deleting
    files slows down the creates that follow (ext4_without_journal): there every directory
    is kept until the benchmark ends (but W3's, which holds one big file).
    """

    def __init__(self, root):
        self.root = root
        self.keep = ext4_without_journal(root)
        self.kept = []

    @contextlib.contextmanager
    def directory(self, big=False):
        d = tempfile.mkdtemp(dir=self.root)
        try:
            yield d
        finally:
            if self.keep and not big:
                self.kept.append(d)
            else:
                shutil.rmtree(d, ignore_errors=True)

    def remove_kept(self):
        for d in self.kept:
            shutil.rmtree(d, ignore_errors=True)
        self.kept = []


def run_once(command, directory):
    subprocess.run(["sync"], check=True)
    before = block_stat(directory)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate()
    _, status, usage = os.wait4(process.pid, 0) if process.returncode is None else (0, 0, None)
    if process.returncode != 0:
        raise RuntimeError("{} failed: {}".format(" ".join(command), err.strip()))
    after = block_stat(directory)
    seconds = float(out.strip().splitlines()[-1])
    deltas = (after[0] - before[0], after[1] - before[1]) if before and after else (None, None)
    return seconds, deltas


def peak_rss_kib(command):
    # Through GNU time: a child forked from this Python process would report Python's own
    # resident size (Linux keeps the high-water mark across exec).
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + command, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, check=True)
    return int(result.stderr.strip().splitlines()[-1])


def syscalls(command_for, workload, scratch, count, size):
    """System calls per operation: strace -c of COUNT operations minus a run of none."""
    def total(n):
        with scratch.directory() as d:
            log = d + ".strace"
            try:
                subprocess.run(["strace", "-f", "-c", "-o", log] + command_for(workload, d, n, size),
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for line in open(log):
                    parts = line.split()
                    if parts and parts[-1] == "total":  # % time, seconds, usecs/call, calls, ...
                        return int(parts[3])
            finally:
                if os.path.exists(log):
                    os.remove(log)
        return 0
    n = min(count, 200)
    return (total(n) - total(0)) / n


def fmt(x, digits=3):
    return "-" if x is None else ("{:." + str(digits) + "f}").format(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--short-rounds", type=int, default=21)
    parser.add_argument("--workloads", default="W1,W2,W3,W4,W5")
    parser.add_argument("--out")
    parser.add_argument("--chart")
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    available = {"python"}
    if os.path.exists(os.path.join(args.bin, "bench", "glib_bench")):
        available.add("glib")
    if os.path.exists(os.path.join(args.bin, "bench", "qt_bench")):
        available.add("qt")
    if shutil.which("node") and os.path.isdir(os.path.join(HERE, "node_modules", "write-file-atomic")):
        available.add("node")
    table = contenders(args.bin, available)
    fs_type = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "--target", args.dir],
                             capture_output=True, text=True).stdout.strip()
    lines = []
    say = lambda text="": (lines.append(text), print(text), sys.stdout.flush())
    say("### {} ({}) — {}".format(args.label or args.dir, fs_type,
                                  datetime.date.today().isoformat()))
    say()
    results = {}
    scratch = Scratch(args.dir)
    if scratch.keep:
        say("(ext4 without a journal: no file is deleted until the end of the run, replaces run "
            "last, and W4 starts {} s after W1)".format(SETTLE_SECONDS))
        say()
    requested = args.workloads.split(",")
    order = [w for w in EXECUTION_ORDER if w in requested] if scratch.keep else requested
    tables = {}
    deleted_inodes = False  # by a replace workload: one old inode per operation
    for workload in order:
        kind, count, size, title = WORKLOADS[workload]
        if scratch.keep and deleted_inodes:
            time.sleep(SETTLE_SECONDS)
        deleted_inodes = kind == "replace"
        runners = [c for c in table if workload in c[2]]
        samples = {c[0]: [] for c in runners}
        devices = {c[0]: [] for c in runners}
        rounds = args.short_rounds if workload in SHORT else args.rounds
        for r in range(rounds):
            rotated = runners[r % len(runners):] + runners[:r % len(runners)]
            for name, level, _, command in rotated:
                with scratch.directory(big=kind == "big") as d:
                    seconds, deltas = run_once(command(kind, d, count, size), args.dir)
                samples[name].append(seconds)
                devices[name].append(deltas)
        block = ["#### {}: {} ({} rounds)".format(workload, title, rounds), "",
                 "| contender | level | median ms/op | min-max ms/op | device writes/op | flushes/op | syscalls/op | peak RSS KiB |",
                 "|---|---|---|---|---|---|---|---|"]
        ops = count if kind != "big" else 1
        for name, level, _, command in runners:
            s = samples[name]
            writes = statistics.median([w for w, f in devices[name]]) if devices[name][0][0] is not None else None
            flushes = statistics.median([f for w, f in devices[name]]) if devices[name][0][1] is not None else None
            with scratch.directory(big=kind == "big") as d:
                rss = peak_rss_kib(command(kind, d, count, size))
            calls = syscalls(command, kind, scratch, count, size) if kind != "big" else None
            median = statistics.median(s)
            results[(workload, name)] = dict(median=median / ops, level=level,
                                             flushes=None if flushes is None else flushes / ops,
                                             calls=calls)
            block.append("| {} | {} | {} | {}-{} | {} | {} | {} | {} |".format(
                name, level, fmt(median * 1000 / ops), fmt(min(s) * 1000 / ops),
                fmt(max(s) * 1000 / ops), fmt(None if writes is None else writes / ops, 2),
                fmt(None if flushes is None else flushes / ops, 2), fmt(calls, 1), rss))
        block.append("")
        print("\n".join(block))
        sys.stdout.flush()
        tables[workload] = block
    scratch.remove_kept()
    for workload in requested:  # the report in the order asked for, whatever the run's
        lines.extend(tables[workload])
    say("#### Ratios (same run)")
    say()
    def ratio(workload, a, b):
        x, y = results.get((workload, a)), results.get((workload, b))
        return None if not x or not y else x["median"] / y["median"]
    ref = "C reference: temp, write, fsync, rename, fsync dir"
    for w in ("W1", "W2"):
        say("- {} durable: atomicwrites / C reference = {} (target <= 1.05); syscalls/op {} vs {}".format(
            w, fmt(ratio(w, "atomicwrites durable", ref)),
            fmt(results.get((w, "atomicwrites durable"), {}).get("calls"), 1),
            fmt(results.get((w, ref), {}).get("calls"), 1)))
        for (wl, name), r in sorted(results.items()):
            if wl == w and r["level"] == "durable" and not name.startswith(("atomicwrites", "C reference")):
                say("  - vs {}: {} (below 1 = faster)".format(name, fmt(ratio(w, "atomicwrites durable", name))))
        say("- {} consistent: atomicwrites / Qt QSaveFile = {} (target <= 1.05)".format(
            w, fmt(ratio(w, "atomicwrites consistent", "Qt QSaveFile"))))
    say("- W4 none: atomicwrites / write + rename = {} (target <= 1.05)".format(
        fmt(ratio("W4", "atomicwrites none", "limit: write + rename, no flush"))))
    w3 = ratio("W3", "atomicwrites durable", "limit: write + fsync, no rename")
    say("- W3: throughput of atomicwrites durable / write + fsync = {} (target >= 0.95)".format(
        fmt(None if w3 is None else 1 / w3)))
    peers_w5 = [(r["median"], n) for (wl, n), r in results.items()
                if wl == "W5" and r["level"] == "durable" and not n.startswith("atomicwrites")]
    if peers_w5:
        best, best_name = min(peers_w5)
        for strategy in ("syncfs", "io_uring", "fdatasync each"):
            r = results.get(("W5", "atomicwrites batch, " + strategy))
            if r:
                say("- W5 batch ({}): {}x the throughput of the best durable peer one by one ({}); {} flushes/file (targets >= 5x, <= 0.05)".format(
                    strategy, fmt(best / r["median"], 1), best_name, fmt(r["flushes"], 3)))
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")
    if args.chart:
        chart(results, args.chart, args.label or fs_type)


def chart(results, path, label):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, workload in zip(axes, ("W1", "W2")):
        items = sorted(((r["median"] * 1000, name) for (w, name), r in results.items()
                        if w == workload and r["level"] in ("durable", "consistent", "limit")),
                       reverse=True)
        ax.barh([n for _, n in items], [v for v, _ in items],
                color=["tab:green" if n.startswith("atomicwrites") else "tab:gray" for _, n in items])
        ax.set_title("{}: {}".format(workload, WORKLOADS[workload][3]))
        ax.set_xlabel("ms per operation (median, lower is better)")
        ax.tick_params(axis="y", labelsize=7)
    fig.suptitle("atomicwrites vs peers, {} ({})".format(label, datetime.date.today().isoformat()))
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    main()
