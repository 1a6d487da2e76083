// replace_atomic and move_atomic.
#include "support.hpp"

#include <cerrno>
#ifndef _WIN32
#include <sys/stat.h>
#endif

using support::list_dir;
using support::read_file;
using support::scratch_dir;
#ifndef _WIN32
using support::syscall_script;
#endif

TEST(ReplaceAtomic, ReplacesAnExistingTarget) {
  scratch_dir dir;
  support::write_plain(dir / "src", "new");
  support::write_plain(dir / "dst", "old");
  aw::replace_atomic(dir / "src", dir / "dst");
  EXPECT_EQ(read_file(dir / "dst"), "new");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"dst"});
}

TEST(ReplaceAtomic, CreatesAMissingTarget) {
  scratch_dir dir;
  support::write_plain(dir / "src", "new");
  std::error_code ec;
  aw::replace_atomic(dir / "src", dir / "dst", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(read_file(dir / "dst"), "new");
}

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(ReplaceAtomic, DurableFlushesTheSourceDataThenBothDirectories) {
  scratch_dir dir;
  fs::create_directory(dir / "a");
  fs::create_directory(dir / "b");
  support::write_plain(dir / "a" / "src", "new");
  syscall_script script;
  aw::replace_atomic(dir / "a" / "src", dir / "b" / "dst");
  EXPECT_EQ(script.count(call::fdatasync), 1);
  EXPECT_EQ(script.count(call::fsync), 2);
  script.clear();
  aw::replace_atomic(dir / "b" / "dst", dir / "b" / "again");
  EXPECT_EQ(script.count(call::fsync), 1);  // one directory: flushed once
  script.clear();
  aw::replace_atomic(dir / "b" / "again", dir / "b" / "last", aw::durability::none);
  EXPECT_EQ(script.count(call::fdatasync) + script.count(call::fsync), 0);
}
#endif

TEST(ReplaceAtomic, MissingSource) {
  scratch_dir dir;
  std::error_code ec;
  aw::replace_atomic(dir / "nope", dir / "dst", ec);
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
  EXPECT_FALSE(fs::exists(dir / "dst"));
}

TEST(ReplaceAtomic, ThrowsWithTargetAndSource) {
  scratch_dir dir;
  try {
    aw::replace_atomic(dir / "nope", dir / "dst");
    FAIL();
  } catch (const fs::filesystem_error& e) {
    EXPECT_EQ(e.path1(), dir / "dst");
    EXPECT_EQ(e.path2(), dir / "nope");
  }
}

#ifndef _WIN32  // POSIX-only: tmpfs_mount
TEST(ReplaceAtomic, AcrossFilesystemsIsAnErrorNotACopy) {
  scratch_dir dir;
  support::tmpfs_mount other;
  if (!other.ok()) GTEST_SKIP() << other.why_not();
  support::write_plain(dir / "src", "new");
  std::error_code ec;
  aw::replace_atomic(dir / "src", other.path() / "dst", ec);
  EXPECT_EQ(ec, std::errc::cross_device_link);
  EXPECT_EQ(read_file(dir / "src"), "new");
  EXPECT_TRUE(list_dir(other.path()).empty());
}
#endif

TEST(MoveAtomic, MovesToAMissingTarget) {
  scratch_dir dir;
  support::write_plain(dir / "src", "new");
  aw::move_atomic(dir / "src", dir / "dst");
  EXPECT_EQ(read_file(dir / "dst"), "new");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"dst"});
}

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(MoveAtomic, ExistingTargetIsAnErrorAndBothStay) {
  for (bool fallback : {false, true}) {
    scratch_dir dir;
    if (fallback && !support::supports_hard_links(dir.path())) continue;  // no link fallback
    support::write_plain(dir / "src", "new");
    support::write_plain(dir / "dst", "old");
    syscall_script script;
    if (fallback) script.fail(call::rename_noreplace, EINVAL, 0);
    std::error_code ec;
    aw::move_atomic(dir / "src", dir / "dst", ec);
    EXPECT_EQ(ec, std::errc::file_exists);
    EXPECT_EQ(read_file(dir / "src"), "new");
    EXPECT_EQ(read_file(dir / "dst"), "old");
  }
}
#endif

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(MoveAtomic, FallsBackToLinkPlusUnlinkWithoutRenameat2) {
  scratch_dir dir;
  SKIP_UNLESS_HARD_LINKS(dir.path());
  support::write_plain(dir / "src", "new");
  syscall_script script;
  script.fail(call::rename_noreplace, ENOSYS, 0);
  aw::move_atomic(dir / "src", dir / "dst");
  EXPECT_EQ(script.count(call::link), 1);
  EXPECT_EQ(script.count(call::unlink), 1);
  EXPECT_EQ(read_file(dir / "dst"), "new");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"dst"});
}
#endif

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(MoveAtomic, MovesASymlinkItselfAndSkipsTheDataFlush) {
  scratch_dir dir;
  fs::create_symlink("somewhere", dir / "link");
  syscall_script script;
  aw::move_atomic(dir / "link", dir / "moved");
  EXPECT_TRUE(fs::is_symlink(dir / "moved"));
  EXPECT_EQ(script.count(call::fdatasync), 0);
}
#endif

