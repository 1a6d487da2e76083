// npm's write-file-atomic (sync API) as a benchmark contender. LEVEL: consistent (its
// default: fsync of the file before the rename) or none (fsync: false).
const writeFileAtomic = require("write-file-atomic");
const [level, workload, dir, countText, sizeText] = process.argv.slice(2);
const count = workload === "big" ? 1 : Number(countText);
const data = Buffer.alloc(Number(sizeText), "x");
const start = process.hrtime.bigint();
for (let i = 0; i < count; ++i) {
  const name = workload === "create" ? `f${i}` : "f";
  writeFileAtomic.sync(`${dir}/${name}`, data, { fsync: level !== "none" });
}
console.log((Number(process.hrtime.bigint() - start) / 1e9).toFixed(6));
