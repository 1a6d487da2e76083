// A userspace dm-log-writes: a FUSE filesystem (libfuse3) with one file, `disk`, whose bytes
// start as a copy of a base image and which records, in order, every write and every flush
// that reaches it. A loop device on `disk` carries a real filesystem, so the log holds what a
// block device would have received: the power-cut harness replays it to any point.
//
// A second file, `mark`, takes a line of text and records it as a marker (the harness writes
// "success" when the writer under test returned).
//
//   aw_logdisk BASE_IMAGE LOG MOUNTPOINT [FUSE options]
//
// Log records (little-endian): 'W' u64 offset, u32 length, bytes | 'F' | 'M' u32 length, text
#define FUSE_USE_VERSION 31
#include <fuse3/fuse.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

std::vector<char> disk;
int log_fd = -1;
std::mutex lock;  // writes and the log's order are one sequence

void append(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(log_fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::abort();  // a log with a hole would make every replay wrong
    p += n;
    size -= static_cast<size_t>(n);
  }
}

bool is(const char* path, const char* name) { return std::strcmp(path + 1, name) == 0; }

int do_getattr(const char* path, struct stat* st, fuse_file_info*) {
  std::memset(st, 0, sizeof *st);
  if (std::strcmp(path, "/") == 0) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    return 0;
  }
  if (is(path, "disk")) {
    st->st_mode = S_IFREG | 0600;
    st->st_size = static_cast<off_t>(disk.size());
  } else if (is(path, "mark")) {
    st->st_mode = S_IFREG | 0200;
  } else {
    return -ENOENT;
  }
  st->st_nlink = 1;
  return 0;
}

int do_readdir(const char*, void* buffer, fuse_fill_dir_t fill, off_t, fuse_file_info*,
               fuse_readdir_flags) {
  for (const char* name : {".", "..", "disk", "mark"})
    fill(buffer, name, nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  return 0;
}

int do_open(const char* path, fuse_file_info* fi) {
  if (!is(path, "disk") && !is(path, "mark")) return -ENOENT;
  fi->direct_io = 1;  // no page cache between the loop device and the log
  return 0;
}

int do_read(const char* path, char* buffer, size_t size, off_t offset, fuse_file_info*) {
  if (!is(path, "disk")) return -EACCES;
  std::lock_guard<std::mutex> guard(lock);
  if (static_cast<size_t>(offset) >= disk.size()) return 0;
  size = std::min(size, disk.size() - static_cast<size_t>(offset));
  std::memcpy(buffer, disk.data() + offset, size);
  return static_cast<int>(size);
}

int do_write(const char* path, const char* buffer, size_t size, off_t offset, fuse_file_info*) {
  std::lock_guard<std::mutex> guard(lock);
  if (is(path, "mark")) {
    auto length = static_cast<std::uint32_t>(size);
    append("M", 1);
    append(&length, sizeof length);
    append(buffer, size);
    return static_cast<int>(size);
  }
  if (static_cast<size_t>(offset) + size > disk.size()) return -ENOSPC;
  std::memcpy(disk.data() + offset, buffer, size);
  auto where = static_cast<std::uint64_t>(offset);
  auto length = static_cast<std::uint32_t>(size);
  append("W", 1);
  append(&where, sizeof where);
  append(&length, sizeof length);
  append(buffer, size);
  return static_cast<int>(size);
}

int do_fsync(const char* path, int, fuse_file_info*) {
  if (!is(path, "disk")) return 0;
  std::lock_guard<std::mutex> guard(lock);
  append("F", 1);  // the loop device passes its flushes (and FUA) here
  return 0;
}

int do_truncate(const char*, off_t, fuse_file_info*) { return 0; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s BASE_IMAGE LOG MOUNTPOINT [FUSE options]\n", argv[0]);
    return 2;
  }
  FILE* base = std::fopen(argv[1], "rb");
  if (base == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  std::fseek(base, 0, SEEK_END);
  disk.resize(static_cast<size_t>(std::ftell(base)));
  std::fseek(base, 0, SEEK_SET);
  if (std::fread(disk.data(), 1, disk.size(), base) != disk.size()) return 1;
  std::fclose(base);
  log_fd = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    std::perror(argv[2]);
    return 1;
  }
  fuse_operations operations{};
  operations.getattr = do_getattr;
  operations.readdir = do_readdir;
  operations.open = do_open;
  operations.read = do_read;
  operations.write = do_write;
  operations.fsync = do_fsync;
  operations.truncate = do_truncate;
  // fuse_main takes MOUNTPOINT and the options; drop BASE_IMAGE and LOG.
  argv[2] = argv[0];
  return fuse_main(argc - 2, argv + 2, &operations, nullptr);
}
