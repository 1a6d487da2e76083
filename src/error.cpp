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
  constexpr phase_category(phase p, bool published) noexcept : phase_(p), published_(published) {}

  const char* name() const noexcept override { return "atomicwrites"; }

  std::string message(int value) const override {
    std::string text = to_string(phase_);
    text += " failed: ";
    text += std::system_category().message(value);
    if (published_) text += " (the new content was published; durability unknown)";
    return text;
  }

  std::error_condition default_error_condition(int value) const noexcept override {
    return std::system_category().default_error_condition(value);
  }

  bool equivalent(const std::error_code& code, int value) const noexcept override {
    // Lets a system error_code with the same number compare equal to our conditions.
    return code.category() == std::system_category() && code.value() == value;
  }

  [[nodiscard]] phase which() const noexcept { return phase_; }
  [[nodiscard]] bool published() const noexcept { return published_; }

 private:
  phase phase_;
  bool published_;
};

template <std::size_t... I>
constexpr std::array<phase_category, sizeof...(I)> make_categories(bool published,
                                                                   std::index_sequence<I...>) {
  return {phase_category(static_cast<phase>(I), published)...};
}

const phase_category& category_for(phase p, bool published) noexcept {
  static const auto unpublished = make_categories(false, std::make_index_sequence<phase_count>{});
  static const auto after_publish = make_categories(true, std::make_index_sequence<phase_count>{});
  auto index = static_cast<std::size_t>(p);
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

std::error_code make_error(phase p, int os_error, bool published) noexcept {
  if (static_cast<std::size_t>(p) >= phase_count) p = phase::none;
  return {os_error, category_for(p, published)};
}

}  // namespace atomicwrites
