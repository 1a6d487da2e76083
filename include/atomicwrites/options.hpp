// Settings for one atomic write. One struct, so call sites name what they change.
#ifndef ATOMICWRITES_OPTIONS_HPP
#define ATOMICWRITES_OPTIONS_HPP

#include <chrono>
#include <filesystem>
#include <optional>

namespace atomicwrites {

// What survives a crash. See docs/guarantees.md for the full table.
enum class durability {
  none,        // atomic for readers; no flush, so a power cut may lose or empty the file
  consistent,  // file data flushed before publishing: after a power cut, old or new
  durable,     // data and directory flushed: once the call returns, the new content survives
};

// What to do when the target path is a symbolic link.
enum class symlink_policy {
  follow,   // write the link's final target; the link stays (the default)
  replace,  // replace the link itself with a regular file
  refuse,   // fail with std::errc::too_many_symbolic_link_levels (ELOOP), like O_NOFOLLOW
};

// What to do when the target has more than one hard link.
enum class hard_link_policy {
  split,   // replace this name only; the other names keep the old content (the default)
  refuse,  // fail with std::errc::too_many_links (EMLINK) and change nothing
};

struct write_options {
  // false: fail with std::errc::file_exists if the target exists (checked race-free at
  // publish time). true: replace it.
  bool overwrite = false;

  atomicwrites::durability durability = atomicwrites::durability::durable;

  // Permission bits of the new file (07777 at most; applied exactly, not masked by the
  // umask). Unset: a replaced file keeps its bits (see preserve), a new file gets
  // 0666 & ~umask, as open(2) would give it.
  std::optional<std::filesystem::perms> mode;

  // When replacing a file: keep its permission bits, and its owner and group where the
  // process is allowed to (silently not, where it is not).
  bool preserve = true;

  symlink_policy symlinks = symlink_policy::follow;

  hard_link_policy hard_links = hard_link_policy::split;

  // Where the temporary file is created. Empty: the target's directory, which is the only
  // place guaranteed to be on the same filesystem. Another filesystem is an error
  // (std::errc::cross_device_link), never a copy.
  std::filesystem::path temp_dir;

  // Windows only: how long to keep retrying a publish that fails because another process
  // (an antivirus scanner, an indexer) holds the target open. Ignored elsewhere.
  std::chrono::milliseconds windows_retry_budget{1000};
};

}  // namespace atomicwrites

#endif  // ATOMICWRITES_OPTIONS_HPP
