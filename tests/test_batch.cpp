// Batch commits: many files, shared flushes, per-file outcomes.
#include "support.hpp"

#include <cerrno>
#include <map>
#include <optional>
#include <set>

using support::list_dir;
using support::overwriting;
using support::read_file;
using support::scratch_dir;
#ifndef _WIN32
using support::syscall_script;
#endif

namespace {

const aw::batch_flush strategies[] = {aw::batch_flush::automatic, aw::batch_flush::per_file,
                                      aw::batch_flush::concurrent, aw::batch_flush::filesystem};

}  // namespace

TEST(Batch, CommitsManyFilesInSeveralDirectoriesWithEveryStrategy) {
  for (auto strategy : strategies) {
    scratch_dir dir;
    fs::create_directory(dir / "a");
    fs::create_directory(dir / "b");
    support::write_plain(dir / "a" / "0", "old");
    aw::batch batch(overwriting(), strategy);
    for (int i = 0; i < 50; ++i)
      batch.add(dir / (i % 2 ? "a" : "b") / std::to_string(i), "content " + std::to_string(i));
    EXPECT_EQ(batch.size(), 50u);
    EXPECT_FALSE(fs::exists(dir / "b" / "1"));  // nothing before commit
    batch.commit();
    for (int i = 0; i < 50; ++i)
      EXPECT_EQ(read_file(dir / (i % 2 ? "a" : "b") / std::to_string(i)),
                "content " + std::to_string(i));
    EXPECT_EQ(list_dir(dir / "a").size(), 26u);  // 25 new + "0", no temporary files
    EXPECT_EQ(list_dir(dir / "b").size(), 25u);
    ASSERT_EQ(batch.results().size(), 50u);
    for (const auto& r : batch.results()) EXPECT_TRUE(r.published && !r.error);
  }
}

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(Batch, SharesFlushes) {
  scratch_dir dir;
  syscall_script script;
  aw::batch batch(overwriting(), aw::batch_flush::filesystem);
  for (int i = 0; i < 100; ++i) batch.add(dir / std::to_string(i), "x");
  batch.commit();
  EXPECT_EQ(script.count(call::syncfs), 1);  // one filesystem
  EXPECT_EQ(script.count(call::fdatasync), 0);
  EXPECT_EQ(script.count(call::fsync), 1);  // one directory
  EXPECT_EQ(script.count(call::rename), 100);
  EXPECT_EQ(script.count(call::open_directory), 1);  // opened by the commit, not by each add
}
#endif

#ifndef _WIN32  // POSIX-only: syscall_script, call::
// syncfs reports the writeback errors of a filesystem since the handle it is given was
// opened: each directory's handle must be older than the data of every file staged there,
// or a failed background writeback between add() and commit() would go unreported.
TEST(Batch, EachDirectoryIsOpenedBeforeItsFirstFileIsWritten) {
  scratch_dir dir;
  for (const char* name : {"a", "b", "c"}) fs::create_directory(dir / name);
  const char* order[] = {"a", "a", "b", "a", "c", "b"};
  syscall_script script;
  aw::batch batch(overwriting());
  for (const char* name : order) batch.add(dir / name / "f", "x");
  int opened = 0, writes = 0;
  std::set<std::string> seen;
  for (call c : script.calls()) {
    if (c == call::open_directory) ++opened;
    if (c != call::write) continue;
    seen.insert(order[writes++]);
    EXPECT_EQ(opened, static_cast<int>(seen.size())) << "write #" << writes;
  }
  EXPECT_EQ(writes, 6);
  batch.commit();
  EXPECT_EQ(script.count(call::open_directory), 3);  // none more at commit
  for (const char* name : {"a", "b", "c"}) EXPECT_EQ(read_file(dir / name / "f"), "x");
}

