// The system-call seam. Every system call the POSIX backend makes goes through one of these
// wrappers, which
//   - retry EINTR (except close(): after an interrupted close the descriptor is gone), and
//   - report each call to an optional hook that tests install to observe the sequence of
//     calls and to make any one of them fail, or write less than asked (see testing.hpp).
// Each wrapper takes a `call` naming why the call is made, so that a test can fail "the
// O_TMPFILE open" rather than "the third openat".
#ifndef ATOMICWRITES_SRC_POSIX_SYS_HPP
#define ATOMICWRITES_SRC_POSIX_SYS_HPP

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <cstddef>

namespace atomicwrites::detail::sys {

enum class call : unsigned char {
  open_directory,  // the target's (or temp_dir's) directory, for *at() calls and fsync
  open_tmpfile,    // O_TMPFILE: an anonymous temporary file
  open_exclusive,  // O_CREAT|O_EXCL: a named temporary file
  open_source,     // an existing file to flush (replace_atomic, copying an anonymous file)
  write,
  read,
  stat,      // fstatat of the target, the directories, the source
  fstat,     // the temporary file's own ids and mode, before changing them
  readlink,  // following a symbolic link at the target
  fchmod,
  fchown,
  fdatasync,            // the file's data (and the size needed to read it back)
  fsync,                // a directory, so that a new name survives a power cut
  link_anonymous,       // linkat(AT_EMPTY_PATH): name an O_TMPFILE file
  link_anonymous_proc,  // linkat("/proc/self/fd/N"): the same, without CAP_DAC_READ_SEARCH
  link,                 // linkat of a named file (no-overwrite fallback)
  rename,               // renameat
  rename_noreplace,     // renameat2(RENAME_NOREPLACE)
  unlink,
  close,
  random,  // getrandom, for temporary names
  syncfs,  // a whole filesystem (batch commits)
  uname,   // the kernel's release, once per process: does syncfs report errors?
  count_
};

const char* name(call c) noexcept;

int openat(call why, int dirfd, const char* path, int flags, mode_t mode = 0) noexcept;
ssize_t write(int fd, const void* data, std::size_t size) noexcept;
ssize_t read(int fd, void* data, std::size_t size) noexcept;
ssize_t pread(int fd, void* data, std::size_t size, off_t offset) noexcept;
int fstatat(int dirfd, const char* path, struct stat* out, int flags) noexcept;
int fstat(int fd, struct stat* out) noexcept;
ssize_t readlinkat(int dirfd, const char* path, char* buffer, std::size_t size) noexcept;
int fchmod(int fd, mode_t mode) noexcept;
int fchown(int fd, uid_t owner, gid_t group) noexcept;
int fdatasync(int fd) noexcept;
int fsync(int fd) noexcept;
int linkat(call why, int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
           int flags) noexcept;
int renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) noexcept;
int renameat2_noreplace(int olddirfd, const char* oldpath, int newdirfd,
                        const char* newpath) noexcept;
int unlinkat(int dirfd, const char* path) noexcept;
int close(int fd) noexcept;
ssize_t getrandom(void* buffer, std::size_t size) noexcept;
int syncfs(int fd) noexcept;
int uname(struct utsname* out) noexcept;

// Whether syncfs() reports writeback errors on a kernel of this release ("6.1.0-13-amd64"):
// Linux 5.8 and later. Before, it returns 0 even when the data it wrote was lost.
bool syncfs_reports_errors(const char* release) noexcept;
// The same for the running kernel (asked once).
bool syncfs_reports_errors() noexcept;

}  // namespace atomicwrites::detail::sys

#endif  // ATOMICWRITES_SRC_POSIX_SYS_HPP
