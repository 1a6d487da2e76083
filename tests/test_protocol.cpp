// The Linux protocol of DESIGN section 2, every fallback forced on purpose through the
// syscall seam, and the exact flush calls of each durability level (section 1).
#include "support.hpp"

#include <algorithm>
#include <cerrno>
#include <sstream>

using support::list_dir;
using support::read_file;
using support::scratch_dir;
#ifndef _WIN32
using support::syscall_script;
#endif

namespace {

aw::write_options with(bool overwrite, aw::durability level = aw::durability::durable) {
  aw::write_options options;
  options.overwrite = overwrite;
  options.durability = level;
  return options;
}

// Writes "new" over "old" (or creates it) and checks the outcome and that nothing else is
// left in the directory.
void write_and_check(const scratch_dir& dir, bool existing, const aw::write_options& options) {
  if (existing) support::write_plain(dir / "t", "old");
  aw::write_file(dir / "t", "new", options);
  EXPECT_EQ(read_file(dir / "t"), "new");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"t"});
}

}  // namespace

TEST(Protocol, PrefersOTmpfileAndLinksItStraightOntoANewTarget) {
  scratch_dir dir;
  syscall_script script;
  write_and_check(dir, false, with(false));
  EXPECT_EQ(script.count(call::open_tmpfile), 1);
  EXPECT_EQ(script.count(call::open_exclusive), 0);
  EXPECT_EQ(script.count(call::link_anonymous), 1);  // onto the target: no rename at all
  EXPECT_EQ(script.count(call::rename), 0);
  EXPECT_EQ(script.count(call::rename_noreplace), 0);
}

TEST(Protocol, OverwriteWithOTmpfileLinksATempNameThenRenames) {
  scratch_dir dir;
  syscall_script script;
  write_and_check(dir, true, with(true));
  EXPECT_EQ(script.count(call::open_tmpfile), 1);
  EXPECT_EQ(script.count(call::link_anonymous), 1);
  EXPECT_EQ(script.count(call::rename), 1);
}

class TmpfileRejected : public ::testing::TestWithParam<int> {};

TEST_P(TmpfileRejected, FallsBackToANamedTempFile) {
  for (bool overwrite : {false, true}) {
    scratch_dir dir;
    syscall_script script;
    script.fail(call::open_tmpfile, GetParam(), 0);
    write_and_check(dir, overwrite, with(overwrite));
    EXPECT_EQ(script.count(call::open_exclusive), 1);
    EXPECT_EQ(script.count(overwrite ? call::rename : call::rename_noreplace), 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Errnos, TmpfileRejected, ::testing::Values(EOPNOTSUPP, EISDIR, EINVAL));

TEST(Protocol, RealErrorFromOTmpfileIsReportedNotMaskedByTheFallback) {
  scratch_dir dir;
  syscall_script script;
  script.fail(call::open_tmpfile, EACCES);
  std::error_code ec;
  aw::write_file(dir / "t", "new", ec);
  EXPECT_EQ(ec, std::errc::permission_denied);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::create_temp);
  EXPECT_EQ(script.count(call::open_exclusive), 0);
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(Protocol, NamedTempCollisionTriesAnotherName) {
  scratch_dir dir;
  syscall_script script;
  script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
  script.fail(call::open_exclusive, EEXIST, 1);
  write_and_check(dir, false, with(false));
  EXPECT_EQ(script.count(call::open_exclusive), 2);
}

// A name that is taken belongs to somebody else: after giving up on every name we tried,
// rolling back must not remove any of them.
TEST(Protocol, TakenTemporaryNamesAreNeverRemoved) {
  for (bool anonymous : {true, false}) {
    scratch_dir dir;
    support::write_plain(dir / "t", "old");
    syscall_script script;
    if (anonymous) {
      script.fail(call::link_anonymous, EEXIST, 0);  // the name for the rename
    } else {
      script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
      script.fail(call::open_exclusive, EEXIST, 0);
    }
    std::error_code ec;
    aw::write_file(dir / "t", "new", with(true), ec);
    EXPECT_EQ(ec, std::errc::file_exists);
    EXPECT_EQ(aw::failed_phase(ec), anonymous ? aw::phase::publish : aw::phase::create_temp);
    EXPECT_EQ(script.count(anonymous ? call::link_anonymous : call::open_exclusive), 32);
    EXPECT_EQ(script.count(call::unlink), 0);
    EXPECT_EQ(read_file(dir / "t"), "old");
  }
}

TEST(Protocol, NoOverwriteNamedUsesRenameat2Noreplace) {
  scratch_dir dir;
  syscall_script script;
  script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
  write_and_check(dir, false, with(false));
  EXPECT_EQ(script.count(call::rename_noreplace), 1);
  EXPECT_EQ(script.count(call::link), 0);
}

class Renameat2Rejected : public ::testing::TestWithParam<int> {};

TEST_P(Renameat2Rejected, FallsBackToLinkPlusUnlink) {
  scratch_dir dir;
  syscall_script script;
  script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
  script.fail(call::rename_noreplace, GetParam(), 0);
  write_and_check(dir, false, with(false));
  EXPECT_EQ(script.count(call::link), 1);
  EXPECT_EQ(script.count(call::unlink), 1);
}

INSTANTIATE_TEST_SUITE_P(Errnos, Renameat2Rejected, ::testing::Values(EINVAL, ENOSYS, EOPNOTSUPP));

TEST(Protocol, LinkFallbackStillRefusesAnExistingTarget) {
  scratch_dir dir;
  support::write_plain(dir / "t", "theirs");
  aw::atomic_file file(dir / "t2");  // a new name, so the early check passes...
  syscall_script script;
  script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
  script.fail(call::rename_noreplace, EINVAL, 0);
  file.write("ours");
  fs::rename(dir / "t", dir / "t2");  // ...and "theirs" appears there before we publish
  std::error_code ec;
  file.commit(ec);
  EXPECT_EQ(ec, std::errc::file_exists);
  EXPECT_EQ(read_file(dir / "t2"), "theirs");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"t2"});
}

