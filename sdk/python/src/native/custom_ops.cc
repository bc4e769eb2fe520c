// Binding: custom-op kernels (litert_sdk._native.CustomOpKernel, load_custom_op_library) and the trampolines that
// make the runtime's custom-op callbacks safe to use (see custom_ops.h).
#include "custom_ops.h"

#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>

#include "model.h"

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <dlfcn.h>
#endif

namespace litert_sdk {

static constexpr size_t kMaxRecordedErrors = 16;

// ---- session ---------------------------------------------------------------------------------------------
CustomOpSession::~CustomOpSession() {
  for (auto& inst : instances) {
    if (inst->created && inst->kernel->op->destroy_instance) inst->kernel->op->destroy_instance(inst->user_data);
  }
}

void CustomOpSession::record(const OpInstance& inst, const char* phase, LiteRtStatus status) {
  const LiteRtSdkCustomOp* op = inst.kernel->op;
  std::string msg = "custom op '" + inst.kernel->name + "'";
  if (inst.code != inst.kernel->name) msg += " (node code '" + inst.code + "')";
  msg += std::string(" ") + phase + " failed with " + litert_sdk_status_name(status);
  const char* detail = op->last_error ? op->last_error(inst.user_data) : nullptr;
  if (detail && *detail) msg += std::string(": ") + detail;
  msg += " [kernel from " + inst.kernel->origin + "]";
  std::lock_guard<std::mutex> lk(mu_);
  if (errors_.size() < kMaxRecordedErrors) errors_.push_back(std::move(msg));
  else ++dropped_;
}

bool CustomOpSession::has_errors() {
  std::lock_guard<std::mutex> lk(mu_);
  return !errors_.empty();
}

std::string CustomOpSession::take_errors() {
  std::lock_guard<std::mutex> lk(mu_);
  std::string out;
  for (const auto& e : errors_) out += (out.empty() ? "" : "; ") + e;
  if (dropped_) out += "; and " + std::to_string(dropped_) + " more failure(s)";
  errors_.clear();
  dropped_ = 0;
  return out;
}

void raise_custom_op_errors(const SessionPtr& session, const char* what, const std::string& runtime_detail) {
  if (!session || !session->has_errors()) return;
  std::string msg = std::string("custom-op kernel failed during ") + what + ": " + session->take_errors();
  if (!runtime_detail.empty()) msg += " (runtime: " + runtime_detail + ")";
  throw Error(ErrorKind::kCustomOp, -1, std::move(msg));
}

// ---- trampolines (what the runtime actually calls) --------------------------------------------------------
static LiteRtStatus tramp_init(void* user_data, const void* init_data, size_t init_data_size) {
  auto* inst = static_cast<OpInstance*>(user_data);
  LiteRtStatus st = inst->kernel->op->kernel.Init(inst->user_data, init_data, init_data_size);
  if (st != kLiteRtStatusOk) inst->session->record(*inst, "Init", st);
  return st;
}

static LiteRtStatus tramp_layouts(void* user_data, size_t num_inputs, const LiteRtLayout* input_layouts,
                                  size_t num_outputs, LiteRtLayout* output_layouts) {
  auto* inst = static_cast<OpInstance*>(user_data);
  // The runtime ignores the status and uses whatever is in output_layouts: keep what it passed in on failure.
  std::vector<LiteRtLayout> saved(output_layouts, output_layouts + num_outputs);
  LiteRtStatus st = inst->kernel->op->kernel.GetOutputLayouts(inst->user_data, num_inputs, input_layouts, num_outputs,
                                                              output_layouts);
  if (st != kLiteRtStatusOk) {
    inst->session->record(*inst, "GetOutputLayouts", st);
    std::copy(saved.begin(), saved.end(), output_layouts);
    for (size_t i = 0; i < num_outputs; ++i)
      if (output_layouts[i].rank > LITERT_SDK_TENSOR_MAX_RANK) output_layouts[i].rank = 0;
  }
  return st;
}

static LiteRtStatus tramp_run(void* user_data, size_t num_inputs, const LiteRtTensorBuffer* inputs, size_t num_outputs,
                              LiteRtTensorBuffer* outputs) {
  auto* inst = static_cast<OpInstance*>(user_data);
  LiteRtStatus st = inst->kernel->op->kernel.Run(inst->user_data, num_inputs, inputs, num_outputs, outputs);
  if (st != kLiteRtStatusOk) inst->session->record(*inst, "Run", st);
  return st;
}

static LiteRtStatus tramp_destroy(void* user_data) {
  auto* inst = static_cast<OpInstance*>(user_data);
  LiteRtStatus st = inst->kernel->op->kernel.Destroy(inst->user_data);
  if (st != kLiteRtStatusOk) inst->session->record(*inst, "Destroy", st);
  return st;
}

static const LiteRtCustomOpKernel kTrampolines = {tramp_init, tramp_layouts, tramp_run, tramp_destroy};

void check_io_shapes_spec(const std::string& spec) {
  // the format and its parser: custom_op_api.h (parse_io_shapes)
  if (const char* why = parse_io_shapes(spec.data(), spec.size(), nullptr))
    raise(ErrorKind::kInvalidArgument, std::string("malformed io_shapes '") + spec.substr(0, 200) + "': " + why);
}

SessionPtr register_custom_ops(LiteRtOptions options, const std::vector<CustomOpRegistration>& kernels) {
  auto session = std::make_shared<CustomOpSession>();
  for (const auto& reg : kernels) {
    const KernelPtr& kernel = reg.kernel;
    if (!kernel || !kernel->op) raise(ErrorKind::kInvalidArgument, "custom op '" + reg.code + "' has no kernel");
    auto owned = std::make_unique<OpInstance>();
    OpInstance* inst = owned.get();
    inst->session = session.get();
    inst->kernel = kernel;
    inst->code = reg.code;
    inst->io_shapes = reg.io_shapes;
    session->instances.push_back(std::move(owned));
    const LiteRtSdkCustomOp* op = kernel->op;
    if (op->create_instance) {
      inst->user_data = op->create_instance(op->op_data);
      if (!inst->user_data)
        raise(ErrorKind::kCustomOp,
              "custom op '" + kernel->name + "': create_instance failed [kernel from " + kernel->origin + "]");
      inst->created = true;
      // the instance's code and the static shapes of its nodes (custom_op_api.h); destroy_instance runs with the
      // session whatever happens here
      if (kernel->configure_instance) {
        int rc = kernel->configure_instance(inst->user_data, inst->code.c_str(), inst->io_shapes.c_str());
        if (rc != 0) {
          const char* detail = op->last_error ? op->last_error(inst->user_data) : nullptr;
          std::string msg = "custom op '" + kernel->name + "'";
          if (inst->code != kernel->name) msg += " (node code '" + inst->code + "')";
          msg += " configure_instance failed with " + std::to_string(rc);
          if (detail && *detail) msg += std::string(": ") + detail;
          raise(ErrorKind::kCustomOp, msg + " [kernel from " + kernel->origin + "]");
        }
      }
    } else {
      inst->user_data = op->op_data;
    }
    // The runtime registers every client kernel at op version 1 whatever is passed here; model rewriting sets the
    // model's custom-op versions to 1 to match.
    check(LiteRtAddCustomOpKernelOption(options, inst->code.c_str(), 1, &kTrampolines, inst),
          "LiteRtAddCustomOpKernelOption");
  }
  return session;
}

// ---- custom-op libraries ------------------------------------------------------------------------------------
static std::string dl_error() {
#if defined(_WIN32)
  return "Windows error " + std::to_string(static_cast<unsigned long>(GetLastError()));
#else
  const char* e = dlerror();
  return e ? e : "unknown error";
#endif
}

static std::vector<KernelPtr> load_library(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::vector<KernelPtr>> loaded;  // libraries stay loaded for the process lifetime
  std::lock_guard<std::mutex> lk(mu);
  auto it = loaded.find(path);
  if (it != loaded.end()) return it->second;

#if defined(_WIN32)
  int n = MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, nullptr, 0);
  std::wstring wpath(n > 0 ? n : 1, L'\0');
  MultiByteToWideChar(CP_UTF8, 0, path.c_str(), -1, &wpath[0], n);
  HMODULE handle = LoadLibraryExW(wpath.c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH);
  if (!handle) raise(ErrorKind::kRuntime, "cannot load custom-op library '" + path + "': " + dl_error());
  auto entry = reinterpret_cast<LiteRtSdkCustomOpsEntryPoint>(
      reinterpret_cast<void*>(GetProcAddress(handle, LITERT_SDK_CUSTOM_OP_ENTRY_POINT)));
#else
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) raise(ErrorKind::kRuntime, "cannot load custom-op library '" + path + "': " + dl_error());
  auto entry = reinterpret_cast<LiteRtSdkCustomOpsEntryPoint>(dlsym(handle, LITERT_SDK_CUSTOM_OP_ENTRY_POINT));
