// Fork generation: bumped in the child of fork() (see fork.h).
#include "fork.h"

#include <atomic>

#if !defined(_WIN32)
#include <pthread.h>
#endif

namespace litert_sdk {

static std::atomic<uint64_t> g_fork_generation{0};

#if !defined(_WIN32)
static void after_fork_in_child() { g_fork_generation.fetch_add(1); }
[[maybe_unused]] static const int g_atfork_registered = pthread_atfork(nullptr, nullptr, after_fork_in_child);
#endif

uint64_t fork_generation() { return g_fork_generation.load(std::memory_order_relaxed); }

}  // namespace litert_sdk
