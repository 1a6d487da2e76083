// Names of temporary files: ".NAME.aw-XXXXXXXXXXXX.tmp". Hidden, recognisable as ours by
// remove_stale_temp_files() and by people, and unpredictable (12 random characters).
#ifndef ATOMICWRITES_SRC_TEMP_NAME_HPP
#define ATOMICWRITES_SRC_TEMP_NAME_HPP

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace atomicwrites::detail {

inline constexpr std::size_t temp_name_random_length = 12;

// Appends the temporary name for `target_name` to `out` (after the directory part a caller
// may already have put there). `random` holds temp_name_random_length bytes. The target's
// name is shortened, when needed, so that the name fits in `max_length` characters
// (NAME_MAX): a target whose name is just short enough must not fail because its temporary
// name is too long.
void append_temp_name(std::filesystem::path::string_type& out,
                      std::basic_string_view<std::filesystem::path::value_type> target_name,
                      const unsigned char* random, std::size_t max_length);

}  // namespace atomicwrites::detail

#endif  // ATOMICWRITES_SRC_TEMP_NAME_HPP