#endif
  if (!entry)
    raise(ErrorKind::kInvalidArgument, "'" + path + "' is not a litert-sdk custom-op library: it does not export " +
                                           LITERT_SDK_CUSTOM_OP_ENTRY_POINT + "()");
  const LiteRtSdkCustomOpTable* table = nullptr;
  int rc = entry(&table);
  if (rc != 0 || !table)
    raise(ErrorKind::kRuntime, "custom-op library '" + path + "' refused to load: " + LITERT_SDK_CUSTOM_OP_ENTRY_POINT +
                                   "() returned " + std::to_string(rc));
  if (table->api_version != LITERT_SDK_CUSTOM_OP_API_VERSION)
    raise(ErrorKind::kUnsupported, "custom-op library '" + path + "' implements custom-op API version " +
                                       std::to_string(table->api_version) + "; this SDK supports version " +
                                       std::to_string(LITERT_SDK_CUSTOM_OP_API_VERSION));
  // op_struct_size: at least the first version of the struct; members appended later are read only when it covers
  // them (custom_op_api.h, "Struct growth rule"). The upper bound and the alignment only catch garbage.
  const size_t stride = table->op_struct_size;
  if (stride < LITERT_SDK_CUSTOM_OP_V1_BASE_SIZE || stride > 4096 || stride % alignof(LiteRtSdkCustomOp) != 0 ||
      (table->num_ops && !table->ops) || table->num_ops > 65536)
    raise(ErrorKind::kInvalidArgument, "custom-op library '" + path + "' has a malformed op table (op_struct_size " +
                                           std::to_string(stride) + ", " + std::to_string(table->num_ops) + " ops)");
  std::vector<KernelPtr> out;
  for (size_t i = 0; i < table->num_ops; ++i) {
    const auto* op = reinterpret_cast<const LiteRtSdkCustomOp*>(reinterpret_cast<const char*>(table->ops) + i * stride);
    if (!op->name || !*op->name || !op->kernel.Init || !op->kernel.GetOutputLayouts || !op->kernel.Run ||
        !op->kernel.Destroy)
      raise(ErrorKind::kInvalidArgument,
            "custom-op library '" + path + "': op #" + std::to_string(i) + " has no name or a missing kernel function");
    auto k = std::make_shared<CustomOpKernel>();
    k->name = op->name;
    k->version = op->version;
    k->origin = path;
    k->op = op;
    if (LITERT_SDK_CUSTOM_OP_HAS(stride, configure_instance)) k->configure_instance = op->configure_instance;
    out.push_back(std::move(k));
  }
  loaded[path] = out;
  return out;
}

