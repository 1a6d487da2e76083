// atomic_file: a file that appears at its target path, whole, only when commit() succeeds.
#ifndef ATOMICWRITES_ATOMIC_FILE_HPP
#define ATOMICWRITES_ATOMIC_FILE_HPP

#include <atomicwrites/error.hpp>
#include <atomicwrites/options.hpp>

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string_view>
#include <system_error>

namespace atomicwrites {

namespace detail {
struct staged_file;   // the platform backend's state of one write (src/backend.hpp)
class output_stream;  // the buffered std::ostream over the temporary file
struct access;        // library-internal shortcuts (src/access.hpp)
}  // namespace detail

// Writes go to a temporary file next to the target; commit() flushes it as the durability
// level asks and gives it the target's name in one atomic step. Until then the target is
// untouched. An atomic_file destroyed without a successful commit() removes its temporary
// file and never publishes anything.
//
// The four steps are protected virtual hooks called from the public non-virtual functions,
// so a subclass can change one step and keep the rest (the shape of Python atomicwrites'
// get_fileobject / sync / commit / rollback):
//   do_open()     create the temporary file           (from open(), or the first write)
//   do_flush()    flush its data per the durability    (from commit())
//   do_publish()  give it the target's name           (from commit())
//   do_rollback() remove it                            (from discard() and failed commits)
// A hook reports failure by returning an error_code (make_error() tags it with a phase).
// Hooks may throw: the exception leaves the throwing overloads after the rollback; the
// noexcept overloads (those taking std::error_code&) need hooks that do not throw.
// The base destructor can only run the base do_rollback(): a subclass that overrides
// do_rollback() calls discard() in its own destructor.
class atomic_file {
 public:
#ifdef _WIN32
  using native_handle_type = void*;  // HANDLE
#else
  using native_handle_type = int;  // file descriptor
#endif

  explicit atomic_file(std::filesystem::path target, write_options options = {});
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;
  virtual ~atomic_file();

  // Creates the temporary file. Optional: the first write, stream() or commit() opens it.
  void open();
  void open(std::error_code& ec) noexcept;

  // Appends bytes. Small writes are buffered; flush errors surface here or in commit().
  void write(std::string_view data);
  void write(std::string_view data, std::error_code& ec) noexcept;

  // A std::ostream that appends to the same file (shares write()'s buffer). A failed write
  // sets badbit; commit() then reports the error.
  std::ostream& stream();

  // Flushes and publishes. On failure the temporary file is removed and the target is left
  // as it was, unless was_published(error) says the new content is already in place.
  void commit();
  void commit(std::error_code& ec) noexcept;

  // Abandons the write: removes the temporary file. Idempotent; a no-op after commit().
  void discard() noexcept;

  [[nodiscard]] const std::filesystem::path& target() const noexcept {
    return target_;
  }
  [[nodiscard]] const write_options& options() const noexcept {
    return options_;
  }
  // The temporary file's name; empty while closed and when the file has no name yet
  // (Linux O_TMPFILE).
  [[nodiscard]] std::filesystem::path temp_path() const;
  [[nodiscard]] native_handle_type native_handle() const noexcept;
  [[nodiscard]] bool is_open() const noexcept {
    return state_ == state::open;
  }
  [[nodiscard]] bool committed() const noexcept {
    return state_ == state::committed;
  }

 protected:
  virtual std::error_code do_open();
  virtual std::error_code do_flush();
  virtual std::error_code do_publish();
  virtual std::error_code do_rollback() noexcept;

 private:
  enum class state { closed, open, committed, discarded, failed };

  std::error_code open_impl();
  std::error_code write_impl(const char* data, std::size_t size);
  std::error_code commit_impl();
  void fail() noexcept;  // rollback after an error before publishing

  std::filesystem::path target_;
  write_options options_;
  state state_ = state::closed;
  std::error_code sticky_error_;  // first error of a failed open or write
  std::unique_ptr<detail::staged_file> staged_;
  std::unique_ptr<detail::output_stream> stream_;

  friend class detail::output_stream;
  friend struct detail::access;
};

}  // namespace atomicwrites

#endif  // ATOMICWRITES_ATOMIC_FILE_HPP
