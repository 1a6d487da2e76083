// batch: many files committed together, sharing the device flushes.
#ifndef ATOMICWRITES_BATCH_HPP
#define ATOMICWRITES_BATCH_HPP

#include <atomicwrites/error.hpp>
#include <atomicwrites/options.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>
#include <vector>

namespace atomicwrites {

namespace detail {
struct batch_state;
}

// How a batch flushes its files' data before publishing them.
enum class batch_flush {
  automatic,   // the fastest measured here (see docs/performance.md): filesystem
  per_file,    // fdatasync of each file, one after another
  concurrent,  // fdatasync of every file submitted at once (io_uring, where built with it)
  filesystem,  // syncfs once per filesystem: one flush for all (and other dirty data there);
               // on Linux before 5.8, whose syncfs does not report writeback errors, per_file
};

// What happened to one file of a committed batch.
struct batch_result {
  std::filesystem::path target;
  std::error_code error;   // empty on success
  bool published = false;  // the target holds the new content
};

// Stages many files, then publishes them with shared flushes: write all, flush all data at
// once, rename each, flush each directory once. Every file keeps the single-write guarantee
// (old or new; new for all once commit() returns without error). A batch is NOT a multi-file
// transaction: while it commits, a reader can see some files new and some old, and a failure
// can leave some published and some not (results() says which).
//
// Temporary files are named (".NAME.aw-XXXXXXXXXXXX.tmp") and closed once written, so a batch
// of any size holds one descriptor per directory, not per file.
class batch {
 public:
  explicit batch(write_options options = {}, batch_flush flush = batch_flush::automatic);
  ~batch();  // discards what was staged and not committed; never throws, never publishes
  batch(batch&&) noexcept;
  batch& operator=(batch&&) noexcept;

  // Writes `data` to a temporary file next to `target`. Nothing is published yet. A failure
  // stages nothing for this file and leaves the others staged.
  void add(const std::filesystem::path& target, std::string_view data);
  void add(const std::filesystem::path& target, std::string_view data,
           std::error_code& ec) noexcept;

  // Flushes, publishes and flushes directories. Fails (with the first file's error) if any
  // file failed; results() tells each file's outcome. A failed data flush publishes nothing.
  void commit();
  void commit(std::error_code& ec) noexcept;

  // Removes every staged temporary file. Idempotent; a no-op after commit().
  void discard() noexcept;

  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] const std::vector<batch_result>& results() const noexcept;

 private:
  std::unique_ptr<detail::batch_state> state_;
};

}  // namespace atomicwrites

#endif  // ATOMICWRITES_BATCH_HPP
