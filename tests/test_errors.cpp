// Bad input and error reporting (DESIGN section 3): a clear error, nothing changed, nothing
// left behind; errors carry the OS error, the phase and whether anything was published.
#include "support.hpp"

#include <cerrno>
#include <climits>
#include <cstring>
#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>
#endif

using support::list_dir;
using support::read_file;
using support::scratch_dir;

namespace {

// Writes `target` with `options`, expects `expected`, and checks the scratch directory
// still holds exactly what it held before.
void expect_rejected(const scratch_dir& dir, const fs::path& target, std::errc expected,
                     aw::write_options options = {}) {
  auto before = list_dir(dir.path());
  std::error_code ec;
  aw::write_file(target, "new", options, ec);
  EXPECT_EQ(ec, expected) << target << ": " << ec.message();
  EXPECT_EQ(list_dir(dir.path()), before);
  EXPECT_THROW(aw::write_file(target, "new", options), fs::filesystem_error);
  EXPECT_EQ(list_dir(dir.path()), before);
}

}  // namespace

TEST(BadInput, EmptyPath) {
  scratch_dir dir;
  expect_rejected(dir, "", std::errc::invalid_argument);
}

TEST(BadInput, TargetIsADirectory) {
  scratch_dir dir;
  fs::create_directory(dir / "sub");
  aw::write_options options;
  options.overwrite = true;
  expect_rejected(dir, dir / "sub", std::errc::is_a_directory, options);
  EXPECT_TRUE(fs::is_directory(dir / "sub"));
  EXPECT_TRUE(fs::is_empty(dir / "sub"));
}

TEST(BadInput, PathEndingInSlashOrDotNamesADirectory) {
  scratch_dir dir;
  expect_rejected(dir, dir.path() / "", std::errc::is_a_directory);
  expect_rejected(dir, dir / ".", std::errc::is_a_directory);
  expect_rejected(dir, dir / "new" / "", std::errc::is_a_directory);
}

// Every level: below durable no directory is opened, and the first call naming it reports
// the missing one instead, as the same bad input in the same phase.
TEST(BadInput, MissingParentDirectory) {
  for (auto level : {aw::durability::none, aw::durability::consistent, aw::durability::durable}) {
    SCOPED_TRACE(static_cast<int>(level));
    scratch_dir dir;
    aw::write_options options;
    options.durability = level;
    expect_rejected(dir, dir / "missing" / "file", std::errc::no_such_file_or_directory, options);
    std::error_code ec;
    aw::write_file(dir / "missing" / "file", "new", options, ec);
    EXPECT_EQ(aw::failed_phase(ec), aw::phase::prepare);
  }
}

TEST(BadInput, ParentIsAFile) {
  for (auto level : {aw::durability::none, aw::durability::consistent, aw::durability::durable}) {
    SCOPED_TRACE(static_cast<int>(level));
    scratch_dir dir;
    support::write_plain(dir / "file", "x");
    aw::write_options options;
    options.durability = level;
#ifdef _WIN32
    // Windows says the path was not found (ERROR_PATH_NOT_FOUND).
    expect_rejected(dir, dir / "file" / "child", std::errc::no_such_file_or_directory, options);
#else
    expect_rejected(dir, dir / "file" / "child", std::errc::not_a_directory, options);
#endif
    std::error_code ec;
    aw::write_file(dir / "file" / "child", "new", options, ec);
    EXPECT_EQ(aw::failed_phase(ec), aw::phase::prepare);
    EXPECT_EQ(read_file(dir / "file"), "x");
  }
}

#ifndef _WIN32  // POSIX-only: run_as_nobody
TEST(BadInput, UnwritableDirectoryAsUnprivilegedUser) {
  scratch_dir dir;
  fs::create_directory(dir / "locked");
  fs::permissions(dir / "locked", fs::perms(0555));
  fs::permissions(dir.path(), fs::perms(0755));
  int status = support::run_as_nobody([&] {
    std::error_code ec;
    aw::write_file(dir / "locked" / "f", "x", ec);
    if (ec != std::errc::permission_denied) return 1;
    return fs::is_empty(dir / "locked") ? 0 : 2;
  });
  if (status == -1) GTEST_SKIP() << "cannot switch to user nobody (not root)";
  EXPECT_EQ(status, 0);
}
#endif

