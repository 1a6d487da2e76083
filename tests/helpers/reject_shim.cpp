// An LD_PRELOAD shim that makes the kernel look like a filesystem without some mechanisms,
// so whole programs (the CLI, helper processes) take the library's fallback paths.
//   AW_SHIM_NO_TMPFILE=1    openat(O_TMPFILE) fails with EOPNOTSUPP
//   AW_SHIM_NO_RENAMEAT2=1  renameat2 fails with EINVAL
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <cerrno>
#include <cstdarg>
#include <cstdlib>

namespace {

bool enabled(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' && *value != '0';
}

template <class Function>
Function next(const char* symbol) {
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, symbol));
}

int shimmed_openat(const char* symbol, int dirfd, const char* path, int flags, mode_t mode) {
  if ((flags & O_TMPFILE) == O_TMPFILE && enabled("AW_SHIM_NO_TMPFILE")) {
    errno = EOPNOTSUPP;
    return -1;
  }
  using openat_type = int (*)(int, const char*, int, ...);
  static openat_type real_openat = next<openat_type>("openat");
  static openat_type real_openat64 = next<openat_type>("openat64");
  openat_type real = symbol[6] == '6' ? real_openat64 : real_openat;
  return real(dirfd, path, flags, mode);
}

}  // namespace

extern "C" {

int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    va_list args;
    va_start(args, flags);
    mode = va_arg(args, mode_t);
    va_end(args);
  }
  return shimmed_openat("openat", dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    va_list args;
    va_start(args, flags);
    mode = va_arg(args, mode_t);
    va_end(args);
  }
  return shimmed_openat("openat64", dirfd, path, flags, mode);
}

int renameat2(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
              unsigned int flags) {
  if (enabled("AW_SHIM_NO_RENAMEAT2")) {
    errno = EINVAL;
    return -1;
  }
  using renameat2_type = int (*)(int, const char*, int, const char*, unsigned int);
  static renameat2_type real = next<renameat2_type>("renameat2");
  return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

}  // extern "C"
