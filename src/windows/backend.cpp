// The Windows backend: the same protocol with Win32 calls.
//   temp file  CreateFileW(CREATE_NEW) next to the target, hidden, named like on POSIX
//   flush      FlushFileBuffers on the handle
//   publish    on the open handle: FileRenameInfoEx (POSIX semantics), else FileRenameInfo,
//              else MoveFileExW(MOVEFILE_WRITE_THROUGH); REPLACE only when overwriting;
//              sharing violations (antivirus, indexers) retried within a time budget
//   errors     GetLastError values; libstdc++ maps them to the same std::errc conditions
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A000005  // Windows 10 1803 in MinGW-w64's encoding: FileRenameInfoEx
#endif
#define _CRT_RAND_S  // rand_s: the CRT's cryptographic random numbers
#include <windows.h>

#include "../backend.hpp"
#include "../temp_name.hpp"
#include "../testing.hpp"

#include <atomicwrites/error.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace atomicwrites::detail {
namespace {

namespace fs = std::filesystem;

constexpr int max_symlink_hops = 40;
constexpr int max_name_attempts = 32;
constexpr std::size_t max_name_length = 255;

HANDLE as_handle(native_handle h) {
  return static_cast<HANDLE>(h);
}

std::error_code last_error(phase p, bool published = false) {
  return make_error(p, static_cast<int>(::GetLastError()), published);
}

// Absolute, with the \\?\ prefix when long, so paths beyond MAX_PATH work.
std::wstring win32_path(const fs::path& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  std::wstring text = (ec ? path : absolute).lexically_normal().make_preferred().native();
  if (text.size() < 240 || text.rfind(L"\\\\?\\", 0) == 0) return text;
  if (text.rfind(L"\\\\", 0) == 0) return L"\\\\?\\UNC\\" + text.substr(2);
  return L"\\\\?\\" + text;
}

bool transient(DWORD error) {
  // What another process holding the file open (a scanner, an indexer) looks like.
  return error == ERROR_ACCESS_DENIED || error == ERROR_SHARING_VIOLATION ||
         error == ERROR_LOCK_VIOLATION;
}

// Runs `attempt` (returns TRUE on success) until it succeeds, fails for a reason that
// waiting will not change, or the budget runs out; backs off from 1 ms to 50 ms.
template <class Attempt>
BOOL with_retries(std::chrono::milliseconds budget, Attempt attempt) {
  auto deadline = std::chrono::steady_clock::now() + budget;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (attempt()) return TRUE;
    DWORD error = ::GetLastError();
    if (!transient(error) || std::chrono::steady_clock::now() + pause > deadline) {
      ::SetLastError(error);
      return FALSE;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

std::error_code inspect_target(staged_file& staged, const fs::path& target,
                               const write_options& options) {
  fs::path path = target;
  for (int hops = 0;; ++hops) {
    std::error_code ec;
    fs::file_status status = fs::symlink_status(path, ec);
    if (ec && status.type() != fs::file_type::not_found)
      return make_error(phase::prepare, ec.value());
    if (status.type() != fs::file_type::symlink || options.symlinks == symlink_policy::replace)
      break;
    if (options.symlinks == symlink_policy::refuse || hops == max_symlink_hops)
      return make_error(phase::prepare, std::errc::too_many_symbolic_link_levels);
    fs::path link = fs::read_symlink(path, ec);
    if (ec) return make_error(phase::prepare, ec.value());
    path = link.is_absolute() ? link : path.parent_path() / link;
  }
  staged.target = path.native();
  fs::path name = path.filename();
  staged.target_name = staged.target.size() - name.native().size();
  if (name.empty() || name == "." || name == "..")
    return make_error(phase::prepare, std::errc::is_a_directory);
  WIN32_FILE_ATTRIBUTE_DATA data{};
  std::wstring native = win32_path(path);
  if (!::GetFileAttributesExW(native.c_str(), GetFileExInfoStandard, &data)) {
    DWORD error = ::GetLastError();
    if (error == ERROR_FILE_NOT_FOUND) return {};
    return make_error(phase::prepare, static_cast<int>(error));
  }
  if (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
    return make_error(phase::prepare, std::errc::is_a_directory);
  if (!options.overwrite) return make_error(phase::prepare, ERROR_FILE_EXISTS);
  staged.existing.regular = (data.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) == 0;
  staged.existing.mode = data.dwFileAttributes;  // Windows: the attributes are the mode
  if (staged.existing.regular && options.hard_links == hard_link_policy::refuse) {
    HANDLE file =
        ::CreateFileW(native.c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                      nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    BY_HANDLE_FILE_INFORMATION info{};
    bool linked = file != INVALID_HANDLE_VALUE && ::GetFileInformationByHandle(file, &info) &&
                  info.nNumberOfLinks > 1;
    if (file != INVALID_HANDLE_VALUE) ::CloseHandle(file);
    if (linked) return make_error(phase::prepare, std::errc::too_many_links);
  }
  return {};
}

std::error_code random_name(const staged_file& staged, std::wstring& name) {
  std::array<unsigned char, temp_name_random_length> bytes{};
  for (auto& byte : bytes) {
    unsigned int value = 0;
    if (rand_s(&value) != 0) return make_error(phase::create_temp, ERROR_GEN_FAILURE);
    byte = static_cast<unsigned char>(value);
  }
  name.clear();
  append_temp_name(name, std::wstring_view(staged.target).substr(staged.target_name), bytes.data(),
                   max_name_length);
  return {};
}

fs::path temp_directory(const staged_file& staged, const write_options& options) {
  return options.temp_dir.empty() ? fs::path(directory_of(staged)) : options.temp_dir;
}

// The attributes the new file gets: FILE_ATTRIBUTE_READONLY is the analogue of a mode
// without the owner's write bit; a replaced file's hidden/system/archive bits are kept.
DWORD wanted_attributes(const staged_file& staged, const write_options& options) {
  constexpr DWORD kept = FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE |
                         FILE_ATTRIBUTE_NOT_CONTENT_INDEXED | FILE_ATTRIBUTE_READONLY;
  DWORD attributes = 0;
  if (options.preserve && staged.existing.regular) attributes = staged.existing.mode & kept;
  if (options.mode) {
    attributes &= ~static_cast<DWORD>(FILE_ATTRIBUTE_READONLY);
    if ((*options.mode & fs::perms::owner_write) == fs::perms::none)
      attributes |= FILE_ATTRIBUTE_READONLY;
  }
  return attributes == 0 ? FILE_ATTRIBUTE_NORMAL : attributes;
}

// Renames the open temporary file to `target`: on the handle where the system allows it.
BOOL rename_handle(HANDLE file, const std::wstring& target, bool overwrite, bool posix) {
  std::vector<unsigned char> buffer(sizeof(FILE_RENAME_INFO) + target.size() * sizeof(wchar_t));
  auto* info = reinterpret_cast<FILE_RENAME_INFO*>(buffer.data());
  if (posix) {
    info->Flags =
        FILE_RENAME_FLAG_POSIX_SEMANTICS | (overwrite ? FILE_RENAME_FLAG_REPLACE_IF_EXISTS : 0);
  } else {
    info->ReplaceIfExists = overwrite ? TRUE : FALSE;
  }
  info->RootDirectory = nullptr;
  info->FileNameLength = static_cast<DWORD>(target.size() * sizeof(wchar_t));
  std::memcpy(info->FileName, target.data(), info->FileNameLength);
  return ::SetFileInformationByHandle(file, posix ? FileRenameInfoEx : FileRenameInfo, info,
                                      static_cast<DWORD>(buffer.size()));
}

thread_local const char* publish_mechanism = "none";

bool mechanism_rejected(DWORD error) {
  return error == ERROR_INVALID_PARAMETER || error == ERROR_NOT_SUPPORTED ||
         error == ERROR_INVALID_FUNCTION || error == ERROR_CALL_NOT_IMPLEMENTED;
}

}  // namespace

std::wstring directory_of(const staged_file& staged) {
  return directory_of(fs::path(staged.target)).native();
}

void close_handle(native_handle& handle) noexcept {
  if (handle != invalid_handle && handle != nullptr) ::CloseHandle(as_handle(handle));
  handle = invalid_handle;
}

std::error_code open_temp(staged_file& staged, const fs::path& target, const write_options& options,
                          temp_kind) {
  if (auto ec = validate(target, options)) return ec;
  if (auto ec = inspect_target(staged, target, options)) return ec;
  fs::path directory = temp_directory(staged, options);
  std::error_code ec;
  if (!fs::is_directory(directory, ec))
    return make_error(phase::prepare, ec ? ec.value() : static_cast<int>(ERROR_PATH_NOT_FOUND));
  if (!options.temp_dir.empty() && fs::path(win32_path(directory)).root_name() !=
                                       fs::path(win32_path(directory_of(staged))).root_name())
    return make_error(phase::prepare, ERROR_NOT_SAME_DEVICE);  // a rename cannot cross volumes
  for (int attempt = 0; attempt < max_name_attempts; ++attempt) {
    std::wstring name;
    if (auto error = random_name(staged, name)) return error;
    fs::path temp = directory / name;
    // DELETE access: the handle renames itself. No FILE_SHARE_WRITE: nobody else writes it.
    HANDLE file = ::CreateFileW(win32_path(temp).c_str(), GENERIC_READ | GENERIC_WRITE | DELETE,
                                FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr, CREATE_NEW,
                                FILE_ATTRIBUTE_HIDDEN, nullptr);
    if (file != INVALID_HANDLE_VALUE) {
      staged.file = file;
      staged.temp_path = temp.native();
      return {};
    }
    if (::GetLastError() != ERROR_FILE_EXISTS) return last_error(phase::create_temp);
  }
  return make_error(phase::create_temp, ERROR_FILE_EXISTS);
}

std::error_code write_all(staged_file& staged, const char* data, std::size_t size) {
  while (size > 0) {
    DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(size, 1u << 30));
    DWORD written = 0;
    if (!::WriteFile(as_handle(staged.file), data, chunk, &written, nullptr))
      return last_error(phase::write);
    if (written == 0) return make_error(phase::write, ERROR_WRITE_FAULT);
    data += written;
    size -= written;
  }
  return {};
}

std::error_code apply_metadata(staged_file& staged, const write_options& options) {
  FILE_BASIC_INFO basic{};
  basic.FileAttributes = wanted_attributes(staged, options);
  if (!::SetFileInformationByHandle(as_handle(staged.file), FileBasicInfo, &basic, sizeof basic))
    return last_error(phase::metadata);
  staged.mode_is_final = true;
  return {};
}

std::error_code flush_data(staged_file& staged, durability level) {
  if (level == durability::none) return {};
  // A failure is final, as on Linux: the file is not published.
  if (!::FlushFileBuffers(as_handle(staged.file))) return last_error(phase::flush);
  return {};
}

std::error_code publish(staged_file& staged, const write_options& options) {
  std::wstring target = win32_path(staged.target);
  HANDLE file = as_handle(staged.file);
  bool renamed = false;
  // 1. FileRenameInfoEx with POSIX semantics (Windows 10 1607+; Wine 8 answers error 87).
  // 2. FileRenameInfo. Both rename the open handle, so no other file can be swapped in.
  // A batch file's handle was closed when it was staged: only the by-name move remains.
  for (bool posix : {true, false}) {
    if (file == invalid_handle || file == nullptr) break;
    if (with_retries(options.windows_retry_budget,
                     [&] { return rename_handle(file, target, options.overwrite, posix); })) {
      renamed = true;
      publish_mechanism = posix ? "FileRenameInfoEx" : "FileRenameInfo";
      break;
    }
    DWORD error = ::GetLastError();
    if (!mechanism_rejected(error)) {
      if (error == ERROR_ALREADY_EXISTS) error = ERROR_FILE_EXISTS;
      return make_error(phase::publish, static_cast<int>(error));
    }
  }
  if (renamed) {
    staged.temp_path.clear();
    // The rename is NTFS metadata of this file: flushing the handle commits it.
    if (options.durability == durability::durable && !::FlushFileBuffers(file))
      return last_error(phase::directory_flush, true);
    close_handle(staged.file);
    return {};
  }
  // 3. By name, write-through: returns after the move is on the disk.
  close_handle(staged.file);
  DWORD flags = MOVEFILE_WRITE_THROUGH | (options.overwrite ? MOVEFILE_REPLACE_EXISTING : 0);
  std::wstring from = win32_path(staged.temp_path);
  if (!with_retries(options.windows_retry_budget,
                    [&] { return ::MoveFileExW(from.c_str(), target.c_str(), flags); })) {
    DWORD error = ::GetLastError();
    if (error == ERROR_ALREADY_EXISTS) error = ERROR_FILE_EXISTS;
    return make_error(phase::publish, static_cast<int>(error));
  }
  staged.temp_path.clear();
  publish_mechanism = "MoveFileExW";
  return {};
}

const char* testing::last_publish_mechanism() noexcept {
  return publish_mechanism;
}

std::error_code discard(staged_file& staged) noexcept {
  std::error_code ec;
  close_handle(staged.file);
  if (!staged.temp_path.empty()) {
    std::wstring path = win32_path(staged.temp_path);
    ::SetFileAttributesW(path.c_str(), FILE_ATTRIBUTE_NORMAL);  // a read-only file is not deleted
    if (!::DeleteFileW(path.c_str()) && ::GetLastError() != ERROR_FILE_NOT_FOUND)
      ec = last_error(phase::cleanup);
    staged.temp_path.clear();
  }
  return ec;
}

std::error_code rename_file(const fs::path& source, const fs::path& target, bool overwrite,
                            durability level) {
  if (source.empty() || target.empty() || source.filename().empty() || target.filename().empty())
    return make_error(phase::prepare, ERROR_INVALID_PARAMETER);
  std::wstring from = win32_path(source), to = win32_path(target);
  if (::GetFileAttributesW(from.c_str()) == INVALID_FILE_ATTRIBUTES)
    return last_error(phase::prepare);
  if (level != durability::none) {
    HANDLE file = ::CreateFileW(from.c_str(), GENERIC_WRITE,
                                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file != INVALID_HANDLE_VALUE) {
      BOOL flushed = ::FlushFileBuffers(file);
      ::CloseHandle(file);
      if (!flushed) return last_error(phase::flush);
    }
  }
  DWORD flags = (level == durability::durable ? MOVEFILE_WRITE_THROUGH : 0) |
                (overwrite ? MOVEFILE_REPLACE_EXISTING : 0);
  if (!with_retries(std::chrono::milliseconds(1000),
                    [&] { return ::MoveFileExW(from.c_str(), to.c_str(), flags); })) {
    DWORD error = ::GetLastError();
    if (error == ERROR_ALREADY_EXISTS) error = ERROR_FILE_EXISTS;
    return make_error(phase::publish, static_cast<int>(error));
  }
  return {};
}

std::uint32_t default_file_mode() {
  return 0666;
}

// Batches: the temporary files are closed once written and published by name.
void release_handles(staged_file& staged, std::error_code& ec) noexcept {
  if (staged.file != invalid_handle && !::CloseHandle(as_handle(staged.file)) && !ec)
    ec = last_error(phase::write);
  staged.file = invalid_handle;
}

std::error_code open_directory_handle(const fs::path&, native_handle& out) {
  out = nullptr;  // Windows flushes names with the files (MOVEFILE_WRITE_THROUGH)
  return {};
}

std::error_code flush_files(const std::vector<const staged_file*>& files,
                            const std::vector<native_handle>&, batch_flush) {
  for (const staged_file* staged : files) {
    HANDLE file = ::CreateFileW(win32_path(staged->temp_path).c_str(), GENERIC_WRITE,
                                FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE) return last_error(phase::flush);
    BOOL flushed = ::FlushFileBuffers(file);
    ::CloseHandle(file);
    if (!flushed) return last_error(phase::flush);
  }
  return {};
}

std::error_code publish_through(staged_file& staged, native_handle, const write_options& options) {
  return publish(staged, options);  // the handle is closed: this takes MoveFileExW's path
}

std::error_code flush_directory(native_handle) {
  return {};
}

std::error_code remove_temp(staged_file& staged) noexcept {
  return discard(staged);
}

}  // namespace atomicwrites::detail
