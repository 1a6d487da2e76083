#include <atomicwrites/atomic_file.hpp>

#include "access.hpp"
#include "backend.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <ostream>
#include <streambuf>

namespace atomicwrites {
namespace detail {

// A fixed-size buffer in front of the temporary file, shared by write() and stream(), so
// that streaming any amount of data uses constant memory.
class output_stream final : public std::streambuf {
 public:
  static constexpr std::size_t capacity = std::size_t{1} << 16;
  static constexpr std::size_t direct_threshold = capacity / 4;

  explicit output_stream(atomic_file& owner)
      : owner_(owner), buffer_(new char[capacity]), stream_(this) {
    setp(buffer_.get(), buffer_.get() + capacity);
  }

  std::ostream& stream() noexcept { return stream_; }

  // Writes out what is buffered. Errors also stick to the owner, so commit() sees them.
  std::error_code drain() {
    std::size_t size = static_cast<std::size_t>(pptr() - pbase());
    setp(buffer_.get(), buffer_.get() + capacity);
    if (size == 0) return {};
    return owner_.write_impl(buffer_.get(), size);
  }

  std::error_code append(const char* data, std::size_t size) {
    // Large writes go straight to the file: copying them buys nothing, and holding them back
    // would stall a producer on the other end of a pipe while we catch up.
    if (size >= direct_threshold) {
      if (auto ec = drain()) return ec;
      return owner_.write_impl(data, size);
    }
    if (size > static_cast<std::size_t>(epptr() - pptr())) {
      if (auto ec = drain()) return ec;
    }
    std::memcpy(pptr(), data, size);
    pbump(static_cast<int>(size));
    return {};
  }

 protected:
  int_type overflow(int_type ch) override {
    if (drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }

  std::streamsize xsputn(const char* data, std::streamsize size) override {
    if (append(data, static_cast<std::size_t>(size))) return 0;
    return size;
  }

  int sync() override { return drain() ? -1 : 0; }

 private:
  atomic_file& owner_;
  std::unique_ptr<char[]> buffer_;
  std::ostream stream_;
};

std::error_code access::write_unbuffered(atomic_file& file, std::string_view data) {
  if (auto ec = file.open_impl()) return ec;
  return file.write_impl(data.data(), data.size());
}

}  // namespace detail

namespace {

std::error_code closed_error() {
  return make_error(phase::prepare, EBADF);
}

[[noreturn]] void throw_error(const char* what, const std::filesystem::path& target,
                              const std::filesystem::path& temp, std::error_code ec) {
  if (temp.empty()) throw std::filesystem::filesystem_error(what, target, ec);
  throw std::filesystem::filesystem_error(what, target, temp, ec);
}

}  // namespace

atomic_file::atomic_file(std::filesystem::path target, write_options options)
    : target_(std::move(target)), options_(std::move(options)) {}

atomic_file::~atomic_file() {
  // Virtual calls from a destructor reach only this class's version: say so explicitly.
  if (state_ == state::open) (void)atomic_file::do_rollback();
}

std::error_code atomic_file::do_open() {
  return detail::open_temp(*staged_, target_, options_);
}

std::error_code atomic_file::do_flush() {
  return detail::flush_data(*staged_, options_.durability);
}

std::error_code atomic_file::do_publish() {
  return detail::publish(*staged_, options_);
}

std::error_code atomic_file::do_rollback() noexcept {
  return staged_ ? detail::discard(*staged_) : std::error_code{};
}

void atomic_file::fail() noexcept {
  // The rollback's own error is dropped on purpose: the caller needs the error that made
  // us roll back, not a consequence of it.
  if (state_ == state::open) (void)do_rollback();
  state_ = state::failed;
}

std::error_code atomic_file::open_impl() {
  if (state_ == state::open) return {};
  if (state_ != state::closed) return sticky_error_ ? sticky_error_ : closed_error();
  staged_ = std::make_unique<detail::staged_file>();
  state_ = state::open;
  if (std::error_code ec = do_open()) {
    sticky_error_ = ec;
    fail();
    return ec;
  }
  return {};
}

std::error_code atomic_file::write_impl(const char* data, std::size_t size) {
  if (state_ != state::open) return sticky_error_ ? sticky_error_ : closed_error();
  if (sticky_error_) return sticky_error_;
  std::error_code ec = detail::write_all(*staged_, data, size);
  if (ec) sticky_error_ = ec;  // the file now has a hole: nothing may be published
  return ec;
}

std::error_code atomic_file::commit_impl() {
  if (auto ec = open_impl()) return ec;
  if (sticky_error_) {
    fail();
    return sticky_error_;
  }
  if (stream_) {
    if (auto ec = stream_->drain()) {
      fail();
      return ec;
    }
  }
  if (auto ec = detail::apply_metadata(*staged_, options_)) {
    fail();
    return ec;
  }
  if (auto ec = do_flush()) {
    fail();  // never publish a file whose flush failed
    return ec;
  }
  if (auto ec = do_publish()) {
    if (was_published(ec)) {
      state_ = state::committed;  // the target has the new content; nothing to roll back
    } else {
      fail();
    }
    return ec;
  }
  state_ = state::committed;
  return {};
}

void atomic_file::open() {
  if (auto ec = open_impl()) throw_error("atomicwrites: cannot open", target_, {}, ec);
}

void atomic_file::open(std::error_code& ec) noexcept {
  ec = open_impl();
}

void atomic_file::write(std::string_view data) {
  std::error_code ec;
  write(data, ec);
  if (ec) throw_error("atomicwrites: cannot write", target_, temp_path(), ec);
}

void atomic_file::write(std::string_view data, std::error_code& ec) noexcept {
  ec = open_impl();
  if (!ec) ec = sticky_error_;  // once a write failed, the file has a hole: refuse more
  if (ec) return;
  if (!stream_) {
    try {
      stream_ = std::make_unique<detail::output_stream>(*this);
    } catch (const std::bad_alloc&) {
      ec = make_error(phase::write, ENOMEM);
      return;
    }
  }
  ec = stream_->append(data.data(), data.size());
}

std::ostream& atomic_file::stream() {
  open();
  if (!stream_) stream_ = std::make_unique<detail::output_stream>(*this);
  return stream_->stream();
}

void atomic_file::commit() {
  std::filesystem::path temp = temp_path();
  std::error_code ec;
  try {
    ec = commit_impl();
  } catch (...) {
    fail();
    throw;
  }
  if (ec) throw_error("atomicwrites: cannot commit", target_, temp, ec);
}

void atomic_file::commit(std::error_code& ec) noexcept {
  ec = commit_impl();
}

void atomic_file::discard() noexcept {
  if (state_ == state::open) (void)do_rollback();
  if (state_ != state::committed) state_ = state::discarded;
}

std::filesystem::path atomic_file::temp_path() const {
  return staged_ ? std::filesystem::path(staged_->temp_path) : std::filesystem::path{};
}

atomic_file::native_handle_type atomic_file::native_handle() const noexcept {
  return staged_ ? staged_->file : detail::invalid_handle;
}

}  // namespace atomicwrites
