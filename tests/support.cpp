#include "support.hpp"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace support {

scratch_dir::scratch_dir() {
  const char* base = std::getenv("AW_TEST_DIR");
  fs::path root = base != nullptr ? fs::path(base) : fs::temp_directory_path();
  std::random_device random;
  for (;;) {
    path_ = root / ("aw-test-" + std::to_string(random()) + "-" + std::to_string(random()));
    if (fs::create_directory(path_)) break;
  }
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

aw::write_options overwriting(aw::durability level) {
  aw::write_options options;
  options.overwrite = true;
  options.durability = level;
  return options;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void write_plain(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().u8string());
  std::sort(names.begin(), names.end());
  return names;
}

#ifndef _WIN32
unsigned mode_of(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path.string());
  return st.st_mode & 07777;
}
#endif

#ifndef _WIN32
syscall_script::syscall_script() {
  aw::detail::testing::forget_learned_fallbacks();
  aw::detail::testing::set_syscall_hook(&hook, this);
}
syscall_script::~syscall_script() {
  aw::detail::testing::set_syscall_hook(nullptr, nullptr);
}

void syscall_script::fail(call which, int error, int nth) {
  rules_.push_back({which, error, nth});
}

int syscall_script::count(call which) const {
  return static_cast<int>(std::count(calls_.begin(), calls_.end(), which));
}

std::string syscall_script::trace() const {
  std::string text;
  for (call c : calls_) {
    if (!text.empty()) text += ' ';
    text += aw::detail::sys::name(c);
  }
  return text;
}

aw::detail::testing::injection syscall_script::hook(call which, void* self_pointer) {
  auto& self = *static_cast<syscall_script*>(self_pointer);
  self.calls_.push_back(which);
  int seen = ++self.seen_[which];
  aw::detail::testing::injection result;
  for (const rule& r : self.rules_)
    if (r.which == which && (r.nth == 0 || r.nth == seen)) result.error = r.error;
  if (which == call::write) result.max_bytes = self.short_write_;
  return result;
}

bool is_root() {
  return ::geteuid() == 0;
}

bool supports_tmpfile(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

bool supports_hard_links(const fs::path& dir) {
  fs::path a = dir / ".aw-link-probe-a", b = dir / ".aw-link-probe-b";
  write_plain(a, "");
  bool ok = ::link(a.c_str(), b.c_str()) == 0;
  ::unlink(b.c_str());
  ::unlink(a.c_str());
  return ok;
}

int run_as_nobody(const std::function<int()>& body) {
  pid_t child = ::fork();
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(255);
    // Never unwind into the test framework in the child: it would go on running the
    // remaining tests, as user nobody.
    int status = 254;
    try {
      status = body();
    } catch (...) {
    }
    ::_exit(status);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 255) return -1;
  return WEXITSTATUS(status);
}

tmpfs_mount::tmpfs_mount(const std::string& options) {
  if (!is_root()) {
    why_not_ = "needs root to mount a tmpfs";
    return;
  }
  if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) != 0) {
    why_not_ = std::string("mount tmpfs failed: ") + std::strerror(errno);
    return;
  }
  mounted_ = true;
}

bool tmpfs_mount::remount(const std::string& options) {
  unsigned long flags = MS_REMOUNT;
  if (options.find("ro") == 0) flags |= MS_RDONLY;
  return ::mount("tmpfs", dir_.path().c_str(), "tmpfs", flags, options.c_str()) == 0;
}

tmpfs_mount::~tmpfs_mount() {
  if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
}

#endif  // _WIN32

fs::path helper(const std::string& name) {
  return fs::path(AW_HELPER_DIR) / name;
}

#ifndef _WIN32
child_process::child_process(const std::vector<std::string>& argv,
                             const std::vector<std::string>& env,
                             const std::optional<fs::path>& stdin_from) {
  int input_pipe[2] = {-1, -1};
  if (!stdin_from && ::pipe2(input_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  fs::path out = output_dir_ / "stdout", err = output_dir_ / "stderr";
  pid_ = ::fork();
  if (pid_ == 0) {
    int in = stdin_from ? ::open(stdin_from->c_str(), O_RDONLY) : input_pipe[0];
    int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out_fd < 0 || err_fd < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    // Signals ignored or blocked by the test runner must not leak into the child.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(s, SIG_DFL);
    for (const auto& entry : env) ::putenv(const_cast<char*>(entry.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  if (!stdin_from) {
    ::close(input_pipe[0]);
    input_ = input_pipe[1];
  }
}

child_process::~child_process() {
  if (!waited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
  close_input();
}

void child_process::write_input(const std::string& data) {
  // A child may exit without reading its input (a usage error): that is EPIPE for us, not
  // a reason for the test process to die of SIGPIPE.
  static const bool ignore_sigpipe = (::signal(SIGPIPE, SIG_IGN), true);
  (void)ignore_sigpipe;
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(input_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) return;  // the child stopped reading
    if (n <= 0) throw std::runtime_error("write to child failed");
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void child_process::close_input() {
  if (input_ >= 0) ::close(input_);
  input_ = -1;
}

void child_process::kill(int signal_number) {
  ::kill(pid_, signal_number);
}

process_result child_process::wait() {
  close_input();
  process_result result;
  int status = 0;
  struct rusage usage {};
  while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  waited_ = true;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.max_rss_kib = usage.ru_maxrss;
  result.out = read_file(output_dir_ / "stdout");
  result.err = read_file(output_dir_ / "stderr");
  return result;
}

process_result run_process(const std::vector<std::string>& argv, const std::string& input,
                           const std::vector<std::string>& env) {
  child_process child(argv, env);
  child.write_input(input);
  return child.wait();
}

#endif  // _WIN32

}  // namespace support