#ifndef _WIN32  // POSIX-only: tmpfs_mount
TEST(BadInput, UnwritableDirectoryAsRootOnReadOnlyMount) {
  support::tmpfs_mount mount;
  if (!mount.ok()) GTEST_SKIP() << mount.why_not();
  support::write_plain(mount.path() / "existing", "old");
  ASSERT_TRUE(mount.remount("ro,size=4m"));
  std::error_code ec;
  aw::write_file(mount.path() / "new", "x", ec);
  EXPECT_EQ(ec, std::errc::read_only_file_system);
  aw::write_options options;
  options.overwrite = true;
  aw::write_file(mount.path() / "existing", "x", options, ec);
  EXPECT_EQ(ec, std::errc::read_only_file_system);
  EXPECT_EQ(read_file(mount.path() / "existing"), "old");
  EXPECT_EQ(list_dir(mount.path()), std::vector<std::string>{"existing"});
}
#endif

#ifndef _WIN32  // POSIX-only: NAME_MAX
TEST(BadInput, NameTooLong) {
  scratch_dir dir;
  expect_rejected(dir, dir / std::string(NAME_MAX + 1, 'n'), std::errc::filename_too_long);
}
#endif

#ifndef _WIN32  // POSIX-only: syscall_script, NAME_MAX, call::, EOPNOTSUPP
TEST(BadInput, LongestAllowedNameWorksAlthoughTheTempNameIsShortened) {
  scratch_dir dir;
  fs::path target = dir / std::string(NAME_MAX, 'n');
  aw::write_options options;
  {
    // The named temporary file (the fallback) must fit in NAME_MAX too.
    support::syscall_script script;
    script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
    aw::write_file(target, "named", options);
    EXPECT_EQ(script.count(call::open_exclusive), 1);
  }
  EXPECT_EQ(read_file(target), "named");
  options.overwrite = true;
  aw::write_file(target, "anonymous", options);
  EXPECT_EQ(read_file(target), "anonymous");
  EXPECT_EQ(list_dir(dir.path()).size(), 1u);
}
#endif

#ifndef _WIN32  // POSIX-only: tmpfs_mount, ::stat, struct stat, /dev/shm
TEST(BadInput, TempDirOnAnotherFilesystemIsAnErrorNotACopy) {
  scratch_dir dir;
  support::tmpfs_mount other;
  fs::path elsewhere = other.ok() ? other.path() : fs::path("/dev/shm");
  struct stat a {
  }, b{};
  if (::stat(dir.path().c_str(), &a) != 0 || ::stat(elsewhere.c_str(), &b) != 0 ||
      a.st_dev == b.st_dev)
    GTEST_SKIP() << "no second filesystem available (" << other.why_not() << ")";
  auto before_elsewhere = list_dir(elsewhere);
  aw::write_options options;
  options.temp_dir = elsewhere;
  std::error_code ec;
  aw::write_file(dir / "target", "x", options, ec);
  EXPECT_EQ(ec, std::errc::cross_device_link);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::prepare);
  EXPECT_TRUE(list_dir(dir.path()).empty());
  EXPECT_EQ(list_dir(elsewhere), before_elsewhere);
}
#endif

TEST(BadInput, ModeWithBitsOutside07777) {
  scratch_dir dir;
  aw::write_options options;
  options.mode = fs::perms(010644);
  expect_rejected(dir, dir / "f", std::errc::invalid_argument, options);
  options.mode = fs::perms::unknown;
  expect_rejected(dir, dir / "f", std::errc::invalid_argument, options);
}

TEST(BadInput, OutOfRangeEnumerations) {
  scratch_dir dir;
  aw::write_options options;
  options.durability = static_cast<aw::durability>(7);
  expect_rejected(dir, dir / "f", std::errc::invalid_argument, options);
  options = {};
  options.symlinks = static_cast<aw::symlink_policy>(-1);
  expect_rejected(dir, dir / "f", std::errc::invalid_argument, options);
  options = {};
  options.hard_links = static_cast<aw::hard_link_policy>(9);
  expect_rejected(dir, dir / "f", std::errc::invalid_argument, options);
}

