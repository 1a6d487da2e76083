// The example in README.md, built and run as a test so its output stays true.
#include <atomicwrites/atomicwrites.hpp>

#include <fstream>
#include <iostream>

int main() {
  namespace aw = atomicwrites;
  aw::write_file("settings.json", R"({"theme": "dark"})");  // new file; durable by default

  std::error_code ec;
  aw::write_file("settings.json", "{}", ec);  // overwrite is off by default
  std::cout << ec.message() << '\n';

  aw::write_options options;
  options.overwrite = true;
  aw::atomic_write("settings.json", [](std::ostream& out) { out << R"({"theme": "light"})"; },
                   options);
  std::cout << std::ifstream("settings.json").rdbuf() << '\n';
}
