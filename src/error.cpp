#include <atomicwrites/error.hpp>

#include <array>
#include <cstddef>
#include <string>

namespace atomicwrites {
namespace {

constexpr std::size_t phase_count = static_cast<std::size_t>(phase::cleanup) + 1;

// One category per (phase, published) pair, so that a plain std::error_code carries both
// through every layer (the throwing overloads, the C API, the bindings) without a side
// channel. Values stay the OS's own error numbers and map to the system category's
// conditions, so `ec == std::errc::...` works as for any system error.
class phase_category final : public std::error_category {
 public:
  constexpr phase_category(phase p, bool published, bool generic = false) noexcept
      : phase_(p), published_(published), generic_(generic) {}

  const char* name() const noexcept override { return "atomicwrites"; }

  std::string message(int value) const override {
    std::string text = to_string(phase_);
    text += " failed: ";
    text += source().message(value);
    if (published_) text += " (the new content was published; durability unknown)";
    return text;
  }

  std::error_condition default_error_condition(int value) const noexcept override {
    return source().default_error_condition(value);
  }

  bool equivalent(const std::error_code& code, int value) const noexcept override {
    // Lets an OS error_code with the same number compare equal to our conditions.
    return code.category() == source() && code.value() == value;
  }

  [[nodiscard]] phase which() const noexcept { return phase_; }
  [[nodiscard]] bool published() const noexcept { return published_; }

 private:
  // Where the numbers come from: the OS (errno, GetLastError), or POSIX's errno values.
  const std::error_category& source() const noexcept {
    return generic_ ? std::generic_category() : std::system_category();
  }

  phase phase_;
  bool published_;
  bool generic_;
};

template <std::size_t... I>
constexpr std::array<phase_category, sizeof...(I)> make_categories(bool published, bool generic,
                                                                   std::index_sequence<I...>) {
  return {phase_category(static_cast<phase>(I), published, generic)...};
}

const phase_category& category_for(phase p, bool published, bool generic = false) noexcept {
  static const auto unpublished =
      make_categories(false, false, std::make_index_sequence<phase_count>{});
  static const auto after_publish =
      make_categories(true, false, std::make_index_sequence<phase_count>{});
  static const auto portable =
      make_categories(false, true, std::make_index_sequence<phase_count>{});
  auto index = static_cast<std::size_t>(p);
  if (generic) return portable[index];
  return published ? after_publish[index] : unpublished[index];
}

const phase_category* as_ours(const std::error_code& ec) noexcept {
  return dynamic_cast<const phase_category*>(&ec.category());
}

}  // namespace

phase failed_phase(const std::error_code& ec) noexcept {
  const phase_category* ours = as_ours(ec);
  return ours != nullptr ? ours->which() : phase::none;
}

bool was_published(const std::error_code& ec) noexcept {
  const phase_category* ours = as_ours(ec);
  return ours != nullptr && ours->published();
}

const char* to_string(phase p) noexcept {
  switch (p) {
    case phase::none: return "no phase";
    case phase::prepare: return "prepare";
    case phase::create_temp: return "create temp";
    case phase::write: return "write";
    case phase::metadata: return "metadata";
    case phase::flush: return "flush";
    case phase::publish: return "publish";
    case phase::directory_flush: return "directory flush";
    case phase::cleanup: return "cleanup";
  }
  return "unknown phase";
}

std::error_code make_error(phase p, std::errc condition) noexcept {
  if (static_cast<std::size_t>(p) >= phase_count) p = phase::none;
  return {static_cast<int>(condition), category_for(p, false, true)};
}

std::error_code make_error(phase p, int os_error, bool published) noexcept {
  if (static_cast<std::size_t>(p) >= phase_count) p = phase::none;
  return {os_error, category_for(p, published)};
}

}  // namespace atomicwrites
