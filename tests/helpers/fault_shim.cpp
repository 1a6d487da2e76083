// An LD_PRELOAD shim that injects faults into whole processes (the CLI, the C tests, helper
// programs), the way the library's own syscall seam does inside unit tests. It reads its
// settings from the environment at every call, so a test can change them between calls.
//
//   AW_SHIM_NO_TMPFILE=1       openat(O_TMPFILE) fails with EOPNOTSUPP (filesystem without it)
//   AW_SHIM_NO_RENAMEAT2=1     renameat2 fails with EINVAL (filesystem without it)
//   AW_SHIM_FAIL=RULE[,RULE]   RULE is NAME:ERRNO or NAME:ERRNO@N (only the Nth call of NAME,
//                              counted since AW_SHIM_FAIL last changed). NAME: open, tmpfile,
//                              write, fdatasync, fsync, rename, renameat2, link, unlink,
//                              fchmod, fchown. ERRNO: a number or EIO, ENOSPC, EDQUOT, EACCES,
//                              EPERM, EROFS, EMFILE, EXDEV, EINVAL, ENOSYS, EOPNOTSUPP, EINTR.
//   AW_SHIM_SHORT_WRITE=N      write() writes at most N bytes (real short writes)
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace {

enum name_index {
  open_i,
  tmpfile_i,
  write_i,
  fdatasync_i,
  fsync_i,
  rename_i,
  renameat2_i,
  link_i,
  unlink_i,
  fchmod_i,
  fchown_i,
  name_count
};
const char* const names[name_count] = {"open",   "tmpfile", "write",     "fdatasync",
                                       "fsync",  "rename",  "renameat2", "link",
                                       "unlink", "fchmod",  "fchown"};

struct errno_name {
  const char* name;
  int value;
};
const errno_name errnos[] = {{"EIO", EIO},       {"ENOSPC", ENOSPC},         {"EDQUOT", EDQUOT},
                             {"EACCES", EACCES}, {"EPERM", EPERM},           {"EROFS", EROFS},
                             {"EMFILE", EMFILE}, {"EXDEV", EXDEV},           {"EINVAL", EINVAL},
                             {"ENOSYS", ENOSYS}, {"EOPNOTSUPP", EOPNOTSUPP}, {"EINTR", EINTR}};

std::mutex guard;
std::string last_rules;
int calls[name_count];

bool enabled(const char* variable) {
  const char* value = std::getenv(variable);
  return value != nullptr && *value != '\0' && *value != '0';
}

int parse_errno(const std::string& text) {
  for (const auto& e : errnos)
    if (text == e.name) return e.value;
  return std::atoi(text.c_str());
}

// The errno to fail this call of `which` with, or 0.
int injected(name_index which) {
  const char* rules = std::getenv("AW_SHIM_FAIL");
  std::lock_guard<std::mutex> lock(guard);
  std::string current = rules != nullptr ? rules : "";
  if (current != last_rules) {
    last_rules = current;
    std::memset(calls, 0, sizeof calls);
  }
  int count = ++calls[which];
  std::size_t start = 0;
  while (start < current.size()) {
    std::size_t end = current.find(',', start);
    if (end == std::string::npos) end = current.size();
    std::string rule = current.substr(start, end - start);
    start = end + 1;
    std::size_t colon = rule.find(':');
    if (colon == std::string::npos || rule.substr(0, colon) != names[which]) continue;
    std::string error = rule.substr(colon + 1);
    int nth = 0;
    if (std::size_t at = error.find('@'); at != std::string::npos) {
      nth = std::atoi(error.c_str() + at + 1);
      error.resize(at);
    }
    if (nth == 0 || nth == count) return parse_errno(error);
  }
  return 0;
}

template <class Function>
Function next(const char* symbol) {
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, symbol));
}

#define AW_FAIL_IF_INJECTED(which)    \
  if (int error_ = injected(which)) { \
    errno = error_;                   \
    return -1;                        \
  }

int shimmed_openat(bool is64, int dirfd, const char* path, int flags, mode_t mode) {
  bool tmpfile = (flags & O_TMPFILE) == O_TMPFILE;
  if (tmpfile && enabled("AW_SHIM_NO_TMPFILE")) {
    errno = EOPNOTSUPP;
    return -1;
  }
  AW_FAIL_IF_INJECTED(tmpfile ? tmpfile_i : open_i);
  using openat_type = int (*)(int, const char*, int, ...);
  static openat_type real_openat = next<openat_type>("openat");
  static openat_type real_openat64 = next<openat_type>("openat64");
  return (is64 ? real_openat64 : real_openat)(dirfd, path, flags, mode);
}

mode_t mode_argument(int flags, va_list args) {
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) return va_arg(args, mode_t);
  return 0;
}

}  // namespace

extern "C" {

int openat(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  mode_t mode = mode_argument(flags, args);
  va_end(args);
  return shimmed_openat(false, dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  mode_t mode = mode_argument(flags, args);
  va_end(args);
  return shimmed_openat(true, dirfd, path, flags, mode);
}

ssize_t write(int fd, const void* data, size_t size) {
  AW_FAIL_IF_INJECTED(write_i);
  if (const char* limit = std::getenv("AW_SHIM_SHORT_WRITE")) {
    size_t most = std::strtoul(limit, nullptr, 10);
    if (most > 0 && size > most) size = most;
  }
  static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  return real(fd, data, size);
}

int fdatasync(int fd) {
  AW_FAIL_IF_INJECTED(fdatasync_i);
  static auto real = next<int (*)(int)>("fdatasync");
  return real(fd);
}

int fsync(int fd) {
  AW_FAIL_IF_INJECTED(fsync_i);
  static auto real = next<int (*)(int)>("fsync");
  return real(fd);
}

int renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) {
  AW_FAIL_IF_INJECTED(rename_i);
  static auto real = next<int (*)(int, const char*, int, const char*)>("renameat");
  return real(olddirfd, oldpath, newdirfd, newpath);
}

int renameat2(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
              unsigned int flags) {
  if (enabled("AW_SHIM_NO_RENAMEAT2")) {
    errno = EINVAL;
    return -1;
  }
  AW_FAIL_IF_INJECTED(renameat2_i);
  static auto real = next<int (*)(int, const char*, int, const char*, unsigned int)>("renameat2");
  return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

int linkat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, int flags) {
  AW_FAIL_IF_INJECTED(link_i);
  static auto real = next<int (*)(int, const char*, int, const char*, int)>("linkat");
  return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

int unlinkat(int dirfd, const char* path, int flags) {
  AW_FAIL_IF_INJECTED(unlink_i);
  static auto real = next<int (*)(int, const char*, int)>("unlinkat");
  return real(dirfd, path, flags);
}

int fchmod(int fd, mode_t mode) {
  AW_FAIL_IF_INJECTED(fchmod_i);
  static auto real = next<int (*)(int, mode_t)>("fchmod");
  return real(fd, mode);
}

int fchown(int fd, uid_t owner, gid_t group) {
  AW_FAIL_IF_INJECTED(fchown_i);
  static auto real = next<int (*)(int, uid_t, gid_t)>("fchown");
  return real(fd, owner, group);
}

}  // extern "C"
