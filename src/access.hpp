// Library-internal access to atomic_file's private parts.
#ifndef ATOMICWRITES_SRC_ACCESS_HPP
#define ATOMICWRITES_SRC_ACCESS_HPP

#include <atomicwrites/atomic_file.hpp>

#include <string_view>
#include <system_error>

namespace atomicwrites::detail {

struct access {
  // write_file() hands over all its bytes at once: no reason to copy them through a buffer.
  static std::error_code write_unbuffered(atomic_file& file, std::string_view data);
};

}  // namespace atomicwrites::detail

#endif  // ATOMICWRITES_SRC_ACCESS_HPP
