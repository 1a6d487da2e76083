// A FUSE filesystem (libfuse3) that passes everything through to a backing directory except
// the mechanisms some real filesystems (network and VM shares, FUSE) lack, so that every
// fallback of the library runs against a real kernel:
//   - O_TMPFILE is always unsupported (FUSE answers EOPNOTSUPP without a tmpfile operation);
//   - with --refuse=link: link() fails with EPERM, as on some shared folders;
//   - with --refuse=renameat2: rename() with flags (RENAME_NOREPLACE) fails with EINVAL.
//
//   aw_nolink_fs BACKING_DIR MOUNTPOINT [--refuse=link,renameat2] [FUSE options]
#define FUSE_USE_VERSION 31
#include <fuse3/fuse.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int backing = -1;  // the backing directory; every call is relative to it
bool refuse_link = false;
bool refuse_rename_flags = false;

// FUSE paths start with '/'; relative to the backing directory they must not.
const char* relative(const char* path) {
  return path[1] == '\0' ? "." : path + 1;
}

int result(int value) {
  return value < 0 ? -errno : value;
}

int do_getattr(const char* path, struct stat* st, fuse_file_info* fi) {
  if (fi != nullptr) return result(fstat(static_cast<int>(fi->fh), st));
  return result(fstatat(backing, relative(path), st, AT_SYMLINK_NOFOLLOW));
}

int do_readlink(const char* path, char* buffer, size_t size) {
  ssize_t n = readlinkat(backing, relative(path), buffer, size - 1);
  if (n < 0) return -errno;
  buffer[n] = '\0';
  return 0;
}

int do_mkdir(const char* path, mode_t mode) {
  return result(mkdirat(backing, relative(path), mode));
}
int do_unlink(const char* path) {
  return result(unlinkat(backing, relative(path), 0));
}
int do_rmdir(const char* path) {
  return result(unlinkat(backing, relative(path), AT_REMOVEDIR));
}

int do_symlink(const char* target, const char* path) {
  return result(symlinkat(target, backing, relative(path)));
}

int do_rename(const char* from, const char* to, unsigned int flags) {
  if (flags != 0 && refuse_rename_flags) return -EINVAL;
  return result(renameat2(backing, relative(from), backing, relative(to), flags));
}

int do_link(const char* from, const char* to) {
  if (refuse_link) return -EPERM;  // as some shared folders do
  return result(linkat(backing, relative(from), backing, relative(to), 0));
}

int do_chmod(const char* path, mode_t mode, fuse_file_info* fi) {
  if (fi != nullptr) return result(fchmod(static_cast<int>(fi->fh), mode));
  return result(fchmodat(backing, relative(path), mode, 0));
}

