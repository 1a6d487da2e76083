// Writes a small config file atomically and durably, then replaces it, and prints it.
#include <atomicwrites/atomicwrites.hpp>

#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  std::filesystem::path path = argc > 1 ? argv[1] : "hello.conf";
  atomicwrites::write_options options;
  options.overwrite = true;  // the default refuses to replace an existing file

  atomicwrites::write_file(path, "greeting = hello\n", options);
  atomicwrites::atomic_write(
      path,
      [](std::ostream& out) {
        out << "greeting = hello, atomically\n"
            << "durable = yes\n";
      },
      options);

  std::cout << std::ifstream(path).rdbuf();
}
