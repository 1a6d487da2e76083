// The writer class: explicit commit, rollback on destruction, and overridable steps.
#include "support.hpp"

#include <cerrno>
#include <ostream>

using support::list_dir;
using support::overwriting;
using support::read_file;
using support::scratch_dir;
#ifndef _WIN32
using support::syscall_script;
#endif

TEST(AtomicFile, WriteAndStreamAppendInOrder) {
  scratch_dir dir;
  aw::atomic_file file(dir / "f");
  file.write("abc");
  file.stream() << "def" << 1;
  file.write("ghi");
  file.commit();
  EXPECT_TRUE(file.committed());
  EXPECT_EQ(read_file(dir / "f"), "abcdef1ghi");
}

TEST(AtomicFile, NothingAppearsBeforeCommit) {
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  aw::atomic_file file(dir / "f", overwriting());
  file.write(std::string(200000, 'n'));
  EXPECT_EQ(read_file(dir / "f"), "old");
  file.commit();
  EXPECT_EQ(read_file(dir / "f"), std::string(200000, 'n'));
}

#ifndef _WIN32  // POSIX-only: syscall_script, call::, EOPNOTSUPP
TEST(AtomicFile, DestructionWithoutCommitRollsBack) {
  for (bool named : {false, true}) {
    scratch_dir dir;
    syscall_script script;
    if (named) script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
    {
      aw::atomic_file file(dir / "f");
      file.write("never published");
      if (named) {
        EXPECT_TRUE(fs::exists(file.temp_path()));
      }
    }
    EXPECT_TRUE(list_dir(dir.path()).empty());
  }
}
#endif

#ifndef _WIN32  // POSIX-only: syscall_script, call::, EOPNOTSUPP
TEST(AtomicFile, DiscardRemovesTheTempFileAndCommitThenFails) {
  scratch_dir dir;
  syscall_script script;
  script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
  aw::atomic_file file(dir / "f");
  file.write("x");
  fs::path temp = file.temp_path();
  EXPECT_TRUE(aw::is_temp_file_name(temp.filename()));
  file.discard();
  file.discard();  // idempotent
  EXPECT_FALSE(fs::exists(temp));
  std::error_code ec;
  file.commit(ec);
  EXPECT_TRUE(ec);
  EXPECT_FALSE(fs::exists(dir / "f"));
  EXPECT_TRUE(list_dir(dir.path()).empty());
}
#endif

#ifndef _WIN32  // POSIX-only: supports_tmpfile, O_TMPFILE
TEST(AtomicFile, TempPathIsEmptyWhileTheFileHasNoName) {
  scratch_dir dir;
  if (!support::supports_tmpfile(dir.path())) GTEST_SKIP() << "no O_TMPFILE on this filesystem";
  aw::atomic_file file(dir / "f");
  file.open();
  EXPECT_TRUE(file.is_open());
  EXPECT_TRUE(file.temp_path().empty());  // O_TMPFILE: nothing in the directory
  EXPECT_TRUE(list_dir(dir.path()).empty());
  EXPECT_GE(file.native_handle(), 0);
}
#endif

TEST(AtomicFile, CommitWithoutWritesPublishesAnEmptyFile) {
  scratch_dir dir;
  aw::atomic_file file(dir / "f");
  file.commit();
  EXPECT_EQ(fs::file_size(dir / "f"), 0u);
}

TEST(AtomicFile, SecondCommitIsAnError) {
  scratch_dir dir;
  aw::atomic_file file(dir / "f");
  file.write("x");
  file.commit();
  std::error_code ec;
  file.commit(ec);
  EXPECT_TRUE(ec);
  file.discard();  // after commit: a no-op, the file stays
  EXPECT_EQ(read_file(dir / "f"), "x");
}

TEST(AtomicFile, WritesAroundTheBufferSizeAreKeptInOrder) {
  scratch_dir dir;
  std::string expected;
  aw::atomic_file file(dir / "f");
  std::size_t sizes[] = {1, 65535, 1, 65536, 65537, 7, 300000, 2, 65536};
  char c = 'a';
  for (std::size_t size : sizes) {
    std::string chunk(size, c++);
    expected += chunk;
    if (size % 2 == 0)
      file.write(chunk);
    else
      file.stream().write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  }
  file.commit();
  EXPECT_EQ(read_file(dir / "f"), expected);
}

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(AtomicFile, WriteErrorSticksAndCommitPublishesNothing) {
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  syscall_script script;
  script.fail(call::write, ENOSPC);
  aw::atomic_file file(dir / "f", overwriting());
  std::error_code ec;
  file.write(std::string(100000, 'x'), ec);  // large: written through at once
  EXPECT_EQ(ec, std::errc::no_space_on_device) << script.trace();
  file.write("more", ec);
  EXPECT_EQ(ec, std::errc::no_space_on_device);
  file.commit(ec);
  EXPECT_EQ(ec, std::errc::no_space_on_device);
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::write);
  EXPECT_EQ(read_file(dir / "f"), "old");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"f"});
}
#endif

