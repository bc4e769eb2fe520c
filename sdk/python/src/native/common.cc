// Error translation, dtype mapping, aligned storage and stderr capture.
#include "common.h"

#include <nanobind/stl/string.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <typeinfo>

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

ErrorKind kind_for_status(LiteRtStatus status) {
  switch (status) {
    case kLiteRtStatusErrorInvalidArgument:
    case kLiteRtStatusErrorMissingInputTensor:
    case kLiteRtStatusErrorIndexOOB: return ErrorKind::kInvalidArgument;
    case kLiteRtStatusErrorUnsupported:
    case kLiteRtStatusErrorUnsupportedRuntimeVersion:
    case kLiteRtStatusErrorUnsupportedCompilerVersion:
    case kLiteRtStatusErrorUnsupportedOpShapeInferer: return ErrorKind::kUnsupported;
    case kLiteRtStatusErrorNotFound: return ErrorKind::kNotFound;
    case kLiteRtStatusErrorFileIO:
    case kLiteRtStatusErrorInvalidFlatbuffer:
    case kLiteRtStatusErrorIncompatibleByteCodeVersion: return ErrorKind::kModel;
    case kLiteRtStatusErrorCompilation: return ErrorKind::kCompilation;
    default: return ErrorKind::kRuntime;
  }
}

static const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "InvalidArgument";
    case ErrorKind::kUnsupported: return "Unsupported";
    case ErrorKind::kNotFound: return "NotFound";
    case ErrorKind::kModel: return "Model";
    case ErrorKind::kCompilation: return "Compilation";
    case ErrorKind::kClosed: return "Closed";
    case ErrorKind::kCustomOp: return "CustomOp";
    case ErrorKind::kReentrant: return "Reentrant";
    case ErrorKind::kRuntime: break;
  }
  return "Runtime";
}

// ---- Python hooks --------------------------------------------------------------------------------------------
// The Python callables the core needs (the error factory, the runtime-output sink, the string-tensor codec), handed
// over by litert_sdk._runtime at import (`_install_hooks`): the core never imports litert_sdk modules itself. Held
// as strong references for the life of the process (released never: they must outlive every native object).
static PyObject* g_hooks[static_cast<int>(Hook::kCount)] = {};

nb::object hook(Hook h) {
  PyObject* f = g_hooks[static_cast<int>(h)];
  if (!f)
    throw std::runtime_error("litert_sdk._native is used without litert_sdk._runtime (its Python hooks are "
                             "not installed): import litert_sdk instead");
  return nb::borrow(f);
}

static void install_hooks(nb::object error_factory, nb::object runtime_output, nb::object strings_unpack,
                          nb::object is_packed_strings) {
  nb::object given[] = {error_factory, runtime_output, strings_unpack, is_packed_strings};
  for (int i = 0; i < static_cast<int>(Hook::kCount); ++i) {
    PyObject* old = g_hooks[i];
    g_hooks[i] = given[i].release().ptr();
    Py_XDECREF(old);
  }
}

// At interpreter exit (litert_sdk._runtime registers it with atexit): the hooks keep the package's modules, and
// through them this extension's functions, alive; released here, nanobind's leak check at teardown stays quiet.
static void clear_hooks() {
  for (PyObject*& f : g_hooks) {
    PyObject* old = f;
    f = nullptr;
    Py_XDECREF(old);
  }
}

static nb::object error_factory() { return hook(Hook::kErrorFactory); }