TEST(Batch, SyncfsIsTrustedFromLinux58On) {
  using aw::detail::sys::syncfs_reports_errors;
  EXPECT_TRUE(syncfs_reports_errors("5.8.0"));
  EXPECT_TRUE(syncfs_reports_errors("5.10.0-28-amd64"));
  EXPECT_TRUE(syncfs_reports_errors("6.1.0-13-amd64"));
  EXPECT_TRUE(syncfs_reports_errors("10.0"));
  EXPECT_FALSE(syncfs_reports_errors("5.7.19"));
  EXPECT_FALSE(syncfs_reports_errors("4.18.0-513.el8.x86_64"));
  EXPECT_FALSE(syncfs_reports_errors("3.10.0"));
  EXPECT_FALSE(syncfs_reports_errors(""));
  EXPECT_FALSE(syncfs_reports_errors("linux"));
}
#endif

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(Batch, PerFileStrategyFlushesEachFileOnceAndEachDirectoryOnce) {
  scratch_dir dir;
  syscall_script script;
  aw::batch batch(overwriting(), aw::batch_flush::per_file);
  for (int i = 0; i < 10; ++i) batch.add(dir / std::to_string(i), "x");
  batch.commit();
  EXPECT_EQ(script.count(call::fdatasync), 10);
  EXPECT_EQ(script.count(call::fsync), 1);
}
#endif

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(Batch, EachDurabilityLevel) {
  for (auto level : {aw::durability::none, aw::durability::consistent}) {
    scratch_dir dir;
    syscall_script script;
    aw::batch batch(overwriting(level));
    batch.add(dir / "f", "x");
    batch.commit();
    EXPECT_EQ(read_file(dir / "f"), "x");
    EXPECT_EQ(script.count(call::fsync), 0);
    EXPECT_EQ(script.count(call::syncfs), level == aw::durability::none ? 0 : 1);
  }
}
#endif

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(Batch, FailedFlushPublishesNothing) {
  scratch_dir dir;
  support::write_plain(dir / "0", "old");
  aw::batch batch(overwriting(), aw::batch_flush::filesystem);
  for (int i = 0; i < 5; ++i) batch.add(dir / std::to_string(i), "new");
  syscall_script script;
  script.fail(call::syncfs, EIO);
  std::error_code ec;
  batch.commit(ec);
  EXPECT_EQ(ec, std::errc::io_error);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::flush);
  EXPECT_EQ(script.count(call::syncfs), 1);  // never retried
  EXPECT_EQ(script.count(call::rename), 0);
  EXPECT_EQ(read_file(dir / "0"), "old");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"0"});
  for (const auto& r : batch.results()) EXPECT_FALSE(r.published);
}
#endif

TEST(Batch, OneFileFailingDoesNotStopTheOthersAndResultsSayWhich) {
  scratch_dir dir;
  support::write_plain(dir / "taken", "theirs");
  aw::write_options create;  // overwrite off
  aw::batch batch(create);
  batch.add(dir / "a", "A");
  batch.add(dir / "b", "B");
  support::write_plain(dir / "b", "theirs");  // appears after staging: refused at publish
  batch.add(dir / "c", "C");
  std::error_code ec;
  batch.commit(ec);
  EXPECT_EQ(ec, std::errc::file_exists);
  ASSERT_EQ(batch.results().size(), 3u);
  EXPECT_TRUE(batch.results()[0].published);
  EXPECT_FALSE(batch.results()[1].published);
  EXPECT_EQ(batch.results()[1].error, std::errc::file_exists);
  EXPECT_EQ(batch.results()[1].target, dir / "b");
  EXPECT_TRUE(batch.results()[2].published);
  EXPECT_EQ(read_file(dir / "a"), "A");
  EXPECT_EQ(read_file(dir / "b"), "theirs");
  EXPECT_EQ(read_file(dir / "c"), "C");
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"a", "b", "c", "taken"}));
}

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(Batch, AddFailureStagesNothingForThatFile) {
  scratch_dir dir;
  aw::batch batch(overwriting());
  std::error_code ec;
  batch.add(dir / "missing" / "x", "x", ec);
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
  syscall_script script;
  script.fail(call::write, ENOSPC);
  batch.add(dir / "full", "x", ec);
  EXPECT_EQ(ec, std::errc::no_space_on_device);
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_TRUE(list_dir(dir.path()).empty());
}
#endif