// ---- Python kernels -----------------------------------------------------------------------------------------
// run(inputs: list[ndarray], output_specs: list[(element_type, shape)], custom_options: bytes) -> list[ndarray]
//   (the facade returns C-contiguous arrays of exactly the output dtypes and shapes)
// shapes(input_shapes: list[tuple], num_outputs: int, custom_options: bytes) -> list[shape]
// The callables are released at interpreter exit (litert_sdk.custom_ops registers an atexit hook): a kernel whose
// function refers to module globals that hold the compiled model forms a reference cycle through C++ that Python's
// garbage collector cannot see.
struct PythonCallables {
  nb::object run, shapes;
  void release() {
    nb::gil_scoped_acquire gil;
    run.reset();
    shapes.reset();
  }
  ~PythonCallables() { release(); }
};

static void check_not_released(const PythonCallables* fns) {
  if (!fns->run.is_valid() || !fns->shapes.is_valid())
    throw std::runtime_error("the Python kernel was released (interpreter exit)");
}

struct PyInstance {
  PythonCallables* fns = nullptr;
  std::string options;
  std::string error;
};

static void* py_create(void* op_data) {
  auto* inst = new PyInstance();
  inst->fns = static_cast<PythonCallables*>(op_data);
  return inst;
}
static void py_destroy_instance(void* instance) { delete static_cast<PyInstance*>(instance); }
static const char* py_last_error(void* instance) { return static_cast<PyInstance*>(instance)->error.c_str(); }

