// Suite 1, unit level: every system call occurrence on every code path, failed with every
// plausible errno, through the library's syscall seam. After each run the invariants of
// DESIGN.md must hold:
//   - the target holds the old content (or does not exist) or the new content, nothing else;
//   - success means the new content;
//   - a failure before publishing leaves the old content and no temporary file;
//   - a failed flush is never retried, and its file is never published;
//   - a failure after publishing is reported as published (and the target is new);
//   - EINTR is retried transparently: the outcome is the same as without the fault.
#include "support.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

using support::list_dir;
using support::read_file;
using support::scratch_dir;
using support::syscall_script;

namespace {

// One way through the protocol.
struct code_path {
  std::string name;
  bool overwrite;        // replace an existing target, or create a new one
  bool named;            // O_TMPFILE refused: named temporary file
  bool no_renameat2;     // renameat2 refused: link + unlink
  bool no_empty_path;    // linkat(AT_EMPTY_PATH) refused: /proc/self/fd names the O_TMPFILE
  bool no_link_tmpfile;  // O_TMPFILE cannot be linked: copied into a named file
  aw::durability level;
};

std::vector<code_path> all_paths() {
  std::vector<code_path> paths;
  const std::pair<aw::durability, const char*> levels[] = {
      {aw::durability::none, "none"},
      {aw::durability::consistent, "consistent"},
      {aw::durability::durable, "durable"}};
  for (auto [level, level_name] : levels) {
    std::string suffix = std::string("/") + level_name;
    paths.push_back({"tmpfile-replace" + suffix, true, false, false, false, false, level});
    paths.push_back({"tmpfile-create" + suffix, false, false, false, false, false, level});
    paths.push_back(
        {"proc-linked-tmpfile-replace" + suffix, true, false, false, true, false, level});
    paths.push_back(
        {"proc-linked-tmpfile-create" + suffix, false, false, false, true, false, level});
    paths.push_back({"named-replace" + suffix, true, true, false, false, false, level});
    paths.push_back({"named-create-renameat2" + suffix, false, true, false, false, false, level});
    paths.push_back({"named-create-link" + suffix, false, true, true, false, false, level});
    paths.push_back({"copied-tmpfile-replace" + suffix, true, false, false, true, true, level});
    paths.push_back({"copied-tmpfile-create" + suffix, false, false, false, true, true, level});
  }
  return paths;
}

const int plausible_errnos[] = {EIO,   ENOSPC, EDQUOT, EINTR,  EACCES,     EPERM,
                                EROFS, EMFILE, EXDEV,  EINVAL, EOPNOTSUPP, ENOSYS};

const char* const old_content = "old content\n";
const std::string new_content(100000, 'n');  // several writes' worth with short writes

struct outcome {
  std::error_code ec;
  std::vector<call> calls;
};

// Sets up the path's mechanism refusals on `script` (they come first, so a fault rule added
// afterwards for the same call overrides them only at its own occurrence).
void refuse_mechanisms(syscall_script& script, const code_path& path) {
  if (path.named) script.fail(call::open_tmpfile, EOPNOTSUPP, 0);
  if (path.no_renameat2) script.fail(call::rename_noreplace, EINVAL, 0);
  if (path.no_empty_path) script.fail(call::link_anonymous, ENOENT, 0);
  if (path.no_link_tmpfile) script.fail(call::link_anonymous_proc, ENOENT, 0);
}

outcome run(const scratch_dir& dir, const code_path& path, std::optional<call> fault_call,
            int fault_nth, int fault_errno) {
  fs::remove_all(dir / "t");
  for (const auto& name : list_dir(dir.path())) fs::remove(dir / name);
  if (path.overwrite) support::write_plain(dir / "t", old_content);
  aw::write_options options;
  options.overwrite = path.overwrite;
  options.durability = path.level;
  outcome result;
  {
    syscall_script script;
    refuse_mechanisms(script, path);
    if (fault_call) script.fail(*fault_call, fault_errno, fault_nth);
    aw::write_file(dir / "t", new_content, options, result.ec);
    result.calls = script.calls();
  }
  return result;
}

std::string describe(const code_path& path, call c, int nth, int error) {
  std::ostringstream out;
  out << path.name << ": " << aw::detail::sys::name(c) << " #" << nth << " fails with "
      << std::strerror(error);
  return out.str();
}

int count_of(const std::vector<call>& calls, call c) {
  return static_cast<int>(std::count(calls.begin(), calls.end(), c));
}

bool is_publish(call c) {
  return c == call::link_anonymous || c == call::link_anonymous_proc || c == call::link ||
         c == call::rename || c == call::rename_noreplace;
}

}  // namespace