TEST(Protocol, EveryNoOverwriteMechanismRejectedIsAnErrorNotARacyFallback) {
  scratch_dir dir;
  syscall_script script;
  script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
  script.fail(call::rename_noreplace, EINVAL, 0);
  script.fail(call::link, EPERM, 0);
  std::error_code ec;
  aw::write_file(dir / "t", "new", ec);
  EXPECT_EQ(ec, std::errc::operation_not_permitted);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::publish);
  EXPECT_EQ(script.count(call::rename), 0);
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(Protocol, UnlinkFailureAfterLinkIsReportedAsPublished) {
  scratch_dir dir;
  syscall_script script;
  script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
  script.fail(call::rename_noreplace, EINVAL, 0);
  script.fail(call::unlink, EIO, 0);
  std::error_code ec;
  aw::write_file(dir / "t", "new", ec);
  EXPECT_EQ(ec, std::errc::io_error);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::cleanup);
  EXPECT_TRUE(aw::was_published(ec));
  EXPECT_EQ(read_file(dir / "t"), "new");
}

TEST(Protocol, AtEmptyPathRefusedFallsBackToProcSelfFd) {
  for (bool overwrite : {false, true}) {
    scratch_dir dir;
    syscall_script script;
    script.fail(call::link_anonymous, ENOENT, 1);  // what linkat says without the capability
    write_and_check(dir, overwrite, with(overwrite));
    EXPECT_EQ(script.count(call::link_anonymous), 1);
    EXPECT_EQ(script.count(call::link_anonymous_proc), 1);
    EXPECT_EQ(script.count(call::open_exclusive), 0);
  }
}

// Without the capability, kernels before 6.10 refuse AT_EMPTY_PATH on every write: once
// refused, /proc/self/fd is asked first, until it is the one refused.
TEST(Protocol, RefusedAtEmptyPathIsNotAskedFirstAgain) {
  scratch_dir dir;
  syscall_script script;
  script.fail(call::link_anonymous, ENOENT, 1);
  aw::write_file(dir / "a", "new", with(false));
  aw::write_file(dir / "b", "new", with(false));
  EXPECT_EQ(script.count(call::link_anonymous), 1);       // refused once, for "a"
  EXPECT_EQ(script.count(call::link_anonymous_proc), 2);  // and only /proc for "b"
  script.fail(call::link_anonymous_proc, ENOENT, 3);      // now /proc is refused
  aw::write_file(dir / "c", "new", with(false));
  aw::write_file(dir / "d", "new", with(false));
  EXPECT_EQ(script.count(call::link_anonymous), 3);  // "c" fell back to it, "d" began with it
  EXPECT_EQ(script.count(call::link_anonymous_proc), 3);
  for (const char* name : {"a", "b", "c", "d"}) EXPECT_EQ(read_file(dir / name), "new");
}