#ifndef _WIN32  // POSIX-only: syscall_script, call::
TEST(AtomicFile, StreamFailureSetsBadbitAndCommitReportsIt) {
  scratch_dir dir;
  syscall_script script;
  script.fail(call::write, EIO);
  aw::atomic_file file(dir / "f");
  std::ostream& out = file.stream();
  out << std::string(1 << 17, 'y');  // more than the buffer: forces a write
  EXPECT_TRUE(out.bad());
  EXPECT_THROW(file.commit(), fs::filesystem_error);
  EXPECT_TRUE(list_dir(dir.path()).empty());
}
#endif

TEST(AtomicFile, OpenFailureIsReportedByTheFirstWrite) {
  scratch_dir dir;
  aw::atomic_file file(dir / "missing" / "f");
  std::error_code ec;
  file.write("x", ec);
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
  EXPECT_THROW(file.write("x"), fs::filesystem_error);
  EXPECT_THROW(file.commit(), fs::filesystem_error);
}

// A subclass that overrides every step, as Python atomicwrites users override
// get_fileobject / sync / commit / rollback.
class audited_file : public aw::atomic_file {
 public:
  using aw::atomic_file::atomic_file;
  ~audited_file() override { discard(); }  // our do_rollback must run, not just the base's

  std::string log;
  std::error_code fail_flush;

 protected:
  std::error_code do_open() override {
    log += "open ";
    auto ec = aw::atomic_file::do_open();
    if (!ec) write("header\n");  // a step can use the public API of the file it opened
    return ec;
  }
  std::error_code do_flush() override {
    log += "flush ";
    if (fail_flush) return fail_flush;
    return aw::atomic_file::do_flush();
  }
  std::error_code do_publish() override {
    log += "publish ";
    // Keep a backup of the old version before it is replaced.
    std::error_code ec;
    if (fs::exists(target())) fs::copy_file(target(), target().string() + ".bak", ec);
    if (ec) return ec;
    return aw::atomic_file::do_publish();
  }
  std::error_code do_rollback() noexcept override {
    log += "rollback ";
    return aw::atomic_file::do_rollback();
  }
};

TEST(Hooks, EveryStepCanBeOverriddenOnCommit) {
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  audited_file file(dir / "f", overwriting());
  file.write("body");
  file.commit();
  EXPECT_EQ(file.log, "open flush publish ");
  EXPECT_EQ(read_file(dir / "f"), "header\nbody");
  EXPECT_EQ(read_file(dir / "f.bak"), "old");
}

TEST(Hooks, OverriddenRollbackRunsOnDiscardAndOnDestruction) {
  scratch_dir dir;
  std::string log;
  {
    audited_file file(dir / "f");
    file.write("x");
    file.discard();
    log = file.log;
  }
  EXPECT_EQ(log, "open rollback ");
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(Hooks, FailingHookRollsBackAndReportsItsError) {
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  audited_file file(dir / "f", overwriting());
  file.fail_flush = aw::make_error(aw::phase::flush, std::errc::io_error);
  file.write("new");
  std::error_code ec;
  file.commit(ec);
  EXPECT_EQ(ec, std::errc::io_error);
  EXPECT_EQ(file.log, "open flush rollback ");
  EXPECT_EQ(read_file(dir / "f"), "old");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"f"});
}

TEST(Hooks, ExceptionFromAHookRollsBackAndPropagates) {
  scratch_dir dir;
  struct throwing_publish : aw::atomic_file {
    using aw::atomic_file::atomic_file;
    std::error_code do_publish() override { throw std::runtime_error("publish hook"); }
  } file(dir / "f");
  file.write("x");
  EXPECT_THROW(file.commit(), std::runtime_error);
  EXPECT_FALSE(file.committed());
  EXPECT_TRUE(list_dir(dir.path()).empty());
}
