// The one internal platform interface. src/posix/backend.cpp and src/windows/backend.cpp
// implement it; CMake compiles exactly one of them. No virtual functions: the platform is
// chosen at build time.
#ifndef ATOMICWRITES_SRC_BACKEND_HPP
#define ATOMICWRITES_SRC_BACKEND_HPP

#include <atomicwrites/batch.hpp>
#include <atomicwrites/options.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace atomicwrites::detail {

#ifdef _WIN32
using native_handle = void*;
inline native_handle const invalid_handle = reinterpret_cast<void*>(-1);  // NOLINT
#else
using native_handle = int;
inline constexpr native_handle invalid_handle = -1;
#endif

// What we learnt about the file being replaced, before writing.
struct existing_target {
  bool regular = false;    // it is a regular file, whose metadata `preserve` keeps
  std::uint32_t mode = 0;  // permission bits (07777), or Windows attributes
  std::uint32_t owner = 0;
  std::uint32_t group = 0;
};

// One write in progress: from open_temp() to publish() or discard(). Paths are kept as
// native strings: a std::filesystem::path splits itself into components (and allocates)
// each time one is made, which on a small write costs more than our system calls do.
struct staged_file {
  using string_type = std::filesystem::path::string_type;
  string_type target;           // the name that gets the content (links resolved)
  std::size_t target_name = 0;  // where its last component starts in `target`
  string_type temp_path;        // the temporary file's name; empty while it has none
  std::size_t temp_name = 0;    // where its last component starts in `temp_path`
  native_handle file = invalid_handle;
  native_handle directory = invalid_handle;       // the target's directory
  native_handle temp_directory = invalid_handle;  // options.temp_dir, if another directory
  existing_target existing;
  bool mode_is_final = false;             // created with the final permission bits already
  bool created_with_wanted_bits = false;  // asked for them; the umask may have removed some

  staged_file() = default;
  staged_file(const staged_file&) = delete;
  staged_file& operator=(const staged_file&) = delete;
  ~staged_file();  // closes handles; never removes or publishes anything
};

// Shared by both backends (src/common.cpp).
std::error_code validate(const std::filesystem::path& target, const write_options& options);
std::filesystem::path directory_of(const std::filesystem::path& path);  // "." for a bare name
// The directory holding a staged target, as open_directory_handle() takes it.
staged_file::string_type directory_of(const staged_file& staged);

// any: the backend's preferred kind (Linux: O_TMPFILE). named: a named temporary file, made
// by a batch, which holds its directories open itself and publishes through them.
enum class temp_kind { any, named };

// Each returns an error made with make_error() (phase and OS error), or {} on success.
std::error_code open_temp(staged_file& staged, const std::filesystem::path& target,
                          const write_options& options, temp_kind kind = temp_kind::any);
std::error_code write_all(staged_file& staged, const char* data, std::size_t size);
std::error_code apply_metadata(staged_file& staged, const write_options& options);
std::error_code flush_data(staged_file& staged, durability level);
std::error_code publish(staged_file& staged, const write_options& options);
std::error_code discard(staged_file& staged) noexcept;

// Batches (src/batch.cpp). A staged batch file is a named temporary file whose handles are
// released after writing; it is flushed and published through shared directory handles.
void release_handles(staged_file& staged, std::error_code& ec) noexcept;
// The permission bits a new file gets by default (0666 & ~umask), for a batch to read once.
std::uint32_t default_file_mode();
std::error_code open_directory_handle(const std::filesystem::path& directory, native_handle& out);
void close_handle(native_handle& handle) noexcept;
std::error_code flush_files(const std::vector<const staged_file*>& files,
                            const std::vector<native_handle>& directories, batch_flush how);
// Publishes without flushing the directory (the batch flushes each directory once).
std::error_code publish_through(staged_file& staged, native_handle directory,
                                const write_options& options);
std::error_code flush_directory(native_handle directory);
std::error_code remove_temp(staged_file& staged) noexcept;

// replace_atomic (overwrite) and move_atomic (no overwrite).
std::error_code rename_file(const std::filesystem::path& source,
                            const std::filesystem::path& target, bool overwrite, durability level);

}  // namespace atomicwrites::detail

#endif  // ATOMICWRITES_SRC_BACKEND_HPP