static LiteRtStatus py_init(void* user_data, const void* data, size_t size) {
  auto* inst = static_cast<PyInstance*>(user_data);
  inst->options.assign(static_cast<const char*>(data), data ? size : 0);
  return kLiteRtStatusOk;
}

static LiteRtStatus py_destroy(void*) { return kLiteRtStatusOk; }

static LiteRtStatus py_layouts(void* user_data, size_t num_inputs, const LiteRtLayout* input_layouts,
                               size_t num_outputs, LiteRtLayout* output_layouts) {
  auto* inst = static_cast<PyInstance*>(user_data);
  nb::gil_scoped_acquire gil;
  try {
    nb::list shapes;
    for (size_t i = 0; i < num_inputs; ++i) {
      nb::list d;
      for (int64_t v : layout_dims(input_layouts[i])) d.append(v);
      shapes.append(nb::tuple(d));
    }
    check_not_released(inst->fns);
    nb::object result = inst->fns->shapes(shapes, num_outputs, nb::bytes(inst->options.data(), inst->options.size()));
    auto dims = nb::cast<std::vector<std::vector<int64_t>>>(result);
    if (dims.size() != num_outputs)
      throw std::runtime_error("the output-shape function returned " + std::to_string(dims.size()) + " shapes for " +
                               std::to_string(num_outputs) + " outputs");
    for (size_t i = 0; i < num_outputs; ++i) output_layouts[i] = make_layout(dims[i]);
    return kLiteRtStatusOk;
  } catch (const std::exception& e) {
    inst->error = e.what();
  }
  return kLiteRtStatusErrorRuntimeFailure;
}

struct LockedBuffer {
  LiteRtTensorBuffer buffer = nullptr;
  void* addr = nullptr;
  LockedBuffer(LiteRtTensorBuffer b, LiteRtTensorBufferLockMode mode) : buffer(b) {
    check(LiteRtLockTensorBuffer(b, &addr, mode), "LiteRtLockTensorBuffer");
  }
  ~LockedBuffer() { LiteRtUnlockTensorBuffer(buffer); }
};

static void buffer_type(LiteRtTensorBuffer b, LiteRtRankedTensorType& t, size_t& bytes, const char* what) {
  std::memset(&t, 0, sizeof(t));
  check(LiteRtGetTensorBufferTensorType(b, &t), "LiteRtGetTensorBufferTensorType");
  if (element_size(t.element_type) == 0)
    raise(ErrorKind::kUnsupported, std::string(what) + " has element type " + element_type_name(t.element_type) +
                                       ", which Python kernels cannot handle");
  bytes = layout_num_elements(t.layout, what) * element_size(t.element_type);
}