void register_error_translator(nb::module_& m) {
  m.def("_install_hooks", &install_hooks, nb::arg("error_factory"), nb::arg("runtime_output"),
        nb::arg("strings_unpack"), nb::arg("is_packed_strings"),
        "Called once by litert_sdk._runtime: the Python callables the native core reports through.");
  m.def("_clear_hooks", &clear_hooks, "Releases the hooks (at interpreter exit).");
  nb::register_exception_translator(
      [](const std::exception_ptr& p, void*) {
        if (!p) {  // libLiteRt's libstdc++ exception seen from a libc++abi (zig-built wheel): no exception_ptr
          nb::object factory = error_factory();
          nb::object exc = factory("Runtime", -1, std::string("the runtime raised a C++ exception"));
          PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
          return;
        }
        try {
          std::rethrow_exception(p);
        } catch (const Error& e) {
          // litert_sdk.errors._from_native(kind, status, message) -> exception instance
          nb::object factory = error_factory();
          nb::object exc = factory(kind_name(e.kind), e.status, e.message);
          PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
        } catch (const nb::python_error&) {
          throw;  // nanobind's own exceptions keep their meaning
        } catch (const nb::builtin_exception&) {
          throw;
        } catch (const std::bad_alloc&) {
          nb::object factory = error_factory();
          nb::object exc = factory("OutOfMemory", -1, "out of memory: a tensor or the runtime could not be allocated");
          PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
        } catch (const std::bad_cast&) {
          throw;  // nb::cast_error
        } catch (const std::exception& e) {
          // A C++ exception thrown inside the runtime (e.g. std::logic_error on a malformed graph) that crossed its
          // C API: report it as a typed runtime failure instead of a bare RuntimeError.
          nb::object factory = error_factory();
          nb::object exc = factory("Runtime", -1, std::string("the runtime raised a C++ exception: ") + e.what());
          PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
        }
      },
      nullptr);
}

// ---- element types ----------------------------------------------------------------------------------------
size_t element_size(LiteRtElementType type) {
  switch (type) {
    case kLiteRtElementTypeBool:
    case kLiteRtElementTypeInt8:
    case kLiteRtElementTypeUInt8: return 1;
    case kLiteRtElementTypeInt16:
    case kLiteRtElementTypeUInt16:
    case kLiteRtElementTypeFloat16: return 2;
    case kLiteRtElementTypeInt32:
    case kLiteRtElementTypeUInt32:
    case kLiteRtElementTypeFloat32: return 4;
    case kLiteRtElementTypeInt64:
    case kLiteRtElementTypeUInt64:
    case kLiteRtElementTypeFloat64:
    case kLiteRtElementTypeComplex64: return 8;
    case kLiteRtElementTypeComplex128: return 16;
    default: return 0;
  }
}

const char* element_type_name(LiteRtElementType type) {
  switch (type) {
    case kLiteRtElementTypeNone: return "none";
    case kLiteRtElementTypeFloat32: return "float32";
    case kLiteRtElementTypeInt32: return "int32";
    case kLiteRtElementTypeUInt8: return "uint8";
    case kLiteRtElementTypeInt64: return "int64";
    case kLiteRtElementTypeTfString: return "string";
    case kLiteRtElementTypeBool: return "bool";
    case kLiteRtElementTypeInt16: return "int16";
    case kLiteRtElementTypeComplex64: return "complex64";
    case kLiteRtElementTypeInt8: return "int8";
    case kLiteRtElementTypeFloat16: return "float16";
    case kLiteRtElementTypeFloat64: return "float64";
    case kLiteRtElementTypeComplex128: return "complex128";
    case kLiteRtElementTypeUInt64: return "uint64";
    case kLiteRtElementTypeTfResource: return "resource";
    case kLiteRtElementTypeTfVariant: return "variant";
    case kLiteRtElementTypeUInt32: return "uint32";
    case kLiteRtElementTypeUInt16: return "uint16";
    case kLiteRtElementTypeInt4: return "int4";
    case kLiteRtElementTypeBFloat16: return "bfloat16";
    case kLiteRtElementTypeInt2: return "int2";
  }
  return "unknown";
}

nb::dlpack::dtype element_dlpack_dtype(LiteRtElementType type) {
  using nb::dlpack::dtype_code;
  nb::dlpack::dtype dt{};
  dt.lanes = 1;
  dt.bits = static_cast<uint8_t>(element_size(type) * 8);
  switch (type) {
    case kLiteRtElementTypeFloat16:
    case kLiteRtElementTypeFloat32:
    case kLiteRtElementTypeFloat64: dt.code = (uint8_t)dtype_code::Float; break;
    case kLiteRtElementTypeInt8:
    case kLiteRtElementTypeInt16:
    case kLiteRtElementTypeInt32:
    case kLiteRtElementTypeInt64: dt.code = (uint8_t)dtype_code::Int; break;
    case kLiteRtElementTypeUInt8:
    case kLiteRtElementTypeUInt16:
    case kLiteRtElementTypeUInt32:
    case kLiteRtElementTypeUInt64: dt.code = (uint8_t)dtype_code::UInt; break;
    case kLiteRtElementTypeBool: dt.code = (uint8_t)dtype_code::Bool; break;
    case kLiteRtElementTypeComplex64:
    case kLiteRtElementTypeComplex128: dt.code = (uint8_t)dtype_code::Complex; break;
    default:
      raise(ErrorKind::kUnsupported,
            std::string("tensors of element type ") + element_type_name(type) + " cannot be exchanged as numpy arrays");
  }
  return dt;
}

