// atomic-write: read standard input completely, then publish it to FILE atomically and
// durably. An atomic, durable `sponge`. With --batch, many files committed together.
#include <atomicwrites/atomicwrites.hpp>
#include <atomicwrites/batch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace aw = atomicwrites;
namespace fs = std::filesystem;

namespace {

constexpr const char* program = "atomic-write";
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

constexpr const char* help_text = R"(Usage: atomic-write [OPTION]... FILE
  or:  atomic-write --batch [OPTION]... SOURCE TARGET [SOURCE TARGET]...
  or:  atomic-write --cleanup DIR [--older-than DURATION]
Read standard input to its end, then replace FILE with it in one atomic step.
Readers and crashes see the old FILE or the new one, never a mix; by default the
new content is on disk when atomic-write exits 0. Nothing is written to FILE if
the input is interrupted or any step fails.

With --batch, each TARGET gets the content of the SOURCE before it (SOURCE is
read, not moved). All are written first, then committed together, sharing the
disk flushes: much faster than one call per file. Each TARGET is old or new,
never a mix; the batch is not a transaction (while it commits, some targets
can be new and others old). Nothing is published if any SOURCE or TARGET fails
before the commit; a commit failure names each TARGET not published.

Options:
  -n, --no-clobber          fail if FILE exists (checked race-free); default: replace
      --durability LEVEL    none, consistent or durable (default: durable)
  -m, --mode OCTAL          permission bits of the new file (default: kept from the
                            replaced file, or 0666 minus the umask)
      --no-preserve         do not keep the replaced file's mode and owner
      --symlinks POLICY     FILE is a symbolic link: follow (default), replace, refuse
      --hard-links POLICY   FILE has other hard links: split (default), refuse
      --temp-dir DIR        create the temporary file in DIR (same filesystem)
      --retry-budget MS     Windows: keep retrying a locked target this long
                            (default: 1000)
      --batch               write pairs of SOURCE TARGET, committed together
      --cleanup DIR         remove temporary files left in DIR by killed writers
      --older-than DURATION with --cleanup: only those older than DURATION, as
                            90, 90s, 15m, 2h or 7d (default: 1h)
  -h, --help                show this help and exit
  -V, --version             show the version and exit

Exit status: 0 on success, 1 on failure, 2 on bad usage; killed by the signal
(128+N in a shell) on SIGINT, SIGTERM, SIGHUP or SIGPIPE during input.

Examples:
  sort data.txt | atomic-write data.txt
  atomic-write --batch build/a.json site/a.json build/b.json site/b.json
)";

struct usage_error {
  std::string message;
};

struct command_line {
  aw::write_options options;
  std::vector<fs::path> operands;  // FILE, or SOURCE TARGET pairs with --batch
  bool batch = false;
  std::optional<fs::path> cleanup_dir;
  std::optional<std::chrono::seconds> older_than;
};

template <class Enum>
Enum parse_choice(std::string_view option, std::string_view value,
                  std::initializer_list<std::pair<std::string_view, Enum>> choices) {
  for (const auto& [name, choice] : choices)
    if (value == name) return choice;
  throw usage_error{"invalid value '" + std::string(value) + "' for " + std::string(option)};
}

fs::perms parse_mode(std::string_view text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("01234567") != text.npos)
    throw usage_error{"invalid mode '" + std::string(text) + "' (expected octal, at most 7777)"};
  unsigned long mode = std::strtoul(std::string(text).c_str(), nullptr, 8);
  if (mode > 07777) throw usage_error{"invalid mode '" + std::string(text) + "' (at most 7777)"};
  return static_cast<fs::perms>(mode);
}

std::chrono::seconds parse_duration(std::string_view text) {
  std::size_t digits = text.find_first_not_of("0123456789");
  std::string_view unit = digits == text.npos ? "" : text.substr(digits);
  std::string_view number = text.substr(0, digits);
  long long factor = unit.empty() || unit == "s" ? 1
                     : unit == "m"               ? 60
                     : unit == "h"               ? 3600
                     : unit == "d"               ? 86400
                                                 : 0;
  if (number.empty() || number.size() > 12 || factor == 0)
    throw usage_error{"invalid duration '" + std::string(text) + "' (e.g. 90, 90s, 15m, 2h, 7d)"};
  return std::chrono::seconds(std::stoll(std::string(number)) * factor);
}