int do_chown(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi) {
  if (fi != nullptr) return result(fchown(static_cast<int>(fi->fh), uid, gid));
  return result(fchownat(backing, relative(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

int do_truncate(const char* path, off_t size, fuse_file_info* fi) {
  if (fi != nullptr) return result(ftruncate(static_cast<int>(fi->fh), size));
  int fd = openat(backing, relative(path), O_WRONLY);
  if (fd < 0) return -errno;
  int rc = result(ftruncate(fd, size));
  close(fd);
  return rc;
}

int do_utimens(const char* path, const timespec times[2], fuse_file_info* fi) {
  if (fi != nullptr) return result(futimens(static_cast<int>(fi->fh), times));
  return result(utimensat(backing, relative(path), times, AT_SYMLINK_NOFOLLOW));
}

int do_create(const char* path, mode_t mode, fuse_file_info* fi) {
  int fd = openat(backing, relative(path), fi->flags | O_NOFOLLOW, mode);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

int do_open(const char* path, fuse_file_info* fi) {
  int fd = openat(backing, relative(path), fi->flags & ~O_NOFOLLOW);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

int do_read(const char*, char* buffer, size_t size, off_t offset, fuse_file_info* fi) {
  return static_cast<int>(
      result(static_cast<int>(pread(static_cast<int>(fi->fh), buffer, size, offset))));
}

int do_write(const char*, const char* buffer, size_t size, off_t offset, fuse_file_info* fi) {
  return static_cast<int>(
      result(static_cast<int>(pwrite(static_cast<int>(fi->fh), buffer, size, offset))));
}

int do_statfs(const char*, struct statvfs* st) {
  return result(fstatvfs(backing, st));
}

int do_release(const char*, fuse_file_info* fi) {
  close(static_cast<int>(fi->fh));
  return 0;
}

int do_fsync(const char*, int datasync, fuse_file_info* fi) {
  int fd = static_cast<int>(fi->fh);
  return result(datasync ? fdatasync(fd) : fsync(fd));
}

int do_opendir(const char* path, fuse_file_info* fi) {
  int fd = openat(backing, relative(path), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

int do_readdir(const char*, void* buffer, fuse_fill_dir_t fill, off_t, fuse_file_info* fi,
               fuse_readdir_flags) {
  int fd = dup(static_cast<int>(fi->fh));
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) return -errno;
  rewinddir(dir);
  while (dirent* entry = readdir(dir)) {
    struct stat st {};
    st.st_ino = entry->d_ino;
    st.st_mode = static_cast<mode_t>(DTTOIF(entry->d_type));
    if (fill(buffer, entry->d_name, &st, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) break;
  }
  closedir(dir);
  return 0;
}

int do_releasedir(const char*, fuse_file_info* fi) {
  close(static_cast<int>(fi->fh));
  return 0;
}

int do_fsyncdir(const char*, int, fuse_file_info* fi) {
  return result(fsync(static_cast<int>(fi->fh)));
}

int do_access(const char* path, int mask) {
  return result(faccessat(backing, relative(path), mask, AT_SYMLINK_NOFOLLOW));
}

void* do_init(fuse_conn_info*, fuse_config* config) {
  config->use_ino = 1;
  // No caching between the kernel and us: every operation reaches the backing directory.
  config->entry_timeout = 0;
  config->attr_timeout = 0;
  config->negative_timeout = 0;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s BACKING_DIR MOUNTPOINT [FUSE options]\n", argv[0]);
    return 2;
  }
  backing = open(argv[1], O_RDONLY | O_DIRECTORY);
  if (backing < 0) {
    std::perror(argv[1]);
    return 1;
  }
  umask(0);  // the kernel has applied the caller's umask already
  fuse_operations operations{};
  operations.getattr = do_getattr;
  operations.readlink = do_readlink;
  operations.mkdir = do_mkdir;
  operations.unlink = do_unlink;
  operations.rmdir = do_rmdir;
  operations.symlink = do_symlink;
  operations.rename = do_rename;
  operations.link = do_link;
  operations.chmod = do_chmod;
  operations.chown = do_chown;
  operations.truncate = do_truncate;
  operations.utimens = do_utimens;
  operations.create = do_create;
  operations.open = do_open;
  operations.read = do_read;
  operations.write = do_write;
  operations.statfs = do_statfs;
  operations.release = do_release;
  operations.fsync = do_fsync;
  operations.opendir = do_opendir;
  operations.readdir = do_readdir;
  operations.releasedir = do_releasedir;
  operations.fsyncdir = do_fsyncdir;
  operations.access = do_access;
  operations.init = do_init;
  // fuse_main parses MOUNTPOINT and the options; drop BACKING_DIR and --refuse.
  int first = 1;
  argv[1] = argv[0];
  if (argc > 3 && std::strncmp(argv[3], "--refuse=", 9) == 0) {
    refuse_link = std::strstr(argv[3], "link") != nullptr;
    refuse_rename_flags = std::strstr(argv[3], "renameat2") != nullptr;
    argv[3] = argv[2];  // MOUNTPOINT
    argv[2] = argv[0];
    first = 2;
  }
  return fuse_main(argc - first, argv + first, &operations, nullptr);
}
