// Streaming through atomic_file uses constant memory, whatever the size of the file.
#include "support.hpp"

#include <cstdio>
#include <memory>
#include <string>

namespace {

std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  std::string output;
  char buffer[256];
  while (pipe && std::fgets(buffer, sizeof buffer, pipe.get()) != nullptr) output += buffer;
  return output;
}

}  // namespace

TEST(Streaming, OneGibibyteThroughAtomicFileUsesConstantMemory) {
  support::scratch_dir dir;
  if (fs::space(dir.path()).available < (3ull << 30))
    GTEST_SKIP() << "needs 3 GiB free in " << dir.path();
  const unsigned long long size = 1ull << 30;
  std::string output = run(support::helper("aw_probe").string() + " stream '" +
                           (dir / "big").string() + "' " + std::to_string(size));
  auto at = output.find("peak_rss_kib=");
  ASSERT_NE(at, std::string::npos) << output;
  long peak_kib = std::stol(output.substr(at + 13));
  RecordProperty("peak_rss_kib", std::to_string(peak_kib));
  std::printf("peak RSS while streaming 1 GiB: %ld KiB\n", peak_kib);
  EXPECT_LT(peak_kib, 64 * 1024);  // a generous bound: the buffer is 64 KiB
  EXPECT_EQ(fs::file_size(dir / "big"), size);
  EXPECT_EQ(support::list_dir(dir.path()), std::vector<std::string>{"big"});
}
