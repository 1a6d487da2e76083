// The atomic-write command-line tool, run as a separate process.
#include "support.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>
#include <csignal>
#include <cstring>
#include <regex>
#include <set>
#include <thread>

using support::child_process;
using support::list_dir;
using support::process_result;
using support::read_file;
using support::run_process;
using support::scratch_dir;

namespace {

process_result cli(std::vector<std::string> args, const std::string& input = "",
                   const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), AW_CLI);
  return run_process(args, input, env);
}

process_result shell(const std::string& script) {
  return run_process({"/bin/sh", "-c", script}, "", {std::string("AW=") + AW_CLI});
}

std::string quoted(const fs::path& path) {
  return "'" + path.string() + "'";
}

const std::string no_tmpfile_env = std::string("LD_PRELOAD=") + AW_FAULT_SHIM;

}  // namespace

TEST(Cli, HelpAndVersionGoToStdoutAndExitZero) {
  for (const char* flag : {"--help", "-h"}) {
    auto r = cli({flag});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Usage: atomic-write"), std::string::npos);
    EXPECT_TRUE(r.err.empty());
  }
  for (const char* flag : {"--version", "-V"}) {
    auto r = cli({flag});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out,
              std::string("atomic-write (atomicwrites) ") + ATOMICWRITES_VERSION_STRING + "\n");
  }
}

TEST(Cli, HelpAndManPageNameTheSameOptions) {
  auto options_in = [](const std::string& text, const std::regex& pattern) {
    std::set<std::string> found;
    for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it)
      found.insert((*it)[1]);
    return found;
  };
  std::string help = cli({"--help"}).out;
  std::string man = std::regex_replace(read_file(AW_MAN_PAGE), std::regex(R"(\\-)"), "-");
  std::regex long_option(R"((--[a-z][a-z-]+))");
  auto in_help = options_in(help, long_option);
  auto in_man = options_in(man, long_option);
  EXPECT_EQ(in_help, in_man);
  EXPECT_GE(in_help.size(), 12u);
}

TEST(Cli, WritesStandardInputToANewFile) {
  scratch_dir dir;
  auto r = cli({(dir / "out").string()}, "hello\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_TRUE(r.err.empty());
  EXPECT_EQ(read_file(dir / "out"), "hello\n");
}

TEST(Cli, ReplacesByDefault) {
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  auto r = cli({(dir / "f").string()}, "new");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir / "f"), "new");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"f"});
}

TEST(Cli, EmptyInputPublishesAnEmptyFile) {
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  auto r = cli({(dir / "f").string()}, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir / "f"), "");
}

TEST(Cli, NoClobberRefusesAnExistingFile) {
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  for (const char* flag : {"-n", "--no-clobber"}) {
    auto r = cli({flag, (dir / "f").string()}, "new");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "atomic-write: " + (dir / "f").string() + ": prepare: File exists\n");
    EXPECT_EQ(read_file(dir / "f"), "old");
  }
  auto r = cli({"-n", (dir / "g").string()}, "new");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"f", "g"}));
}

TEST(Cli, SortIntoTheSameFileWorks) {
  scratch_dir dir;
  support::write_plain(dir / "f", "c\na\nb\n");
  auto r = shell("sort " + quoted(dir / "f") + " | \"$AW\" " + quoted(dir / "f"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir / "f"), "a\nb\nc\n");
}