TEST(Protocol, UnlinkableTmpfileIsCopiedIntoANamedTempFile) {
  for (bool overwrite : {false, true}) {
    for (auto level : {aw::durability::none, aw::durability::durable}) {
      scratch_dir dir;
      syscall_script script;
      script.fail(call::link_anonymous, ENOENT, 0);       // no capability
      script.fail(call::link_anonymous_proc, ENOENT, 0);  // and no /proc
      write_and_check(dir, overwrite, with(overwrite, level));
      EXPECT_EQ(script.count(call::open_exclusive), 1);
      // Flushed once as the anonymous file and once as the copy that gets published.
      EXPECT_EQ(script.count(call::fdatasync), level == aw::durability::none ? 0 : 2);
    }
  }
}

TEST(Protocol, TempDirInTheSameFilesystemIsUsedAndFlushedToo) {
  scratch_dir dir;
  fs::create_directory(dir / "tmp");
  fs::create_directory(dir / "out");
  aw::write_options options = with(true);
  options.temp_dir = dir / "tmp";
  for (bool tmpfile : {true, false}) {
    syscall_script script;
    if (!tmpfile) script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
    aw::write_file(dir / "out" / "t", "new", options);
    EXPECT_EQ(read_file(dir / "out" / "t"), "new");
    EXPECT_TRUE(fs::is_empty(dir / "tmp"));
    EXPECT_EQ(script.count(call::fsync), 2);  // the target's and the temp's directory
  }
}

// DESIGN section 1: none flushes nothing, consistent flushes the file, durable flushes the
// file and then the directory. For every creation and publish path.
struct flush_case {
  aw::durability level;
  bool overwrite;
  bool named;
  bool no_renameat2;
};

// Named printing: gtest would otherwise dump the struct's bytes, padding included.
[[maybe_unused]] void PrintTo(const flush_case& c, std::ostream* out) {
  static const char* const levels[] = {"none", "consistent", "durable"};
  *out << levels[static_cast<int>(c.level)] << (c.overwrite ? "_replace" : "_create")
       << (c.named ? "_named" : "_tmpfile") << (c.no_renameat2 ? "_link" : "");
}

class FlushCalls : public ::testing::TestWithParam<flush_case> {};

TEST_P(FlushCalls, ExactlyTheFlushesTheLevelNames) {
  const flush_case& c = GetParam();
  scratch_dir dir;
  if (c.overwrite) support::write_plain(dir / "t", "old");
  syscall_script script;
  if (c.named) script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
  if (c.no_renameat2) script.fail(call::rename_noreplace, EINVAL, 0);
  aw::write_file(dir / "t", "new", with(c.overwrite, c.level));
  EXPECT_EQ(read_file(dir / "t"), "new");
  int file_flushes = c.level == aw::durability::none ? 0 : 1;
  int directory_flushes = c.level == aw::durability::durable ? 1 : 0;
  EXPECT_EQ(script.count(call::fdatasync), file_flushes) << script.trace();
  EXPECT_EQ(script.count(call::fsync), directory_flushes) << script.trace();
  // Order: the data is flushed before any name is given, the directory after the last one.
  const std::vector<call>& calls = script.calls();
  auto is_publish = [](call x) {
    return x == call::link_anonymous || x == call::link_anonymous_proc || x == call::link ||
           x == call::rename || x == call::rename_noreplace;
  };
  auto first_publish = std::find_if(calls.begin(), calls.end(), is_publish) - calls.begin();
  auto last_publish = calls.rend() - std::find_if(calls.rbegin(), calls.rend(), is_publish);
  auto first_data_flush = std::find(calls.begin(), calls.end(), call::fdatasync) - calls.begin();
  auto last_directory_flush = calls.rend() - std::find(calls.rbegin(), calls.rend(), call::fsync);
  if (file_flushes) {
    EXPECT_LT(first_data_flush, first_publish) << script.trace();
  }
  if (directory_flushes) {
    EXPECT_GT(last_directory_flush, last_publish) << script.trace();
  }
}

