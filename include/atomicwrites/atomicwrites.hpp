// atomicwrites: write files atomically and durably.
//
// Every operation comes in two forms, as in std::filesystem: one throws
// std::filesystem::filesystem_error (path1 = the target, path2 = the temporary file or the
// source), one takes a std::error_code& and is noexcept. error.hpp says how to read errors.
#ifndef ATOMICWRITES_ATOMICWRITES_HPP
#define ATOMICWRITES_ATOMICWRITES_HPP

#include <atomicwrites/atomic_file.hpp>
#include <atomicwrites/batch.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/options.hpp>
#include <atomicwrites/version.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <ostream>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace atomicwrites {

// Writes `data` to `target` in one atomic step.
void write_file(const std::filesystem::path& target, std::string_view data,
                const write_options& options = {});
void write_file(const std::filesystem::path& target, std::string_view data,
                const write_options& options, std::error_code& ec) noexcept;
void write_file(const std::filesystem::path& target, std::string_view data,
                std::error_code& ec) noexcept;

// Runs `writer` with a std::ostream& (or, if it takes one, the atomic_file&) and commits
// after it returns. If it throws, nothing is published, the temporary file is removed and
// the exception propagates unchanged.
template <class Writer>
void atomic_write(const std::filesystem::path& target, Writer&& writer,
                  const write_options& options = {}) {
  atomic_file file(target, options);
  if constexpr (std::is_invocable_v<Writer&, std::ostream&>) {
    writer(file.stream());
  } else {
    writer(file);
  }
  file.commit();
}

// As above, reporting library errors through `ec`; exceptions thrown by `writer` still
// propagate (after the rollback).
template <class Writer>
void atomic_write(const std::filesystem::path& target, Writer&& writer,
                  const write_options& options, std::error_code& ec) {
  atomic_file file(target, options);
  file.open(ec);
  if (ec) return;
  if constexpr (std::is_invocable_v<Writer&, std::ostream&>) {
    writer(file.stream());
  } else {
    writer(file);
  }
  file.commit(ec);
}

// Renames `source` onto `target`, replacing it, as one atomic step. At durability::durable
// (the default) the source's data is flushed first and both directories afterwards. Both
// must be on one filesystem: std::errc::cross_device_link otherwise, never a copy.
void replace_atomic(const std::filesystem::path& source, const std::filesystem::path& target,
                    durability level = durability::durable);
void replace_atomic(const std::filesystem::path& source, const std::filesystem::path& target,
                    std::error_code& ec) noexcept;
void replace_atomic(const std::filesystem::path& source, const std::filesystem::path& target,
                    durability level, std::error_code& ec) noexcept;

// As replace_atomic, but never replaces: an existing target gives std::errc::file_exists
// and both files stay as they were.
void move_atomic(const std::filesystem::path& source, const std::filesystem::path& target,
                 durability level = durability::durable);
void move_atomic(const std::filesystem::path& source, const std::filesystem::path& target,
                 std::error_code& ec) noexcept;
void move_atomic(const std::filesystem::path& source, const std::filesystem::path& target,
                 durability level, std::error_code& ec) noexcept;

// True for names of this library's temporary files (".NAME.aw-XXXXXXXXXXXX.tmp").
[[nodiscard]] bool is_temp_file_name(const std::filesystem::path& file_name) noexcept;

// Removes this library's temporary files in `directory` (not below it) whose last
// modification is at least `older_than` ago: leftovers of writers that were killed. Never
// touches any other file. Returns how many it removed.
std::size_t remove_stale_temp_files(const std::filesystem::path& directory,
                                    std::chrono::seconds older_than = std::chrono::hours(1));
std::size_t remove_stale_temp_files(const std::filesystem::path& directory,
                                    std::chrono::seconds older_than, std::error_code& ec) noexcept;

}  // namespace atomicwrites

#endif  // ATOMICWRITES_ATOMICWRITES_HPP
