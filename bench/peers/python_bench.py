"""Python atomicwrites 1.4.1 (Debian's python3-atomicwrites) as a benchmark contender.
LEVEL: durable (its only behaviour: fsync of the file and the directory) or none (a
subclass whose sync only flushes Python's buffer, the one way 1.4.1 allows)."""
import sys
import time

import atomicwrites

level, workload, directory, count, size = sys.argv[1:6]
count, size = int(count), int(size)


class NoSync(atomicwrites.AtomicWriter):
    def sync(self, f):
        f.flush()


writer = NoSync if level == "none" else atomicwrites.AtomicWriter
chunk = b"x" * ((1 << 20) if workload == "big" else size)
start = time.perf_counter()
for i in range(1 if workload == "big" else count):
    name = "f%d" % i if workload == "create" else "f"
    with atomicwrites.atomic_write("%s/%s" % (directory, name), writer_cls=writer, mode="wb",
                                   overwrite=True) as f:
        for _ in range(size // len(chunk) if workload == "big" else 1):
            f.write(chunk)
print("%.6f" % (time.perf_counter() - start))