TEST(FaultMatrix, EveryCallOnEveryPathWithEveryErrno) {
  scratch_dir dir;
  long runs = 0, failures_reported = 0, successes = 0, published_errors = 0;
  std::set<std::string> paths_covered;
  for (const code_path& path : all_paths()) {
    outcome clean = run(dir, path, std::nullopt, 0, 0);
    ASSERT_FALSE(clean.ec) << path.name << ": " << clean.ec.message();
    ASSERT_EQ(read_file(dir / "t"), new_content) << path.name;
    // Every occurrence of every call on this path.
    std::map<call, int> seen;
    std::vector<std::pair<call, int>> occurrences;
    for (call c : clean.calls) occurrences.push_back({c, ++seen[c]});
    paths_covered.insert(path.name);
    for (auto [c, nth] : occurrences) {
      for (int error : plausible_errnos) {
        SCOPED_TRACE(describe(path, c, nth, error));
        outcome faulty = run(dir, path, c, nth, error);
        ++runs;
        std::string content = fs::exists(dir / "t") ? read_file(dir / "t") : "<missing>";
        bool is_new = content == new_content;
        bool is_old = path.overwrite ? content == old_content : content == "<missing>";
        ASSERT_TRUE(is_new || is_old) << "torn target: " << content.substr(0, 40);
        if (!faulty.ec) {
          ++successes;
          ASSERT_TRUE(is_new) << "success without the new content";
        } else if (aw::was_published(faulty.ec)) {
          ++published_errors;
          ASSERT_TRUE(is_new) << "reported published, but the target is old";
        } else {
          ++failures_reported;
          ASSERT_TRUE(is_old) << "failed before publishing, but the target changed";
          ASSERT_EQ(list_dir(dir.path()),
                    path.overwrite ? std::vector<std::string>{"t"} : std::vector<std::string>{})
              << "temporary file left behind";
        }
        if (!faulty.ec || aw::was_published(faulty.ec)) {
          // Nothing but the target, except the one case the error names: a temporary name
          // whose removal failed after link (it is a second name of the new file).
          auto names = list_dir(dir.path());
          bool cleanup_failed = aw::failed_phase(faulty.ec) == aw::phase::cleanup;
          ASSERT_TRUE(names == std::vector<std::string>{"t"} || cleanup_failed) << names.size();
        }
        if (error == EINTR) {
          ASSERT_FALSE(faulty.ec) << "EINTR was not retried: " << faulty.ec.message();
        }
        if (c == call::fdatasync && error != EINTR) {
          // The fault hit the data flush: never retried, never published.
          ASSERT_TRUE(faulty.ec);
          ASSERT_EQ(aw::failed_phase(faulty.ec), aw::phase::flush);
          ASSERT_EQ(count_of(faulty.calls, call::fdatasync), nth);
          auto last_flush = std::find(faulty.calls.rbegin(), faulty.calls.rend(), call::fdatasync);
          ASSERT_TRUE(std::none_of(faulty.calls.rbegin(), last_flush, is_publish))
              << "published after a failed flush";
        }
        if (c == call::fsync && error != EINTR) {
          // Only directories are fsync'ed, after the rename.
          ASSERT_TRUE(aw::was_published(faulty.ec));
          ASSERT_EQ(aw::failed_phase(faulty.ec), aw::phase::directory_flush);
        }
      }
    }
  }
  std::printf(
      "fault matrix: %zu paths, %ld faulty runs: %ld successes (fallbacks, EINTR), "
      "%ld clean failures, %ld published-but-failed, 0 violations\n",
      paths_covered.size(), runs, successes, failures_reported, published_errors);
  RecordProperty("runs", std::to_string(runs));
}

TEST(FaultMatrix, RealShortWritesOnEveryPath) {
  scratch_dir dir;
  for (const code_path& path : all_paths()) {
    for (std::size_t limit : {1u, 7u, 4096u, 65535u}) {
      SCOPED_TRACE(path.name + " writing at most " + std::to_string(limit) + " bytes a call");
      fs::remove_all(dir / "t");
      if (path.overwrite) support::write_plain(dir / "t", old_content);
      aw::write_options options;
      options.overwrite = path.overwrite;
      options.durability = path.level;
      syscall_script script;
      refuse_mechanisms(script, path);
      script.short_writes(limit);
      std::error_code ec;
      aw::write_file(
          dir / "t",
          std::string_view(new_content).substr(0, limit == 1 ? 3000 : new_content.size()), options,
          ec);
      ASSERT_FALSE(ec) << ec.message();
      ASSERT_EQ(read_file(dir / "t"),
                new_content.substr(0, limit == 1 ? 3000 : new_content.size()));
      ASSERT_EQ(list_dir(dir.path()), std::vector<std::string>{"t"});
    }
  }
}

TEST(FaultMatrix, StaleLookupsAreRetriedAPublishNeverIs) {
  scratch_dir dir;
  support::write_plain(dir / "t", old_content);
  aw::write_options options;
  options.overwrite = true;
  {
    syscall_script script;
    script.fail(call::stat, ESTALE, 1);
    script.fail(call::open_directory, ESTALE, 1);
    aw::write_file(dir / "t", "after stale lookups", options);
    EXPECT_EQ(script.count(call::stat), 2);
  }
  EXPECT_EQ(read_file(dir / "t"), "after stale lookups");
  syscall_script script;
  script.fail(call::rename, ESTALE, 1);
  std::error_code ec;
  aw::write_file(dir / "t", "new", options, ec);
  EXPECT_EQ(ec.value(), ESTALE);
  EXPECT_EQ(script.count(call::rename), 1);
  EXPECT_EQ(read_file(dir / "t"), "after stale lookups");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"t"});
}
