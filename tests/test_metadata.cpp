// Metadata (DESIGN section 4): permission bits, owner, symbolic links, hard links.
#include "support.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>

using support::list_dir;
using support::mode_of;
using support::overwriting;
using support::read_file;
using support::scratch_dir;
#ifndef _WIN32
using support::syscall_script;
#endif

namespace {

// Sets the umask for one scope.
class umask_scope {
 public:
  explicit umask_scope(mode_t mask) : previous_(::umask(mask)) {}
  ~umask_scope() { ::umask(previous_); }

 private:
  mode_t previous_;
};

// Runs `body` once with O_TMPFILE and once with the named temp file fallback.
template <class Body>
void for_both_temp_kinds(Body body) {
  for (bool named : {false, true}) {
    SCOPED_TRACE(named ? "named temp file" : "O_TMPFILE");
    syscall_script script;
    if (named) script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
    body();
  }
}

}  // namespace

TEST(Mode, NewFileGets0666MaskedByUmask022) {
  umask_scope mask(022);
  for_both_temp_kinds([] {
    scratch_dir dir;
    aw::write_file(dir / "f", "x");
    EXPECT_EQ(mode_of(dir / "f"), 0644u);
  });
}

TEST(Mode, NewFileGets0666MaskedByUmask077) {
  umask_scope mask(077);
  for_both_temp_kinds([] {
    scratch_dir dir;
    aw::write_file(dir / "f", "x");
    EXPECT_EQ(mode_of(dir / "f"), 0600u);
  });
}

TEST(Mode, ReplacingA0640FileKeepsIt) {
  umask_scope mask(022);
  for_both_temp_kinds([] {
    scratch_dir dir;
    support::write_plain(dir / "f", "old");
    fs::permissions(dir / "f", fs::perms(0640));
    aw::write_file(dir / "f", "new", overwriting());
    EXPECT_EQ(mode_of(dir / "f"), 0640u);
    EXPECT_EQ(read_file(dir / "f"), "new");
  });
}

TEST(Mode, ReplacingKeepsBitsTheUmaskWouldRemove) {
  umask_scope mask(077);
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  fs::permissions(dir / "f", fs::perms(0664));
  aw::write_file(dir / "f", "new", overwriting());
  EXPECT_EQ(mode_of(dir / "f"), 0664u);
}

TEST(Mode, ExplicitModeIsAppliedExactlyNotMaskedByUmask) {
  umask_scope mask(077);
  for_both_temp_kinds([] {
    scratch_dir dir;
    aw::write_options options;
    options.mode = fs::perms(0754);
    aw::write_file(dir / "f", "x", options);
    EXPECT_EQ(mode_of(dir / "f"), 0754u);
    // Explicit mode also wins over the replaced file's bits.
    support::write_plain(dir / "g", "old");
    fs::permissions(dir / "g", fs::perms(0600));
    options.overwrite = true;
    aw::write_file(dir / "g", "new", options);
    EXPECT_EQ(mode_of(dir / "g"), 0754u);
  });
}

TEST(Mode, PreserveFalseGivesTheReplacementTheNewFileMode) {
  umask_scope mask(022);
  for_both_temp_kinds([] {
    scratch_dir dir;
    support::write_plain(dir / "f", "old");
    fs::permissions(dir / "f", fs::perms(0600));
    aw::write_options options = overwriting();
    options.preserve = false;
    aw::write_file(dir / "f", "new", options);
    EXPECT_EQ(mode_of(dir / "f"), 0644u);
  });
}

TEST(Mode, TargetNeverAppearsWithTheTemporaryFilesMode) {
  // The mode is applied before the name: observe it at the publish step.
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  fs::permissions(dir / "f", fs::perms(0640));
  struct observer : aw::atomic_file {
    using aw::atomic_file::atomic_file;
    unsigned mode_at_publish = 0;
    std::error_code do_publish() override {
      struct stat st {};
      ::fstat(native_handle(), &st);
      mode_at_publish = st.st_mode & 07777;
      return aw::atomic_file::do_publish();
    }
  } file(dir / "f", overwriting());
  file.write("new");
  file.commit();
  EXPECT_EQ(file.mode_at_publish, 0640u);
}

