// Runtime log capture: the runtime's direct stderr output, forwarded to the Python logger "litert_sdk.runtime".
#pragma once

#include <mutex>
#include <string>

namespace litert_sdk {

// ---- runtime log capture ------------------------------------------------------------------------------
// The runtime prints a few lines straight to stderr (e.g. TFLite's one-off XNNPACK INFO line) that its logger
// option cannot silence. While quiet mode is on, native calls that may print run under a StderrCapture, and the
// captured text is forwarded to the Python logger "litert_sdk.runtime".
void set_quiet(bool quiet);
bool quiet();

class StderrCapture {
 public:
  // A no-op unless quiet() is on or `force` is set (used to read the runtime's reason for a failed call).
  explicit StderrCapture(bool force = false);
  ~StderrCapture();
  // Stop capturing and return the captured text (idempotent).
  std::string finish();

 private:
  int saved_fd_ = -1;
  int read_fd_ = -1;
  bool active_ = false;
  std::string text_;
  std::unique_lock<std::mutex> lock_;
};

// Forward captured runtime output to Python logging (needs the GIL).
void forward_runtime_log(const std::string& text);

}  // namespace litert_sdk
