// Shared helpers of the litert_sdk._native extension, one header per concern; this header includes them all (and
// the standard headers its includers rely on).
//   errors.h         ErrorKind, Error, check(), the Python hooks and the exception translator
//   fork.h           fork generation (fork safety of runtime handles)
//   element_types.h  element sizes, names, numpy (dlpack) dtypes
//   layouts.h        LiteRtLayout <-> dims
//   storage.h        aligned host storage, available_memory(), numpy views and copies
//   log_capture.h    quiet mode, StderrCapture, forwarding to Python logging
//   numpy_access.h   direct numpy array access for hot paths
#pragma once

#include <cstdio>  // nanobind headers use stderr (nanobind issue 1438)
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "litert_sdk/litert_c_abi.h"

#include "errors.h"
#include "fork.h"
#include "element_types.h"
#include "layouts.h"
#include "storage.h"
#include "log_capture.h"
#include "numpy_access.h"