command_line parse(int argc, char** argv) {
  command_line cli;
  cli.options.overwrite = true;  // shell redirection habits: `> FILE` replaces
  std::vector<std::string_view> args(argv + 1, argv + argc);
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    // --name=value and --name value; short options take their value as the next argument.
    std::string_view name = arg;
    std::optional<std::string_view> inline_value;
    if (!options_done && arg.size() > 2 && arg.substr(0, 2) == "--") {
      if (auto eq = arg.find('='); eq != arg.npos) {
        name = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
      }
    }
    auto value = [&]() -> std::string_view {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size())
        throw usage_error{"option '" + std::string(name) + "' needs a value"};
      return args[++i];
    };
    auto flag = [&] {
      if (inline_value) throw usage_error{"option '" + std::string(name) + "' takes no value"};
    };
    if (options_done || arg == "-" || arg.empty() || arg[0] != '-') {
      cli.operands.emplace_back(std::string(arg));
    } else if (arg == "--") {
      options_done = true;
    } else if (name == "-h" || name == "--help") {
      flag();
      std::cout << help_text;
      std::exit(0);
    } else if (name == "-V" || name == "--version") {
      flag();
      std::cout << program << " (atomicwrites) " << ATOMICWRITES_VERSION_STRING << '\n';
      std::exit(0);
    } else if (name == "-n" || name == "--no-clobber") {
      flag();
      cli.options.overwrite = false;
    } else if (name == "--durability") {
      cli.options.durability =
          parse_choice<aw::durability>(name, value(),
                                       {{"none", aw::durability::none},
                                        {"consistent", aw::durability::consistent},
                                        {"durable", aw::durability::durable}});
    } else if (name == "-m" || name == "--mode") {
      cli.options.mode = parse_mode(value());
    } else if (name == "--no-preserve") {
      flag();
      cli.options.preserve = false;
    } else if (name == "--symlinks") {
      cli.options.symlinks =
          parse_choice<aw::symlink_policy>(name, value(),
                                           {{"follow", aw::symlink_policy::follow},
                                            {"replace", aw::symlink_policy::replace},
                                            {"refuse", aw::symlink_policy::refuse}});
    } else if (name == "--hard-links") {
      cli.options.hard_links = parse_choice<aw::hard_link_policy>(
          name, value(),
          {{"split", aw::hard_link_policy::split}, {"refuse", aw::hard_link_policy::refuse}});
    } else if (name == "--temp-dir") {
      cli.options.temp_dir = fs::path(std::string(value()));
    } else if (name == "--retry-budget") {
      std::string_view text = value();
      if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != text.npos)
        throw usage_error{"invalid retry budget '" + std::string(text) + "' (milliseconds)"};
      cli.options.windows_retry_budget = std::chrono::milliseconds(std::stol(std::string(text)));
    } else if (name == "--batch") {
      flag();
      cli.batch = true;
    } else if (name == "--cleanup") {
      cli.cleanup_dir = fs::path(std::string(value()));
    } else if (name == "--older-than") {
      cli.older_than = parse_duration(value());
    } else {
      throw usage_error{"unknown option '" + std::string(arg) + "'"};
    }
  }
  if (cli.older_than && !cli.cleanup_dir) throw usage_error{"--older-than needs --cleanup"};
  if (cli.cleanup_dir) {
    if (cli.batch) throw usage_error{"--cleanup and --batch exclude each other"};
    if (!cli.operands.empty()) throw usage_error{"--cleanup takes no FILE"};
  } else if (cli.batch) {
    if (cli.operands.empty() || cli.operands.size() % 2 != 0)
      throw usage_error{"--batch needs pairs of SOURCE TARGET"};
    if (!cli.options.temp_dir.empty())
      throw usage_error{"--batch writes each temporary file beside its TARGET; no --temp-dir"};
    std::set<fs::path> targets;
    for (std::size_t i = 1; i < cli.operands.size(); i += 2)
      if (!targets.insert(cli.operands[i].lexically_normal()).second)
        throw usage_error{"TARGET '" + cli.operands[i].string() + "' given twice"};
  } else if (cli.operands.empty()) {
    throw usage_error{"missing FILE"};
  } else if (cli.operands.size() > 1) {
    throw usage_error{"extra operand '" + cli.operands[1].string() + "'"};
  }
  return cli;
}

