#include <atomicwrites/atomicwrites.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  atomicwrites::write_options options;
  options.overwrite = true;
  atomicwrites::write_file(argv[1], "consumed " ATOMICWRITES_VERSION_STRING "\n", options);
  std::ifstream in(argv[1]);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::cout << content;
  return content == "consumed " ATOMICWRITES_VERSION_STRING "\n" ? 0 : 1;
}