TEST(Owner, KeptWhenReplacingAsRoot) {
  SKIP_UNLESS_ROOT();
  for_both_temp_kinds([] {
    scratch_dir dir;
    support::write_plain(dir / "f", "old");
    ASSERT_EQ(::chown((dir / "f").c_str(), 65534, 65534), 0);
    fs::permissions(dir / "f", fs::perms(0640));
    aw::write_file(dir / "f", "new", overwriting());
    struct stat st {};
    ASSERT_EQ(::stat((dir / "f").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u);
    EXPECT_EQ(st.st_gid, 65534u);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
  });
}

TEST(Owner, GroupKeptInASetgidDirectoryThatWouldGiveAnother) {
  // A new file in a set-group-ID directory gets the directory's group, not ours: the
  // replaced file's group must be put back even though its ids look like our own.
  SKIP_UNLESS_ROOT();
  for_both_temp_kinds([] {
    scratch_dir dir;
    fs::create_directory(dir / "shared");
    ASSERT_EQ(::chown((dir / "shared").c_str(), 0, 65534), 0);
    ASSERT_EQ(::chmod((dir / "shared").c_str(), 02775), 0);
    support::write_plain(dir / "shared" / "f", "old");
    ASSERT_EQ(::chown((dir / "shared" / "f").c_str(), ::geteuid(), ::getegid()), 0);
    aw::write_file(dir / "shared" / "f", "new", overwriting());
    struct stat st {};
    ASSERT_EQ(::stat((dir / "shared" / "f").c_str(), &st), 0);
    EXPECT_EQ(st.st_gid, ::getegid());
  });
}

TEST(Owner, ReplacingOwnFileWithModeTheUmaskAllowsChangesNoMetadata) {
  // The common replace: our own file, bits the umask keeps. The temporary file is created
  // with them; no fchown or fchmod dirties its inode.
  umask_scope mask(022);
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  fs::permissions(dir / "f", fs::perms(0640));
  syscall_script script;
  aw::write_file(dir / "f", "new", overwriting());
  EXPECT_EQ(mode_of(dir / "f"), 0640u);
  if (script.count(call::open_exclusive) > 0)
    GTEST_SKIP() << "no O_TMPFILE on this filesystem: a named temporary file starts 0600";
  EXPECT_EQ(script.count(call::fchown), 0);
  EXPECT_EQ(script.count(call::fchmod), 0);
}

TEST(Owner, NotKeptWithPreserveFalse) {
  SKIP_UNLESS_ROOT();
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  ASSERT_EQ(::chown((dir / "f").c_str(), 65534, 65534), 0);
  aw::write_options options = overwriting();
  options.preserve = false;
  aw::write_file(dir / "f", "new", options);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST(Owner, UnprivilegedReplaceOfAnotherUsersFileSucceedsWithOwnIds) {
  // EPERM from fchown is expected and ignored for an unprivileged writer.
  scratch_dir dir;
  support::write_plain(dir / "f", "old");
  syscall_script script;
  script.fail(call::fchown, EPERM, 0);
  if (support::is_root())
    ASSERT_EQ(::chown((dir / "f").c_str(), 65534, 65534), 0);
  else
    GTEST_SKIP() << "needs root to give the file another owner";
  aw::write_file(dir / "f", "new", overwriting());
  EXPECT_EQ(read_file(dir / "f"), "new");
  EXPECT_EQ(script.count(call::fchown), 1);
}

TEST(Symlinks, FollowWritesTheLinksTargetAndKeepsTheLink) {
  scratch_dir dir;
  support::write_plain(dir / "real", "old");
  fs::create_symlink("real", dir / "link");
  aw::write_file(dir / "link", "new", overwriting());
  EXPECT_TRUE(fs::is_symlink(dir / "link"));
  EXPECT_EQ(fs::read_symlink(dir / "link"), "real");
  EXPECT_EQ(read_file(dir / "real"), "new");
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"link", "real"}));
}

TEST(Symlinks, FollowResolvesAChainAcrossDirectories) {
  scratch_dir dir;
  fs::create_directories(dir / "a" / "b");
  support::write_plain(dir / "a" / "b" / "real", "old");
  fs::create_symlink("b/real", dir / "a" / "second");       // relative to a/
  fs::create_symlink(dir / "a" / "second", dir / "first");  // absolute
  aw::write_file(dir / "first", "new", overwriting());
  EXPECT_EQ(read_file(dir / "a" / "b" / "real"), "new");
  EXPECT_TRUE(fs::is_symlink(dir / "first"));
  EXPECT_TRUE(fs::is_symlink(dir / "a" / "second"));
  EXPECT_EQ(list_dir(dir / "a" / "b"), std::vector<std::string>{"real"});
}