// "FILE: phase: reason", the reason without our own phase prefix.
void report(const fs::path& file, const char* what, const std::error_code& ec) {
  std::string reason = std::system_category().message(ec.value());
  std::cerr << program << ": " << file.string() << ": " << what << ": " << reason;
  if (aw::was_published(ec)) std::cerr << " (the new content was published; durability unknown)";
  std::cerr << '\n';
}

void report(const fs::path& file, const std::error_code& ec) {
  report(file, aw::to_string(aw::failed_phase(ec)), ec);
}

// Input is read with these signals blocked; they are let in only while waiting for input,
// atomically (ppoll), so none can slip in between a check and a blocking read.
const int interrupting_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
volatile std::sig_atomic_t received_signal = 0;

extern "C" void on_signal(int number) {
  received_signal = number;
}

sigset_t block_interrupting_signals() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigset_t blocked, previous;
  sigemptyset(&blocked);
  for (int number : interrupting_signals) {
    sigaction(number, &action, nullptr);
    sigaddset(&blocked, number);
  }
  sigprocmask(SIG_BLOCK, &blocked, &previous);
  return previous;
}

// A signal that arrived while input was ready stays pending: ppoll only delivers it when it
// has to wait, and restores the blocking mask when it returns with input. So ask the kernel.
int interrupting_signal_pending() {
  if (received_signal != 0) return received_signal;
  sigset_t pending;
  if (sigpending(&pending) != 0) return 0;
  for (int number : interrupting_signals)
    if (sigismember(&pending, number) == 1) return number;
  return 0;
}

[[noreturn]] void die_by_signal(int number) {
  // Dying by the signal itself, not exit(128+N), tells a calling shell loop the truth.
  std::signal(number, SIG_DFL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, number);
  sigprocmask(SIG_UNBLOCK, &only, nullptr);
  std::raise(number);
  std::_Exit(128 + number);
}

std::error_code last_os_error() {
  return {errno, std::system_category()};
}

struct read_result {
  int signal = 0;         // an interrupting signal arrived; nothing more was read
  std::error_code error;  // reading failed
};

// Reads `fd` to its end, passing each chunk to `sink` (which returns false to stop). The
// interrupting signals are let in only while waiting for input.
template <class Sink>
read_result read_to_end(int fd, const sigset_t& wait_mask, std::vector<char>& buffer, Sink&& sink) {
  for (;;) {
    pollfd input{fd, POLLIN, 0};
    if (::ppoll(&input, 1, nullptr, &wait_mask) < 0 && errno != EINTR) return {0, last_os_error()};
    if (int number = interrupting_signal_pending()) return {number, {}};
    ssize_t size = ::read(fd, buffer.data(), buffer.size());
    if (size == 0) return {};
    if (size < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return {0, last_os_error()};
    }
    if (!sink(std::string_view(buffer.data(), static_cast<std::size_t>(size)))) return {};
  }
}

int write_from_stdin(const fs::path& file, const aw::write_options& options) {
  sigset_t wait_mask = block_interrupting_signals();
  aw::atomic_file out(file, options);
  std::error_code ec;
  out.open(ec);  // fail early (bad path, existing file with -n) before reading input
  if (ec) {
    report(file, ec);
    return exit_failure;
  }
  std::vector<char> buffer(std::size_t{1} << 20);
  read_result input = read_to_end(STDIN_FILENO, wait_mask, buffer, [&](std::string_view chunk) {
    out.write(chunk, ec);
    return !ec;
  });
  if (input.signal != 0) {
    out.discard();
    die_by_signal(input.signal);
  }
  if (input.error) {
    report(file, "reading standard input", input.error);
    return exit_failure;  // `out` rolls back
  }
  if (ec) {
    report(file, ec);
    return exit_failure;
  }
  // Input ended; a signal that came with the end of input still means "do not publish".
  // Signals arriving from here on wait until the commit is done, and are then dropped.
  if (int number = interrupting_signal_pending()) {
    out.discard();
    die_by_signal(number);
  }
  out.commit(ec);
  if (ec) {
    report(file, ec);
    return exit_failure;
  }
  return 0;
}

