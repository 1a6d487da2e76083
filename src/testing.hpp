// Test-only access to the system-call seam (not installed). Tests link the static library
// and install a hook that sees every system call of the backend before it is made.
#ifndef ATOMICWRITES_SRC_TESTING_HPP
#define ATOMICWRITES_SRC_TESTING_HPP

#include <cstddef>

#ifndef _WIN32
#include "posix/sys.hpp"
#endif

namespace atomicwrites::detail::testing {

#ifndef _WIN32
using sys::call;
#endif

// What the hook wants done with one call.
struct injection {
  int error = 0;              // nonzero: the call fails with this errno instead of running
  std::size_t max_bytes = 0;  // write only, nonzero: write at most this much (a short write)
};

#ifndef _WIN32
using syscall_hook = injection (*)(call which, void* context);

// Installs `hook` (nullptr removes it). Not thread-safe against running writes: install it
// before a test's writes start.
void set_syscall_hook(syscall_hook hook, void* context) noexcept;

// Forgets what the backend learnt about this system from earlier calls (which way of naming
// an O_TMPFILE file works), so that a test starts as a new process would.
void forget_learned_fallbacks() noexcept;
#endif

#ifdef _WIN32
// Which rename the last publish on this thread used: "FileRenameInfoEx", "FileRenameInfo"
// or "MoveFileExW" (Wine has no FileRenameInfoEx; tests print what ran).
const char* last_publish_mechanism() noexcept;
#endif

}  // namespace atomicwrites::detail::testing

#endif  // ATOMICWRITES_SRC_TESTING_HPP
