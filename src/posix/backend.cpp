// The POSIX (Linux first) backend: the protocol of DESIGN.md section 2.
#include "../backend.hpp"

#include "../temp_name.hpp"
#include "../testing.hpp"
#include "sys.hpp"

#include <atomicwrites/error.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#ifdef ATOMICWRITES_HAVE_LIBURING
#include <liburing.h>
#endif

namespace atomicwrites::detail {
namespace {

namespace fs = std::filesystem;
using sys::call;

constexpr int max_symlink_hops = 40;  // the kernel's own limit (MAXSYMLINKS)
constexpr int max_name_attempts = 32;
constexpr int max_stale_retries = 5;  // lookups only; a publishing call is never repeated

std::error_code error_from_errno(phase p, bool published = false) {
  return make_error(p, errno, published);
}

// Answers by which a filesystem says "I do not implement this mechanism", as opposed to a
// real failure. Only these move us on to the next mechanism; anything else is reported.
bool mechanism_rejected(int error) {
  return error == EINVAL || error == ENOSYS || error == EOPNOTSUPP || error == ENOTSUP;
}

// link() is refused with EPERM by some FUSE and VM shared-folder filesystems.
bool link_rejected(int error) {
  return mechanism_rejected(error) || error == EPERM;
}

// O_TMPFILE unsupported: EOPNOTSUPP from the filesystem; EISDIR from kernels older than
// 3.11, which see only the O_DIRECTORY bit inside O_TMPFILE.
bool tmpfile_rejected(int error) {
  return mechanism_rejected(error) || error == EISDIR;
}

// The process umask, read without changing it: umask(2) can only be read by setting it,
// which would race with files created by other threads.
mode_t current_umask() {
  int fd = sys::openat(call::open_source, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    std::array<char, 4096> buffer{};
    ssize_t size = sys::read(fd, buffer.data(), buffer.size() - 1);
    sys::close(fd);
    if (size > 0) {
      const char* line = std::strstr(buffer.data(), "\nUmask:");
      if (line != nullptr) return static_cast<mode_t>(std::strtoul(line + 7, nullptr, 8));
    }
  }
  // No /proc (or a kernel older than 4.7): the racy way is the only one left.
  mode_t mask = ::umask(022);
  ::umask(mask);
  return mask;
}

int open_directory(const char* directory) {
  for (int stale = 0;; ++stale) {
    int fd =
        sys::openat(call::open_directory, AT_FDCWD, directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 || errno != ESTALE || stale + 1 >= max_stale_retries) return fd;
  }
}

// Where the last component of `path` starts: after its last slash.
std::size_t name_start(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? 0 : slash + 1;
}

// Applies the symlink policy: returns the path whose directory entry will be replaced, and
// fills `st` (st_mode == 0 when nothing exists there).
std::error_code resolve_target(const fs::path& target, symlink_policy policy, std::string& resolved,
                               struct stat& st) {
  std::string path = target.native();
  for (int hops = 0, stale = 0;; ++hops) {
    if (sys::fstatat(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      // ESTALE: on NFS and FUSE, a concurrent replace changed the inode between lookup and
      // getattr. Looking up again sees the new one (as the VFS itself does for NFS).
      if (errno == ESTALE && ++stale < max_stale_retries) {
        --hops;
        continue;
      }
      if (errno != ENOENT) return error_from_errno(phase::prepare);
      st = {};
      break;
    }
    if (!S_ISLNK(st.st_mode) || policy == symlink_policy::replace) break;
    if (policy == symlink_policy::refuse || hops == max_symlink_hops)
      return make_error(phase::prepare, ELOOP);
    std::array<char, PATH_MAX> text{};
    ssize_t size = sys::readlinkat(AT_FDCWD, path.c_str(), text.data(), text.size());
    if (size < 0) return error_from_errno(phase::prepare);
    if (static_cast<std::size_t>(size) == text.size())
      return make_error(phase::prepare, ENAMETOOLONG);
    // A relative link is relative to the directory holding the link.
    if (text[0] == '/')
      path.clear();
    else
      path.resize(name_start(path));
    path.append(text.data(), static_cast<std::size_t>(size));
  }
  resolved = std::move(path);
  return {};
}

std::error_code inspect_target(staged_file& staged, const fs::path& target,
                               const write_options& options) {
  struct stat st {};
  if (auto ec = resolve_target(target, options.symlinks, staged.target, st)) return ec;
  staged.target_name = name_start(staged.target);
  std::string_view name(staged.target.c_str() + staged.target_name);
  // "dir/", "." and ".." name directories whatever exists there.
  if (name.empty() || name == "." || name == "..") return make_error(phase::prepare, EISDIR);
  if (st.st_mode == 0) return {};
  if (S_ISDIR(st.st_mode)) return make_error(phase::prepare, EISDIR);
  if (!options.overwrite) return make_error(phase::prepare, EEXIST);
  if (S_ISREG(st.st_mode)) {
    if (st.st_nlink > 1 && options.hard_links == hard_link_policy::refuse)
      return make_error(phase::prepare, EMLINK);
    staged.existing.regular = true;
    staged.existing.mode = st.st_mode & 07777;
    staged.existing.owner = st.st_uid;
    staged.existing.group = st.st_gid;
  } else if (!S_ISLNK(st.st_mode)) {
    // A FIFO, socket or device: renaming over it would silently change what the path is.
    return make_error(phase::prepare, EINVAL);
  }
  return {};
}

// What *at() calls are given for the entry `path` whose last component starts at `name`:
// that component when we hold its directory open, the whole path when we do not (AT_FDCWD).
const char* name_in(int directory, const std::string& path, std::size_t name) {
  return directory == AT_FDCWD ? path.c_str() : path.c_str() + name;
}

std::error_code open_directories(staged_file& staged, const write_options& options,
                                 temp_kind kind) {
  if ((kind == temp_kind::named || options.durability != durability::durable) &&
      options.temp_dir.empty()) {
    // Nothing here will flush the directory (a batch flushes its directories itself): the
    // calls name it by path instead of opening it, two system calls fewer (as a
    // hand-written write and rename does).
    staged.directory = AT_FDCWD;
    return {};
  }
  staged.directory = open_directory(directory_of(staged).c_str());
  if (staged.directory < 0) return error_from_errno(phase::prepare);
  if (options.temp_dir.empty()) return {};
  staged.temp_directory = open_directory(options.temp_dir.c_str());
  if (staged.temp_directory < 0) return error_from_errno(phase::prepare);
  struct stat target_dir {
  }, temp_dir{};
  if (sys::fstatat(staged.directory, "", &target_dir, AT_EMPTY_PATH) != 0 ||
      sys::fstatat(staged.temp_directory, "", &temp_dir, AT_EMPTY_PATH) != 0)
    return error_from_errno(phase::prepare);
  // rename() cannot cross filesystems; say so before writing anything rather than after.
  if (target_dir.st_dev != temp_dir.st_dev) return make_error(phase::prepare, EXDEV);
  if (target_dir.st_ino == temp_dir.st_ino) close_handle(staged.temp_directory);
  return {};
}

int temp_directory_of(const staged_file& staged) {
  return staged.temp_directory != invalid_handle ? staged.temp_directory : staged.directory;
}

// Puts the directory part of temporary names into `out`: options.temp_dir's, or the target's.
void start_temp_path(const staged_file& staged, const write_options& options, std::string& out) {
  if (staged.temp_directory == invalid_handle) {
    out.assign(staged.target, 0, staged.target_name);
    return;
  }
  out = options.temp_dir.native();
  if (out.back() != '/') out.push_back('/');
}

// Random bytes for temporary names: one getrandom per thread (and per fork), then a fast
// generator. O_EXCL, not secrecy, is what makes the names safe; unpredictability only keeps
// collisions (and guessing) rare.
std::atomic<unsigned> fork_generation{0};

std::error_code random_bytes(unsigned char* out, std::size_t size) {
  static std::once_flag registered;
  std::call_once(registered, [] { ::pthread_atfork(nullptr, nullptr, [] { ++fork_generation; }); });
  thread_local std::mt19937_64 generator;
  thread_local unsigned seeded_generation = ~0u;
  if (seeded_generation != fork_generation.load()) {
    std::array<std::uint64_t, 4> seed{};
    if (sys::getrandom(seed.data(), sizeof seed) != static_cast<ssize_t>(sizeof seed))
      return error_from_errno(phase::create_temp);
    std::seed_seq sequence(seed.begin(), seed.end());
    generator.seed(sequence);
    seeded_generation = fork_generation.load();
  }
  for (std::size_t i = 0; i < size; i += sizeof(std::uint64_t)) {
    std::uint64_t value = generator();
    std::memcpy(out + i, &value, std::min(size - i, sizeof value));
  }
  return {};
}

// Makes staged.temp_path a new random name in the temporary directory, whose directory part
// (`directory`) start_temp_path made once for all attempts.
std::error_code next_temp_path(staged_file& staged, const std::string& directory) {
  std::array<unsigned char, temp_name_random_length> bytes{};
  if (auto ec = random_bytes(bytes.data(), bytes.size())) return ec;
  staged.temp_path.reserve(directory.size() + NAME_MAX);
  staged.temp_path.assign(directory);
  staged.temp_name = directory.size();
  append_temp_name(staged.temp_path, std::string_view(staged.target).substr(staged.target_name),
                   bytes.data(), NAME_MAX);
  return {};
}

// Without a directory handle, the first call that names the directory reports a missing one:
// the same bad input open_directories reports otherwise.
bool missing_directory(int directory) {
  return directory == AT_FDCWD && (errno == ENOENT || errno == ENOTDIR);
}

// Creates a named temporary file: O_EXCL so we never open someone else's file, O_NOFOLLOW
// so a planted link is not followed, mode 0600 until the final bits are applied.
std::error_code create_named_temp(staged_file& staged, const write_options& options) {
  int directory = temp_directory_of(staged);
  std::string directory_part;
  start_temp_path(staged, options, directory_part);
  for (int attempt = 0; attempt < max_name_attempts; ++attempt) {
    if (auto ec = next_temp_path(staged, directory_part)) return ec;
    int fd = sys::openat(call::open_exclusive, directory,
                         name_in(directory, staged.temp_path, staged.temp_name),
                         O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      staged.file = fd;
      staged.mode_is_final = false;
      staged.created_with_wanted_bits = false;  // 0600 until apply_metadata
      return {};
    }
    staged.temp_path.clear();  // not ours: discard() must not remove it
    if (errno != EEXIST)
      return error_from_errno(missing_directory(directory) ? phase::prepare : phase::create_temp);
  }
  return make_error(phase::create_temp, EEXIST);
}

bool keeps_existing(const staged_file& staged, const write_options& options) {
  return options.preserve && staged.existing.regular;
}

bool wants_default_mode(const staged_file& staged, const write_options& options) {
  return !options.mode && !keeps_existing(staged, options);
}

// The permission bits the new file must have, when they are not the default ones.
mode_t wanted_mode(const staged_file& staged, const write_options& options) {
  return options.mode ? static_cast<mode_t>(*options.mode) : staged.existing.mode;
}

// Whether linkat(AT_EMPTY_PATH) was refused and /proc/self/fd worked instead. Before Linux
// 6.10, AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, so an unprivileged process would make one
// failing call per write; once refused, /proc is asked first. Both ways are still tried
// when the first one is refused, so a stale answer costs one call, never a write.
std::atomic<bool> empty_path_refused{false};

bool link_way_refused(int error) {
  return error == ENOENT || error == EPERM || link_rejected(error);
}

// Gives the anonymous O_TMPFILE file the name `name` in `directory`.
int link_anonymous(int fd, int directory, const char* name) {
  auto by_empty_path = [&] {
    return sys::linkat(call::link_anonymous, fd, "", directory, name, AT_EMPTY_PATH);
  };
  auto by_proc = [&] {
    std::array<char, 32> proc_path{};
    std::snprintf(proc_path.data(), proc_path.size(), "/proc/self/fd/%d", fd);
    return sys::linkat(call::link_anonymous_proc, AT_FDCWD, proc_path.data(), directory, name,
                       AT_SYMLINK_FOLLOW);
  };
  bool proc_first = empty_path_refused.load(std::memory_order_relaxed);
  if ((proc_first ? by_proc() : by_empty_path()) == 0) return 0;
  if (errno == EEXIST || !link_way_refused(errno)) return -1;
  if ((proc_first ? by_empty_path() : by_proc()) != 0) return -1;
  empty_path_refused.store(!proc_first, std::memory_order_relaxed);
  return 0;
}

std::error_code flush_directories(const staged_file& staged) {
  // The new name lives in the directory's own blocks: without this fsync a power cut after
  // we return could bring back the old name (or none).
  if (sys::fsync(staged.directory) != 0) return error_from_errno(phase::directory_flush, true);
  // With temp_dir elsewhere, also make the removal of the temporary name durable.
  if (staged.temp_directory != invalid_handle && sys::fsync(staged.temp_directory) != 0)
    return error_from_errno(phase::directory_flush, true);
  return {};
}

std::error_code close_file(staged_file& staged, phase p, bool published) {
  int fd = staged.file;
  if (fd == invalid_handle) return {};  // a batch file, closed when it was staged
  staged.file = invalid_handle;
  // A failed close can be the first report of a failed write (NFS): it must not be ignored.
  // EINTR is not such a report: Linux has already released the descriptor, and the data is
  // flushed (or, at durability::none, was never promised to be).
  if (sys::close(fd) != 0 && errno != EINTR) return error_from_errno(p, published);
  return {};
}

std::error_code publish_named(staged_file& staged, const write_options& options) {
  int from_directory = temp_directory_of(staged);
  const char* from = name_in(from_directory, staged.temp_path, staged.temp_name);
  const char* to = name_in(staged.directory, staged.target, staged.target_name);
  if (auto ec = close_file(staged, phase::write, false)) return ec;
  if (options.overwrite) {
    // EXDEV is reported, never turned into a copy: a copy is not atomic.
    if (sys::renameat(from_directory, from, staged.directory, to) != 0)
      return error_from_errno(phase::publish);
  } else if (sys::renameat2_noreplace(from_directory, from, staged.directory, to) != 0) {
    if (!mechanism_rejected(errno)) return error_from_errno(phase::publish);
    // No renameat2 here: link() also fails with EEXIST rather than replace.
    if (sys::linkat(call::link, from_directory, from, staged.directory, to, 0) != 0)
      return error_from_errno(phase::publish);
    if (sys::unlinkat(from_directory, from) != 0) {
      auto ec = error_from_errno(phase::cleanup, true);
      staged.temp_path.clear();
      return ec;
    }
  }
  staged.temp_path.clear();
  return {};
}

// Copies the anonymous file's bytes into a named temporary file, for the rare system where
// an O_TMPFILE file cannot be linked (no /proc and no CAP_DAC_READ_SEARCH).
std::error_code materialize(staged_file& staged, const write_options& options) {
  int anonymous = staged.file;
  staged.file = invalid_handle;
  auto restore = [&](std::error_code ec) {
    close_handle(staged.file);
    staged.file = anonymous;
    return ec;
  };
  if (auto ec = create_named_temp(staged, options)) return restore(ec);
  std::array<char, 1 << 16> buffer{};
  for (off_t offset = 0;;) {
    ssize_t size = sys::pread(anonymous, buffer.data(), buffer.size(), offset);
    if (size < 0) return restore(error_from_errno(phase::publish));
    if (size == 0) break;
    if (auto ec = write_all(staged, buffer.data(), static_cast<std::size_t>(size))) {
      return restore(ec);
    }
    offset += size;
  }
  sys::close(anonymous);
  if (auto ec = apply_metadata(staged, options)) return ec;
  return flush_data(staged, options.durability);
}

std::error_code publish_anonymous(staged_file& staged, const write_options& options) {
  int from_directory = temp_directory_of(staged);
  if (!options.overwrite) {
    // linkat() never replaces: the O_TMPFILE file appears at the target in one step, or we
    // get EEXIST and the existing file is untouched.
    const char* to = name_in(staged.directory, staged.target, staged.target_name);
    if (link_anonymous(staged.file, staged.directory, to) == 0)
      return close_file(staged, phase::cleanup, true);
    if (!link_rejected(errno) && errno != ENOENT) return error_from_errno(phase::publish);
    if (auto ec = materialize(staged, options)) return ec;
    return publish_named(staged, options);
  }
  // Overwriting needs rename(), and rename() needs a name: link one, then rename it.
  std::string directory_part;
  start_temp_path(staged, options, directory_part);
  for (int attempt = 0; attempt < max_name_attempts; ++attempt) {
    if (auto ec = next_temp_path(staged, directory_part)) return ec;
    const char* name = name_in(from_directory, staged.temp_path, staged.temp_name);
    if (link_anonymous(staged.file, from_directory, name) == 0)
      return publish_named(staged, options);
    staged.temp_path.clear();  // not ours: discard() must not remove it
    if (errno == EEXIST) continue;
    if (!link_rejected(errno) && errno != ENOENT) return error_from_errno(phase::publish);
    if (auto ec = materialize(staged, options)) return ec;
    return publish_named(staged, options);
  }
  return make_error(phase::publish, EEXIST);
}

}  // namespace

std::string directory_of(const staged_file& staged) {
  // The target's directory part, without the slash that ends it (but "/" itself).
  std::size_t end = staged.target_name;
  while (end > 1 && staged.target[end - 1] == '/') --end;
  return end == 0 ? std::string(".") : staged.target.substr(0, end);
}

void testing::forget_learned_fallbacks() noexcept {
  empty_path_refused.store(false);
}

void close_handle(native_handle& handle) noexcept {
  if (handle >= 0) {  // not invalid_handle, nor AT_FDCWD
    sys::close(handle);
    handle = invalid_handle;
  }
}

std::error_code open_temp(staged_file& staged, const fs::path& target, const write_options& options,
                          temp_kind kind) {
  if (auto ec = validate(target, options)) return ec;
  if (auto ec = inspect_target(staged, target, options)) return ec;
  if (auto ec = open_directories(staged, options, kind)) return ec;
  if (kind == temp_kind::named) return create_named_temp(staged, options);

  // Preferred: O_TMPFILE. The file has no name until we give it one, so a crash leaves
  // nothing behind, and nobody can open it meanwhile; so it may be created with its final
  // permission bits. With the default mode the kernel applies the umask (or a default ACL)
  // exactly as for any new file, and no fchmod is needed; with a kept or explicit mode the
  // umask may remove bits, which apply_metadata checks.
  bool default_mode = wants_default_mode(staged, options);
  mode_t mode = default_mode ? 0666 : wanted_mode(staged, options) & 0777;
  int directory = temp_directory_of(staged);
  std::string directory_path = ".";  // O_TMPFILE opens the directory the file will live in
  if (directory == AT_FDCWD) {
    start_temp_path(staged, options, directory_path);
    directory_path.push_back('.');
  }
  int fd = sys::openat(call::open_tmpfile, directory, directory_path.c_str(),
                       O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
  if (fd >= 0) {
    staged.file = fd;
    staged.mode_is_final = default_mode;
    staged.created_with_wanted_bits = !default_mode;
    return {};
  }
  if (missing_directory(directory)) return error_from_errno(phase::prepare);
  if (!tmpfile_rejected(errno)) return error_from_errno(phase::create_temp);
  return create_named_temp(staged, options);
}

std::error_code write_all(staged_file& staged, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t written = sys::write(staged.file, data, size);
    if (written < 0) return error_from_errno(phase::write);
    if (written == 0) return make_error(phase::write, EIO);  // no progress, no error: give up
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return {};
}

std::error_code apply_metadata(staged_file& staged, const write_options& options) {
  const existing_target& existing = staged.existing;
  bool keep_existing = keeps_existing(staged, options);
  bool default_mode = wants_default_mode(staged, options);
  if (default_mode && staged.mode_is_final) return {};
  mode_t mode = default_mode ? 0666 & ~current_umask() : wanted_mode(staged, options);
  // A file created with the wanted bits usually has them, and our own ids usually are the
  // replaced file's: one fstat, which writes nothing, then saves a fchown and a fchmod that
  // would each dirty the inode. Without an answer, both calls are made.
  struct stat st {};
  bool known = staged.created_with_wanted_bits && sys::fstat(staged.file, &st) == 0;
  if (keep_existing && !(known && st.st_uid == existing.owner && st.st_gid == existing.group)) {
    // Only root (or the owner, for one of its groups) may change them; others keep their
    // own ids (EPERM).
    if (sys::fchown(staged.file, existing.owner, existing.group) != 0 && errno != EPERM &&
        errno != EINVAL)
      return error_from_errno(phase::metadata);
    known = false;  // fchown may have cleared set-user-ID and set-group-ID bits
  }
  if (!(known && (st.st_mode & 07777) == mode) && sys::fchmod(staged.file, mode) != 0)
    return error_from_errno(phase::metadata);
  staged.mode_is_final = true;
  return {};
}

std::error_code flush_data(staged_file& staged, durability level) {
  if (level == durability::none) return {};
  // fdatasync writes the data and the metadata needed to read it back (the size); the
  // timestamps it skips do not matter for the content. A failure is final: the kernel may
  // already have dropped the dirty pages, so a second call could "succeed" on lost data.
  if (sys::fdatasync(staged.file) != 0) return error_from_errno(phase::flush);
  return {};
}

std::error_code publish(staged_file& staged, const write_options& options) {
  std::error_code ec = staged.temp_path.empty() ? publish_anonymous(staged, options)
                                                : publish_named(staged, options);
  if (ec) return ec;
  if (options.durability == durability::durable) return flush_directories(staged);
  return {};
}

std::error_code discard(staged_file& staged) noexcept {
  std::error_code ec;
  if (staged.file != invalid_handle && sys::close(staged.file) != 0 && errno != EINTR)
    ec = error_from_errno(phase::cleanup);
  staged.file = invalid_handle;
  if (!staged.temp_path.empty()) {
    int directory = temp_directory_of(staged);
    if (sys::unlinkat(directory, name_in(directory, staged.temp_path, staged.temp_name)) != 0 &&
        errno != ENOENT)
      ec = error_from_errno(phase::cleanup);
    staged.temp_path.clear();
  }
  return ec;
}

std::uint32_t default_file_mode() {
  return 0666 & ~current_umask();
}

void release_handles(staged_file& staged, std::error_code& ec) noexcept {
  if (staged.file != invalid_handle && sys::close(staged.file) != 0 && errno != EINTR && !ec)
    ec = error_from_errno(phase::write);
  staged.file = invalid_handle;
  close_handle(staged.directory);
  close_handle(staged.temp_directory);
}

std::error_code open_directory_handle(const fs::path& directory, native_handle& out) {
  out = open_directory(directory.c_str());
  return out < 0 ? error_from_errno(phase::prepare) : std::error_code{};
}

namespace {

std::error_code flush_each(const std::vector<const staged_file*>& files) {
  for (const staged_file* file : files) {
    int fd = sys::openat(call::open_source, AT_FDCWD, file->temp_path.c_str(),
                         O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return error_from_errno(phase::flush);
    int rc = sys::fdatasync(fd);
    int saved = errno;
    sys::close(fd);
    if (rc != 0) return make_error(phase::flush, saved);
  }
  return {};
}

#ifdef ATOMICWRITES_HAVE_LIBURING
// Every file's fdatasync submitted at once, so the filesystem can fold them into few journal
// commits; in chunks, to bound the open descriptors.
std::error_code flush_concurrently(const std::vector<const staged_file*>& files) {
  constexpr unsigned chunk = 128;
  io_uring ring{};
  if (io_uring_queue_init(chunk, &ring, 0) < 0) return flush_each(files);
  std::error_code ec;
  std::vector<int> fds;
  for (std::size_t begin = 0; begin < files.size() && !ec; begin += chunk) {
    std::size_t end = std::min(files.size(), begin + chunk);
    fds.clear();
    for (std::size_t i = begin; i < end && !ec; ++i) {
      int fd = sys::openat(call::open_source, AT_FDCWD, files[i]->temp_path.c_str(),
                           O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0) {
        ec = error_from_errno(phase::flush);
        break;
      }
      fds.push_back(fd);
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
    }
    int submitted = io_uring_submit(&ring);
    for (int i = 0; i < submitted; ++i) {
      io_uring_cqe* cqe = nullptr;
      if (io_uring_wait_cqe(&ring, &cqe) < 0) {
        if (!ec) ec = make_error(phase::flush, EIO);
        break;
      }
      if (cqe->res < 0 && !ec) ec = make_error(phase::flush, -cqe->res);
      io_uring_cqe_seen(&ring, cqe);
    }
    for (int fd : fds) sys::close(fd);
  }
  io_uring_queue_exit(&ring);
  return ec;
}
#endif

}  // namespace

std::error_code flush_files(const std::vector<const staged_file*>& files,
                            const std::vector<native_handle>& directories, batch_flush how) {
  switch (how) {
    case batch_flush::per_file: return flush_each(files);
    case batch_flush::concurrent:
#ifdef ATOMICWRITES_HAVE_LIBURING
      return flush_concurrently(files);
#else
      return flush_each(files);
#endif
    case batch_flush::automatic:
    case batch_flush::filesystem: {
      // Where syncfs cannot report a failed writeback, publishing after it could publish
      // lost data: each file is flushed on its own instead.
      if (!sys::syncfs_reports_errors()) return flush_each(files);
      // One syncfs per filesystem writes every file's data and flushes the device once.
      // Since Linux 5.8 it also reports writeback errors of the filesystem.
      std::vector<dev_t> done;
      for (native_handle directory : directories) {
        struct stat st {};
        if (sys::fstatat(directory, "", &st, AT_EMPTY_PATH) != 0)
          return error_from_errno(phase::flush);
        if (std::find(done.begin(), done.end(), st.st_dev) != done.end()) continue;
        done.push_back(st.st_dev);
        if (sys::syncfs(directory) != 0) return error_from_errno(phase::flush);
      }
      return {};
    }
  }
  return make_error(phase::flush, EINVAL);
}

std::error_code publish_through(staged_file& staged, native_handle directory,
                                const write_options& options) {
  staged.directory = directory;  // borrowed: the batch closes it
  std::error_code ec = publish_named(staged, options);
  staged.directory = invalid_handle;
  return ec;
}

std::error_code flush_directory(native_handle directory) {
  if (sys::fsync(directory) != 0) return error_from_errno(phase::directory_flush, true);
  return {};
}

std::error_code remove_temp(staged_file& staged) noexcept {
  std::error_code ec;
  if (!staged.temp_path.empty() && sys::unlinkat(AT_FDCWD, staged.temp_path.c_str()) != 0 &&
      errno != ENOENT)
    ec = error_from_errno(phase::cleanup);
  staged.temp_path.clear();
  return ec;
}

std::error_code rename_file(const fs::path& source, const fs::path& target, bool overwrite,
                            durability level) {
  if (source.empty() || target.empty() || source.filename().empty() || target.filename().empty())
    return make_error(phase::prepare, EINVAL);
  staged_file from;  // reuses the handle cleanup
  staged_file to;
  from.directory = open_directory(directory_of(source).c_str());
  if (from.directory < 0) return error_from_errno(phase::prepare);
  to.directory = open_directory(directory_of(target).c_str());
  if (to.directory < 0) return error_from_errno(phase::prepare);
  const std::string source_string = source.filename().native();
  const std::string target_string = target.filename().native();
  const char* source_name = source_string.c_str();
  const char* target_name = target_string.c_str();

  struct stat st {};
  if (sys::fstatat(from.directory, source_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return error_from_errno(phase::prepare);
  if (level != durability::none && S_ISREG(st.st_mode)) {
    // The caller wrote the source; its data must be on the device before its new name is.
    from.file = sys::openat(call::open_source, from.directory, source_name,
                            O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (from.file < 0) return error_from_errno(phase::flush);
    if (sys::fdatasync(from.file) != 0) return error_from_errno(phase::flush);
    close_handle(from.file);
  }

  if (overwrite) {
    if (sys::renameat(from.directory, source_name, to.directory, target_name) != 0)
      return error_from_errno(phase::publish);
  } else if (sys::renameat2_noreplace(from.directory, source_name, to.directory, target_name) !=
             0) {
    if (!mechanism_rejected(errno)) return error_from_errno(phase::publish);
    if (sys::linkat(call::link, from.directory, source_name, to.directory, target_name, 0) != 0)
      return error_from_errno(phase::publish);
    if (sys::unlinkat(from.directory, source_name) != 0)
      return error_from_errno(phase::cleanup, true);
  }

  if (level != durability::durable) return {};
  struct stat source_dir {
  }, target_dir{};
  if (sys::fstatat(from.directory, "", &source_dir, AT_EMPTY_PATH) != 0 ||
      sys::fstatat(to.directory, "", &target_dir, AT_EMPTY_PATH) != 0)
    return error_from_errno(phase::directory_flush, true);
  if (source_dir.st_ino != target_dir.st_ino || source_dir.st_dev != target_dir.st_dev)
    to.temp_directory = std::exchange(from.directory, invalid_handle);
  return flush_directories(to);
}

}  // namespace atomicwrites::detail
