// How failures are reported.
//
// Every failure is a std::error_code whose value is the operating system's own error number
// (errno, or GetLastError on Windows) and which compares equal to the portable std::errc
// condition: `ec == std::errc::file_exists`. Its category additionally records which phase
// of the write failed and whether the new content had already been published; read them with
// failed_phase() and was_published(). The throwing overloads throw
// std::filesystem::filesystem_error carrying that same code.
#ifndef ATOMICWRITES_ERROR_HPP
#define ATOMICWRITES_ERROR_HPP

#include <system_error>

namespace atomicwrites {

// The steps of a write, in the order they run.
enum class phase {
  none,             // not an atomicwrites error
  prepare,          // checking the input and inspecting the target and its directory
  create_temp,      // creating the temporary file
  write,            // writing the content
  metadata,         // applying permission bits and owner to the temporary file
  flush,            // flushing the file's data to the device
  publish,          // giving the new content the target's name (rename, link)
  directory_flush,  // flushing the directory that holds the new name
  cleanup,          // removing a temporary name or closing a handle
};

// The phase an error_code from this library failed in; phase::none for any other code.
[[nodiscard]] phase failed_phase(const std::error_code& ec) noexcept;

// True when the target already holds the new content although the call failed: a failed
// directory flush ("published, durability unknown") or a failed cleanup after publishing.
// The target is never rolled back then.
[[nodiscard]] bool was_published(const std::error_code& ec) noexcept;

// "create temp", "flush", ... for messages.
[[nodiscard]] const char* to_string(phase p) noexcept;

// An error_code with the OS error `os_error` (errno or GetLastError) in the given phase.
// Public so that hooks of an atomic_file subclass can report failures the same way.
[[nodiscard]] std::error_code make_error(phase p, int os_error, bool published = false) noexcept;

// The same for a portable condition with no OS error of its own on every platform (Windows
// has no code for "is a directory"): the value is the POSIX errno, compared as generic.
[[nodiscard]] std::error_code make_error(phase p, std::errc condition) noexcept;

}  // namespace atomicwrites

#endif  // ATOMICWRITES_ERROR_HPP
