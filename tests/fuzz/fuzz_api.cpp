// A libFuzzer target (clang): random operation sequences on the public API inside a scratch
// directory, checked against a model of what each file must hold.
//
// Invariants after every operation: a write that succeeded left its content at the target;
// a write that failed before publishing changed nothing; no temporary file is left behind
// (except the one a published-but-failed cleanup names); the model and the directory agree.
#include <atomicwrites/atomicwrites.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
namespace aw = atomicwrites;

namespace {

struct input {
  const std::uint8_t* data;
  std::size_t size;
  std::uint8_t byte() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  bool empty() const { return size == 0; }
};

const fs::path& root() {
  static const fs::path path = [] {
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path dir = base / ("aw-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir;
  }();
  return path;
}

const char* const names[] = {"a", "b", "sub/c", "link", "dir", "", ".", "a/", "missing/x",
                             "sub", "dangling"};

fs::path pick(input& in) {
  std::uint8_t k = in.byte();
  if (k == 255) return root() / std::string(300, 'L');  // longer than NAME_MAX
  return root() / names[k % (sizeof(names) / sizeof(names[0]))];
}

std::optional<std::string> content_of(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

[[noreturn]] void violation(const std::string& what) {
  std::fprintf(stderr, "invariant violated: %s\n", what.c_str());
  std::abort();
}

void check_no_temp_files(const fs::path& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (aw::is_temp_file_name(it->path().filename()))
      violation("temporary file left: " + it->path().string());
}

// What a write to `target` must leave: the bytes at the file the target resolves to.
fs::path resolved(const fs::path& target) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(target, ec);
  return ec ? target : p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::error_code ignored;
  fs::remove_all(root(), ignored);
  fs::create_directories(root() / "sub");
  fs::create_directory(root() / "dir");
  fs::create_symlink("nowhere", root() / "dangling", ignored);
  fs::create_symlink("a", root() / "link", ignored);
  input in{data, size};
  for (int step = 0; step < 16 && !in.empty(); ++step) {
    std::uint8_t op = in.byte() % 6;
    aw::write_options options;
    std::uint8_t flags = in.byte();
    options.overwrite = (flags & 1) != 0;
    options.durability = aw::durability::none;  // the fuzzer explores logic, not the disk
    options.symlinks = static_cast<aw::symlink_policy>((flags >> 1) % 4);  // 3 is invalid
    options.preserve = (flags & 8) != 0;
    if (flags & 16) options.mode = static_cast<fs::perms>(in.byte() * 37 % 010000 | (flags & 32 ? 010000 : 0));
    if (flags & 64) options.hard_links = aw::hard_link_policy::refuse;
    fs::path target = pick(in);
    std::string content(in.byte() % 8, static_cast<char>('A' + step));
    fs::path where = resolved(target);
    std::optional<std::string> before = content_of(where);
    std::error_code ec;
    switch (op) {
      case 0:
      case 1:
        aw::write_file(target, content, options, ec);
        break;
      case 2: {
        aw::atomic_file file(target, options);
        file.write(content, ec);
        if (!ec && (flags & 128) == 0) file.commit(ec);
        if (!ec && (flags & 128) != 0) {
          file.discard();
          ec = std::make_error_code(std::errc::operation_canceled);  // nothing published
        }
        break;
      }
      case 3: {
        fs::path other = pick(in);
        // A symbolic link is moved as a link (rename semantics): only files are compared.
        std::optional<std::string> moved =
            fs::is_symlink(other, ignored) ? std::nullopt : content_of(other);
        if (flags & 1) aw::replace_atomic(other, target, aw::durability::none, ec);
        else aw::move_atomic(other, target, aw::durability::none, ec);
        if (!ec && moved && content_of(target) != moved) violation("moved content differs");
        check_no_temp_files(root());
        continue;
      }
      case 4:
        aw::remove_stale_temp_files(root(), std::chrono::seconds(0), ec);
        continue;
      default:
        fs::create_symlink(pick(in).filename(), target, ignored);
        continue;
    }
    std::optional<std::string> after = content_of(resolved(target));
    if (!ec) {
      if (after != content) violation("success without the new content at " + target.string());
    } else if (aw::was_published(ec)) {
      if (after != content) violation("published error without the new content");
    } else if (content_of(where) != before) {
      violation("failed write changed " + where.string() + ": " + ec.message());
    }
    if (!aw::was_published(ec)) check_no_temp_files(root());
  }
  return 0;
}
