// Names of temporary files: ".NAME.aw-XXXXXXXXXXXX.tmp". Hidden, recognisable as ours by
// remove_stale_temp_files() and by people, and unpredictable (12 random characters).
#ifndef ATOMICWRITES_SRC_TEMP_NAME_HPP
#define ATOMICWRITES_SRC_TEMP_NAME_HPP

#include <cstddef>
#include <filesystem>

namespace atomicwrites::detail {

inline constexpr std::size_t temp_name_random_length = 12;

// `random` holds temp_name_random_length bytes. The target's name is shortened, when needed,
// so that the result fits in `max_length` characters (NAME_MAX): a target whose name is
// just short enough must not fail because its temporary name is too long.
std::filesystem::path::string_type make_temp_name(
    const std::filesystem::path::string_type& target_name, const unsigned char* random,
    std::size_t max_length);

}  // namespace atomicwrites::detail

#endif  // ATOMICWRITES_SRC_TEMP_NAME_HPP