bool dtype_matches(LiteRtElementType type, const nb::dlpack::dtype& dt) {
  if (element_size(type) == 0) return false;
  nb::dlpack::dtype want = element_dlpack_dtype(type);
  return want.code == dt.code && want.bits == dt.bits && dt.lanes == 1;
}

std::string dlpack_dtype_name(const nb::dlpack::dtype& dt) {
  using nb::dlpack::dtype_code;
  const char* base = "?";
  switch ((dtype_code)dt.code) {
    case dtype_code::Int: base = "int"; break;
    case dtype_code::UInt: base = "uint"; break;
    case dtype_code::Float: base = "float"; break;
    case dtype_code::Bool: return "bool";
    case dtype_code::Complex: base = "complex"; break;
    default: break;
  }
  return std::string(base) + std::to_string(dt.bits);
}

// ---- layouts -----------------------------------------------------------------------------------------------
std::vector<int64_t> layout_dims(const LiteRtLayout& layout) {
  std::vector<int64_t> dims;
  unsigned rank = layout.rank;
  if (rank > LITERT_SDK_TENSOR_MAX_RANK) rank = LITERT_SDK_TENSOR_MAX_RANK;
  dims.reserve(rank);
  for (unsigned i = 0; i < rank; ++i) dims.push_back(layout.dimensions[i]);
  return dims;
}

LiteRtLayout make_layout(const std::vector<int64_t>& dims) {
  if (dims.size() > LITERT_SDK_TENSOR_MAX_RANK)
    raise(ErrorKind::kInvalidArgument, "tensor rank " + std::to_string(dims.size()) +
                                           " exceeds the runtime's maximum of " +
                                           std::to_string(LITERT_SDK_TENSOR_MAX_RANK));
  LiteRtLayout layout;
  std::memset(&layout, 0, sizeof(layout));
  layout.rank = static_cast<unsigned>(dims.size());
  layout.has_strides = false;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0 || dims[i] > std::numeric_limits<int32_t>::max())
      raise(ErrorKind::kInvalidArgument,
            "invalid dimension " + std::to_string(dims[i]) + " in shape " + dims_to_string(dims));
    layout.dimensions[i] = static_cast<int32_t>(dims[i]);
  }
  return layout;
}

size_t layout_num_elements(const LiteRtLayout& layout, const char* what) {
  size_t n = 1;
  for (unsigned i = 0; i < layout.rank && i < LITERT_SDK_TENSOR_MAX_RANK; ++i) {
    int32_t d = layout.dimensions[i];
    if (d < 0)
      raise(ErrorKind::kInvalidArgument, std::string(what) + " has a dynamic shape " +
                                             dims_to_string(layout_dims(layout)) +
                                             "; resize it to a concrete shape first");
    if (d != 0 && n > std::numeric_limits<size_t>::max() / static_cast<size_t>(d))
      raise(ErrorKind::kInvalidArgument, std::string(what) + ": shape too large");
    n *= static_cast<size_t>(d);
  }
  return n;
}

std::string dims_to_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

// ---- aligned storage ------------------------------------------------------------------------------------
// Largest block worth trying: the memory available now (MemAvailable on Linux, else the physical memory). A bigger
// request would only succeed through overcommit and get the process killed once the block is zero-filled.
static size_t available_bytes() {
#if defined(__linux__)
  if (FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    unsigned long long kb = 0;
    while (std::fgets(line, sizeof(line), f))
      if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    std::fclose(f);
    if (kb) return static_cast<size_t>(kb) * 1024;
  }
#endif
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGE_SIZE)
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) return static_cast<size_t>(pages) * static_cast<size_t>(page);
#endif
  return std::numeric_limits<size_t>::max() / 2;
}