std::vector<flush_case> all_flush_cases() {
  std::vector<flush_case> cases;
  for (auto level : {aw::durability::none, aw::durability::consistent, aw::durability::durable})
    for (bool overwrite : {false, true})
      for (bool named : {false, true})
        for (bool no_renameat2 : {false, true})
          if (!no_renameat2 || (named && !overwrite))
            cases.push_back({level, overwrite, named, no_renameat2});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllPaths, FlushCalls, ::testing::ValuesIn(all_flush_cases()),
                         [](const auto& param_info) {
                           std::ostringstream name;
                           PrintTo(param_info.param, &name);
                           return name.str();
                         });

TEST(Faults, FailedFlushIsNeverRetriedNorPublished) {
  for (bool named : {false, true}) {
    scratch_dir dir;
    support::write_plain(dir / "t", "old");
    syscall_script script;
    if (named) script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
    script.fail(call::fdatasync, EIO);
    std::error_code ec;
    aw::write_file(dir / "t", "new", with(true), ec);
    EXPECT_EQ(ec, std::errc::io_error);
    EXPECT_EQ(aw::failed_phase(ec), aw::phase::flush);
    EXPECT_FALSE(aw::was_published(ec));
    EXPECT_EQ(script.count(call::fdatasync), 1);
    EXPECT_EQ(script.count(call::rename) + script.count(call::link_anonymous) +
                  script.count(call::link_anonymous_proc),
              0);
    EXPECT_EQ(read_file(dir / "t"), "old");
    EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"t"});
  }
}

TEST(Faults, DirectoryFlushFailureIsPublishedDurabilityUnknown) {
  scratch_dir dir;
  support::write_plain(dir / "t", "old");
  syscall_script script;
  script.fail(call::fsync, EIO);
  std::error_code ec;
  aw::write_file(dir / "t", "new", with(true), ec);
  EXPECT_EQ(ec, std::errc::io_error);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::directory_flush);
  EXPECT_TRUE(aw::was_published(ec));
  EXPECT_EQ(read_file(dir / "t"), "new");  // not rolled back
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"t"});
}

TEST(Faults, InterruptedCallsAreRetriedTransparently) {
  scratch_dir dir;
  syscall_script script;
  for (call c : {call::open_directory, call::open_tmpfile, call::write, call::fdatasync,
                 call::link_anonymous, call::rename, call::fsync})
    script.fail(c, EINTR);
  write_and_check(dir, true, with(true));
  EXPECT_EQ(script.count(call::fdatasync), 2);  // interrupted once, then done
}

TEST(Faults, ShortWritesAreContinued) {
  scratch_dir dir;
  syscall_script script;
  script.short_writes(3);
  std::string content(1000, 'z');
  aw::write_file(dir / "t", content);
  EXPECT_EQ(read_file(dir / "t"), content);
  EXPECT_GE(script.count(call::write), 334);
}

TEST(Faults, WriteFailureLeavesOldContentAndNoTemp) {
  for (int error : {ENOSPC, EDQUOT, EIO}) {
    scratch_dir dir;
    support::write_plain(dir / "t", "old");
    syscall_script script;
    script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
    script.fail(call::write, error);
    std::error_code ec;
    aw::write_file(dir / "t", "new", with(true), ec);
    EXPECT_EQ(ec.value(), error);
    EXPECT_EQ(aw::failed_phase(ec), aw::phase::write);
    EXPECT_EQ(read_file(dir / "t"), "old");
    EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"t"});
  }
}

TEST(Faults, RenameFailureRemovesTheTemporaryName) {
  scratch_dir dir;
  support::write_plain(dir / "t", "old");
  syscall_script script;
  script.fail(call::rename, EIO);
  std::error_code ec;
  aw::write_file(dir / "t", "new", with(true), ec);
  EXPECT_EQ(ec, std::errc::io_error);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::publish);
  EXPECT_EQ(read_file(dir / "t"), "old");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"t"});
}
