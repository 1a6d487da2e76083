#include "sys.hpp"

#include "../testing.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>

namespace atomicwrites::detail {
namespace {

struct hook_slot {
  std::atomic<testing::syscall_hook> hook{nullptr};
  std::atomic<void*> context{nullptr};
};

hook_slot& slot() noexcept {
  static hook_slot instance;
  return instance;
}

// Asks the test hook, if any, what to do with this call. One relaxed load when no test runs.
testing::injection consult(sys::call which) noexcept {
  auto hook = slot().hook.load(std::memory_order_acquire);
  if (hook == nullptr) return {};
  return hook(which, slot().context.load(std::memory_order_relaxed));
}

// Runs `real` unless the hook injects an error; retries EINTR, whether real or injected.
template <class Result, class Function>
Result checked(sys::call which, Function real) noexcept {
  for (;;) {
    Result result;
    if (testing::injection injected = consult(which); injected.error != 0) {
      errno = injected.error;
      result = -1;
    } else {
      result = real();
    }
    if (result == -1 && errno == EINTR) continue;
    return result;
  }
}

}  // namespace

void testing::set_syscall_hook(syscall_hook hook, void* context) noexcept {
  slot().context.store(context, std::memory_order_relaxed);
  slot().hook.store(hook, std::memory_order_release);
}

namespace sys {

const char* name(call c) noexcept {
  static constexpr const char* names[] = {"open_directory", "open_tmpfile",   "open_exclusive",
                                          "open_source",    "write",          "read",
                                          "stat",           "fstat",          "readlink",
                                          "fchmod",         "fchown",         "fdatasync",
                                          "fsync",          "link_anonymous", "link_anonymous_proc",
                                          "link",           "rename",         "rename_noreplace",
                                          "unlink",         "close",          "random",
                                          "syncfs",         "uname"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<std::size_t>(call::count_));
  return names[static_cast<std::size_t>(c)];
}

int openat(call why, int dirfd, const char* path, int flags, mode_t mode) noexcept {
  return checked<int>(why, [&] { return ::openat(dirfd, path, flags, mode); });
}

ssize_t write(int fd, const void* data, std::size_t size) noexcept {
  for (;;) {
    testing::injection injected = consult(call::write);
    if (injected.error != 0) {
      if (injected.error == EINTR) continue;
      errno = injected.error;
      return -1;
    }
    std::size_t asked = injected.max_bytes != 0 ? std::min(size, injected.max_bytes) : size;
    ssize_t written = ::write(fd, data, asked);
    if (written == -1 && errno == EINTR) continue;
    return written;
  }
}

ssize_t read(int fd, void* data, std::size_t size) noexcept {
  return checked<ssize_t>(call::read, [&] { return ::read(fd, data, size); });
}

ssize_t pread(int fd, void* data, std::size_t size, off_t offset) noexcept {
  return checked<ssize_t>(call::read, [&] { return ::pread(fd, data, size, offset); });
}

int fstatat(int dirfd, const char* path, struct stat* out, int flags) noexcept {
  return checked<int>(call::stat, [&] { return ::fstatat(dirfd, path, out, flags); });
}

int fstat(int fd, struct stat* out) noexcept {
  return checked<int>(call::fstat, [&] { return ::fstat(fd, out); });
}

ssize_t readlinkat(int dirfd, const char* path, char* buffer, std::size_t size) noexcept {
  return checked<ssize_t>(call::readlink, [&] { return ::readlinkat(dirfd, path, buffer, size); });
}

int fchmod(int fd, mode_t mode) noexcept {
  return checked<int>(call::fchmod, [&] { return ::fchmod(fd, mode); });
}

int fchown(int fd, uid_t owner, gid_t group) noexcept {
  return checked<int>(call::fchown, [&] { return ::fchown(fd, owner, group); });
}

int fdatasync(int fd) noexcept {
  return checked<int>(call::fdatasync, [&] { return ::fdatasync(fd); });
}

int fsync(int fd) noexcept {
  return checked<int>(call::fsync, [&] { return ::fsync(fd); });
}

int linkat(call why, int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
           int flags) noexcept {
  return checked<int>(why, [&] { return ::linkat(olddirfd, oldpath, newdirfd, newpath, flags); });
}

int renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) noexcept {
  return checked<int>(call::rename,
                      [&] { return ::renameat(olddirfd, oldpath, newdirfd, newpath); });
}

int renameat2_noreplace(int olddirfd, const char* oldpath, int newdirfd,
                        const char* newpath) noexcept {
  return checked<int>(call::rename_noreplace, [&] {
    return ::renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_NOREPLACE);
  });
}

int unlinkat(int dirfd, const char* path) noexcept {
  return checked<int>(call::unlink, [&] { return ::unlinkat(dirfd, path, 0); });
}

int close(int fd) noexcept {
  // Never retried: Linux releases the descriptor even when close() reports EINTR, and a
  // retry could close a descriptor another thread has just been given.
  if (testing::injection injected = consult(call::close); injected.error != 0) {
    ::close(fd);  // the descriptor is gone either way, as after a real failed close
    errno = injected.error;
    return -1;
  }
  return ::close(fd);
}

ssize_t getrandom(void* buffer, std::size_t size) noexcept {
  return checked<ssize_t>(call::random, [&] { return ::getrandom(buffer, size, 0); });
}

}  // namespace sys
}  // namespace atomicwrites::detail

namespace atomicwrites::detail::sys {

int syncfs(int fd) noexcept {
  return checked<int>(call::syncfs, [&] { return ::syncfs(fd); });
}

int uname(struct utsname* out) noexcept {
  return checked<int>(call::uname, [&] { return ::uname(out); });
}

bool syncfs_reports_errors(const char* release) noexcept {
  unsigned major = 0, minor = 0;
  if (std::sscanf(release, "%u.%u", &major, &minor) != 2) return false;
  return major > 5 || (major == 5 && minor >= 8);
}

bool syncfs_reports_errors() noexcept {
  static const bool answer = [] {
    struct utsname system {};
    return sys::uname(&system) == 0 && syncfs_reports_errors(system.release);
  }();
  return answer;
}

}  // namespace atomicwrites::detail::sys
