// A helper program the tests run as a separate process: under strace (to see the real system
// calls), to measure peak memory, and as a concurrent writer.
//
//   aw_probe write PATH [--overwrite] [--durability LEVEL] [--content TEXT]
//   aw_probe stream PATH BYTES [--durability LEVEL]   prints peak_rss_kib=N
//   aw_probe batch PATH... [--overwrite] [--durability LEVEL] [--flush STRATEGY]
//                [--content TEXT]                     every PATH gets TEXT, one batch commit
#include <atomicwrites/atomicwrites.hpp>
#include <atomicwrites/batch.hpp>

#include <sys/resource.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace aw = atomicwrites;

namespace {

aw::durability parse_level(const std::string& text) {
  if (text == "none") return aw::durability::none;
  if (text == "consistent") return aw::durability::consistent;
  if (text == "durable") return aw::durability::durable;
  std::cerr << "aw_probe: bad durability " << text << '\n';
  std::exit(2);
}

aw::batch_flush parse_flush(const std::string& text) {
  if (text == "automatic") return aw::batch_flush::automatic;
  if (text == "per_file") return aw::batch_flush::per_file;
  if (text == "concurrent") return aw::batch_flush::concurrent;
  if (text == "filesystem") return aw::batch_flush::filesystem;
  std::cerr << "aw_probe: bad flush strategy " << text << '\n';
  std::exit(2);
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2) {
    std::cerr << "usage: aw_probe write|stream|batch PATH ...\n";
    return 2;
  }
  const std::string& command = args[0];
  const std::string& path = args[1];
  aw::write_options options;
  std::string content = "probe\n";
  unsigned long long bytes = 0;
  aw::batch_flush flush = aw::batch_flush::automatic;
  std::vector<std::string> more_paths;
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--overwrite") {
      options.overwrite = true;
    } else if (args[i] == "--durability" && i + 1 < args.size()) {
      options.durability = parse_level(args[++i]);
    } else if (args[i] == "--content" && i + 1 < args.size()) {
      content = args[++i];
    } else if (args[i] == "--flush" && i + 1 < args.size()) {
      flush = parse_flush(args[++i]);
    } else if (command == "batch" && args[i].rfind("--", 0) != 0) {
      more_paths.push_back(args[i]);
    } else if (command == "stream" && bytes == 0) {
      bytes = std::strtoull(args[i].c_str(), nullptr, 10);
    } else {
      std::cerr << "aw_probe: unexpected argument " << args[i] << '\n';
      return 2;
    }
  }
  try {
    if (command == "write") {
      aw::write_file(path, content, options);
    } else if (command == "stream") {
      aw::atomic_file file(path, options);
      std::string chunk(1 << 20, 'a');
      for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>('a' + i % 26);
      std::ostream& out = file.stream();
      for (unsigned long long left = bytes; left > 0;) {
        std::size_t n = left < chunk.size() ? static_cast<std::size_t>(left) : chunk.size();
        // Mix buffered small writes with large ones, as real producers do.
        out.write(chunk.data(), 100);
        out.write(chunk.data() + 100, static_cast<std::streamsize>(n - 100));
        left -= n;
      }
      file.commit();
      std::cout << "peak_rss_kib=" << peak_rss_kib() << '\n';
    } else if (command == "batch") {
      aw::batch batch(options, flush);
      batch.add(path, content);
      for (const auto& more : more_paths) batch.add(more, content);
      batch.commit();
    } else {
      std::cerr << "aw_probe: unknown command " << command << '\n';
      return 2;
    }
  } catch (const std::exception& e) {
    std::cerr << "aw_probe: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
