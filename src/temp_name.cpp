#include "temp_name.hpp"

#include <atomicwrites/atomicwrites.hpp>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace atomicwrites {
namespace detail {
namespace {

namespace fs = std::filesystem;
using string_type = fs::path::string_type;
using char_type = string_type::value_type;

constexpr std::string_view alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view marker = ".aw-";
constexpr std::string_view suffix = ".tmp";

bool is_alphanumeric(char_type c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

void append_temp_name(string_type& out, std::basic_string_view<char_type> target_name,
                      const unsigned char* random, std::size_t max_length) {
  std::size_t fixed = 1 + marker.size() + temp_name_random_length + suffix.size();
  std::size_t kept = std::min(max_length > fixed ? max_length - fixed : 0, target_name.size());
  std::size_t start = out.size();
  out.resize(start + kept + fixed);  // filled in place: this runs on every write
  char_type* next = &out[start];
  *next++ = '.';
  next = std::copy_n(target_name.data(), kept, next);
  next = std::copy(marker.begin(), marker.end(), next);
  for (std::size_t i = 0; i < temp_name_random_length; ++i)
    *next++ = static_cast<char_type>(alphabet[random[i] % alphabet.size()]);
  std::copy(suffix.begin(), suffix.end(), next);
}

}  // namespace detail

bool is_temp_file_name(const std::filesystem::path& file_name) noexcept {
  const auto& name = file_name.native();
  std::size_t tail =
      detail::marker.size() + detail::temp_name_random_length + detail::suffix.size();
  if (name.size() < 1 + tail || name.front() != '.') return false;
  std::size_t at = name.size() - tail;
  for (std::size_t i = 0; i < detail::marker.size(); ++i)
    if (name[at + i] != static_cast<detail::char_type>(detail::marker[i])) return false;
  at += detail::marker.size();
  for (std::size_t i = 0; i < detail::temp_name_random_length; ++i)
    if (!detail::is_alphanumeric(name[at + i])) return false;
  at += detail::temp_name_random_length;
  for (std::size_t i = 0; i < detail::suffix.size(); ++i)
    if (name[at + i] != static_cast<detail::char_type>(detail::suffix[i])) return false;
  return true;
}

std::size_t remove_stale_temp_files(const std::filesystem::path& directory,
                                    std::chrono::seconds older_than, std::error_code& ec) noexcept {
  namespace fs = std::filesystem;
  ec.clear();
  std::size_t removed = 0;
  try {
    auto now = fs::file_time_type::clock::now();
    for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::directory_entry& entry = *it;
      if (!is_temp_file_name(entry.path().filename())) continue;
      std::error_code entry_error;
      // Only regular files: a link or directory with such a name is not one we made.
      if (!entry.is_regular_file(entry_error) || entry.is_symlink(entry_error)) continue;
      auto modified = entry.last_write_time(entry_error);
      if (entry_error || now - modified < older_than) continue;
      if (fs::remove(entry.path(), entry_error)) ++removed;
      // Removed meanwhile by someone else is fine; any other failure is reported.
      if (entry_error && entry_error != std::errc::no_such_file_or_directory) ec = entry_error;
    }
  } catch (const std::bad_alloc&) {
    ec = std::make_error_code(std::errc::not_enough_memory);
  }
  return removed;
}

std::size_t remove_stale_temp_files(const std::filesystem::path& directory,
                                    std::chrono::seconds older_than) {
  std::error_code ec;
  std::size_t removed = remove_stale_temp_files(directory, older_than, ec);
  if (ec)
    throw std::filesystem::filesystem_error("atomicwrites: remove stale temp files", directory, ec);
  return removed;
}

}  // namespace atomicwrites
