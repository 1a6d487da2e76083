// Run by with_fs.sh on a filesystem made for the test (AW_TEST_DIR is its root):
//   - suite 2, real full disks: writes into a filesystem filled to the brim fail with
//     ENOSPC (or, on btrfs, after short writes), leave the old content and no temporary
//     file, and leak no space;
//   - the bare FUSE filesystem (no O_TMPFILE, no link, no RENAME_NOREPLACE): replacing
//     works, creating without overwrite is refused cleanly rather than done with a race.
#include "support.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>

using support::list_dir;
using support::read_file;
using support::syscall_script;

namespace {

const char* kind() {
  const char* k = std::getenv("AW_FS_KIND");
  return k != nullptr ? k : "";
}

fs::path root() {
  return std::getenv("AW_TEST_DIR");
}

#define SKIP_UNLESS_DEDICATED_FILESYSTEM() \
  if (*kind() == '\0') GTEST_SKIP() << "runs only on a filesystem made by with_fs.sh"

// Writes until the filesystem refuses, first in large then in small pieces.
void fill(const fs::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  std::string chunk(1 << 20, 'f');
  for (std::size_t size : {std::size_t{1} << 20, std::size_t{4096}, std::size_t{1}}) {
    for (;;) {
      ssize_t n = ::write(fd, chunk.data(), size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // ENOSPC (or a zero-length write)
    }
  }
  ::fsync(fd);
  ::close(fd);
  ::sync();
}

bool space_error(const std::error_code& ec) {
  return ec == std::errc::no_space_on_device || ec.value() == EDQUOT;
}

}  // namespace

TEST(FullDisk, FailedWritesLeaveOldContentNoTempAndNoLeakedSpace) {
  SKIP_UNLESS_DEDICATED_FILESYSTEM();
  if (std::string(kind()).rfind("fuse-", 0) == 0) GTEST_SKIP() << "the backing store is not full";
  if (std::string(kind()) == "overlayfs") GTEST_SKIP() << "covered by its tmpfs upper layer";
  fs::path dir = root() / "full";
  fs::create_directory(dir);
  const std::string old_content(4096, 'o');
  support::write_plain(dir / "t", old_content);
  fill(dir / "filler");
  long failures = 0;
  for (std::size_t size : {std::size_t{64} << 10, std::size_t{1} << 20, std::size_t{8} << 20}) {
    for (bool named : {false, true}) {
      for (bool overwrite : {true, false}) {
        SCOPED_TRACE(std::to_string(size) + (named ? " named" : " tmpfile") +
                     (overwrite ? " replace" : " create"));
        syscall_script script;
        if (named) script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
        aw::write_options options;
        options.overwrite = overwrite;
        fs::path target = dir / (overwrite ? "t" : "u");
        std::error_code ec;
        aw::write_file(target, std::string(size, 'n'), options, ec);
        if (!ec) {
          // Small enough for what the filesystem still had: the write is whole.
          ASSERT_EQ(fs::file_size(target), size);
          if (overwrite)
            support::write_plain(dir / "t", old_content);
          else
            fs::remove(target);
          continue;
        }
        ++failures;
        ASSERT_TRUE(space_error(ec)) << ec.message();
        ASSERT_FALSE(aw::was_published(ec));
        ASSERT_EQ(read_file(dir / "t"), old_content);
        ASSERT_EQ(list_dir(dir), (std::vector<std::string>{"filler", "t"}));
      }
    }
  }
  EXPECT_GT(failures, 0) << "the filesystem was never full: the test proved nothing";
  // Nothing leaked: with 16 MiB freed, an 8 MiB write fits.
  fs::resize_file(dir / "filler",
                  fs::file_size(dir / "filler") -
                      std::min<std::uintmax_t>(fs::file_size(dir / "filler"), 16 << 20));
  ::sync();
  aw::write_options options;
  options.overwrite = true;
  std::error_code ec;
  aw::write_file(dir / "t", std::string(8 << 20, 'n'), options, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(fs::file_size(dir / "t"), std::uintmax_t{8} << 20);
  std::printf("%s: %ld writes refused on a full filesystem, old content kept each time\n", kind(),
              failures);
}

TEST(BareFilesystem, ReplacingWorksCreatingWithoutOverwriteIsRefusedCleanly) {
  if (std::string(kind()) != "fuse-bare") GTEST_SKIP() << "runs only on fuse-bare";
  fs::path dir = root();
  support::write_plain(dir / "t", "old");
  aw::write_options replace;
  replace.overwrite = true;
  aw::write_file(dir / "t", "new", replace);
  EXPECT_EQ(read_file(dir / "t"), "new");
  std::error_code ec;
  aw::write_file(dir / "u", "new", ec);  // no O_TMPFILE, no RENAME_NOREPLACE, no link
  EXPECT_EQ(ec, std::errc::operation_not_permitted) << ec.message();
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::publish);
  EXPECT_FALSE(fs::exists(dir / "u"));
  support::write_plain(dir / "src", "moving");
  aw::move_atomic(dir / "src", dir / "dst", ec);
  EXPECT_EQ(ec, std::errc::operation_not_permitted);
  EXPECT_EQ(read_file(dir / "src"), "moving");
  EXPECT_EQ(list_dir(dir), (std::vector<std::string>{"src", "t"}));
}
