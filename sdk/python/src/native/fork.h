// Fork safety: the fork generation every owner of a runtime handle records.
#pragma once

#include <cstdint>

namespace litert_sdk {

// ---- fork safety -------------------------------------------------------------------------------------------
// The runtime's objects own worker threads (XNNPACK's thread pool) and mutexes that a child of fork() inherits
// without the threads: destroying or running them there crashes or hangs. Every owner of a runtime handle records
// the fork generation it was created in; in a child (a later generation) it never touches the handle again: uses
// raise ClosedError and destruction forgets the handle (the child's copy of the memory is released at exit).
// The generation is bumped by a pthread_atfork child handler (no fork on Windows: always 0).
uint64_t fork_generation();
inline bool forked_since(uint64_t generation) { return fork_generation() != generation; }

}  // namespace litert_sdk