AlignedBlock::AlignedBlock(size_t bytes, bool zero) : size(bytes) {
  // (only large blocks are checked: reading the available memory costs a few microseconds)
  if (bytes >= (size_t{64} << 20) && bytes > available_bytes()) throw std::bad_alloc();
  size_t rounded = (bytes + LITERT_SDK_HOST_MEMORY_ALIGNMENT - 1) / LITERT_SDK_HOST_MEMORY_ALIGNMENT *
                   LITERT_SDK_HOST_MEMORY_ALIGNMENT;
  if (rounded == 0) rounded = LITERT_SDK_HOST_MEMORY_ALIGNMENT;
#if defined(_WIN32)
  data = _aligned_malloc(rounded, LITERT_SDK_HOST_MEMORY_ALIGNMENT);
#else
  data = std::aligned_alloc(LITERT_SDK_HOST_MEMORY_ALIGNMENT, rounded);
#endif
  if (!data) throw std::bad_alloc();
  if (zero) std::memset(data, 0, rounded);
}

AlignedBlock::~AlignedBlock() {
#if defined(_WIN32)
  _aligned_free(data);
#else
  std::free(data);
#endif
}

static nb::object make_array(void* data, nb::handle owner, LiteRtElementType type, const std::vector<int64_t>& dims,
                             bool readonly) {
  std::vector<size_t> shape(dims.begin(), dims.end());
  nb::dlpack::dtype dt = element_dlpack_dtype(type);
  if (readonly) {
    nb::ndarray<nb::numpy, nb::ro> arr(data, shape.size(), shape.data(), owner, nullptr, dt);
    return nb::cast(arr);
  }
  nb::ndarray<nb::numpy> arr(data, shape.size(), shape.data(), owner, nullptr, dt);
  return nb::cast(arr);
}

nb::object numpy_view(const BlockPtr& block, LiteRtElementType type, const std::vector<int64_t>& dims, bool readonly) {
  auto* holder = new BlockPtr(block);
  nb::capsule owner(holder, [](void* p) noexcept { delete static_cast<BlockPtr*>(p); });
  return make_array(block->data, owner, type, dims, readonly);
}

nb::object numpy_copy(const void* src, LiteRtElementType type, const std::vector<int64_t>& dims) {
  size_t n = 1;
  for (int64_t d : dims) n *= static_cast<size_t>(d);
  size_t bytes = n * element_size(type);
  auto block = std::make_shared<AlignedBlock>(bytes, /*zero=*/false);
  if (bytes) std::memcpy(block->data, src, bytes);
  return numpy_view(block, type, dims, false);
}

void copy_ndarray_to(const nb::ndarray<nb::ro>& array, void* dst, size_t bytes) {
  const size_t ndim = array.ndim();
  const size_t item = array.itemsize();
  const auto* src = static_cast<const uint8_t*>(array.data());
  // Contiguous fast path.
  bool contiguous = true;
  int64_t expect = 1;
  for (size_t i = ndim; i-- > 0;) {
    if (array.shape(i) != 1 && array.stride(i) != expect) {
      contiguous = false;
      break;
    }
    expect *= static_cast<int64_t>(array.shape(i));
  }
  if (contiguous) {
    if (bytes) std::memcpy(dst, src, bytes);
    return;
  }
  // Generic strided copy (strides are in elements).
  auto* out = static_cast<uint8_t*>(dst);
  std::vector<size_t> idx(ndim, 0);
  size_t total = bytes / (item ? item : 1);
  for (size_t k = 0; k < total; ++k) {
    int64_t off = 0;
    for (size_t d = 0; d < ndim; ++d) off += static_cast<int64_t>(idx[d]) * array.stride(d);
    std::memcpy(out + k * item, src + off * static_cast<int64_t>(item), item);
    for (size_t d = ndim; d-- > 0;) {
      if (++idx[d] < array.shape(d)) break;
      idx[d] = 0;
    }
  }
}

// ---- fork generation ------------------------------------------------------------------------------------
static std::atomic<uint64_t> g_fork_generation{0};
static std::mutex* g_capture_mutex = new std::mutex();  // replaced in a fork child (see below); never freed

