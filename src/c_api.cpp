// The C API (include/atomicwrites/atomicwrites.h): a thin layer over the C++ API. Every entry
// point catches everything: no exception crosses into C.
#include <atomicwrites/atomicwrites.h>
#include <atomicwrites/atomicwrites.hpp>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>

namespace aw = atomicwrites;
namespace fs = std::filesystem;

struct aw_file {
  aw::atomic_file file;
  aw_file(const fs::path& target, const aw::write_options& options) : file(target, options) {}
};

namespace {

struct last_error {
  aw_error error{};
  std::string message;
  bool set = false;
};

last_error& thread_error() {
  thread_local last_error instance;
  return instance;
}

int code_for(const std::error_code& ec) {
  if (aw::was_published(ec)) return AW_EPUBLISHED;
  if (ec == std::errc::file_exists) return AW_EEXISTS;
  if (ec == std::errc::no_such_file_or_directory) return AW_ENOTFOUND;
  if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted ||
      ec == std::errc::read_only_file_system)
    return AW_EACCES;
#ifdef EDQUOT
  if (ec.default_error_condition() == std::error_condition(EDQUOT, std::generic_category()))
    return AW_ENOSPC;
#endif
  if (ec == std::errc::no_space_on_device) return AW_ENOSPC;
  if (ec == std::errc::cross_device_link) return AW_EXDEV;
  if (ec == std::errc::invalid_argument || ec == std::errc::filename_too_long) return AW_EINVALID;
  if (ec == std::errc::is_a_directory) return AW_EISDIR;
  if (ec == std::errc::too_many_symbolic_link_levels) return AW_ELOOP;
  return AW_ERROR;
}

// Records a failure for aw_error_last() and returns its code.
int fail(int code, int os_error, aw::phase phase, bool published, std::string message) noexcept {
  try {
    last_error& last = thread_error();
    last.message = std::move(message);
    last.error.code = code;
    last.error.os_error = os_error;
    last.error.phase = static_cast<aw_phase>(phase);
    last.error.published = published ? 1 : 0;
    last.error.message = last.message.c_str();
    last.set = true;
  } catch (...) {
    // Out of memory while recording: the code still says what happened.
  }
  return code;
}

int fail(const std::error_code& ec, const char* path) noexcept {
  std::string message;
  try {
    message = std::string(path != nullptr ? path : "") + ": " + ec.message();
  } catch (...) {
  }
  return fail(code_for(ec), ec.value(), aw::failed_phase(ec), aw::was_published(ec),
              std::move(message));
}

int invalid(const char* what) noexcept {
  return fail(AW_EINVALID, EINVAL, aw::phase::prepare, false, what);
}

// Runs `body` (which returns a std::error_code), translating errors and exceptions.
template <class Body>
int guarded(const char* path, Body body) noexcept {
  try {
    std::error_code ec = body();
    return ec ? fail(ec, path) : AW_OK;
  } catch (const std::bad_alloc&) {
    return fail(AW_ERROR, ENOMEM, aw::phase::none, false, "out of memory");
  } catch (const std::exception& e) {
    return fail(AW_ERROR, 0, aw::phase::none, false, e.what());
  } catch (...) {
    return fail(AW_ERROR, 0, aw::phase::none, false, "unknown error");
  }
}

fs::path to_path(const char* utf8) {
#ifdef _WIN32
  return fs::u8path(utf8);
#else
  return fs::path(utf8);
#endif
}

bool valid_path(const char* path) {
  return path != nullptr && *path != '\0';
}

// C callers can store any integer in an enum field; reading it as the enum type in C++ would
// be undefined for values outside the enumerators' range. Read the bytes as an integer.
template <class Enum>
long long raw_value(const Enum& value) {
  std::underlying_type_t<Enum> raw;
  std::memcpy(&raw, &value, sizeof raw);
  return static_cast<long long>(raw);
}

bool convert_durability(const aw_durability& in, aw::durability& out) {
  long long raw = raw_value(in);
  if (raw < AW_DURABILITY_NONE || raw > AW_DURABILITY_DURABLE) return false;
  out = static_cast<aw::durability>(raw);
  return true;
}

// Converts C options; false (with the error recorded) when they are not valid.
bool convert(const aw_write_options* in, aw::write_options& out, int& error) {
  if (in == nullptr) return true;
  if (in->version != AW_WRITE_OPTIONS_VERSION) {
    error = invalid("aw_write_options: unsupported version");
    return false;
  }
  if (in->mode < -1 || in->mode > 07777) {
    error = invalid("aw_write_options: mode must be -1 or 0..07777");
    return false;
  }
  long long symlinks = raw_value(in->symlinks);
  long long hard_links = raw_value(in->hard_links);
  if (!convert_durability(in->durability, out.durability) || symlinks < AW_SYMLINKS_FOLLOW ||
      symlinks > AW_SYMLINKS_REFUSE || hard_links < AW_HARD_LINKS_SPLIT ||
      hard_links > AW_HARD_LINKS_REFUSE) {
    error = invalid("aw_write_options: durability, symlinks or hard_links out of range");
    return false;
  }
  out.overwrite = in->overwrite != 0;
  if (in->mode >= 0) out.mode = static_cast<fs::perms>(in->mode);
  out.preserve = in->preserve != 0;
  out.symlinks = static_cast<aw::symlink_policy>(symlinks);
  out.hard_links = static_cast<aw::hard_link_policy>(hard_links);
  if (in->temp_dir != nullptr) out.temp_dir = to_path(in->temp_dir);
  out.windows_retry_budget = std::chrono::milliseconds(in->windows_retry_budget_ms);
  return true;
}

}  // namespace