TEST(Batch, DestructionAndDiscardRemoveStagedFiles) {
  scratch_dir dir;
  {
    aw::batch batch(overwriting());
    batch.add(dir / "a", "x");
    batch.add(dir / "b", "x");
    EXPECT_EQ(list_dir(dir.path()).size(), 2u);  // named temporary files
  }
  EXPECT_TRUE(list_dir(dir.path()).empty());
  aw::batch batch(overwriting());
  batch.add(dir / "a", "x");
  batch.discard();
  batch.discard();
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(Batch, DirectoryFlushFailureMarksThatDirectorysFilesPublished) {
  scratch_dir dir;
  aw::batch batch(overwriting());
  batch.add(dir / "a", "new");
  syscall_script script;
  script.fail(call::fsync, EIO);
  std::error_code ec;
  batch.commit(ec);
  EXPECT_TRUE(aw::was_published(ec));
  EXPECT_TRUE(batch.results()[0].published);
  EXPECT_EQ(read_file(dir / "a"), "new");
}
#endif

TEST(Batch, ThousandsOfFilesNeedNoDescriptorEach) {
  scratch_dir dir;
  aw::batch batch(overwriting(aw::durability::consistent));
  for (int i = 0; i < 3000; ++i) batch.add(dir / std::to_string(i), std::to_string(i));
  batch.commit();  // with a 1024 descriptor limit, 3000 open files would fail
  EXPECT_EQ(list_dir(dir.path()).size(), 3000u);
  EXPECT_EQ(read_file(dir / "2999"), "2999");
}

#ifndef _WIN32  // POSIX-only: syscall_script
TEST(Batch, FaultAtEveryCallKeepsEachFileOldOrNew) {
  scratch_dir dir;
  auto reset = [&] {
    for (const auto& name : list_dir(dir.path())) fs::remove(dir / name);
    for (int i = 0; i < 3; ++i) support::write_plain(dir / std::to_string(i), "old");
  };
  auto run = [&](std::optional<call> fault, int nth, int error, std::vector<call>* calls) {
    reset();
    aw::batch batch(overwriting(), aw::batch_flush::filesystem);
    syscall_script script;
    if (fault) script.fail(*fault, error, nth);
    std::error_code ec;
    for (int i = 0; i < 3 && !ec; ++i) batch.add(dir / std::to_string(i), "new", ec);
    if (!ec) batch.commit(ec);
    if (calls) *calls = script.calls();
    return ec;
  };
  std::vector<call> clean;
  ASSERT_FALSE(run(std::nullopt, 0, 0, &clean));
  std::map<call, int> seen;
  long runs = 0;
  for (call c : clean) {
    int nth = ++seen[c];
    for (int error : {EIO, ENOSPC, EACCES, EINTR}) {
      SCOPED_TRACE(std::string(aw::detail::sys::name(c)) + " #" + std::to_string(nth) + " " +
                   std::to_string(error));
      std::error_code ec = run(c, nth, error, nullptr);
      ++runs;
      for (int i = 0; i < 3; ++i) {
        std::string content = read_file(dir / std::to_string(i));
        ASSERT_TRUE(content == "old" || content == "new") << content;
        if (!ec) {
          ASSERT_EQ(content, "new");
        }
      }
      if (error == EINTR) {
        ASSERT_FALSE(ec) << ec.message();
      }
      if (!ec || aw::was_published(ec)) continue;
      auto names = list_dir(dir.path());
      ASSERT_EQ(names, (std::vector<std::string>{"0", "1", "2"})) << "temporary file left";
    }
  }
  std::printf("batch fault matrix: %ld runs, 0 violations\n", runs);
}
#endif
