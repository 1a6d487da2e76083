// Several writers (threads and processes) on one target while readers loop: every read is
// one complete version; without overwrite exactly one writer wins.
#include "support.hpp"

#include <atomic>
#ifdef _WIN32
#include <windows.h>
#endif
#include <cerrno>
#include <thread>
#ifndef _WIN32
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

using support::overwriting;
using support::read_file;
using support::scratch_dir;

namespace {

// A version: a header naming writer, sequence and length, then bytes derived from them,
// so a reader can tell a complete version from a torn or mixed one.
std::string make_version(int writer, int sequence) {
  std::size_t length = 1 + static_cast<std::size_t>((writer * 7919 + sequence * 104729) % 70000);
  std::string header = "v " + std::to_string(writer) + " " + std::to_string(sequence) + " " +
                       std::to_string(length) + "\n";
  std::string body(length, '\0');
  for (std::size_t i = 0; i < length; ++i)
    body[i] = static_cast<char>(
        'a' + (i * static_cast<std::size_t>(writer + 3) + static_cast<std::size_t>(sequence)) % 26);
  return header + body;
}

bool is_complete_version(const std::string& content) {
  int writer = 0, sequence = 0;
  std::size_t length = 0;
  if (std::sscanf(content.c_str(), "v %d %d %zu\n", &writer, &sequence, &length) != 3) return false;
  return content == make_version(writer, sequence);
}

// Reads the whole file. On Windows as a cooperating reader does, with FILE_SHARE_DELETE.
std::string read_shared(const fs::path& path) {
#ifdef _WIN32
  HANDLE file = ::CreateFileW(path.c_str(), GENERIC_READ,
                              FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                              OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) throw std::runtime_error("cannot open");
  std::string content;
  char buffer[65536];
  DWORD got = 0;
  while (::ReadFile(file, buffer, sizeof buffer, &got, nullptr) && got > 0)
    content.append(buffer, got);
  ::CloseHandle(file);
  return content;
#else
  return read_file(path);
#endif
}

// Reads `path` in a loop until `stop`; counts reads and bad versions. The target may not
// exist yet at the start.
struct reader {
  std::atomic<long> reads{0};
  std::atomic<long> bad{0};
  void run(const fs::path& path, const std::atomic<bool>& stop) {
    while (!stop.load()) {
      std::string content;
      try {
        content = read_shared(path);
      } catch (const std::exception&) {
        continue;  // not created yet
      }
      ++reads;
      if (!is_complete_version(content)) ++bad;
#ifdef _WIN32
      // Without POSIX-semantics renames (Wine has none), an open reader blocks the replace:
      // leave the writers' retries a gap, as real readers do between reads.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
#endif
    }
  }
};

void writer_loop(const fs::path& path, int writer, int count, aw::durability level) {
  for (int i = 0; i < count; ++i) aw::write_file(path, make_version(writer, i), overwriting(level));
}

}  // namespace

TEST(Concurrency, VersionCheckCatchesATornFile) {
  // Positive control for the reader's check.
  std::string version = make_version(2, 5);
  EXPECT_TRUE(is_complete_version(version));
  EXPECT_FALSE(is_complete_version(version.substr(0, version.size() / 2)));
  EXPECT_FALSE(is_complete_version(""));
  std::string mixed = version;
  mixed.back() = mixed.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(is_complete_version(mixed));
}

TEST(Concurrency, ThreadsWritingOneTargetWhileReadersLoop) {
  for (auto level : {aw::durability::none, aw::durability::durable}) {
    scratch_dir dir;
    fs::path target = dir / "shared";
    std::atomic<bool> stop{false};
    reader check;
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) readers.emplace_back([&] { check.run(target, stop); });
    int per_writer = level == aw::durability::none ? 300 : 25;
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w)
      writers.emplace_back([&, w] { writer_loop(target, w, per_writer, level); });
    for (auto& t : writers) t.join();
    stop = true;
    for (auto& t : readers) t.join();
    EXPECT_GT(check.reads.load(), 0);
    EXPECT_EQ(check.bad.load(), 0);
    EXPECT_TRUE(is_complete_version(read_file(target)));
    EXPECT_EQ(support::list_dir(dir.path()), std::vector<std::string>{"shared"});
  }
}

#ifndef _WIN32  // POSIX-only: fork, waitpid, _exit
TEST(Concurrency, ProcessesWritingOneTargetWhileReadersLoop) {
  scratch_dir dir;
  fs::path target = dir / "shared";
  std::vector<pid_t> children;
  for (int w = 0; w < 3; ++w) {
    pid_t child = ::fork();
    if (child == 0) {
      try {
        writer_loop(target, 10 + w, 200, aw::durability::none);
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    children.push_back(child);
  }
  std::atomic<bool> stop{false};
  reader check;
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) readers.emplace_back([&] { check.run(target, stop); });
  for (pid_t child : children) {
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(check.reads.load(), 0);
  EXPECT_EQ(check.bad.load(), 0);
  EXPECT_EQ(support::list_dir(dir.path()), std::vector<std::string>{"shared"});
}
#endif

TEST(Concurrency, NoOverwriteRaceBetweenThreadsHasExactlyOneWinner) {
  for (int round = 0; round < 30; ++round) {
    scratch_dir dir;
    fs::path target = dir / "once";
    constexpr int writers = 8;
    std::atomic<int> ready{0};
    std::atomic<int> wins{0}, exists{0}, other{0}, winner{-1};
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        ++ready;
        while (ready.load() < writers) std::this_thread::yield();  // start together
        std::error_code ec;
        aw::write_file(target, make_version(w, round), ec);
        if (!ec) {
          ++wins;
          winner = w;
        } else if (ec == std::errc::file_exists) {
          ++exists;
        } else {
          ++other;
        }
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(wins.load(), 1) << "round " << round;
    EXPECT_EQ(exists.load(), writers - 1);
    EXPECT_EQ(other.load(), 0);
    EXPECT_EQ(read_file(target), make_version(winner.load(), round));
    EXPECT_EQ(support::list_dir(dir.path()), std::vector<std::string>{"once"});
  }
}

#ifndef _WIN32  // POSIX-only: fork, ::pipe, waitpid, _exit, ::read(, ::close(
TEST(Concurrency, NoOverwriteRaceBetweenProcessesHasExactlyOneWinner) {
  for (int round = 0; round < 10; ++round) {
    scratch_dir dir;
    fs::path target = dir / "once";
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    std::vector<pid_t> children;
    for (int w = 0; w < 4; ++w) {
      pid_t child = ::fork();
      if (child == 0) {
        ::close(go[1]);
        char byte;
        (void)::read(go[0], &byte, 1);  // all start when the pipe closes
        std::error_code ec;
        aw::write_file(target, make_version(w, round), ec);
        ::_exit(!ec ? 0 : ec == std::errc::file_exists ? 17 : 1);
      }
      children.push_back(child);
    }
    ::close(go[0]);
    ::close(go[1]);
    int wins = 0, exists = 0;
    for (pid_t child : children) {
      int status = 0;
      ::waitpid(child, &status, 0);
      ASSERT_TRUE(WIFEXITED(status));
      wins += WEXITSTATUS(status) == 0;
      exists += WEXITSTATUS(status) == 17;
    }
    EXPECT_EQ(wins, 1);
    EXPECT_EQ(exists, 3);
    EXPECT_TRUE(is_complete_version(read_file(target)));
    EXPECT_EQ(support::list_dir(dir.path()), std::vector<std::string>{"once"});
  }
}
#endif
