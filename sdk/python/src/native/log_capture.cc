// Runtime log capture: stderr redirection during native calls, forwarded to Python logging.
#include "log_capture.h"

#include "errors.h"

#include <nanobind/stl/string.h>

#include <atomic>
#include <cstdio>

#if defined(_WIN32)
#include <fcntl.h>
#include <io.h>
#define LITERT_SDK_DUP _dup
#define LITERT_SDK_DUP2 _dup2
#define LITERT_SDK_CLOSE _close
#define LITERT_SDK_READ _read
#else
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#define LITERT_SDK_DUP dup
#define LITERT_SDK_DUP2 dup2
#define LITERT_SDK_CLOSE close
#define LITERT_SDK_READ read
#endif

namespace litert_sdk {

static std::mutex* g_capture_mutex = new std::mutex();  // replaced in a fork child (see below); never freed

#if !defined(_WIN32)
// A thread of the parent may have held the capture lock at the fork; it does not exist in the child to release it.
static void replace_capture_mutex_in_child() { g_capture_mutex = new std::mutex(); }
[[maybe_unused]] static const int g_atfork_registered =
    pthread_atfork(nullptr, nullptr, replace_capture_mutex_in_child);
#endif

static std::atomic<bool> g_quiet{true};

void set_quiet(bool q) { g_quiet.store(q); }
bool quiet() { return g_quiet.load(); }

StderrCapture::StderrCapture(bool force) {
  if (!force && !quiet()) return;
  lock_ = std::unique_lock<std::mutex>(*g_capture_mutex);
  std::fflush(stderr);
  FILE* tmp = std::tmpfile();
  if (!tmp) return;
  int tmp_fd = LITERT_SDK_DUP(fileno(tmp));
  std::fclose(tmp);
  if (tmp_fd < 0) return;
  saved_fd_ = LITERT_SDK_DUP(2);
  if (saved_fd_ < 0 || LITERT_SDK_DUP2(tmp_fd, 2) < 0) {
    if (saved_fd_ >= 0) LITERT_SDK_CLOSE(saved_fd_);
    LITERT_SDK_CLOSE(tmp_fd);
    saved_fd_ = -1;
    return;
  }
  read_fd_ = tmp_fd;
  active_ = true;
}

std::string StderrCapture::finish() {
  if (!active_) return text_;
  active_ = false;
  std::fflush(stderr);
  LITERT_SDK_DUP2(saved_fd_, 2);
  LITERT_SDK_CLOSE(saved_fd_);
#if defined(_WIN32)
  _lseek(read_fd_, 0, SEEK_SET);
#else
  lseek(read_fd_, 0, SEEK_SET);
#endif
  char buf[4096];
  for (;;) {
    auto n = LITERT_SDK_READ(read_fd_, buf, sizeof(buf));
    if (n <= 0) break;
    if (text_.size() < (1u << 20)) text_.append(buf, static_cast<size_t>(n));
  }
  LITERT_SDK_CLOSE(read_fd_);
  if (lock_.owns_lock()) lock_.unlock();
  return text_;
}

StderrCapture::~StderrCapture() { finish(); }

void forward_runtime_log(const std::string& text) {
  if (text.empty()) return;
  try {
    hook(Hook::kRuntimeOutput)(text);
  } catch (...) {
    PyErr_Clear();
  }
}

}  // namespace litert_sdk