#ifndef _WIN32  // POSIX-only: mkfifo
TEST(BadInput, SpecialFileAtTarget) {
  scratch_dir dir;
  if (::mkfifo((dir / "fifo").c_str(), 0644) != 0)
    GTEST_SKIP() << "this filesystem cannot make a FIFO: " << std::strerror(errno);
  aw::write_options options;
  options.overwrite = true;
  expect_rejected(dir, dir / "fifo", std::errc::invalid_argument, options);
  EXPECT_TRUE(fs::is_fifo(dir / "fifo"));
}
#endif

TEST(ErrorCodes, KeepTheOsErrorAndCompareToPortableConditions) {
#ifdef _WIN32
  std::error_code ec = aw::make_error(aw::phase::flush, 1117);  // ERROR_IO_DEVICE
  EXPECT_EQ(ec.value(), 1117);
#else
  std::error_code ec = aw::make_error(aw::phase::flush, EIO);
  EXPECT_EQ(ec.value(), EIO);
#endif
  EXPECT_EQ(ec, std::errc::io_error);
  EXPECT_EQ(ec.default_error_condition(), std::errc::io_error);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::flush);
  EXPECT_FALSE(aw::was_published(ec));
  EXPECT_NE(ec.message().find("flush"), std::string::npos) << ec.message();
  EXPECT_STREQ(ec.category().name(), "atomicwrites");
}

TEST(ErrorCodes, PortableConditionsWithoutAnOsCode) {
  std::error_code ec = aw::make_error(aw::phase::prepare, std::errc::is_a_directory);
  EXPECT_EQ(ec, std::errc::is_a_directory);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::prepare);
  EXPECT_NE(ec.message().find("prepare"), std::string::npos);
}

TEST(ErrorCodes, PublishedFlagAndPhaseOfForeignCodes) {
  std::error_code ec = aw::make_error(aw::phase::directory_flush, EIO, true);
  EXPECT_TRUE(aw::was_published(ec));
  EXPECT_NE(ec.message().find("published"), std::string::npos);
  EXPECT_EQ(aw::failed_phase(std::make_error_code(std::errc::io_error)), aw::phase::none);
  EXPECT_FALSE(aw::was_published(std::make_error_code(std::errc::io_error)));
}

TEST(ErrorCodes, EveryPhaseHasAName) {
  for (int p = 0; p <= static_cast<int>(aw::phase::cleanup); ++p)
    EXPECT_STRNE(aw::to_string(static_cast<aw::phase>(p)), "unknown phase");
}

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(ErrorCodes, ThrownErrorsNameTargetAndPhase) {
  scratch_dir dir;
  support::syscall_script script;
  script.fail(call::fdatasync, EIO);
  try {
    aw::write_file(dir / "f", "x");
    FAIL() << "expected filesystem_error";
  } catch (const fs::filesystem_error& e) {
    EXPECT_EQ(e.code(), std::errc::io_error);
    EXPECT_EQ(aw::failed_phase(e.code()), aw::phase::flush);
    EXPECT_EQ(e.path1(), dir / "f");
    EXPECT_NE(std::string(e.what()).find("flush"), std::string::npos) << e.what();
  }
}
#endif

// Python atomicwrites parity: a failure inside rollback never replaces the original error.
#ifndef _WIN32  // POSIX-only: syscall_script, call::, EOPNOTSUPP
TEST(ErrorCodes, FailingRollbackNeverHidesTheOriginalError) {
  scratch_dir dir;
  support::syscall_script script;
  script.fail(call::open_tmpfile, EOPNOTSUPP, 0);  // a named temp, so rollback must unlink
  script.fail(call::fdatasync, EIO);
  script.fail(call::unlink, EACCES, 0);
  std::error_code ec;
  aw::write_file(dir / "f", "x", ec);
  EXPECT_EQ(ec, std::errc::io_error);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::flush);
  EXPECT_EQ(script.count(call::unlink), 1);  // the rollback was attempted
  EXPECT_FALSE(fs::exists(dir / "f"));
}
#endif

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(ErrorCodes, FailingCloseDuringRollbackNeverHidesTheOriginalError) {
  scratch_dir dir;
  support::syscall_script script;
  script.fail(call::write, ENOSPC);
  script.fail(call::close, EIO, 0);
  std::error_code ec;
  aw::write_file(dir / "f", "x", ec);
  EXPECT_EQ(ec, std::errc::no_space_on_device);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::write);
  EXPECT_TRUE(list_dir(dir.path()).empty());
}
#endif