#if !defined(_WIN32)
static void after_fork_in_child() {
  g_fork_generation.fetch_add(1);
  // A thread of the parent may have held the capture lock at the fork; it does not exist here to release it.
  g_capture_mutex = new std::mutex();
}
[[maybe_unused]] static const int g_atfork_registered = pthread_atfork(nullptr, nullptr, after_fork_in_child);
#endif

uint64_t fork_generation() { return g_fork_generation.load(std::memory_order_relaxed); }

// ---- stderr capture --------------------------------------------------------------------------------------
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

// ---- direct numpy array access ------------------------------------------------------------------------------
namespace {

// numpy's public struct layouts (ndarraytypes.h), declared here as the facts we rely on; checked at run time.
struct NpyArrayFields {
  PyObject ob_base;
  char* data;
  int nd;
  Py_ssize_t* dimensions;
  Py_ssize_t* strides;
  PyObject* base;
  PyObject* descr;
  int flags;
};
struct NpyDescrHead {
  PyObject ob_base;
  PyTypeObject* typeobj;
  char kind;
  char type;
  char byteorder;
  char former_flags;
  int type_num;
};
constexpr int kNpyCContiguous = 0x0001;
constexpr int kNpyWriteable = 0x0400;

std::atomic<int> g_numpy_state{0};  // 0 unknown, 1 usable, -1 not usable
std::atomic<PyObject*> g_ndarray_type{nullptr};

void fill(PyObject* obj, NumpyArrayInfo& info) {
  const auto* a = reinterpret_cast<const NpyArrayFields*>(obj);
  const auto* d = reinterpret_cast<const NpyDescrHead*>(a->descr);
  info.data = a->data;
  info.ndim = a->nd;
  info.shape = a->dimensions;
  info.type = d->type;
  info.native_order = d->byteorder == '=' || d->byteorder == '|' || d->byteorder == '<';
  info.c_contiguous = (a->flags & kNpyCContiguous) != 0;
  info.writable = (a->flags & kNpyWriteable) != 0;
}

// Compares the struct reads with numpy's Python-level answers on two probe arrays.
bool self_check() {
  try {
    nb::module_ np = nb::module_::import_("numpy");
    nb::object arr = np.attr("empty")(nb::make_tuple(2, 3), "float32");
    nb::object t = arr.attr("T");
    NumpyArrayInfo a, b;
    fill(arr.ptr(), a);
    fill(t.ptr(), b);
    const auto addr = nb::cast<uintptr_t>(arr.attr("__array_interface__")["data"][0]);
    const bool ok = reinterpret_cast<uintptr_t>(a.data) == addr && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 &&
                    a.type == 'f' && a.native_order && a.c_contiguous && a.writable && b.data == a.data &&
                    b.ndim == 2 && b.shape[0] == 3 && b.shape[1] == 2 && !b.c_contiguous && b.type == 'f';
    if (ok) {
      PyObject* type = reinterpret_cast<PyObject*>(Py_TYPE(arr.ptr()));
      Py_INCREF(type);  // kept for the life of the process
      g_ndarray_type.store(type);
    }
    return ok;
  } catch (...) {
    PyErr_Clear();
    return false;
  }
}

}  // namespace

static int numpy_state() {
  int state = g_numpy_state.load(std::memory_order_acquire);
  if (state == 0) {
    // Only once numpy is imported (never import it here: a caller passing lists must not pay for it).
    PyObject* modules = PySys_GetObject("modules");  // borrowed
    PyObject* key = PyUnicode_FromString("numpy");
    const int imported = modules && key ? PyMapping_HasKey(modules, key) : 0;
    Py_XDECREF(key);
    if (!imported) return 0;
    state = self_check() ? 1 : -1;
    g_numpy_state.store(state, std::memory_order_release);
  }
  return state;
}

bool numpy_direct_access() { return numpy_state() == 1; }

bool numpy_array_info(PyObject* obj, NumpyArrayInfo& info) {
  if (numpy_state() != 1 || reinterpret_cast<PyObject*>(Py_TYPE(obj)) != g_ndarray_type.load()) return false;
  fill(obj, info);
  return true;
}

}  // namespace litert_sdk
