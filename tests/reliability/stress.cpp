// Suite 6: concurrency stress. P processes, each with W writer and R reader threads, on K
// targets in one directory, for S seconds. Every version carries a checksum of itself; a
// reader that sees anything but a whole version counts a violation. Writers also race to
// create one new file per round without overwrite: each round must have exactly one winner
// across all processes.
//
//   aw_stress DIR [--seconds S] [--processes P] [--writers W] [--readers R] [--targets K]
// Prints a summary; exits 1 on any violation.
#include <atomicwrites/atomicwrites.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
namespace aw = atomicwrites;

namespace {

struct settings {
  fs::path dir;
  double seconds = 10;
  int processes = 3, writers = 2, readers = 2, targets = 8;
};

std::uint64_t fnv1a(const std::string& data) {
  std::uint64_t hash = 1469598103934665603ull;
  for (char c : data) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return hash;
}

// "checksum length\n" + body.
std::string make_version(std::mt19937_64& rng) {
  std::string body(1 + rng() % 50000, '\0');
  for (char& c : body) c = static_cast<char>('a' + rng() % 26);
  return std::to_string(fnv1a(body)) + " " + std::to_string(body.size()) + "\n" + body;
}

bool whole(const std::string& content) {
  std::size_t newline = content.find('\n');
  if (newline == std::string::npos) return false;
  unsigned long long checksum = 0, length = 0;
  if (std::sscanf(content.c_str(), "%llu %llu", &checksum, &length) != 2) return false;
  std::string body = content.substr(newline + 1);
  return body.size() == length && fnv1a(body) == checksum;
}

struct counters {
  std::atomic<long> writes{0}, reads{0}, torn{0}, errors{0}, races{0}, wins{0};
};

// One process's work; returns its counters as a line for the parent.
std::string run_process(const settings& s, int process) {
  counters c;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(s.seconds);
  std::vector<std::thread> threads;
  std::ostringstream wins;
  std::mutex wins_mutex;
  for (int w = 0; w < s.writers; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(process * 1000 + w));
      aw::write_options replace;
      replace.overwrite = true;
      replace.durability = (rng() % 4 == 0) ? aw::durability::durable : aw::durability::none;
      for (long round = 0; std::chrono::steady_clock::now() < deadline; ++round) {
        fs::path target =
            s.dir / ("target-" + std::to_string(rng() % static_cast<unsigned>(s.targets)));
        std::error_code ec;
        aw::write_file(target, make_version(rng), replace, ec);
        ec ? ++c.errors : ++c.writes;
        if (round % 8 == 0) {  // everyone races for the same name in this round
          ++c.races;
          aw::write_file(s.dir / ("race-" + std::to_string(round / 8)), make_version(rng), ec);
          if (!ec) {
            ++c.wins;
            std::lock_guard<std::mutex> lock(wins_mutex);
            wins << " race-" << round / 8;
          } else if (ec != std::errc::file_exists) {
            ++c.errors;
          }
        }
      }
    });
  }
  for (int r = 0; r < s.readers; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(process * 1000 + 500 + r));
      while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(
            s.dir / ("target-" + std::to_string(rng() % static_cast<unsigned>(s.targets))),
            std::ios::binary);
        if (!in) continue;  // not written yet
        std::ostringstream content;
        content << in.rdbuf();
        ++c.reads;
        if (!whole(content.str())) ++c.torn;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::ostringstream line;
  line << c.writes << ' ' << c.reads << ' ' << c.torn << ' ' << c.errors << ' ' << c.races << ' '
       << c.wins << wins.str();
  return line.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: aw_stress DIR [--seconds S] [--processes P] [--writers W] "
                 "[--readers R] [--targets K]\n");
    return 2;
  }
  settings s;
  s.dir = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string name = argv[i];
    double value = std::atof(argv[i + 1]);
    if (name == "--seconds")
      s.seconds = value;
    else if (name == "--processes")
      s.processes = static_cast<int>(value);
    else if (name == "--writers")
      s.writers = static_cast<int>(value);
    else if (name == "--readers")
      s.readers = static_cast<int>(value);
    else if (name == "--targets")
      s.targets = static_cast<int>(value);
  }
  {
    // Positive control: the check must reject a torn or altered version.
    std::mt19937_64 rng(7);
    std::string version = make_version(rng);
    std::string altered = version;
    altered.back() = altered.back() == 'a' ? 'b' : 'a';
    if (!whole(version) || whole(version.substr(0, version.size() / 2)) || whole(altered) ||
        whole("")) {
      std::printf("stress: VIOLATIONS (the version check itself is broken)\n");
      return 1;
    }
  }
  fs::create_directories(s.dir);
  std::vector<std::pair<pid_t, fs::path>> children;
  for (int p = 0; p < s.processes; ++p) {
    fs::path report = s.dir / ("report-" + std::to_string(p));
    pid_t child = fork();
    if (child == 0) {
      std::ofstream(report) << run_process(s, p) << '\n';
      _exit(0);
    }
    children.push_back({child, report});
  }
  long writes = 0, reads = 0, torn = 0, errors = 0, races = 0, wins = 0;
  std::map<std::string, int> winners;
  bool crashed = false;
  for (auto& [pid, report] : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    crashed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    std::ifstream in(report);
    long w, r, t, e, ra, wi;
    in >> w >> r >> t >> e >> ra >> wi;
    writes += w, reads += r, torn += t, errors += e, races += ra, wins += wi;
    for (std::string name; in >> name;) ++winners[name];
    fs::remove(report);
  }
  // Every race file that exists had exactly one winner; every winner's file exists.
  long race_files = 0, bad_races = 0;
  for (const auto& entry : fs::directory_iterator(s.dir)) {
    std::string name = entry.path().filename();
    if (name.rfind("race-", 0) == 0) {
      ++race_files;
      if (winners[name] != 1) ++bad_races;
    }
    if (aw::is_temp_file_name(entry.path().filename())) ++bad_races;  // nothing left behind
  }
  for (const auto& [name, count] : winners)
    if (count != 1 || !fs::exists(s.dir / name)) ++bad_races;
  std::printf(
      "stress: %d processes x (%d writers + %d readers), %d targets, %.0f s: %ld writes, "
      "%ld reads, %ld torn reads, %ld errors, %ld race files with %ld wins, "
      "%ld race violations\n",
      s.processes, s.writers, s.readers, s.targets, s.seconds, writes, reads, torn, errors,
      race_files, wins, bad_races);
  bool ok = !crashed && torn == 0 && errors == 0 && bad_races == 0 && writes > 0 && reads > 0 &&
            race_files > 0;
  std::printf("%s\n", ok ? "stress: 0 violations" : "stress: VIOLATIONS");
  return ok ? 0 : 1;
}