static LiteRtStatus py_run(void* user_data, size_t num_inputs, const LiteRtTensorBuffer* inputs, size_t num_outputs,
                           LiteRtTensorBuffer* outputs) {
  auto* inst = static_cast<PyInstance*>(user_data);
  nb::gil_scoped_acquire gil;
  try {
    nb::list arrays;
    for (size_t i = 0; i < num_inputs; ++i) {
      LiteRtRankedTensorType t;
      size_t bytes = 0;
      buffer_type(inputs[i], t, bytes, "a custom-op input");
      LockedBuffer lock(inputs[i], kLiteRtTensorBufferLockModeRead);
      arrays.append(numpy_copy(lock.addr, t.element_type, layout_dims(t.layout)));
    }
    std::vector<size_t> out_bytes(num_outputs);
    nb::list specs;
    for (size_t i = 0; i < num_outputs; ++i) {
      LiteRtRankedTensorType t;
      buffer_type(outputs[i], t, out_bytes[i], "a custom-op output");
      nb::list d;
      for (int64_t v : layout_dims(t.layout)) d.append(v);
      specs.append(nb::make_tuple(static_cast<int>(t.element_type), nb::tuple(d)));
    }
    check_not_released(inst->fns);
    nb::object result = inst->fns->run(arrays, specs, nb::bytes(inst->options.data(), inst->options.size()));
    if (nb::len(result) != num_outputs)
      throw std::runtime_error("the kernel returned " + std::to_string(nb::len(result)) + " outputs, the op has " +
                               std::to_string(num_outputs));
    for (size_t i = 0; i < num_outputs; ++i) {
      auto a = nb::cast<nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>>(result[i]);
      if (a.nbytes() != out_bytes[i])
        throw std::runtime_error("output " + std::to_string(i) + " has " + std::to_string(a.nbytes()) +
                                 " bytes, the tensor needs " + std::to_string(out_bytes[i]));
      LockedBuffer lock(outputs[i], kLiteRtTensorBufferLockModeWrite);
      if (out_bytes[i]) std::memcpy(lock.addr, a.data(), out_bytes[i]);
    }
    return kLiteRtStatusOk;
  } catch (const std::exception& e) {
    inst->error = e.what();
  }
  return kLiteRtStatusErrorRuntimeFailure;
}

static KernelPtr python_kernel(const std::string& name, nb::object run, nb::object shapes) {
  if (name.empty()) raise(ErrorKind::kInvalidArgument, "a custom op needs a non-empty name");
  if (!PyCallable_Check(run.ptr()) || !PyCallable_Check(shapes.ptr()))
    raise(ErrorKind::kInvalidArgument, "run and shapes must be callables");
  auto fns = std::make_shared<PythonCallables>();
  fns->run = std::move(run);
  fns->shapes = std::move(shapes);
  auto k = std::make_shared<CustomOpKernel>();
  k->name = name;
  k->version = 1;
  k->origin = "python";
  k->owned.name = k->name.c_str();
  k->owned.version = 1;
  k->owned.kernel = LiteRtCustomOpKernel{py_init, py_layouts, py_run, py_destroy};
  k->owned.create_instance = py_create;
  k->owned.destroy_instance = py_destroy_instance;
  k->owned.last_error = py_last_error;
  k->owned.op_data = fns.get();
  k->op = &k->owned;
  k->python = fns;
  return k;
}

void bind_custom_ops(nb::module_& m) {
  nb::class_<CustomOpKernel>(m, "CustomOpKernel",
                             "A custom-op kernel the SDK can register: an entry of a custom-op library's table, or "
                             "Python callables.",
                             nb::is_weak_referenceable())
      .def_prop_ro("name", [](const CustomOpKernel& k) { return k.name; })
      .def_prop_ro("version", [](const CustomOpKernel& k) { return k.version; })
      .def_prop_ro("origin", [](const CustomOpKernel& k) { return k.origin; })
      .def_static("from_python", &python_kernel, nb::arg("name"), nb::arg("run"), nb::arg("shapes"),
                  "A kernel calling run(inputs, output_specs, custom_options) and shapes(input_shapes, num_outputs, "
                  "custom_options) with the GIL held.")
      .def(
          "release_python",
          [](CustomOpKernel& k) {
            if (k.python) k.python->release();
          },
          "Drop the Python callables of a Python kernel (later calls fail); used at interpreter exit.")
      .def("__repr__",
           [](const CustomOpKernel& k) { return "<CustomOpKernel '" + k.name + "' from " + k.origin + ">"; });
  m.def("load_custom_op_library", &load_library, nb::arg("path"),
        "Load a custom-op library (it stays loaded) and return its kernels.");
  m.def(
      "model_source_bytes",
      [](const Model& model) -> nb::object {
        const auto& h = model.handle();
        if (!h->buffer) return nb::none();
        return nb::bytes(static_cast<const char*>(h->buffer->data), h->buffer->size);
      },
      nb::arg("model"), "The bytes a model was created from in memory (None for models loaded from a file).");
}

}  // namespace litert_sdk
