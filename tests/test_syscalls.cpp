// The real system calls, seen by strace in a separate process: each durability level makes
// exactly the flushes DESIGN section 1 names, in the right order. Complements the seam-level
// checks in test_protocol.cpp with what the kernel actually receives.
#include "support.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

namespace {

bool have_strace() {
  return std::system("strace -V >/dev/null 2>&1") == 0;
}

// Runs aw_probe under strace; returns its trace of file-related calls (one per line).
std::vector<std::string> traced_write(const support::scratch_dir& dir, const std::string& args) {
  fs::path log = dir / "strace.log";
  std::string command = "strace -f -qq -o '" + log.string() +
                        "' -e trace=openat,open,write,fsync,fdatasync,sync,syncfs,"
                        "sync_file_range,msync,rename,renameat,renameat2,link,linkat,unlink,"
                        "unlinkat,fchmod " +
                        support::helper("aw_probe").string() + " write '" +
                        (dir / "target").string() + "' " + args;
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::vector<std::string> lines;
  std::ifstream in(log);
  bool started = false;
  for (std::string line; std::getline(in, line);) {
    // Skip the dynamic loader's and the C++ runtime's start-up calls: the library's work
    // starts with the first call that names the scratch directory.
    if (line.find(dir.path().string()) != std::string::npos) started = true;
    if (started) lines.push_back(line);
  }
  fs::remove(log);
  return lines;
}

int count_matching(const std::vector<std::string>& lines, const std::string& pattern) {
  std::regex re(pattern);
  int n = 0;
  for (const auto& line : lines) n += std::regex_search(line, re) ? 1 : 0;
  return n;
}

long index_of(const std::vector<std::string>& lines, const std::string& pattern, bool last) {
  std::regex re(pattern);
  long found = -1;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (std::regex_search(lines[i], re)) {
      found = static_cast<long>(i);
      if (!last) break;
    }
  return found;
}

std::string joined(const std::vector<std::string>& lines) {
  std::ostringstream out;
  for (const auto& line : lines) out << line << '\n';
  return out.str();
}

struct level_case {
  const char* level;
  int data_flushes;
  int directory_flushes;
};

[[maybe_unused]] void PrintTo(const level_case& c, std::ostream* out) {
  *out << c.level;
}

class RealSyscalls : public ::testing::TestWithParam<level_case> {};

}  // namespace

TEST_P(RealSyscalls, FlushesMatchTheDurabilityLevel) {
  if (!have_strace()) GTEST_SKIP() << "strace is not installed";
  const level_case& c = GetParam();
  for (bool overwrite : {false, true}) {
    support::scratch_dir dir;
    if (overwrite) support::write_plain(dir / "target", "old");
    auto lines = traced_write(
        dir, std::string("--durability ") + c.level + (overwrite ? " --overwrite" : ""));
    std::string trace = joined(lines);
    EXPECT_EQ(count_matching(lines, R"(\bfdatasync\()"), c.data_flushes) << trace;
    EXPECT_EQ(count_matching(lines, R"(\bfsync\()"), c.directory_flushes) << trace;
    EXPECT_EQ(count_matching(lines, R"(\b(sync|syncfs|sync_file_range|msync)\()"), 0) << trace;
    long first_publish = index_of(lines, R"(\b(linkat|renameat2?|rename|link)\()", false);
    long last_publish = index_of(lines, R"(\b(linkat|renameat2?|rename|link)\()", true);
    ASSERT_GE(first_publish, 0) << trace;
    if (c.data_flushes > 0) {
      EXPECT_LT(index_of(lines, R"(\bfdatasync\()", false), first_publish) << trace;
    }
    if (c.directory_flushes > 0) {
      EXPECT_GT(index_of(lines, R"(\bfsync\()", true), last_publish) << trace;
    }
    EXPECT_EQ(support::read_file(dir / "target"), "probe\n");
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, RealSyscalls,
                         ::testing::Values(level_case{"none", 0, 0}, level_case{"consistent", 1, 0},
                                           level_case{"durable", 1, 1}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.level);
                         });

TEST(RealSyscalls, DirectoryFlushIsOnTheTargetsDirectory) {
  if (!have_strace()) GTEST_SKIP() << "strace is not installed";
  support::scratch_dir dir;
  auto lines = traced_write(dir, "--durability durable");
  // The fd given to fsync is the one opened with O_DIRECTORY on the target's directory.
  std::smatch open_match, fsync_match;
  long dir_open = index_of(lines, "O_DIRECTORY", false);
  long dir_flush = index_of(lines, R"(\bfsync\()", true);
  ASSERT_GE(dir_open, 0) << joined(lines);
  ASSERT_GE(dir_flush, 0) << joined(lines);
  std::regex fd_result(R"(= (\d+)$)"), fsync_arg(R"(fsync\((\d+)\))");
  ASSERT_TRUE(std::regex_search(lines[static_cast<std::size_t>(dir_open)], open_match, fd_result));
  ASSERT_TRUE(
      std::regex_search(lines[static_cast<std::size_t>(dir_flush)], fsync_match, fsync_arg));
  EXPECT_EQ(open_match[1], fsync_match[1]) << joined(lines);
  EXPECT_NE(lines[static_cast<std::size_t>(dir_open)].find(dir.path().string()), std::string::npos);
}