// Opens a SOURCE for reading. Opening a FIFO waits for a writer, so the interrupting signals
// are let in meanwhile (their handler makes open() fail with EINTR), as while waiting for
// input. Sets `signal` when one arrived.
int open_source(const fs::path& source, const sigset_t& wait_mask, int& signal) {
  sigset_t blocked;
  sigprocmask(SIG_SETMASK, &wait_mask, &blocked);  // delivers any pending one right here
  int fd = -1;
  while (received_signal == 0) {
    fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EINTR) break;
  }
  int saved = errno;
  sigprocmask(SIG_SETMASK, &blocked, nullptr);
  errno = saved;
  signal = received_signal;
  return fd;
}

// --batch: stages every pair (each SOURCE read whole, one at a time), then one commit.
int write_batch(const std::vector<fs::path>& operands, const aw::write_options& options) {
  sigset_t wait_mask = block_interrupting_signals();
  aw::batch batch(options);
  std::vector<char> buffer(std::size_t{1} << 20);
  std::string content;
  for (std::size_t i = 0; i + 1 < operands.size(); i += 2) {
    const fs::path& source = operands[i];
    const fs::path& target = operands[i + 1];
    int signal = 0;
    int fd = open_source(source, wait_mask, signal);
    if (signal != 0) {
      if (fd >= 0) ::close(fd);
      batch.discard();
      die_by_signal(signal);
    }
    if (fd < 0) {
      report(source, "reading", last_os_error());
      return exit_failure;  // `batch` discards what it staged
    }
    content.clear();
    read_result input = read_to_end(fd, wait_mask, buffer, [&](std::string_view chunk) {
      content.append(chunk);
      return true;
    });
    ::close(fd);
    if (input.signal != 0) {
      batch.discard();
      die_by_signal(input.signal);
    }
    if (input.error) {
      report(source, "reading", input.error);
      return exit_failure;
    }
    std::error_code ec;
    batch.add(target, content, ec);
    if (ec) {
      report(target, ec);
      return exit_failure;
    }
  }
  // As for one file: a signal before the commit publishes nothing; from here on, signals
  // wait until the commit is done and are then dropped.
  if (int number = interrupting_signal_pending()) {
    batch.discard();
    die_by_signal(number);
  }
  std::error_code ec;
  batch.commit(ec);
  if (!ec) return 0;
  std::size_t published = 0;
  for (const aw::batch_result& result : batch.results()) {
    published += result.published ? 1 : 0;
    if (result.error) report(result.target, result.error);
  }
  std::cerr << program << ": " << published << " of " << batch.results().size()
            << " files published\n";
  return exit_failure;
}

int cleanup(const fs::path& directory, std::chrono::seconds older_than) {
  std::error_code ec;
  std::size_t removed = aw::remove_stale_temp_files(directory, older_than, ec);
  std::cout << directory.string() << ": removed " << removed << " stale temporary file"
            << (removed == 1 ? "" : "s") << '\n';
  if (ec) {
    report(directory, "cleanup", ec);
    return exit_failure;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  command_line cli;
  try {
    cli = parse(argc, argv);
  } catch (const usage_error& e) {
    std::cerr << program << ": " << e.message << "\nTry '" << program << " --help'.\n";
    return exit_usage;
  }
  if (cli.cleanup_dir)
    return cleanup(*cli.cleanup_dir, cli.older_than.value_or(std::chrono::hours(1)));
  if (cli.batch) return write_batch(cli.operands, cli.options);
  return write_from_stdin(cli.operands.front(), cli.options);
}