extern "C" {

int aw_write_options_init(aw_write_options* options, unsigned int version) {
  if (options == nullptr || version != AW_WRITE_OPTIONS_VERSION)
    return invalid("aw_write_options_init: NULL options or unsupported version");
  *options = aw_write_options AW_WRITE_OPTIONS_INIT;
  return AW_OK;
}

const aw_error* aw_error_last(void) {
  last_error& last = thread_error();
  return last.set ? &last.error : nullptr;
}

void aw_error_clear(void) {
  thread_error().set = false;
}

const char* aw_phase_name(aw_phase phase) {
  return aw::to_string(static_cast<aw::phase>(phase));
}

int aw_write_file(const char* path, const void* data, size_t size,
                  const aw_write_options* options) {
  if (!valid_path(path)) return invalid("aw_write_file: NULL or empty path");
  if (data == nullptr && size != 0) return invalid("aw_write_file: NULL data");
  aw::write_options converted;
  int error = 0;
  if (!convert(options, converted, error)) return error;
  return guarded(path, [&] {
    std::error_code ec;
    aw::write_file(to_path(path), std::string_view(static_cast<const char*>(data), data ? size : 0),
                   converted, ec);
    return ec;
  });
}

int aw_file_open(aw_file** out, const char* path, const aw_write_options* options) {
  if (out == nullptr) return invalid("aw_file_open: NULL out");
  *out = nullptr;
  if (!valid_path(path)) return invalid("aw_file_open: NULL or empty path");
  aw::write_options converted;
  int error = 0;
  if (!convert(options, converted, error)) return error;
  return guarded(path, [&] {
    auto file = std::make_unique<aw_file>(to_path(path), converted);
    std::error_code ec;
    file->file.open(ec);  // report a bad path now, not at the first write
    if (!ec) *out = file.release();
    return ec;
  });
}

int aw_file_write(aw_file* file, const void* data, size_t size) {
  if (file == nullptr || (data == nullptr && size != 0))
    return invalid("aw_file_write: NULL file or data");
  return guarded(file->file.target().string().c_str(), [&] {
    std::error_code ec;
    file->file.write(std::string_view(static_cast<const char*>(data), data ? size : 0), ec);
    return ec;
  });
}

int aw_file_commit(aw_file* file) {
  if (file == nullptr) return invalid("aw_file_commit: NULL file");
  return guarded(file->file.target().string().c_str(), [&] {
    std::error_code ec;
    file->file.commit(ec);
    return ec;
  });
}

int aw_file_discard(aw_file* file) {
  if (file == nullptr) return invalid("aw_file_discard: NULL file");
  file->file.discard();
  return AW_OK;
}

void aw_file_free(aw_file* file) {
  delete file;
}  // ~atomic_file discards; never throws

int aw_replace_atomic(const char* source, const char* target, aw_durability durability) {
  if (!valid_path(source) || !valid_path(target))
    return invalid("aw_replace_atomic: NULL or empty path");
  return guarded(target, [&] {
    std::error_code ec;
    aw::replace_atomic(to_path(source), to_path(target), static_cast<aw::durability>(durability),
                       ec);
    return ec;
  });
}

int aw_move_atomic(const char* source, const char* target, aw_durability durability) {
  if (!valid_path(source) || !valid_path(target))
    return invalid("aw_move_atomic: NULL or empty path");
  aw::durability level{};
  if (!convert_durability(durability, level)) return invalid("aw_move_atomic: bad durability");
  return guarded(target, [&] {
    std::error_code ec;
    aw::move_atomic(to_path(source), to_path(target), level, ec);
    return ec;
  });
}

int aw_remove_stale_temp_files(const char* directory, unsigned long long older_than_seconds,
                               size_t* removed) {
  if (removed != nullptr) *removed = 0;
  if (!valid_path(directory)) return invalid("aw_remove_stale_temp_files: NULL or empty path");
  return guarded(directory, [&] {
    std::error_code ec;
    std::size_t count = aw::remove_stale_temp_files(
        to_path(directory), std::chrono::seconds(static_cast<long long>(older_than_seconds)), ec);
    if (removed != nullptr) *removed = count;
    return ec;
  });
}

void aw_version(int* major, int* minor, int* patch) {
  if (major != nullptr) *major = ATOMICWRITES_VERSION_MAJOR;
  if (minor != nullptr) *minor = ATOMICWRITES_VERSION_MINOR;
  if (patch != nullptr) *patch = ATOMICWRITES_VERSION_PATCH;
}

}  // extern "C"