TEST(Cli, ReadingFromThePipeOrFileBeingReplaced) {
  scratch_dir dir;
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "line " + std::to_string(i) + "\n";
  support::write_plain(dir / "f", big);
  auto r = shell("cat " + quoted(dir / "f") + " | tr a-z A-Z | \"$AW\" " + quoted(dir / "f"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string upper = big;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(read_file(dir / "f") == upper);  // not EXPECT_EQ: 1 MB of diff on failure
  // Standard input redirected from the very file: it reads the old inode to its end.
  r = shell("\"$AW\" " + quoted(dir / "f") + " < " + quoted(dir / "f"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(read_file(dir / "f") == upper);
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"f"});
}

TEST(Cli, EveryDurabilityLevel) {
  scratch_dir dir;
  for (const char* level : {"none", "consistent", "durable"}) {
    auto r = cli({"--durability", level, (dir / "f").string()}, level);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(dir / "f"), level);
    r = cli({std::string("--durability=") + level, (dir / "f").string()}, level);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
}

TEST(Cli, ModeOption) {
  scratch_dir dir;
  auto r = cli({"-m", "600", (dir / "a").string()}, "x");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(support::mode_of(dir / "a"), 0600u);
  r = cli({"--mode=0751", (dir / "b").string()}, "x");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(support::mode_of(dir / "b"), 0751u);
}

TEST(Cli, PreservesModeUnlessNoPreserve) {
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  fs::permissions(dir / "f", fs::perms(0640));
  EXPECT_EQ(cli({(dir / "f").string()}, "new").exit_code, 0);
  EXPECT_EQ(support::mode_of(dir / "f"), 0640u);
  mode_t previous = ::umask(022);  // inherited by the child
  EXPECT_EQ(cli({"--no-preserve", (dir / "f").string()}, "new").exit_code, 0);
  ::umask(previous);
  EXPECT_EQ(support::mode_of(dir / "f"), 0644u);
}

TEST(Cli, SymlinkPolicies) {
  scratch_dir dir;
  support::write_plain(dir / "real", "old");
  fs::create_symlink("real", dir / "link");
  EXPECT_EQ(cli({(dir / "link").string()}, "followed").exit_code, 0);
  EXPECT_EQ(read_file(dir / "real"), "followed");
  auto r = cli({"--symlinks", "refuse", (dir / "link").string()}, "x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("prepare: Too many levels of symbolic links"), std::string::npos) << r.err;
  EXPECT_EQ(cli({"--symlinks=replace", (dir / "link").string()}, "replaced").exit_code, 0);
  EXPECT_FALSE(fs::is_symlink(dir / "link"));
  EXPECT_EQ(read_file(dir / "real"), "followed");
}

TEST(Cli, HardLinkPolicy) {
  scratch_dir dir;
  SKIP_UNLESS_HARD_LINKS(dir.path());
  support::write_plain(dir / "a", "old");
  fs::create_hard_link(dir / "a", dir / "b");
  auto r = cli({"--hard-links", "refuse", (dir / "a").string()}, "x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(read_file(dir / "a"), "old");
  EXPECT_EQ(cli({"--hard-links", "split", (dir / "a").string()}, "new").exit_code, 0);
  EXPECT_EQ(read_file(dir / "b"), "old");
}

TEST(Cli, TempDirOption) {
  scratch_dir dir;
  fs::create_directory(dir / "tmp");
  auto r = cli({"--temp-dir", (dir / "tmp").string(), (dir / "f").string()}, "x");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir / "f"), "x");
  support::tmpfs_mount other;
  if (!other.ok()) GTEST_SKIP() << other.why_not();
  r = cli({"--temp-dir", other.path().string(), (dir / "g").string()}, "x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("prepare: Invalid cross-device link"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "g"));
}

TEST(Cli, RetryBudgetIsAcceptedEverywhere) {
  scratch_dir dir;
  EXPECT_EQ(cli({"--retry-budget", "250", (dir / "f").string()}, "x").exit_code, 0);
}

TEST(Cli, FailureMessageNamesFilePhaseAndReason) {
  scratch_dir dir;
  auto r = cli({(dir / "missing" / "f").string()}, "x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "atomic-write: " + (dir / "missing" / "f").string() +
                       ": prepare: No such file or directory\n");
}

TEST(Cli, UsageErrorsExitTwo) {
  scratch_dir dir;
  std::string f = (dir / "f").string();
  std::vector<std::vector<std::string>> bad = {
      {},                           // missing FILE
      {"--bogus", f},               // unknown option
      {f, "extra"},                 // extra operand
      {"-m", "9", f},               // not octal
      {"-m", "17777", f},           // beyond 07777
      {"-m", "", f},                // empty
      {"--mode"},                   // missing value
      {"--durability", "fast", f},  // unknown level
      {"--symlinks", "maybe", f},
      {"--hard-links", "merge", f},
      {"--no-preserve=yes", f},               // flag with a value
      {"--older-than", "1h", f},              // without --cleanup
      {"--cleanup", dir.path().string(), f},  // both modes
      {"--cleanup", dir.path().string(), "--older-than", "soon"},
      {"--retry-budget", "-5", f},
  };
  for (const auto& args : bad) {
    auto r = cli(args, "data");
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << joined;
    EXPECT_EQ(r.err.rfind("atomic-write: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("Try 'atomic-write --help'."), std::string::npos) << joined;
  }
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(Cli, DashDashEndsOptions) {
  scratch_dir dir;
  fs::path previous = fs::current_path();
  fs::current_path(dir.path());
  auto r = cli({"--", "-n"}, "x");
  fs::current_path(previous);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir / "-n"), "x");
}

TEST(Cli, CleanupRemovesOnlyOldTempFiles) {
  scratch_dir dir;
  const std::string stale = ".f.aw-0123456789ab.tmp", fresh = ".f.aw-ba9876543210.tmp";
  support::write_plain(dir / stale, "left behind");
  support::write_plain(dir / fresh, "being written right now");
  support::write_plain(dir / "f", "keep");
  struct utimbuf old_times {
    1000000000, 1000000000
  };  // 2001
  ASSERT_EQ(::utime((dir / stale).c_str(), &old_times), 0);
  auto r = cli({"--cleanup", dir.path().string(), "--older-than", "2h"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, dir.path().string() + ": removed 1 stale temporary file\n");
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{fresh, "f"}));
  r = cli({"--cleanup", dir.path().string(), "--older-than=0"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"f"});
  r = cli({"--cleanup", (dir / "missing").string()});
  EXPECT_EQ(r.exit_code, 1);
}

// --batch: pairs of SOURCE TARGET, in two directories, some replaced and some new.
struct batch_scene {
  scratch_dir dir;
  batch_scene() {
    fs::create_directory(dir / "a");
    fs::create_directory(dir / "b");
    support::write_plain(dir / "a" / "x", "old x");
    for (const char* name : {"s1", "s2", "s3"}) support::write_plain(dir / name, name);
  }
  std::vector<std::string> pairs() const {
    return {(dir / "s1").string(),      (dir / "a" / "x").string(), (dir / "s2").string(),
            (dir / "a" / "y").string(), (dir / "s3").string(),      (dir / "b" / "z").string()};
  }
  // Nothing published, no temporary file left anywhere.
  void expect_untouched() const {
    EXPECT_EQ(read_file(dir / "a" / "x"), "old x");
    EXPECT_EQ(list_dir(dir / "a"), std::vector<std::string>{"x"});
    EXPECT_TRUE(fs::is_empty(dir / "b"));
  }
};

TEST(CliBatch, WritesEveryTargetAndLeavesTheSourcesAsTheyWere) {
  batch_scene scene;
  std::vector<std::string> args = {"--batch"};
  for (const auto& arg : scene.pairs()) args.push_back(arg);
  auto r = cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(read_file(scene.dir / "a" / "x"), "s1");
  EXPECT_EQ(read_file(scene.dir / "a" / "y"), "s2");
  EXPECT_EQ(read_file(scene.dir / "b" / "z"), "s3");
  EXPECT_EQ(read_file(scene.dir / "s2"), "s2");
  EXPECT_EQ(list_dir(scene.dir / "a"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(list_dir(scene.dir / "b"), std::vector<std::string>{"z"});
}

TEST(CliBatch, AnUnreadableSourcePublishesNothing) {
  batch_scene scene;
  fs::remove(scene.dir / "s3");
  std::vector<std::string> args = {"--batch"};
  for (const auto& arg : scene.pairs()) args.push_back(arg);
  auto r = cli(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find((scene.dir / "s3").string() + ": reading: No such file"), std::string::npos)
      << r.err;
  scene.expect_untouched();
}

TEST(CliBatch, NoClobberRefusesBeforeTheCommitAndPublishesNothing) {
  batch_scene scene;
  std::vector<std::string> args = {"--batch", "-n"};
  // a/x exists: refused while staging, after a/y was staged.
  std::vector<std::string> pairs = scene.pairs();
  std::swap(pairs[0], pairs[2]);
  std::swap(pairs[1], pairs[3]);
  for (const auto& arg : pairs) args.push_back(arg);
  auto r = cli(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("File exists"), std::string::npos) << r.err;
  scene.expect_untouched();
}

TEST(CliBatch, ACommitFailureNamesTheFileNotPublished) {
  batch_scene scene;
  std::vector<std::string> args = {"--batch"};
  for (const auto& arg : scene.pairs()) args.push_back(arg);
  auto r = cli(args, "", {no_tmpfile_env, "AW_SHIM_FAIL=rename:EIO@2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find((scene.dir / "a" / "y").string() + ": publish: Input/output error"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("2 of 3 files published"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(scene.dir / "a" / "x"), "s1");
  EXPECT_EQ(read_file(scene.dir / "b" / "z"), "s3");
  EXPECT_EQ(list_dir(scene.dir / "a"), std::vector<std::string>{"x"});
}

TEST(CliBatch, ASignalWhileReadingASourcePublishesNothing) {
  batch_scene scene;
  // A SOURCE may live anywhere: where the filesystem under test cannot hold a FIFO (the FUSE
  // passthrough), it goes to the system's temporary directory.
  fs::path fifo = scene.dir / "fifo";
  if (::mkfifo(fifo.c_str(), 0600) != 0) {
    fifo = fs::temp_directory_path() / ("aw-cli-fifo-" + std::to_string(::getpid()));
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  }
  struct remove_fifo {
    fs::path path;
    ~remove_fifo() { ::unlink(path.c_str()); }
  } remover{fifo};
  std::vector<std::string> argv = {AW_CLI,
                                   "--batch",
                                   (scene.dir / "s1").string(),
                                   (scene.dir / "a" / "x").string(),
                                   fifo.string(),
                                   (scene.dir / "b" / "z").string()};
  child_process child(argv);
  // The first file is staged (its temporary file exists) while the FIFO keeps the tool
  // waiting for the second SOURCE.
  for (int i = 0; i < 500 && list_dir(scene.dir / "a").size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(list_dir(scene.dir / "a").size(), 2u) << "the first file was never staged";
  child.kill(SIGTERM);
  process_result r = child.wait();
  EXPECT_EQ(r.signal, SIGTERM) << "exit " << r.exit_code << ": " << r.err;
  scene.expect_untouched();
}

TEST(CliBatch, UsageErrors) {
  batch_scene scene;
  const std::string s1 = (scene.dir / "s1").string(), t = (scene.dir / "a" / "t").string();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--batch"},
           {"--batch", s1},
           {"--batch", s1, t, s1},
           {"--batch", s1, t, s1, t},
           {"--batch", "--temp-dir", scene.dir.path().string(), s1, t},
           {"--batch", "--cleanup", scene.dir.path().string()}}) {
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, 2) << args.size() << ": " << r.err;
  }
  scene.expect_untouched();
  EXPECT_FALSE(fs::exists(t));
}

class CliSignals : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(CliSignals, DuringInputNothingIsPublishedAndNoTempRemains) {
  auto [signal_number, named_temp] = GetParam();
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  std::vector<std::string> env;
  if (named_temp) env = {no_tmpfile_env, "AW_SHIM_NO_TMPFILE=1"};
  child_process child({AW_CLI, (dir / "f").string()}, env);
  child.write_input(std::string(300000, 'n'));
  // Wait until the temporary file holds input, so the signal lands mid-write.
  for (int i = 0; i < 500 && list_dir(dir.path()).size() < (named_temp ? 2u : 1u); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (named_temp) {
    ASSERT_EQ(list_dir(dir.path()).size(), 2u) << "the named temporary file never appeared";
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  child.kill(signal_number);
  process_result r = child.wait();
  EXPECT_EQ(r.signal, signal_number) << "exit " << r.exit_code << ": " << r.err;
  EXPECT_TRUE(read_file(dir / "f") == "old") << "the interrupted input was published";
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"f"});
}

INSTANTIATE_TEST_SUITE_P(
    Signals, CliSignals,
    ::testing::Combine(::testing::Values(SIGINT, SIGTERM, SIGHUP, SIGPIPE), ::testing::Bool()),
    [](const auto& param_info) {
      return std::string(strsignal(std::get<0>(param_info.param))).substr(0, 4) +
             std::to_string(std::get<0>(param_info.param)) +
             (std::get<1>(param_info.param) ? "_named" : "_tmpfile");
    });

TEST(Cli, ShellSeesExitStatus128PlusSignal) {
  scratch_dir dir;
  auto r = shell("sleep 5 | \"$AW\" " + quoted(dir / "f") +
                 " & pid=$!; sleep 0.3; "
                 "kill -TERM $pid; wait $pid; echo status=$?");
  EXPECT_EQ(r.out, "status=143\n") << r.err;
  EXPECT_FALSE(fs::exists(dir / "f"));
}

TEST(Cli, OneGibibyteStreamsInLittleMemory) {
  scratch_dir dir;
  if (fs::space(dir.path()).available < (3ull << 30)) GTEST_SKIP() << "needs 3 GiB free";
  // Through a pipe, as users run it.
  auto r = shell("head -c 1073741824 /dev/zero | \"$AW\" --durability consistent " +
                 quoted(dir / "big"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fs::file_size(dir / "big"), 1ull << 30);
  fs::remove(dir / "big");
  // Peak RSS of atomic-write alone (wait4 on it), its input a sparse 1 GiB file.
  support::write_plain(dir / "zero-source", "");
  fs::resize_file(dir / "zero-source", 1ull << 30);
  child_process writer({AW_CLI, "--durability", "consistent", (dir / "big").string()}, {},
                       dir / "zero-source");
  process_result result = writer.wait();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::printf("atomic-write peak RSS for a 1 GiB input: %ld KiB\n", result.max_rss_kib);
  EXPECT_LT(result.max_rss_kib, 16 * 1024);
  EXPECT_EQ(fs::file_size(dir / "big"), 1ull << 30);
}

TEST(Cli, NoClobberRaceBetweenTwoProcessesHasOneWinner) {
  for (int round = 0; round < 20; ++round) {
    scratch_dir dir;
    child_process a({AW_CLI, "-n", (dir / "f").string()});
    child_process b({AW_CLI, "-n", (dir / "f").string()});
    a.write_input("from a");
    b.write_input("from b");
    a.close_input();
    b.close_input();
    process_result ra = a.wait(), rb = b.wait();
    EXPECT_EQ((ra.exit_code == 0) + (rb.exit_code == 0), 1) << ra.err << rb.err;
    EXPECT_EQ(ra.exit_code + rb.exit_code, 1);
    const process_result& loser = ra.exit_code == 0 ? rb : ra;
    EXPECT_NE(loser.err.find("File exists"), std::string::npos) << loser.err;
    std::string content = read_file(dir / "f");
    EXPECT_EQ(content, ra.exit_code == 0 ? "from a" : "from b");
    EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"f"});
  }
}
