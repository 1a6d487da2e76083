// The one-call functions and the primitives: thin layers over atomic_file and the backend.
#include <atomicwrites/atomicwrites.hpp>

#include "access.hpp"
#include "backend.hpp"

namespace atomicwrites {

namespace fs = std::filesystem;

void write_file(const fs::path& target, std::string_view data, const write_options& options,
                std::error_code& ec) noexcept {
  atomic_file file(target, options);
  ec = detail::access::write_unbuffered(file, data);
  if (!ec) file.commit(ec);
}

void write_file(const fs::path& target, std::string_view data, std::error_code& ec) noexcept {
  write_file(target, data, write_options{}, ec);
}

void write_file(const fs::path& target, std::string_view data, const write_options& options) {
  atomic_file file(target, options);
  if (std::error_code ec = detail::access::write_unbuffered(file, data))
    throw fs::filesystem_error("atomicwrites: cannot write", target, ec);
  file.commit();
}

void replace_atomic(const fs::path& source, const fs::path& target, durability level,
                    std::error_code& ec) noexcept {
  ec = detail::rename_file(source, target, true, level);
}

void replace_atomic(const fs::path& source, const fs::path& target, std::error_code& ec) noexcept {
  replace_atomic(source, target, durability::durable, ec);
}

void replace_atomic(const fs::path& source, const fs::path& target, durability level) {
  std::error_code ec;
  replace_atomic(source, target, level, ec);
  if (ec) throw fs::filesystem_error("atomicwrites: cannot replace", target, source, ec);
}

void move_atomic(const fs::path& source, const fs::path& target, durability level,
                 std::error_code& ec) noexcept {
  ec = detail::rename_file(source, target, false, level);
}

void move_atomic(const fs::path& source, const fs::path& target, std::error_code& ec) noexcept {
  move_atomic(source, target, durability::durable, ec);
}

void move_atomic(const fs::path& source, const fs::path& target, durability level) {
  std::error_code ec;
  move_atomic(source, target, level, ec);
  if (ec) throw fs::filesystem_error("atomicwrites: cannot move", target, source, ec);
}

}  // namespace atomicwrites
