// What only Windows has: sharing violations from other processes (antivirus, indexers) and
// the retry budget, the read-only attribute as the mode, long and non-ASCII paths.
#include "support.hpp"

#include <windows.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

using support::list_dir;
using support::read_file;
using support::scratch_dir;

namespace {

bool under_wine() {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

// Holds `path` open without FILE_SHARE_DELETE (as a scanner does) for `duration`.
std::thread hold_open(const fs::path& path, std::chrono::milliseconds duration, bool& opened) {
  HANDLE handle = ::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, nullptr);
  opened = handle != INVALID_HANDLE_VALUE;
  return std::thread([handle, duration] {
    std::this_thread::sleep_for(duration);
    if (handle != INVALID_HANDLE_VALUE) ::CloseHandle(handle);
  });
}

aw::write_options overwriting(std::chrono::milliseconds budget = std::chrono::milliseconds(1000)) {
  aw::write_options options;
  options.overwrite = true;
  options.windows_retry_budget = budget;
  return options;
}

}  // namespace

TEST(Windows, ReportsWhichRenameRan) {
  scratch_dir dir;
  aw::write_file(dir / "f", "x", overwriting());
  std::printf("publish mechanism: %s%s\n", aw::detail::testing::last_publish_mechanism(),
              under_wine() ? " (Wine: FileRenameInfoEx is not implemented, the fallback ran)" : "");
  EXPECT_EQ(read_file(dir / "f"), "x");
}

TEST(Windows, TargetHeldBrieflyIsRetriedWithinTheBudget) {
  scratch_dir dir;
  support::write_plain(dir / "t", "old");
  bool opened = false;
  std::thread holder = hold_open(dir / "t", std::chrono::milliseconds(200), opened);
  ASSERT_TRUE(opened);
  auto start = std::chrono::steady_clock::now();
  std::error_code ec;
  aw::write_file(dir / "t", "new", overwriting(), ec);
  auto waited = std::chrono::steady_clock::now() - start;
  holder.join();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(read_file(dir / "t"), "new");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"t"});
  std::printf("waited %lld ms for the holder\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()));
}

TEST(Windows, TargetHeldPastTheBudgetFailsCleanly) {
  scratch_dir dir;
  support::write_plain(dir / "t", "old");
  bool opened = false;
  std::thread holder = hold_open(dir / "t", std::chrono::milliseconds(1500), opened);
  ASSERT_TRUE(opened);
  std::error_code ec;
  aw::write_file(dir / "t", "new", overwriting(std::chrono::milliseconds(100)), ec);
  holder.join();
  if (!ec && under_wine())
    GTEST_SKIP()
        << "Wine let the rename replace a file held without FILE_SHARE_DELETE (Windows refuses)";
  ASSERT_TRUE(ec);
  EXPECT_TRUE(ec == std::errc::permission_denied || ec == std::errc::device_or_resource_busy)
      << ec.message();
  EXPECT_EQ(aw::failed_phase(ec), aw::phase::publish);
  EXPECT_EQ(read_file(dir / "t"), "old");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"t"});
}

TEST(Windows, ModeWithoutOwnerWriteIsTheReadOnlyAttribute) {
  scratch_dir dir;
  aw::write_options options;
  options.mode = fs::perms(0444);
  aw::write_file(dir / "ro", "x", options);
  DWORD attributes = ::GetFileAttributesW((dir / "ro").c_str());
  EXPECT_TRUE(attributes & FILE_ATTRIBUTE_READONLY);
  options.mode = fs::perms(0644);
  aw::write_file(dir / "rw", "x", options);
  EXPECT_FALSE(::GetFileAttributesW((dir / "rw").c_str()) & FILE_ATTRIBUTE_READONLY);
  ::SetFileAttributesW((dir / "ro").c_str(), FILE_ATTRIBUTE_NORMAL);
}

TEST(Windows, ReplacingKeepsTheHiddenAttribute) {
  scratch_dir dir;
  support::write_plain(dir / "h", "old");
  ::SetFileAttributesW((dir / "h").c_str(), FILE_ATTRIBUTE_HIDDEN);
  aw::write_file(dir / "h", "new", overwriting());
  EXPECT_TRUE(::GetFileAttributesW((dir / "h").c_str()) & FILE_ATTRIBUTE_HIDDEN);
  EXPECT_EQ(read_file(dir / "h"), "new");
}

TEST(Windows, NonAsciiNames) {
  scratch_dir dir;
  fs::path name = fs::u8path(u8"\u00fcn\u00efc\u00f8d\u00e9-\u6587\u4ef6.txt");
  aw::write_file(dir / name, "unicode");
  EXPECT_EQ(read_file(dir / name), "unicode");
  EXPECT_EQ(list_dir(dir.path()).size(), 1u);
}

TEST(Windows, PathsLongerThanMaxPath) {
  scratch_dir dir;
  fs::path deep = dir.path();
  for (int i = 0; i < 6; ++i) deep /= std::string(50, static_cast<char>('a' + i));
  std::error_code ec;
  fs::create_directories(fs::path(L"\\\\?\\" + fs::absolute(deep).native()), ec);
  ASSERT_FALSE(ec) << ec.message();
  fs::path target = deep / "long.txt";
  ASSERT_GT(fs::absolute(target).native().size(), 260u);
  aw::write_file(target, "long", ec);
  ASSERT_FALSE(ec) << ec.message();
  aw::write_file(target, "longer", overwriting(), ec);
  ASSERT_FALSE(ec) << ec.message();
  std::ifstream in(fs::path(L"\\\\?\\" + fs::absolute(target).native()));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "longer");
}

TEST(Windows, NoOverwriteOnAnExistingFileIsFileExists) {
  scratch_dir dir;
  support::write_plain(dir / "t", "theirs");
  aw::atomic_file file(dir / "u");
  file.write("ours");
  fs::rename(dir / "t", dir / "u");  // appears after the early check: refused at publish
  std::error_code ec;
  file.commit(ec);
  EXPECT_EQ(ec, std::errc::file_exists);
  EXPECT_EQ(read_file(dir / "u"), "theirs");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"u"});
}
