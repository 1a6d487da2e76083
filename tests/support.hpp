// Shared test helpers: scratch directories, file inspection, the syscall seam, privileges.
#ifndef ATOMICWRITES_TESTS_SUPPORT_HPP
#define ATOMICWRITES_TESTS_SUPPORT_HPP

#include <atomicwrites/atomicwrites.hpp>

#include "testing.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace aw = atomicwrites;
#ifndef _WIN32
using aw::detail::testing::call;
#endif

namespace support {

// A fresh directory per test under the system temp directory (or $AW_TEST_DIR), removed
// afterwards.
class scratch_dir {
 public:
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const fs::path& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Options that replace an existing target, at `level`.
aw::write_options overwriting(aw::durability level = aw::durability::durable);

std::string read_file(const fs::path& path);
void write_plain(const fs::path& path, const std::string& content);  // not atomic: setup only
std::vector<std::string> list_dir(const fs::path& dir);              // sorted names
unsigned mode_of(const fs::path& path);                              // permission bits

#ifndef _WIN32
// Installs a hook on the library's syscall seam for its lifetime: records every call and
// fails or shortens the ones it was told to.
class syscall_script {
 public:
  syscall_script();
  ~syscall_script();
  syscall_script(const syscall_script&) = delete;
  syscall_script& operator=(const syscall_script&) = delete;

  // Fails occurrence `nth` (1-based; 0: every occurrence) of `which` with `error`.
  void fail(call which, int error, int nth = 1);
  // Every write writes at most `bytes`.
  void short_writes(std::size_t bytes) { short_write_ = bytes; }

  [[nodiscard]] int count(call which) const;
  [[nodiscard]] const std::vector<call>& calls() const { return calls_; }
  [[nodiscard]] std::string trace() const;  // "open_directory open_tmpfile write ..."
  void clear() {
    calls_.clear();
    seen_.clear();
  }

 private:
  static aw::detail::testing::injection hook(call which, void* self);
  struct rule {
    call which;
    int error;
    int nth;
  };
  std::vector<rule> rules_;
  std::vector<call> calls_;
  std::map<call, int> seen_;
  std::size_t short_write_ = 0;
};

bool is_root();

// What the filesystem under `dir` can do (the matrix runs the suites on several).
bool supports_tmpfile(const fs::path& dir);
bool supports_hard_links(const fs::path& dir);
// Runs `body` in a forked child as user and group nobody; returns the child's exit status,
// or -1 if it could not switch user.
int run_as_nobody(const std::function<int()>& body);

// A small tmpfs mounted for the test's lifetime (root only; `ok()` false with a reason).
class tmpfs_mount {
 public:
  explicit tmpfs_mount(const std::string& options = "size=4m");
  ~tmpfs_mount();
  tmpfs_mount(const tmpfs_mount&) = delete;
  tmpfs_mount& operator=(const tmpfs_mount&) = delete;
  bool ok() const { return mounted_; }
  const std::string& why_not() const { return why_not_; }
  const fs::path& path() const { return dir_.path(); }
  bool remount(const std::string& options);

 private:
  scratch_dir dir_;
  bool mounted_ = false;
  std::string why_not_;
};

#endif  // _WIN32

// The directory holding this test binary's helper programs (set by CMake).
fs::path helper(const std::string& name);

#ifndef _WIN32
// A child process with its standard input on a pipe and its output captured in files.
struct process_result {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
  long max_rss_kib = 0;
};

class child_process {
 public:
  // `env` entries ("NAME=value") are added to this process's environment. With
  // `stdin_from` set, standard input is that file instead of a pipe.
  explicit child_process(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {},
                         const std::optional<fs::path>& stdin_from = std::nullopt);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  void write_input(const std::string& data);
  void close_input();
  void kill(int signal_number);
  process_result wait();
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  int input_ = -1;
  scratch_dir output_dir_;
  bool waited_ = false;
};

// Runs argv with `input` on standard input and waits for it.
process_result run_process(const std::vector<std::string>& argv, const std::string& input = "",
                           const std::vector<std::string>& env = {});

#endif  // _WIN32

}  // namespace support

#define SKIP_UNLESS_HARD_LINKS(dir)                                             \
  if (!support::supports_hard_links(dir))                                       \
  GTEST_SKIP() << "the filesystem under the test directory has no hard links (" \
               << (getenv("AW_FS_KIND") ? getenv("AW_FS_KIND") : "?") << ")"

#define SKIP_UNLESS_ROOT() \
  if (!support::is_root()) GTEST_SKIP() << "needs root (mounts, chown); run the suite as root"

#endif  // ATOMICWRITES_TESTS_SUPPORT_HPP