TEST(MoveAtomic, EmptyPathsAreRejected) {
  scratch_dir dir;
  std::error_code ec;
  aw::move_atomic("", dir / "dst", ec);
  EXPECT_EQ(ec, std::errc::invalid_argument);
  aw::move_atomic(dir / "x", "", ec);
  EXPECT_EQ(ec, std::errc::invalid_argument);
}

TEST(StaleTemps, RemovesOnlyOurOldTempFiles) {
  scratch_dir dir;
  const std::string ours = ".data.json.aw-AbCdEf012345.tmp";
  const std::vector<std::string> not_ours = {"data.json",
                                             ".data.json.aw-AbCdEf01234.tmp",
                                             ".data.json.aw-AbCdEf0123456.tmp",
                                             ".data.json.aw-AbCdEf01234-.tmp",
                                             "data.aw-AbCdEf012345.tmp",
                                             ".x.tmp"};
  support::write_plain(dir / ours, "left by a killed writer");
  for (const auto& name : not_ours) support::write_plain(dir / name, "keep");
  fs::create_directory(dir / ".dir.aw-AbCdEf012345.tmp");  // not a regular file: kept
  EXPECT_TRUE(aw::is_temp_file_name(ours));
  EXPECT_EQ(aw::remove_stale_temp_files(dir.path(), std::chrono::hours(1)), 0u);  // too new
  EXPECT_EQ(aw::remove_stale_temp_files(dir.path(), std::chrono::seconds(0)), 1u);
  EXPECT_FALSE(fs::exists(dir / ours));
  for (const auto& name : not_ours) EXPECT_TRUE(fs::exists(dir / name)) << name;
  EXPECT_TRUE(fs::is_directory(dir / ".dir.aw-AbCdEf012345.tmp"));
}

#ifndef _WIN32  // POSIX-only: syscall_script, call::, EOPNOTSUPP
TEST(StaleTemps, RecognisesTheNamesTheLibraryCreates) {
  scratch_dir dir;
  syscall_script script;
  script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
  aw::atomic_file file(dir / "settings.ini");
  file.write("x");
  EXPECT_TRUE(aw::is_temp_file_name(file.temp_path().filename())) << file.temp_path();
  EXPECT_EQ(aw::remove_stale_temp_files(dir.path(), std::chrono::seconds(0)), 1u);
  file.discard();
}
#endif

TEST(StaleTemps, MissingDirectoryIsAnError) {
  scratch_dir dir;
  std::error_code ec;
  aw::remove_stale_temp_files(dir / "missing", std::chrono::seconds(0), ec);
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
}