TEST(Symlinks, FollowDanglingLinkCreatesItsTarget) {
  scratch_dir dir;
  fs::create_symlink("missing", dir / "link");
  aw::write_file(dir / "link", "new");  // no overwrite: the target does not exist yet
  EXPECT_EQ(read_file(dir / "missing"), "new");
  EXPECT_TRUE(fs::is_symlink(dir / "link"));
}

TEST(Symlinks, FollowKeepsTheFinalTargetsMode) {
  scratch_dir dir;
  support::write_plain(dir / "real", "old");
  fs::permissions(dir / "real", fs::perms(0604));
  fs::create_symlink("real", dir / "link");
  aw::write_file(dir / "link", "new", overwriting());
  EXPECT_EQ(mode_of(dir / "real"), 0604u);
}

TEST(Symlinks, LoopIsAnError) {
  scratch_dir dir;
  fs::create_symlink("b", dir / "a");
  fs::create_symlink("a", dir / "b");
  std::error_code ec;
  aw::write_file(dir / "a", "x", overwriting(), ec);
  EXPECT_EQ(ec, std::errc::too_many_symbolic_link_levels);
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"a", "b"}));
}

TEST(Symlinks, ReplaceSwapsTheLinkForARegularFile) {
  scratch_dir dir;
  support::write_plain(dir / "real", "old");
  fs::create_symlink("real", dir / "link");
  aw::write_options options = overwriting();
  options.symlinks = aw::symlink_policy::replace;
  aw::write_file(dir / "link", "new", options);
  EXPECT_FALSE(fs::is_symlink(dir / "link"));
  EXPECT_EQ(read_file(dir / "link"), "new");
  EXPECT_EQ(read_file(dir / "real"), "old");
}

TEST(Symlinks, ReplaceWithoutOverwriteTreatsEvenADanglingLinkAsExisting) {
  scratch_dir dir;
  fs::create_symlink("missing", dir / "link");
  aw::write_options options;
  options.symlinks = aw::symlink_policy::replace;
  std::error_code ec;
  aw::write_file(dir / "link", "new", options, ec);
  EXPECT_EQ(ec, std::errc::file_exists);
  EXPECT_TRUE(fs::is_symlink(dir / "link"));
  EXPECT_FALSE(fs::exists(dir / "missing"));
}

TEST(Symlinks, RefuseFailsAndChangesNothing) {
  scratch_dir dir;
  support::write_plain(dir / "real", "old");
  fs::create_symlink("real", dir / "link");
  fs::create_symlink("nowhere", dir / "dangling");
  aw::write_options options = overwriting();
  options.symlinks = aw::symlink_policy::refuse;
  for (const char* name : {"link", "dangling"}) {
    std::error_code ec;
    aw::write_file(dir / name, "new", options, ec);
    EXPECT_EQ(ec, std::errc::too_many_symbolic_link_levels) << name;
    EXPECT_TRUE(fs::is_symlink(dir / name));
  }
  EXPECT_EQ(read_file(dir / "real"), "old");
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"dangling", "link", "real"}));
  // A regular file is written as usual under refuse.
  aw::write_file(dir / "real", "new", options);
  EXPECT_EQ(read_file(dir / "real"), "new");
}

TEST(HardLinks, ReplacingSplitsTheLinkByDefault) {
  scratch_dir dir;
  SKIP_UNLESS_HARD_LINKS(dir.path());
  support::write_plain(dir / "a", "old");
  fs::create_hard_link(dir / "a", dir / "b");
  aw::write_file(dir / "a", "new", overwriting());
  EXPECT_EQ(read_file(dir / "a"), "new");
  EXPECT_EQ(read_file(dir / "b"), "old");
  EXPECT_EQ(fs::hard_link_count(dir / "b"), 1u);
}

TEST(HardLinks, RefusePolicyFailsAndChangesNothing) {
  scratch_dir dir;
  SKIP_UNLESS_HARD_LINKS(dir.path());
  support::write_plain(dir / "a", "old");
  fs::create_hard_link(dir / "a", dir / "b");
  aw::write_options options = overwriting();
  options.hard_links = aw::hard_link_policy::refuse;
  std::error_code ec;
  aw::write_file(dir / "a", "new", options, ec);
  EXPECT_EQ(ec, std::errc::too_many_links);
  EXPECT_EQ(read_file(dir / "a"), "old");
  EXPECT_EQ(fs::hard_link_count(dir / "a"), 2u);
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"a", "b"}));
}
