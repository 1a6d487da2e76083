// Pieces of the write protocol that do not depend on the platform, shared by both backends.
#include "backend.hpp"

#include <atomicwrites/error.hpp>

namespace atomicwrites::detail {

staged_file::~staged_file() {
  close_handle(file);
  close_handle(directory);
  close_handle(temp_directory);
}

std::error_code validate(const std::filesystem::path& target, const write_options& options) {
  auto invalid = [] { return make_error(phase::prepare, std::errc::invalid_argument); };
  if (target.empty()) return invalid();
  if (options.mode &&
      (*options.mode & ~std::filesystem::perms::mask) != std::filesystem::perms::none)
    return invalid();
  if (options.durability < durability::none || options.durability > durability::durable)
    return invalid();
  if (options.symlinks < symlink_policy::follow || options.symlinks > symlink_policy::refuse)
    return invalid();
  if (options.hard_links < hard_link_policy::split || options.hard_links > hard_link_policy::refuse)
    return invalid();
  if (options.windows_retry_budget.count() < 0) return invalid();
  return {};
}

std::filesystem::path directory_of(const std::filesystem::path& path) {
  std::filesystem::path parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

}  // namespace atomicwrites::detail
