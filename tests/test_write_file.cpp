// The one-call layer: write_file and atomic_write, including Python atomicwrites' own tests.
#include "support.hpp"

#include <stdexcept>
#ifndef _WIN32
#include <sys/wait.h>
#include <unistd.h>
#endif

using support::list_dir;
using support::overwriting;
using support::read_file;
using support::scratch_dir;

namespace {

struct callback_failure : std::runtime_error {
  callback_failure() : std::runtime_error("the callback failed") {}
};

}  // namespace

TEST(WriteFile, DefaultsAreDurableNoOverwriteFollowLinks) {
  aw::write_options options;
  EXPECT_FALSE(options.overwrite);
  EXPECT_EQ(options.durability, aw::durability::durable);
  EXPECT_EQ(options.symlinks, aw::symlink_policy::follow);
  EXPECT_TRUE(options.preserve);
  EXPECT_FALSE(options.mode.has_value());
  EXPECT_TRUE(options.temp_dir.empty());
}

TEST(WriteFile, CreatesFileWithContent) {
  scratch_dir dir;
  aw::write_file(dir / "a.txt", "hello");
  EXPECT_EQ(read_file(dir / "a.txt"), "hello");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"a.txt"});
}

TEST(WriteFile, EmptyContentCreatesEmptyFile) {
  scratch_dir dir;
  aw::write_file(dir / "empty", "");
  EXPECT_TRUE(fs::is_regular_file(dir / "empty"));
  EXPECT_EQ(fs::file_size(dir / "empty"), 0u);
}

TEST(WriteFile, BinaryContentWithNulBytes) {
  scratch_dir dir;
  std::string bytes("a\0b\0\xff", 5);
  aw::write_file(dir / "bin", bytes);
  EXPECT_EQ(read_file(dir / "bin"), bytes);
}

// Python atomicwrites: test_atomic_write.
TEST(WriteFile, TwoWritesWithOverwriteKeepSecondAndLeaveOnlyTarget) {
  scratch_dir dir;
  aw::write_file(dir / "haha", "honk", overwriting());
  aw::write_file(dir / "haha", "lel", overwriting());
  EXPECT_EQ(read_file(dir / "haha"), "lel");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"haha"});
}

// Python atomicwrites: test_open_reraise / test_atomic_write_in_pwd's cousin.
TEST(WriteFile, NoOverwriteOnExistingFileFailsAndChangesNothing) {
  scratch_dir dir;
  support::write_plain(dir / "haha", "honk");
  std::error_code ec;
  aw::write_file(dir / "haha", "lel", ec);
  EXPECT_EQ(ec, std::errc::file_exists);
  EXPECT_EQ(read_file(dir / "haha"), "honk");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"haha"});
}

TEST(WriteFile, NoOverwriteThrowsFilesystemErrorNamingTheTarget) {
  scratch_dir dir;
  support::write_plain(dir / "haha", "honk");
  try {
    aw::write_file(dir / "haha", "lel");
    FAIL() << "expected filesystem_error";
  } catch (const fs::filesystem_error& e) {
    EXPECT_EQ(e.code(), std::errc::file_exists);
    EXPECT_EQ(e.path1(), dir / "haha");
  }
  EXPECT_EQ(read_file(dir / "haha"), "honk");
}

// Python atomicwrites: test_teardown.
TEST(AtomicWrite, ExceptionInCallbackPublishesNothingAndPropagates) {
  scratch_dir dir;
  EXPECT_THROW(aw::atomic_write(dir / "haha",
                                [](std::ostream& out) {
                                  out << "partial";
                                  throw callback_failure();
                                }),
               callback_failure);
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(AtomicWrite, ExceptionInCallbackLeavesExistingTargetIntact) {
  scratch_dir dir;
  support::write_plain(dir / "haha", "old");
  std::error_code ec;
  EXPECT_THROW(
      aw::atomic_write(
          dir / "haha", [](std::ostream&) { throw callback_failure(); }, overwriting(), ec),
      callback_failure);
  EXPECT_EQ(read_file(dir / "haha"), "old");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"haha"});
}

TEST(AtomicWrite, StreamCallbackCommitsAfterReturn) {
  scratch_dir dir;
  aw::atomic_write(dir / "out", [](std::ostream& out) { out << "x=" << 42 << '\n'; });
  EXPECT_EQ(read_file(dir / "out"), "x=42\n");
}

TEST(AtomicWrite, CallbackMayTakeTheAtomicFile) {
  scratch_dir dir;
  aw::atomic_write(dir / "out", [](aw::atomic_file& file) {
    file.write("raw");
    file.stream() << " and streamed";
  });
  EXPECT_EQ(read_file(dir / "out"), "raw and streamed");
}

TEST(AtomicWrite, ErrorCodeFormReportsLibraryErrors) {
  scratch_dir dir;
  support::write_plain(dir / "taken", "theirs");
  std::error_code ec;
  aw::atomic_write(
      dir / "taken", [](std::ostream& out) { out << "ours"; }, {}, ec);
  EXPECT_EQ(ec, std::errc::file_exists);
  EXPECT_EQ(read_file(dir / "taken"), "theirs");
}

#ifndef _WIN32
namespace {

// Another process creates the target while our write is in progress.
void create_in_child(const fs::path& path, const std::string& content) {
  pid_t child = ::fork();
  if (child == 0) {
    try {
      support::write_plain(path, content);
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
#endif

// Python atomicwrites: test_atomic_write_overwrite / test_open_reraise, with a real race.
#ifndef _WIN32  // POSIX-only: create_in_child
TEST(WriteFile, TargetCreatedDuringWriteIsReplacedWithOverwrite) {
  scratch_dir dir;
  aw::atomic_file file(dir / "target", overwriting());
  file.write("ours");
  create_in_child(dir / "target", "theirs");
  file.commit();
  EXPECT_EQ(read_file(dir / "target"), "ours");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"target"});
}
#endif

#ifndef _WIN32  // POSIX-only: create_in_child
TEST(WriteFile, TargetCreatedDuringWriteWinsWithoutOverwrite) {
  scratch_dir dir;
  aw::atomic_file file(dir / "target");
  file.write("ours");
  create_in_child(dir / "target", "theirs");
  std::error_code ec;
  file.commit(ec);
  EXPECT_EQ(ec, std::errc::file_exists);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::publish);
  EXPECT_EQ(read_file(dir / "target"), "theirs");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"target"});
}
#endif

// Python atomicwrites: test_atomic_write_in_pwd.
TEST(WriteFile, BareRelativeNameWritesInCurrentDirectory) {
  scratch_dir dir;
  fs::path previous = fs::current_path();
  fs::current_path(dir.path());
  std::error_code ec;
  aw::write_file("haha", "honk", ec);
  aw::write_file("haha", "lel", overwriting(), ec);
  fs::current_path(previous);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(read_file(dir / "haha"), "lel");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"haha"});
}

TEST(WriteFile, LargeContentIsWrittenWhole) {
  scratch_dir dir;
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 % 251);
  aw::write_file(dir / "big", big);
  EXPECT_EQ(read_file(dir / "big"), big);
}

TEST(WriteFile, EachDurabilityLevelWritesTheContent) {
  scratch_dir dir;
  for (auto level : {aw::durability::none, aw::durability::consistent, aw::durability::durable}) {
    aw::write_options options = overwriting();
    options.durability = level;
    std::string content = "level " + std::to_string(static_cast<int>(level));
    aw::write_file(dir / "f", content, options);
    EXPECT_EQ(read_file(dir / "f"), content);
  }
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"f"});
}
