// Batches: many files staged, then flushed together, published one by one, and their
// directories flushed once each.
#include <atomicwrites/batch.hpp>

#include "backend.hpp"

#include <cerrno>
#include <map>
#include <memory>
#include <optional>

namespace atomicwrites {
namespace detail {

// The directories of the staged files, each opened before the first of its files got any
// data: Linux (5.8 and later) samples a filesystem's writeback-error state when a file is
// opened, so a syncfs through the first handle of a filesystem reports every writeback
// error there since, also one of background writeback between add() and commit().
struct directory_handles {
  std::map<staged_file::string_type, std::size_t> index;  // directory -> position in `opened`
  std::vector<native_handle> opened;                      // in the order they were opened

  directory_handles() = default;
  directory_handles(const directory_handles&) = delete;
  directory_handles& operator=(const directory_handles&) = delete;
  ~directory_handles() { close_all(); }

  std::error_code find_or_open(const staged_file::string_type& directory, std::size_t& out) {
    auto [it, inserted] = index.try_emplace(directory, opened.size());
    if (inserted) {
      native_handle handle = invalid_handle;
      if (auto ec = open_directory_handle(directory, handle)) {
        index.erase(it);
        return ec;
      }
      opened.push_back(handle);
    }
    out = it->second;
    return {};
  }

  void close_all() noexcept {
    for (native_handle& handle : opened) close_handle(handle);
    opened.clear();
    index.clear();
  }
};

struct batch_state {
  write_options options;
  batch_flush flush;
  std::vector<std::unique_ptr<staged_file>> staged;
  std::vector<std::filesystem::path> targets;  // as the caller named them
  std::vector<std::size_t> directory_of_file;  // each staged file's entry in `directories`
  directory_handles directories;
  std::vector<batch_result> results;
  std::optional<std::uint32_t> default_mode;  // read once: the umask costs 3 calls on Linux

  void discard_all() noexcept {
    for (auto& file : staged) (void)remove_temp(*file);
    staged.clear();
    targets.clear();
    directory_of_file.clear();
    directories.close_all();
  }
};

}  // namespace detail

namespace {

namespace fs = std::filesystem;

}  // namespace

batch::batch(write_options options, batch_flush flush)
    : state_(std::make_unique<detail::batch_state>()) {
  state_->options = std::move(options);
  state_->flush = flush;
}

batch::~batch() {
  if (state_) state_->discard_all();
}

batch::batch(batch&&) noexcept = default;

batch& batch::operator=(batch&& other) noexcept {
  if (this != &other) {
    if (state_) state_->discard_all();
    state_ = std::move(other.state_);
  }
  return *this;
}

std::size_t batch::size() const noexcept {
  return state_ ? state_->staged.size() : 0;
}

const std::vector<batch_result>& batch::results() const noexcept {
  static const std::vector<batch_result> none;
  return state_ ? state_->results : none;
}

void batch::add(const fs::path& target, std::string_view data, std::error_code& ec) noexcept {
  ec.clear();
  if (!state_) {
    ec = make_error(phase::prepare, EINVAL);
    return;
  }
  // The temporary file must live beside its target: it is published by name later.
  if (!state_->options.temp_dir.empty()) {
    ec = make_error(phase::prepare, EINVAL);
    return;
  }
  try {
    auto staged = std::make_unique<detail::staged_file>();
    ec = detail::open_temp(*staged, target, state_->options, detail::temp_kind::named);
    std::size_t directory = 0;
    if (!ec) ec = state_->directories.find_or_open(detail::directory_of(*staged), directory);
    if (!ec) ec = detail::write_all(*staged, data.data(), data.size());
    if (!ec) {
      write_options options = state_->options;
      if (!options.mode && !(options.preserve && staged->existing.regular)) {
        if (!state_->default_mode) state_->default_mode = detail::default_file_mode();
        options.mode = static_cast<fs::perms>(*state_->default_mode);
      }
      ec = detail::apply_metadata(*staged, options);
    }
    detail::release_handles(*staged, ec);  // keep only the name: any batch size, few fds
    if (ec) {
      (void)detail::remove_temp(*staged);
      return;
    }
    state_->targets.push_back(target);
    state_->directory_of_file.push_back(directory);
    state_->staged.push_back(std::move(staged));
  } catch (const std::bad_alloc&) {
    ec = make_error(phase::prepare, ENOMEM);
  }
}

void batch::add(const fs::path& target, std::string_view data) {
  std::error_code ec;
  add(target, data, ec);
  if (ec) throw fs::filesystem_error("atomicwrites: cannot stage", target, ec);
}

void batch::commit(std::error_code& ec) noexcept {
  ec.clear();
  if (!state_) {
    ec = make_error(phase::prepare, EINVAL);
    return;
  }
  detail::batch_state& s = *state_;
  try {
    s.results.clear();
    const std::vector<detail::native_handle>& handles = s.directories.opened;
    // 1. The data of every file, before any is published: a flush failure publishes nothing.
    if (s.options.durability != durability::none) {
      std::vector<const detail::staged_file*> files;
      for (auto& file : s.staged) files.push_back(file.get());
      ec = detail::flush_files(files, handles, s.flush);
    }
    if (ec) {
      for (const auto& target : s.targets) s.results.push_back({target, ec, false});
      s.discard_all();
      return;
    }
    // 2. Publish each; a file that fails (say, it exists and overwrite is off) does not stop
    //    the others.
    write_options publish_options = s.options;
    publish_options.durability = durability::consistent;  // directories flushed below, once
    std::map<detail::native_handle, std::vector<std::size_t>> published_in;
    for (std::size_t i = 0; i < s.staged.size(); ++i) {
      detail::native_handle directory = handles[s.directory_of_file[i]];
      std::error_code file_error =
          detail::publish_through(*s.staged[i], directory, publish_options);
      bool published = !file_error || was_published(file_error);
      if (!published) (void)detail::remove_temp(*s.staged[i]);
      if (published) published_in[directory].push_back(i);
      s.results.push_back({s.targets[i], file_error, published});
      if (file_error && !ec) ec = file_error;
    }
    // 3. Each directory once: the new names become durable together.
    if (s.options.durability == durability::durable) {
      for (auto& [handle, indexes] : published_in) {
        std::error_code flush_error = detail::flush_directory(handle);
        if (!flush_error) continue;
        for (std::size_t i : indexes)
          if (!s.results[i].error) s.results[i].error = flush_error;
        if (!ec) ec = flush_error;
      }
    }
    s.staged.clear();
    s.targets.clear();
    s.directory_of_file.clear();
    s.directories.close_all();
  } catch (const std::bad_alloc&) {
    ec = make_error(phase::publish, ENOMEM);
  }
}

void batch::commit() {
  std::error_code ec;
  commit(ec);
  if (ec) {
    fs::path first;
    for (const auto& r : results())
      if (r.error) {
        first = r.target;
        break;
      }
    throw fs::filesystem_error("atomicwrites: batch commit failed", first, ec);
  }
}

void batch::discard() noexcept {
  if (state_) state_->discard_all();
}

}  // namespace atomicwrites
