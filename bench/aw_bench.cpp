// One benchmark contender, run as its own process by bench/run.py:
//
//   aw_bench CONTENDER WORKLOAD DIR COUNT SIZE
//
// WORKLOAD: replace (COUNT writes of SIZE bytes to one file), create (COUNT new files),
// big (one file of SIZE bytes, written in 1 MiB pieces). Prints the seconds the work took
// (start-up excluded). CONTENDER:
//   aw-none, aw-consistent, aw-durable          write_file at each durability level
//   aw-batch-{filesystem,per_file,concurrent}   one durable batch of COUNT files
//   c-reference     open temp, write, fsync, close, rename, open dir, fsync dir, close
//   c-sequence      by hand, the system calls atomicwrites makes for a durable write (and
//   c-sequence-none    for one at durability none): against c-reference, what the protocol
//                   costs; against aw-durable (aw-none), what the library adds to it
//   write-rename    write a temp and rename it, no flush (the floor for durability none)
//   write-fsync     write the file in place and fsync it, no rename (the floor for big)
//   inplace-fdatasync  overwrite the same file and fdatasync: one flush, not atomic
//   write-only      write without any flush
#include <atomicwrites/atomicwrites.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace aw = atomicwrites;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("write");
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// The hand-written minimal durable sequence every careful program uses.
void c_reference(const fs::path& dir, const std::string& name, const std::string& data,
                 bool flush) {
  std::string temp = (dir / ("." + name + ".tmp")).string();
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open");
  write_all(fd, data.data(), data.size());
  if (flush && ::fsync(fd) != 0) die("fsync");
  if (::close(fd) != 0) die("close");
  if (::rename(temp.c_str(), (dir / name).c_str()) != 0) die("rename");
  if (!flush) return;
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || ::fsync(dfd) != 0) die("fsync dir");
  ::close(dfd);
}

// The calls of atomicwrites' replace (create: linkat onto the target), as strace shows them:
// fstatat of the target (symlink policy, kept mode), the directory opened first when it will
// be flushed, an O_TMPFILE file, fstat (are owner and mode already right?), fdatasync,
// linkat to a random hidden name, rename, fsync of the directory.
void c_sequence(const fs::path& dir, const std::string& name, const std::string& data,
                bool flush, bool replace) {
  static std::mt19937_64 random(std::random_device{}());
  std::string target = (dir / name).string();
  struct stat st {};
  if (::fstatat(AT_FDCWD, target.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !replace)
    die("exists");
  int dfd = flush ? ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : AT_FDCWD;
  std::string prefix = flush ? std::string() : dir.string() + "/";
  int fd = ::openat(dfd, flush ? "." : dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) die("open O_TMPFILE");
  write_all(fd, data.data(), data.size());
  if (::fstat(fd, &st) != 0) die("fstat");
  if (flush && ::fdatasync(fd) != 0) die("fdatasync");
  std::string temp = prefix + "." + name + ".aw-" + std::to_string(random() % 1000000000000) + ".tmp";
  std::string final_name = prefix + name;
  if (::linkat(fd, "", dfd, (replace ? temp : final_name).c_str(), AT_EMPTY_PATH) != 0)
    die("linkat (as root)");
  ::close(fd);
  if (replace && ::renameat(dfd, temp.c_str(), dfd, final_name.c_str()) != 0) die("rename");
  if (!flush) return;
  if (::fsync(dfd) != 0) die("fsync dir");
  ::close(dfd);
}

void in_place(const fs::path& path, const std::string& data, bool flush, bool truncate) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
  if (fd < 0) die("open");
  write_all(fd, data.data(), data.size());
  if (flush && ::fdatasync(fd) != 0) die("fdatasync");
  ::close(fd);
}

aw::write_options level(const std::string& contender, bool overwrite) {
  aw::write_options options;
  options.overwrite = overwrite;
  if (contender == "aw-none") options.durability = aw::durability::none;
  if (contender == "aw-consistent") options.durability = aw::durability::consistent;
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: aw_bench CONTENDER replace|create|big DIR COUNT SIZE\n");
    return 2;
  }
  std::string contender = argv[1], workload = argv[2];
  fs::path dir = argv[3];
  long count = std::atol(argv[4]);
  std::size_t size = std::strtoull(argv[5], nullptr, 10);
  bool big = workload == "big";
  std::string data(big ? std::size_t{1} << 20 : size, 'x');
  auto start = std::chrono::steady_clock::now();

  if (big) {
    // One file of SIZE bytes, streamed in 1 MiB pieces.
    fs::path path = dir / "big";
    if (contender.rfind("aw-", 0) == 0) {
      aw::atomic_file file(path, level(contender, true));
      for (std::size_t done = 0; done < size; done += data.size()) file.write(data);
      file.commit();
    } else if (contender == "write-fsync" || contender == "write-only") {
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) die("open");
      for (std::size_t done = 0; done < size; done += data.size()) write_all(fd, data.data(), data.size());
      if (contender == "write-fsync" && ::fsync(fd) != 0) die("fsync");
      ::close(fd);
    } else if (contender == "c-reference") {
      std::string temp = (dir / ".big.tmp").string();
      int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) die("open");
      for (std::size_t done = 0; done < size; done += data.size()) write_all(fd, data.data(), data.size());
      if (::fsync(fd) != 0) die("fsync");
      ::close(fd);
      if (::rename(temp.c_str(), path.c_str()) != 0) die("rename");
      int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      ::fsync(dfd);
      ::close(dfd);
    } else {
      std::fprintf(stderr, "aw_bench: %s does not do big\n", contender.c_str());
      return 2;
    }
  } else if (contender.rfind("aw-batch-", 0) == 0) {
    std::string how = contender.substr(9);
    aw::batch_flush flush = how == "per_file"     ? aw::batch_flush::per_file
                            : how == "concurrent" ? aw::batch_flush::concurrent
                                                  : aw::batch_flush::filesystem;
    aw::write_options options;
    options.overwrite = true;
    aw::batch batch(options, flush);
    for (long i = 0; i < count; ++i)
      batch.add(dir / (workload == "create" ? "f" + std::to_string(i) : std::string("f")), data);
    batch.commit();
  } else {
    for (long i = 0; i < count; ++i) {
      std::string name = workload == "create" ? "f" + std::to_string(i) : "f";
      if (contender.rfind("aw-", 0) == 0) {
        aw::write_file(dir / name, data, level(contender, workload == "replace"));
      } else if (contender == "c-reference") {
        c_reference(dir, name, data, true);
      } else if (contender == "c-sequence" || contender == "c-sequence-none") {
        c_sequence(dir, name, data, contender == "c-sequence", workload == "replace");
      } else if (contender == "write-rename") {
        c_reference(dir, name, data, false);
      } else if (contender == "inplace-fdatasync") {
        in_place(dir / name, data, true, false);
      } else if (contender == "write-only") {
        in_place(dir / name, data, false, true);
      } else {
        std::fprintf(stderr, "aw_bench: unknown contender %s\n", contender.c_str());
        return 2;
      }
    }
  }
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  std::printf("%.6f\n", elapsed.count());
  return 0;
}
