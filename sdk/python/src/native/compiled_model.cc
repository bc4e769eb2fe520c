// Binding: litert_sdk._native.CompiledModel (LiteRtCompiledModel: compile, buffers, resize, run).
//
// Every input and output of a signature has a Slot: a 64-byte aligned host block wrapped once as a
// LiteRtTensorBuffer. Inputs are copied into their slot (numpy memory is rarely 64-byte aligned), the run binds the
// slots, and outputs are copied out into fresh numpy arrays (or read through views). Output sizes always come from
// the compiled model's current layouts: the runtime's buffer-requirement sizes are stale after a resize.
// A mutex serialises all use of one compiled model; the GIL is released while waiting for it and while the runtime
// compiles or runs.
#include "compiled_model.h"
#include "strings.h"

#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <memory>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace litert_sdk {

void Slot::release() {
  if (buffer) LiteRtDestroyTensorBuffer(buffer);
  buffer = nullptr;
  view = nb::object();
  block.reset();
  bytes = 0;
  empty = false;
}

// A slot of zero elements: a small block (numpy views and copies of it are empty arrays) and no runtime buffer.
static void make_empty_slot(Slot& slot, LiteRtElementType type, const std::vector<int64_t>& dims) {
  slot.release();
  slot.type = type;
  slot.dims = dims;
  slot.block = std::make_shared<AlignedBlock>(LITERT_SDK_HOST_MEMORY_ALIGNMENT);
  slot.empty = true;
}

// Runs shorter than this keep the GIL: releasing and re-taking it costs more than the run would let other threads
// do, and it is most of the binding's cost on tiny models. Longer runs (and a signature's first run) release it.
static constexpr int64_t kKeepGilBelowNs = 20000;

// Whether a buffer-protocol format string is the native-order numpy format of element type `type`.
static bool format_matches(LiteRtElementType type, const char* fmt, Py_ssize_t itemsize) {
  if (!fmt || fmt[0] == '\0' || fmt[1] != '\0') return false;  // byte-order prefixes, complex, structs: general path
  if (itemsize <= 0 || static_cast<size_t>(itemsize) != element_size(type)) return false;
  const char c = fmt[0];
  switch (type) {
    case kLiteRtElementTypeFloat16:
    case kLiteRtElementTypeFloat32:
    case kLiteRtElementTypeFloat64: return c == 'e' || c == 'f' || c == 'd';
    case kLiteRtElementTypeInt8:
    case kLiteRtElementTypeInt16:
    case kLiteRtElementTypeInt32:
    case kLiteRtElementTypeInt64: return std::strchr("bhilq", c) != nullptr;
    case kLiteRtElementTypeUInt8:
    case kLiteRtElementTypeUInt16:
    case kLiteRtElementTypeUInt32:
    case kLiteRtElementTypeUInt64: return std::strchr("BHILQ", c) != nullptr;
    case kLiteRtElementTypeBool: return c == '?';
    default: return false;
  }
}

// The memory of `value` when it matches `slot` exactly (element type, shape, C-contiguous, native byte order, and
// writable when asked): numpy arrays are read directly (numpy_array_info), other objects through the buffer
// protocol, which is held until this object is destroyed (with the GIL held). No Python error is left set.
struct ExactArray {
  void* data = nullptr;
  Py_buffer view{};
  bool has_view = false;
  ExactArray() = default;
  ExactArray(const ExactArray&) = delete;
  ExactArray& operator=(const ExactArray&) = delete;
  ~ExactArray() { release(); }
  void release() {
    if (has_view) PyBuffer_Release(&view);
    has_view = false;
    data = nullptr;
  }
  bool acquire(const Slot& slot, PyObject* value, bool writable) {
    release();
    if (!slot.block) return false;
    NumpyArrayInfo info;
    if (numpy_array_info(value, info)) {
      const char fmt[2] = {info.type, 0};
      bool ok = info.native_order && info.c_contiguous && (!writable || info.writable) &&
                static_cast<size_t>(info.ndim) == slot.dims.size() &&
                format_matches(slot.type, fmt, static_cast<Py_ssize_t>(type_char_size(info.type)));
      for (size_t i = 0; ok && i < slot.dims.size(); ++i) ok = info.shape[i] == slot.dims[i];
      if (ok) data = info.data;
      return ok;
    }
    if (PyObject_GetBuffer(value, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) != 0) {
      PyErr_Clear();
      return false;
    }
    has_view = true;
    bool ok = static_cast<size_t>(view.len) == slot.bytes && static_cast<size_t>(view.ndim) == slot.dims.size() &&
              format_matches(slot.type, view.format, view.itemsize);
    for (size_t i = 0; ok && i < slot.dims.size(); ++i) ok = view.shape[i] == slot.dims[i];
    if (!ok) {
      release();
      return false;
    }
    data = view.buf;
    return true;
  }

 private:
  // Item size of a numpy/struct character code (0: unknown).
  static size_t type_char_size(char c) {
    switch (c) {
      case '?':
      case 'b':
      case 'B': return 1;
      case 'h':
      case 'H':
      case 'e': return 2;
      case 'i':
      case 'I':
      case 'f': return 4;
      case 'l':
      case 'L': return sizeof(long);
      case 'q':
      case 'Q':
      case 'd': return 8;
      default: return 0;
    }
  }
};

bool CompiledModel::try_copy_in_locked(Slot& slot, PyObject* value) {
  ExactArray a;
  if (!a.acquire(slot, value, false)) return false;
  if (slot.bytes) std::memcpy(slot.block->data, a.data, slot.bytes);
  return true;
}

nb::object CompiledModel::copy_out(Slot& slot) {
  if (!slot.view.is_valid()) slot.view = numpy_view(slot.block, slot.type, slot.dims, true);
  static PyObject* const copy_name = PyUnicode_InternFromString("copy");
  PyObject* args[1] = {slot.view.ptr()};
  PyObject* r = PyObject_VectorcallMethod(copy_name, args, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
  if (!r) throw nb::python_error();
  return nb::steal(r);
}

// Inputs smaller than this are copied even when aligned: a copy is cheaper than registering new memory.
static constexpr size_t kZeroCopyMinBytes = 64 * 1024;

static bool is_c_contiguous(const nb::ndarray<nb::ro>& a) {
  int64_t expect = 1;
  for (size_t i = a.ndim(); i-- > 0;) {
    if (a.shape(i) != 1 && a.stride(i) != expect) return false;
    expect *= static_cast<int64_t>(a.shape(i));
  }
  return true;
}

static std::vector<int64_t> array_dims(const nb::ndarray<nb::ro>& a) {
  std::vector<int64_t> d(a.ndim());
  for (size_t i = 0; i < a.ndim(); ++i) d[i] = static_cast<int64_t>(a.shape(i));
  return d;
}

// The runtime's reason for a failed LiteRtCreateCompiledModel. With error_reporter_mode = 2 (which the SDK needs to
// read run-time errors) the TFLite error reporter writes into a buffer of the compiled model, which a failed
// compile never hands out, and the LiteRT logger says nothing more (measured: "Didn't find op for builtin opcode
// 'ADD' version '99'" is lost at every logger severity). Mode 0 reports to stderr, so the compile is repeated once
// with mode 0 while stderr is captured. Called only after a failure; the GIL is released by the caller's scope.
static std::string compile_failure_reason(LiteRtEnvironment env, LiteRtModel m, const Options& options) {
  static const std::string kKey = "error_reporter_mode";
  Options diag = options;
  std::string toml;
  for (const auto& kv : options.opaque())
    if (kv.first == "runtime_options_string") toml = kv.second;
  std::string out;
  size_t pos = toml.find(kKey);
  if (pos == std::string::npos) {
    out = toml + (toml.empty() || toml.back() == '\n' ? "" : "\n") + kKey + " = 0\n";
  } else {
    size_t end = toml.find('\n', pos);
    out = toml.substr(0, pos) + kKey + " = 0" + (end == std::string::npos ? "" : toml.substr(end));
  }
  diag.set_opaque("runtime_options_string", out);
  std::string text;
  try {
    Options::Built built;
    diag.build(built);
    nb::gil_scoped_release release;
    LiteRtCompiledModel cm = nullptr;
    StderrCapture capture(/*force=*/true);
    const LiteRtStatus st = LiteRtCreateCompiledModel(env, m, built.options, &cm);
    text = capture.finish();
    if (st == kLiteRtStatusOk && cm) LiteRtDestroyCompiledModel(cm);
  } catch (...) {
    PyErr_Clear();
    return {};
  }
  // Keep the runtime's error lines (TFLite prefixes them with "ERROR: "), without the prefix.
  std::string reason;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.rfind("ERROR: ", 0) != 0) continue;
    line = line.substr(7);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    if (!reason.empty()) reason += "; ";
    reason += line;
  }
  return reason;
}

CompiledModel::CompiledModel(const Model& model, const Options& options) : model_(model.handle()) {
  if (forked_since(model_->fork_gen) || forked_since(model_->env->fork_gen))
    raise(ErrorKind::kClosed, "this model (or its environment) was loaded in the parent process before os.fork(); "
                              "the runtime's objects cannot be used in this child process: load the model again "
                              "here (litert_sdk's default environment is re-created in the child)");
  LiteRtModel m = model_->model;
  // Element types and names per signature, from the model (the compiled model only knows layouts).
  LiteRtParamIndex num_sigs = 0;
  check(LiteRtGetNumModelSignatures(m, &num_sigs), "LiteRtGetNumModelSignatures");
  in_types_.resize(num_sigs);
  out_types_.resize(num_sigs);
  in_names_.resize(num_sigs);
  out_names_.resize(num_sigs);
  for (LiteRtParamIndex s = 0; s < num_sigs; ++s) {
    LiteRtSignature sig = nullptr;
    check(LiteRtGetModelSignature(m, s, &sig), "LiteRtGetModelSignature");
    for (int pass = 0; pass < 2; ++pass) {
      const bool in = pass == 0;
      LiteRtParamIndex n = 0;
      check(in ? LiteRtGetNumSignatureInputs(sig, &n) : LiteRtGetNumSignatureOutputs(sig, &n), "signature arity");
      for (LiteRtParamIndex i = 0; i < n; ++i) {
        const char* name = nullptr;
        LiteRtTensor t = nullptr;
        check(in ? LiteRtGetSignatureInputName(sig, i, &name) : LiteRtGetSignatureOutputName(sig, i, &name),
              "signature tensor name");
        check(in ? LiteRtGetSignatureInputTensorByIndex(sig, i, &t) : LiteRtGetSignatureOutputTensorByIndex(sig, i, &t),
              "signature tensor");
        LiteRtTensorTypeId tid;
        check(LiteRtGetTensorTypeId(t, &tid), "LiteRtGetTensorTypeId");
        LiteRtElementType et = kLiteRtElementTypeNone;
        if (tid == kLiteRtRankedTensorType) {
          LiteRtRankedTensorType rt;
          std::memset(&rt, 0, sizeof(rt));
          check(LiteRtGetRankedTensorType(t, &rt), "LiteRtGetRankedTensorType");
          et = rt.element_type;
        } else {
          LiteRtUnrankedTensorType ut{};
          check(LiteRtGetUnrankedTensorType(t, &ut), "LiteRtGetUnrankedTensorType");
          et = ut.element_type;
        }
        (in ? in_types_ : out_types_)[s].push_back(et);
        (in ? in_names_ : out_names_)[s].push_back(name ? name : "");
      }
    }
  }
  sigs_.resize(num_sigs);

  Options::Built built;
  options.build(built);
  custom_ops_ = built.custom_ops;
  LiteRtStatus status;
  std::string captured;
  {
    nb::gil_scoped_release release;
    StderrCapture capture;
    status = LiteRtCreateCompiledModel(model_->env->env, m, built.options, &cm_);
    captured = capture.finish();
  }
  if (status != kLiteRtStatusOk) {
    cm_ = nullptr;
    std::string detail = captured;
    const std::string reason = compile_failure_reason(model_->env->env, m, options);
    if (!reason.empty() && detail.find(reason) == std::string::npos) detail += (detail.empty() ? "" : "\n") + reason;
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
    raise_custom_op_errors(custom_ops_, "compile", detail);
    check(status, "LiteRtCreateCompiledModel", detail);
  }
  if (custom_ops_ && custom_ops_->has_errors()) {  // the runtime ignores a failing kernel Init
    LiteRtDestroyCompiledModel(cm_);
    cm_ = nullptr;
    raise_custom_op_errors(custom_ops_, "compile");
  }
  forward_runtime_log(captured);
}

CompiledModel::~CompiledModel() {
  if (forked_since(fork_gen_)) {
    forget();
    return;
  }
  for (auto& st : sigs_) {
    for (auto& s : st.inputs) s.release();
    for (auto& s : st.outputs) s.release();
  }
  if (cm_) LiteRtDestroyCompiledModel(cm_);
}

// In a fork child: drop every runtime handle without calling the runtime (its threads are the parent's).
void CompiledModel::forget() {
  closed_ = true;
  cm_ = nullptr;
  shape_hook_ = nb::object();
  for (auto& st : sigs_) {
    for (auto* slots : {&st.inputs, &st.outputs})
      for (Slot& s : *slots) {
        s.buffer = nullptr;  // leaked on purpose: its memory is this process's copy of the parent's
        s.view = nb::object();
        s.block.reset();
        s.bytes = 0;
      }
    st.ready = false;
    st.runnable = false;
  }
  custom_ops_.reset();  // kernel instances are plain memory; Python kernels may refer back to this model
}

void CompiledModel::release_locked() {
  if (cm_) LiteRtDestroyCompiledModel(cm_);
  cm_ = nullptr;
  shape_hook_ = nb::object();
  for (auto& st : sigs_) {
    for (auto& s : st.inputs) s.release();
    for (auto& s : st.outputs) s.release();
    st.ready = false;
    st.runnable = false;
  }
  custom_ops_.reset();  // the kernels (and the Python callables, which may refer to this model) go now
}

void CompiledModel::close() {
  if (forked_since(fork_gen_)) {  // never wait for a mutex a thread of the parent may hold
    forget();
    return;
  }
  if (owner_.load() == std::this_thread::get_id())
    raise(ErrorKind::kReentrant, "close() was called from a custom-op kernel while the compiled model is running "
                                 "it; close the model after the run returns");
  closed_ = true;
  if (mu_.try_lock()) {  // otherwise the call in progress releases everything when it returns (Guard)
    owner_ = std::this_thread::get_id();
    release_locked();
    owner_ = std::thread::id();
    mu_.unlock();
  }
}

void CompiledModel::check_usable_here() const {
  if (forked_since(fork_gen_))
    raise(ErrorKind::kClosed, "this compiled model was created in the parent process before os.fork(); the "
                              "runtime's threads do not exist in this child process, so it cannot be used here: "
                              "load and compile the model again in the child");
  if (closed_.load()) raise(ErrorKind::kClosed, "the compiled model is closed");
  if (owner_.load() == std::this_thread::get_id())
    raise(ErrorKind::kReentrant, "re-entrant call: a custom-op kernel called back into the compiled model that is "
                                 "running it (run/invoke/close/reset/...); waiting for the run to finish would "
                                 "deadlock. Use another compiled model from the kernel");
}

CompiledModel::Guard::Guard(CompiledModel& cm) : cm_(cm) {
  cm.check_usable_here();
  if (!cm.mu_.try_lock()) {
    bool closed = false;
    {
      nb::gil_scoped_release release;
      // a call in progress may never return (an endless loop): stop waiting once the model is closed
      while (!cm.mu_.try_lock_for(std::chrono::milliseconds(20)))
        if ((closed = cm.closed_.load())) break;
    }
    if (closed) raise(ErrorKind::kClosed, "the compiled model is closed");
  }
  cm.owner_ = std::this_thread::get_id();
}

CompiledModel::Guard::~Guard() {
  if (cm_.closed_.load() && cm_.cm_) cm_.release_locked();  // close() arrived during this call
  cm_.owner_ = std::thread::id();
  cm_.mu_.unlock();
  // A close() that saw the mutex held after the check above: it left the release to us.
  if (cm_.closed_.load() && cm_.mu_.try_lock()) {
    if (cm_.cm_) {
      cm_.owner_ = std::this_thread::get_id();
      cm_.release_locked();
      cm_.owner_ = std::thread::id();
    }
    cm_.mu_.unlock();
  }
}

void CompiledModel::ensure_open() const {
  if (!cm_ || closed_.load()) raise(ErrorKind::kClosed, "the compiled model is closed");
}

SignatureState& CompiledModel::state(size_t sig) {
  ensure_open();
  if (sig >= sigs_.size())
    raise(ErrorKind::kInvalidArgument,
          "signature index " + std::to_string(sig) + " out of range (model has " + std::to_string(sigs_.size()) + ")");
  if (!sigs_[sig].ready) allocate_locked(sig);
  return sigs_[sig];
}

// `min_bytes`: the buffer is at least this large (the runtime's own layout of an output whose shape the SDK computed
// differently: the runtime checks the buffer against its own idea of the tensor's size).
static void make_slot(Slot& slot, LiteRtElementType type, const LiteRtLayout& layout, size_t string_capacity = 0,
                      size_t min_bytes = 0) {
  slot.release();
  slot.type = type;
  slot.dims = layout_dims(layout);
  for (int64_t d : slot.dims)
    if (d < 0) return;  // dynamic: allocated once the input is resized
  if (is_string_type(type)) {  // outputs: a host buffer the runtime copies into; inputs: bound when set
    if (string_capacity) make_string_output_slot(slot, layout, string_capacity);
    return;
  }
  size_t esize = element_size(type);
  if (esize == 0) return;  // not representable in numpy: reported on use
  slot.bytes = layout_num_elements(layout, slot.name.c_str()) * esize;
  slot.block = std::make_shared<AlignedBlock>(std::max(slot.bytes, min_bytes));
  LiteRtRankedTensorType rtt;
  std::memset(&rtt, 0, sizeof(rtt));
  rtt.element_type = type;
  rtt.layout = layout;
  rtt.layout.has_strides = false;
  check(LiteRtCreateTensorBufferFromHostMemory(&rtt, slot.block->data, std::max(slot.bytes, min_bytes), nullptr,
                                               &slot.buffer),
        "LiteRtCreateTensorBufferFromHostMemory");
}

void CompiledModel::allocate_locked(size_t sig) {
  SignatureState& st = sigs_[sig];
  st.ready = false;
  st.empty = false;
  st.empty_error.clear();
  const size_t n_in = in_types_[sig].size(), n_out = out_types_[sig].size();
  st.inputs.resize(n_in);
  st.outputs.resize(n_out);
  for (size_t i = 0; i < n_in; ++i) {
    LiteRtLayout layout;
    std::memset(&layout, 0, sizeof(layout));
    check(LiteRtGetCompiledModelInputTensorLayout(cm_, sig, i, &layout), "LiteRtGetCompiledModelInputTensorLayout");
    st.inputs[i].name = in_names_[sig][i];
    make_slot(st.inputs[i], in_types_[sig][i], layout);
  }
  if (n_out) {
    std::vector<LiteRtLayout> layouts(n_out);
    std::memset(layouts.data(), 0, sizeof(LiteRtLayout) * n_out);
    LiteRtStatus status = LiteRtGetCompiledModelOutputTensorLayouts(cm_, sig, n_out, layouts.data(), true);
    st.allocation_error.clear();
    std::vector<size_t> min_bytes(n_out, 0);
    std::vector<char> dynamic(n_out, 0);
    std::vector<std::vector<int64_t>> before_run(n_out);  // shapes reported for value-dependent outputs until a run
    std::vector<char> has_before_run(n_out, 0);
    if (status == kLiteRtStatusOk && shape_hook_.is_valid() && !shape_hook_.is_none()) {
      nb::list in_shapes;
      for (size_t i = 0; i < n_in; ++i) in_shapes.append(nb::cast(st.inputs[i].dims));
      nb::object computed = shape_hook_(sig, in_shapes);
      if (!computed.is_none()) {
        nb::list shapes = nb::cast<nb::list>(computed);
        if (nb::len(shapes) != n_out)
          raise(ErrorKind::kRuntime, "internal error: the shape engine returned " + std::to_string(nb::len(shapes)) +
                                         " output shapes for " + std::to_string(n_out) + " outputs");
        for (size_t i = 0; i < n_out; ++i) {
          nb::handle s = shapes[i];
          if (s.is_none()) continue;
          if (nb::isinstance<nb::int_>(s)) {  // a capacity: the shape depends on tensor values
            int64_t cap = nb::cast<int64_t>(s);
            if (cap < 1) cap = 1;
            size_t esize = element_size(out_types_[sig][i]);
            size_t runtime_bytes = 0;
            bool runtime_static = true;
            for (int64_t d : layout_dims(layouts[i])) runtime_static &= d >= 0;
            if (runtime_static && esize) runtime_bytes = layout_num_elements(layouts[i], "output") * esize;
            min_bytes[i] = runtime_bytes;
            if (runtime_static) {
              before_run[i] = layout_dims(layouts[i]);
              has_before_run[i] = 1;
            }
            layouts[i] = make_layout({cap});
            dynamic[i] = 1;
            continue;
          }
          LiteRtLayout computed = make_layout(nb::cast<std::vector<int64_t>>(s));
          if (layout_dims(computed) == layout_dims(layouts[i])) continue;
          size_t esize = element_size(out_types_[sig][i]);
          bool runtime_static = true;
          for (int64_t d : layout_dims(layouts[i])) runtime_static &= d >= 0;
          min_bytes[i] = runtime_static && esize ? layout_num_elements(layouts[i], "output") * esize : 0;
          layouts[i] = computed;
        }
      }
    }
    for (size_t i = 0; i < n_out; ++i) {
      st.outputs[i].name = out_names_[sig][i];
      if (status == kLiteRtStatusOk) {
        make_slot(st.outputs[i], out_types_[sig][i], layouts[i], string_output_capacity_, min_bytes[i]);
        Slot& o = st.outputs[i];
        if (dynamic[i] && o.block) {  // until a run tells: the runtime's own layout (its declared shape)
          size_t n = 1;
          for (int64_t d : before_run[i]) n *= static_cast<size_t>(d);
          if (has_before_run[i] && n * element_size(o.type) <= o.block->size) {
            o.dims = before_run[i];
            o.bytes = n * element_size(o.type);
          }
        }
      } else {
        st.outputs[i].release();
        st.outputs[i].type = out_types_[sig][i];
      }
    }
    st.dynamic = dynamic;
    st.has_dynamic = std::find(dynamic.begin(), dynamic.end(), 1) != dynamic.end();
    if (custom_ops_ && custom_ops_->has_errors()) {  // a kernel could not compute its output shapes
      take_errors_locked();
      raise_custom_op_errors(custom_ops_, "allocation");
    }
    if (status != kLiteRtStatusOk) {
      // Some models cannot be prepared at their default input shapes (e.g. a dynamic [-1,-1] input stored as
      // [1,1]); they work once resized. Keep the reason and report it if the signature is run as it is.
      std::string errors = take_errors_locked();
      st.allocation_error = std::string(litert_sdk_status_name(status)) + (errors.empty() ? "" : ": " + errors);
    }
  }
  st.in_buffers.assign(n_in, nullptr);
  st.out_buffers.assign(n_out, nullptr);
  // String slots get new buffers when set (inputs) or grown (outputs): their signatures take the general path,
  // which reads the slots' current buffers.
  st.runnable = st.allocation_error.empty();
  for (size_t i = 0; i < n_in; ++i)
    st.runnable &= (st.in_buffers[i] = st.inputs[i].buffer) != nullptr && !is_string_type(st.inputs[i].type);
  for (size_t i = 0; i < n_out; ++i)
    st.runnable &= (st.out_buffers[i] = st.outputs[i].buffer) != nullptr && !is_string_type(st.outputs[i].type);
  st.ready = true;
  st.zero_dims.resize(n_in);
  for (const auto& z : st.zero_dims)
    if (!z.empty()) {
      lay_out_empty_locked(sig);
      break;
    }
}

void CompiledModel::lay_out_empty_locked(size_t sig) {
  SignatureState& st = sigs_[sig];
  const size_t n_in = st.inputs.size(), n_out = st.outputs.size();
  st.empty = true;
  st.runnable = false;
  st.empty_error.clear();
  nb::list in_shapes;
  for (size_t i = 0; i < n_in; ++i) {
    if (!st.zero_dims[i].empty()) make_empty_slot(st.inputs[i], in_types_[sig][i], st.zero_dims[i]);
    in_shapes.append(nb::cast(st.inputs[i].dims));
  }
  nb::object computed = nb::none();
  if (shape_hook_.is_valid() && !shape_hook_.is_none()) computed = shape_hook_(sig, in_shapes);
  for (size_t i = 0; i < n_out; ++i) {
    Slot& o = st.outputs[i];
    std::string why;
    if (computed.is_none() || nb::len(computed) != n_out || computed[i].is_none() ||
        nb::isinstance<nb::int_>(computed[i])) {
      why = "its shape cannot be computed for these input shapes";
    } else {
      std::vector<int64_t> dims = nb::cast<std::vector<int64_t>>(computed[i]);
      if (std::find(dims.begin(), dims.end(), 0) != dims.end()) {
        make_empty_slot(o, out_types_[sig][i], dims);
        continue;
      }
      why = "it would have shape " + dims_to_string(dims) + " (elements computed from no input elements)";
    }
    if (st.empty_error.empty())
      st.empty_error = "cannot run with zero-size input shapes: libLiteRt refuses tensors with a zero-size "
                       "dimension, and the SDK answers such a run itself only when every output is empty; output '" +
                       o.name + "' is not: " + why;
  }
}

std::string CompiledModel::take_errors_locked() {
  if (!cm_) return {};
  char* msgs = nullptr;
  std::string out;
  if (LiteRtCompiledModelGetErrorMessages(cm_, &msgs) == kLiteRtStatusOk && msgs) {
    out = msgs;
    std::free(msgs);
  }
  LiteRtCompiledModelClearErrors(cm_);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

static void check_index(size_t index, size_t n, const char* what) {
  if (index >= n)
    raise(ErrorKind::kInvalidArgument, std::string(what) + " index " + std::to_string(index) + " out of range (" +
                                           std::to_string(n) + " available)");
}

std::vector<int64_t> CompiledModel::input_shape(size_t sig, size_t index) {
  Guard guard(*this);
  SignatureState& st = state(sig);
  check_index(index, st.inputs.size(), "input");
  return st.inputs[index].dims;
}

std::vector<std::vector<int64_t>> CompiledModel::runtime_output_shapes(size_t sig) {
  Guard guard(*this);
  SignatureState& st = state(sig);
  std::vector<LiteRtLayout> layouts(st.outputs.size());
  std::memset(layouts.data(), 0, sizeof(LiteRtLayout) * layouts.size());
  check(LiteRtGetCompiledModelOutputTensorLayouts(cm_, sig, layouts.size(), layouts.data(), false),
        "LiteRtGetCompiledModelOutputTensorLayouts");
  std::vector<std::vector<int64_t>> out;
  for (const LiteRtLayout& l : layouts) out.push_back(layout_dims(l));
  return out;
}

std::vector<int64_t> CompiledModel::output_shape(size_t sig, size_t index) {
  Guard guard(*this);
  SignatureState& st = state(sig);
  check_index(index, st.outputs.size(), "output");
  return st.outputs[index].dims;
}

void CompiledModel::resize_locked(size_t sig, size_t index, const std::vector<int64_t>& dims, bool strict) {
  SignatureState& st = state(sig);
  check_index(index, st.inputs.size(), "input");
  if (dims.size() > LITERT_SDK_TENSOR_MAX_RANK)
    raise(ErrorKind::kInvalidArgument, "shape " + dims_to_string(dims) + " has more than 8 dimensions");
  std::vector<int> d32;
  bool zero = false;
  for (int64_t v : dims) {
    if (v < 0 || v > (1ll << 31) - 1)
      raise(ErrorKind::kInvalidArgument, "cannot resize input '" + st.inputs[index].name + "' to " +
                                             dims_to_string(dims) + ": dimensions must be non-negative");
    zero |= v == 0;
    d32.push_back(static_cast<int>(std::max<int64_t>(v, 1)));  // the runtime refuses 0: see SignatureState
  }
  LiteRtStatus status;
  {
    nb::gil_scoped_release release;
    status = strict ? LiteRtCompiledModelResizeInputTensor(cm_, sig, index, d32.data(), d32.size())
                    : LiteRtCompiledModelResizeInputTensorNonStrict(cm_, sig, index, d32.data(), d32.size());
  }
  if (status != kLiteRtStatusOk) {
    std::string errors = take_errors_locked();
    std::string msg = "cannot resize input '" + st.inputs[index].name + "' from " +
                      dims_to_string(st.inputs[index].dims) + " to " + dims_to_string(dims);
    if (strict) msg += " (only dimensions that are dynamic in the model's shape signature can change)";
    if (!errors.empty()) msg += ": " + errors;
    throw Error(ErrorKind::kInvalidArgument, static_cast<int>(status), msg);
  }
  st.zero_dims.resize(st.inputs.size());
  st.zero_dims[index] = zero ? dims : std::vector<int64_t>();
  try {
    allocate_locked(sig);
  } catch (const Error& e) {
    throw Error(e.kind == ErrorKind::kCustomOp ? e.kind : ErrorKind::kInvalidArgument, e.status,
                "resizing input '" + st.inputs[index].name + "' to " + dims_to_string(dims) + " failed: " + e.message);
  }
}

void CompiledModel::resize_input(size_t sig, size_t index, const std::vector<int64_t>& dims, bool strict) {
  Guard guard(*this);
  resize_locked(sig, index, dims, strict);
}

// Checks dtype (and shape, resizing when allowed) of `array` for input `index`. Does not copy.
static void check_input_dtype(const Slot& slot, size_t index, const nb::ndarray<nb::ro>& array) {
  if (is_string_type(slot.type))
    raise(ErrorKind::kInvalidArgument, "input '" + slot.name +
                                           "' is a string tensor: pass str/bytes or an array of "
                                           "bytes_, str_ or object dtype, not a numeric array");
  if (element_size(slot.type) == 0)
    raise(ErrorKind::kUnsupported, "input '" + slot.name + "' has element type " + element_type_name(slot.type) +
                                       ", which cannot be passed as a numpy array");
  if (!dtype_matches(slot.type, array.dtype()))
    raise(ErrorKind::kInvalidArgument, "input '" + slot.name + "' (index " + std::to_string(index) + ") expects " +
                                           element_type_name(slot.type) + ", got " + dlpack_dtype_name(array.dtype()));
}

void CompiledModel::copy_in_locked(size_t sig, size_t index, const nb::ndarray<nb::ro>& array, bool auto_resize) {
  SignatureState& st = state(sig);
  check_index(index, st.inputs.size(), "input");
  check_input_dtype(st.inputs[index], index, array);
  std::vector<int64_t> dims = array_dims(array);
  if (dims != st.inputs[index].dims) {
    if (!auto_resize)
      raise(ErrorKind::kInvalidArgument, "input '" + st.inputs[index].name + "' expects shape " +
                                             dims_to_string(st.inputs[index].dims) + ", got " + dims_to_string(dims) +
                                             "; resize the input first");
    resize_locked(sig, index, dims, true);
  }
  Slot& slot = sigs_[sig].inputs[index];
  if (slot.empty) return;  // no elements
  if (!slot.buffer)
    raise(ErrorKind::kInvalidArgument, "input '" + slot.name + "' has no concrete shape; resize it first");
  copy_ndarray_to(array, slot.block->data, slot.bytes);
}

void CompiledModel::set_input(size_t sig, size_t index, nb::handle value) {
  Guard guard(*this);
  SignatureState& st = state(sig);
  if (index < st.inputs.size() && try_copy_in_locked(st.inputs[index], value.ptr())) return;
  nb::ndarray<nb::ro> array;
  if (!nb::try_cast(value, array, false))
    throw nb::type_error(
        ("set_input() expects an array, got " + std::string(nb::type_name(value.type()).c_str())).c_str());
  copy_in_locked(sig, index, array, false);
}

bool CompiledModel::try_set_input(size_t sig, size_t index, PyObject* value) {
  Guard guard(*this);
  SignatureState& st = state(sig);
  return index < st.inputs.size() && try_copy_in_locked(st.inputs[index], value);
}

bool CompiledModel::try_run_single(size_t sig, size_t in_index, PyObject* value, size_t out_index, PyObject* out,
                                   nb::object& result) {
  Guard guard(*this);
  SignatureState& st = state(sig);
  if (!st.runnable || st.has_dynamic || in_index >= st.inputs.size() || out_index >= st.outputs.size()) return false;
  Slot& os = st.outputs[out_index];
  ExactArray target;
  if (out) {  // check before changing anything; acquired again after the run (the GIL may be released in it)
    if (!target.acquire(os, out, true)) return false;
    target.release();
  }
  if (!try_copy_in_locked(st.inputs[in_index], value)) return false;
  run_locked(sig);
  if (out) {
    if (!target.acquire(os, out, true))
      raise(ErrorKind::kInvalidArgument, "the output array was changed by another thread during the run");
    if (os.bytes) std::memcpy(target.data, os.block->data, os.bytes);
    result = nb::borrow(out);
  } else {
    result = copy_out(os);
  }
  return true;
}

void CompiledModel::set_input_strings(size_t sig, size_t index, nb::bytes packed, const std::vector<int64_t>& dims) {
  Guard guard(*this);
  SignatureState& st = state(sig);
  check_index(index, st.inputs.size(), "input");
  Slot& slot = st.inputs[index];
  if (!is_string_type(slot.type))
    raise(ErrorKind::kInvalidArgument,
          "input '" + slot.name + "' expects " + element_type_name(slot.type) + ", got strings");
  if (dims != slot.dims)
    raise(ErrorKind::kInvalidArgument, "input '" + slot.name + "' expects shape " + dims_to_string(slot.dims) +
                                           ", got " + dims_to_string(dims) + "; resize the input first");
  fill_string_input_slot(slot, packed.c_str(), packed.size());
}

// The slot of input/output `index` of `sig`, which must hold a buffer (the caller holds the mutex).
Slot& CompiledModel::slot_with_buffer_locked(size_t sig, size_t index, bool output) {
  SignatureState& st = state(sig);
  std::vector<Slot>& slots = output ? st.outputs : st.inputs;
  check_index(index, slots.size(), output ? "output" : "input");
  Slot& s = slots[index];
  if (!s.block) {
    if (is_string_type(s.type) && !output)
      raise(ErrorKind::kInvalidArgument, "string input '" + s.name + "' has not been set");
    if (output) raise(ErrorKind::kUnsupported, "output '" + s.name + "' has no concrete shape or element type");
    raise(ErrorKind::kInvalidArgument, "input '" + s.name + "' has no concrete shape; resize it first");
  }
  return s;
}

nb::object CompiledModel::slot_array(size_t sig, size_t index, bool output, bool copy) {
  Guard guard(*this);
  Slot& s = slot_with_buffer_locked(sig, index, output);
  if (is_string_type(s.type)) {
    if (!copy) raise(ErrorKind::kUnsupported, "string tensor '" + s.name + "' has no numpy view; read a copy");
    return string_slot_array(s);
  }
  return copy ? copy_out(s) : numpy_view(s.block, s.type, s.dims, false);
}

nb::object CompiledModel::input_view(size_t sig, size_t index) { return slot_array(sig, index, false, false); }
nb::object CompiledModel::output_view(size_t sig, size_t index) { return slot_array(sig, index, true, false); }
nb::object CompiledModel::get_output(size_t sig, size_t index) { return slot_array(sig, index, true, true); }
nb::object CompiledModel::get_input(size_t sig, size_t index) { return slot_array(sig, index, false, true); }

void CompiledModel::run_locked(size_t sig, const std::vector<LiteRtTensorBuffer>* input_override) {
  SignatureState& st = state(sig);
  if (st.empty) {  // zero-size inputs: every output is empty (nothing to compute), or the run cannot be answered
    if (!st.empty_error.empty()) raise(ErrorKind::kUnsupported, st.empty_error);
    return;
  }
  if (st.runnable && !input_override) {  // common case: every slot has its buffer
    run_buffers_locked(st, sig, st.in_buffers, st.out_buffers);
    return;
  }
  std::vector<LiteRtTensorBuffer> ins(st.inputs.size()), outs(st.outputs.size());
  for (size_t i = 0; i < ins.size(); ++i) {
    if (input_override && (*input_override)[i]) {
      ins[i] = (*input_override)[i];
      continue;
    }
    if (!st.inputs[i].buffer && is_string_type(st.inputs[i].type) &&
        std::all_of(st.inputs[i].dims.begin(), st.inputs[i].dims.end(), [](int64_t d) { return d >= 0; }))
      raise(ErrorKind::kInvalidArgument, "string input '" + st.inputs[i].name + "' has not been set");
    if (!st.inputs[i].buffer)
      raise(ErrorKind::kInvalidArgument, "input '" + st.inputs[i].name + "' has no concrete shape (" +
                                             dims_to_string(st.inputs[i].dims) + "); resize it before running");
    ins[i] = st.inputs[i].buffer;
  }
  if (!st.allocation_error.empty())
    raise(ErrorKind::kRuntime, "the model cannot be prepared with its current input shapes (resize the inputs to "
                               "the shapes you will feed): " +
                                   st.allocation_error);
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!st.outputs[i].buffer)
      raise(ErrorKind::kUnsupported, "output '" + st.outputs[i].name + "' has no static shape (" +
                                         dims_to_string(st.outputs[i].dims) + ") or no numpy element type (" +
                                         element_type_name(st.outputs[i].type) + ")");
    outs[i] = st.outputs[i].buffer;
  }
  run_buffers_locked(st, sig, ins, outs);
}

// After a run: the shapes of outputs whose shape depends on tensor values, as the runtime resized them.
void CompiledModel::read_dynamic_shapes_locked(SignatureState& st, size_t sig) {
  std::vector<LiteRtLayout> layouts(st.outputs.size());
  std::memset(layouts.data(), 0, sizeof(LiteRtLayout) * layouts.size());
  check(LiteRtGetCompiledModelOutputTensorLayouts(cm_, sig, layouts.size(), layouts.data(), false),
        "LiteRtGetCompiledModelOutputTensorLayouts");
  for (size_t i = 0; i < st.outputs.size(); ++i) {
    if (!st.dynamic[i]) continue;
    Slot& s = st.outputs[i];
    std::vector<int64_t> dims = layout_dims(layouts[i]);
    size_t n = 1;
    for (int64_t d : dims) {
      if (d < 0) raise(ErrorKind::kRuntime, "the runtime reports no shape for output '" + s.name + "' after the run");
      n *= static_cast<size_t>(d);
    }
    size_t bytes = n * element_size(s.type);
    if (!s.block || bytes > s.block->size)
      raise(ErrorKind::kRuntime, "output '" + s.name + "' has shape " + dims_to_string(dims) +
                                     ", larger than its buffer (" + std::to_string(s.block ? s.block->size : 0) +
                                     " bytes): the result is not returned");
    if (dims != s.dims) {
      s.view = nb::object();  // views are made for one shape
      s.dims = std::move(dims);
      s.bytes = bytes;
    }
  }
}

// After a failed run: grow the buffers of value-dependent outputs the runtime needed larger; false when none did.
bool CompiledModel::grow_dynamic_outputs_locked(SignatureState& st, size_t sig, std::vector<LiteRtTensorBuffer>& outs) {
  std::vector<LiteRtLayout> layouts(st.outputs.size());
  std::memset(layouts.data(), 0, sizeof(LiteRtLayout) * layouts.size());
  if (LiteRtGetCompiledModelOutputTensorLayouts(cm_, sig, layouts.size(), layouts.data(), false) != kLiteRtStatusOk)
    return false;
  bool grown = false;
  for (size_t i = 0; i < st.outputs.size(); ++i) {
    if (!st.dynamic[i]) continue;
    Slot& s = st.outputs[i];
    size_t n = 1;
    bool known = true;
    for (int64_t d : layout_dims(layouts[i])) {
      known &= d >= 0;
      n *= static_cast<size_t>(std::max<int64_t>(d, 0));
    }
    const size_t esize = element_size(s.type);
    if (!known || !esize || !s.block || n * esize <= s.block->size) continue;
    const int64_t cap = static_cast<int64_t>(n + n / 2);
    LiteRtTensorBuffer old = s.buffer;
    make_slot(s, s.type, make_layout({cap}));
    for (auto& b : outs)
      if (b == old) b = s.buffer;
    if (st.out_buffers.size() > i) st.out_buffers[i] = s.buffer;
    grown = true;
  }
  return grown;
}

void CompiledModel::run_buffers_locked(SignatureState& st, size_t sig, const std::vector<LiteRtTensorBuffer>& ins,
                                       const std::vector<LiteRtTensorBuffer>& given_outs) {
  if (!division_guards_.empty()) check_division_guards_locked(sig, ins);
  if (!st.has_dynamic) {  // the common case: no copy of the buffer list (run_once_locked changes it only to grow)
    run_once_locked(st, sig, ins, const_cast<std::vector<LiteRtTensorBuffer>&>(given_outs), false);
    return;
  }
  std::vector<LiteRtTensorBuffer> outs = given_outs;
  for (int attempt = 0;; ++attempt) {
    if (run_once_locked(st, sig, ins, outs, attempt < 4 && st.has_dynamic)) break;
    take_errors_locked();
  }
  if (st.has_dynamic) read_dynamic_shapes_locked(st, sig);
}

// Host view of an int32/int64 tensor buffer, locked for reading while it lives; `at(i)` for i < count.
namespace {
class IntView {
 public:
  IntView(LiteRtTensorBuffer buffer, int type, size_t count) : buffer_(buffer), wide_(type == kLiteRtElementTypeInt64) {
    check(LiteRtLockTensorBuffer(buffer, &host_, kLiteRtTensorBufferLockModeRead), "LiteRtLockTensorBuffer");
    size_t bytes = 0;
    const LiteRtStatus st = LiteRtGetTensorBufferSize(buffer, &bytes);
    if (st != kLiteRtStatusOk || !host_) {
      LiteRtUnlockTensorBuffer(buffer_);
      check(st == kLiteRtStatusOk ? kLiteRtStatusErrorRuntimeFailure : st, "LiteRtGetTensorBufferSize");
    }
    count_ = std::min(count, bytes / (wide_ ? sizeof(int64_t) : sizeof(int32_t)));
  }
  ~IntView() { LiteRtUnlockTensorBuffer(buffer_); }
  IntView(const IntView&) = delete;
  IntView& operator=(const IntView&) = delete;
  size_t size() const { return count_; }
  int64_t at(size_t i) const {
    return wide_ ? static_cast<const int64_t*>(host_)[i] : static_cast<const int32_t*>(host_)[i];
  }
  bool holds(int64_t value) const {
    for (size_t i = 0; i < count_; ++i)
      if (at(i) == value) return true;
    return false;
  }

 private:
  LiteRtTensorBuffer buffer_;
  void* host_ = nullptr;
  bool wide_;
  size_t count_ = 0;
};
}  // namespace

void CompiledModel::check_division_guards_locked(size_t sig, const std::vector<LiteRtTensorBuffer>& ins) {
  const SignatureState& st = sigs_[sig];
  for (const auto& [gsig, dividend, divisor, type, what] : division_guards_) {
    if (gsig != sig) continue;
    const int64_t min_value = type == kLiteRtElementTypeInt64 ? INT64_MIN : INT32_MIN;
    auto view = [&](int index) -> std::unique_ptr<IntView> {
      const size_t i = static_cast<size_t>(index);
      if (index < 0 || i >= ins.size() || !ins[i]) return nullptr;
      size_t count = 1;
      for (int64_t d : st.inputs[i].dims) count *= static_cast<size_t>(std::max<int64_t>(d, 0));
      return std::make_unique<IntView>(ins[i], type, count);
    };
    bool fatal;
    if (dividend >= 0 && divisor >= 0) {
      auto a = view(dividend), b = view(divisor);
      if (!a || !b) continue;
      if (st.inputs[static_cast<size_t>(dividend)].dims == st.inputs[static_cast<size_t>(divisor)].dims) {
        fatal = false;  // same shapes: element by element
        for (size_t k = 0; k < a->size() && k < b->size() && !fatal; ++k)
          fatal = a->at(k) == min_value && b->at(k) == -1;
      } else {  // broadcasting: refused when both values occur anywhere (conservative)
        fatal = a->holds(min_value) && b->holds(-1);
      }
    } else {  // a constant holds its fatal value somewhere (conservative: positions are not compared)
      auto other = view(dividend >= 0 ? dividend : divisor);
      fatal = dividend < 0 && divisor < 0 ? true : (other && other->holds(dividend >= 0 ? min_value : -1));
    }
    if (fatal)
      raise(ErrorKind::kInvalidArgument,
            what + ": the inputs hold " + std::to_string(min_value) +
                " in the dividend and -1 in the divisor; the "
                "runtime's integer kernel would crash the process on that pair (SIGFPE), so the run was refused");
  }
}

void CompiledModel::set_division_guards(const std::vector<std::tuple<size_t, int, int, int, std::string>>& guards) {
  Guard guard(*this);
  for (const auto& g : guards) {
    const int type = std::get<3>(g);
    if (type != kLiteRtElementTypeInt32 && type != kLiteRtElementTypeInt64)
      raise(ErrorKind::kInvalidArgument, "division guards take int32 or int64 operands");
  }
  division_guards_ = guards;
}

// One LiteRtRunCompiledModel; returns false (having grown output buffers) when `may_grow` and a value-dependent
// output needed a larger buffer, so that the caller runs again.
bool CompiledModel::run_once_locked(SignatureState& st, size_t sig, const std::vector<LiteRtTensorBuffer>& ins,
                                    std::vector<LiteRtTensorBuffer>& outs, bool may_grow) {
  LiteRtStatus status;
  const auto t0 = std::chrono::steady_clock::now();
  if (!always_release_gil_ && st.last_run_ns >= 0 && st.last_run_ns < kKeepGilBelowNs) {
    status = LiteRtRunCompiledModel(cm_, sig, ins.size(), const_cast<LiteRtTensorBuffer*>(ins.data()), outs.size(),
                                    const_cast<LiteRtTensorBuffer*>(outs.data()));
  } else {
    nb::gil_scoped_release release;
    status = LiteRtRunCompiledModel(cm_, sig, ins.size(), const_cast<LiteRtTensorBuffer*>(ins.data()), outs.size(),
                                    const_cast<LiteRtTensorBuffer*>(outs.data()));
  }
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  st.last_run_ns = ns;
  last_run_ns_.store(ns, std::memory_order_relaxed);
  if (custom_ops_ && custom_ops_->has_errors())  // the runtime ignores a failing kernel Run: never return its outputs
    raise_custom_op_errors(custom_ops_, "run", status != kLiteRtStatusOk ? take_errors_locked() : std::string());
  if (status != kLiteRtStatusOk && may_grow && grow_dynamic_outputs_locked(st, sig, outs)) return false;
  if (status != kLiteRtStatusOk) {
    std::string errors = take_errors_locked();
    bool strings = false;
    for (const Slot& s : st.outputs) strings = strings || is_string_type(s.type);
    if (strings) {  // the outputs did not fit their buffers: grow them for the next run (strings.h)
      size_t need = required_output_size(errors);
      size_t grown = std::max(need + need / 2, string_output_capacity_ * 8);
      string_output_capacity_ = grown;
      for (Slot& s : st.outputs)
        if (is_string_type(s.type) && s.block) make_string_output_slot(s, make_layout(s.dims), grown);
      throw Error(ErrorKind::kRuntime, static_cast<int>(status),
                  "LiteRtRunCompiledModel failed with " + std::string(litert_sdk_status_name(status)) +
                      (errors.empty() ? "" : ": " + errors) +
                      " (if a string output did not fit its buffer, the "
                      "buffer is now " +
                      std::to_string(grown) +
                      " bytes: run again; the signature did run, so "
                      "variables it updates were updated)");
    }
    check(status, "LiteRtRunCompiledModel", errors);
  }
  return true;
}

void CompiledModel::prepare(size_t sig) {
  Guard guard(*this);
  state(sig);
}

void CompiledModel::invoke(size_t sig) {
  Guard guard(*this);
  run_locked(sig);
}

// Fast path of run(): when every input is a small exact-match buffer (type, shape, C-contiguous), copy them in, run,
// and return the outputs; otherwise None, having changed nothing that the general path does not redo.
nb::object CompiledModel::try_run_exact_locked(size_t sig, nb::handle inputs) {
  SignatureState& st = state(sig);
  const size_t n_in = st.inputs.size();
  if (!st.runnable || !PyList_CheckExact(inputs.ptr())) return nb::none();
  nb::list list = nb::borrow<nb::list>(inputs);
  if (list.size() != n_in) return nb::none();
  for (size_t i = 0; i < n_in; ++i)
    if (st.inputs[i].bytes >= kZeroCopyMinBytes || !try_copy_in_locked(st.inputs[i], list[i].ptr())) return nb::none();
  run_locked(sig);
  nb::list out;
  for (auto& s : st.outputs) out.append(copy_out(s));
  return std::move(out);
}

nb::object CompiledModel::run_exact(size_t sig, nb::handle inputs) {
  Guard guard(*this);
  return try_run_exact_locked(sig, inputs);
}

nb::list CompiledModel::run(size_t sig, nb::list inputs, bool auto_resize) {
  Guard guard(*this);
  SignatureState& st = state(sig);
  const size_t n_in = st.inputs.size();
  nb::object fast = try_run_exact_locked(sig, inputs);
  if (!fast.is_none()) return nb::borrow<nb::list>(fast);
  if (inputs.size() != n_in)
    raise(ErrorKind::kInvalidArgument,
          "signature expects " + std::to_string(n_in) + " inputs, got " + std::to_string(inputs.size()));
  std::vector<nb::ndarray<nb::ro>> arrays;
  arrays.reserve(n_in);
  std::vector<std::pair<std::string, std::vector<int64_t>>> strings(n_in);  // packed string inputs (strings.h)
  for (size_t i = 0; i < n_in; ++i) {
    nb::ndarray<nb::ro> a;
    if (is_string_type(st.inputs[i].type)) {
      parse_packed_strings(inputs[i], st.inputs[i].name, strings[i].first, strings[i].second);
      arrays.push_back(a);
      continue;
    }
    if (!nb::try_cast(inputs[i], a, false))
      raise(ErrorKind::kInvalidArgument, "input '" + st.inputs[i].name + "' must be an array, got " +
                                             std::string(nb::type_name(inputs[i].type()).c_str()));
    arrays.push_back(a);
  }
  // First settle every shape (a resize re-creates all slots of the signature), then copy.
  for (size_t i = 0; i < n_in; ++i) {
    const bool is_str = is_string_type(sigs_[sig].inputs[i].type);
    if (!is_str) check_input_dtype(sigs_[sig].inputs[i], i, arrays[i]);
    std::vector<int64_t> dims = is_str ? strings[i].second : array_dims(arrays[i]);
    if (dims != sigs_[sig].inputs[i].dims) {
      if (!auto_resize)
        raise(ErrorKind::kInvalidArgument, "input '" + sigs_[sig].inputs[i].name + "' expects shape " +
                                               dims_to_string(sigs_[sig].inputs[i].dims) + ", got " +
                                               dims_to_string(dims));
      resize_locked(sig, i, dims, true);
    }
  }
  // Zero-copy: a C-contiguous, 64-byte aligned array of at least kZeroCopyMinBytes is bound directly (wrapped
  // in a temporary tensor buffer); anything else is copied once into the input's aligned slot.
  struct TempBuffers {
    std::vector<LiteRtTensorBuffer> v;
    ~TempBuffers() {
      for (auto b : v)
        if (b) LiteRtDestroyTensorBuffer(b);
    }
  } temp;
  temp.v.assign(n_in, nullptr);
  for (size_t i = 0; i < n_in; ++i) {
    Slot& slot = sigs_[sig].inputs[i];
    if (is_string_type(slot.type)) {
      fill_string_input_slot(slot, strings[i].first.data(), strings[i].first.size());
      continue;
    }
    const auto& a = arrays[i];
    const bool aligned = (reinterpret_cast<uintptr_t>(a.data()) % LITERT_SDK_HOST_MEMORY_ALIGNMENT) == 0;
    if (aligned && slot.buffer && slot.bytes >= kZeroCopyMinBytes && is_c_contiguous(a)) {
      LiteRtRankedTensorType rtt;
      std::memset(&rtt, 0, sizeof(rtt));
      rtt.element_type = slot.type;
      rtt.layout = make_layout(slot.dims);
      LiteRtTensorBuffer b = nullptr;
      if (LiteRtCreateTensorBufferFromHostMemory(&rtt, const_cast<void*>(a.data()), slot.bytes, nullptr, &b) ==
          kLiteRtStatusOk) {
        temp.v[i] = b;
        continue;
      }
    }
    copy_in_locked(sig, i, a, false);
  }
  run_locked(sig, &temp.v);
  nb::list out;
  for (auto& s : sigs_[sig].outputs) out.append(is_string_type(s.type) ? string_slot_array(s) : copy_out(s));
  return out;
}

void CompiledModel::set_shape_hook(nb::object hook) {
  Guard guard(*this);
  shape_hook_ = std::move(hook);
  for (SignatureState& st : sigs_) st.ready = false;  // laid out again on next use, with the hook's shapes
}

bool CompiledModel::is_fully_accelerated() {
  Guard guard(*this);
  ensure_open();
  bool full = false;
  check(LiteRtCompiledModelIsFullyAccelerated(cm_, &full), "LiteRtCompiledModelIsFullyAccelerated");
  return full;
}

std::string CompiledModel::error_messages() {
  Guard guard(*this);
  ensure_open();
  return take_errors_locked();
}

void bind_compiled_model(nb::module_& m) {
  nb::class_<CompiledModel>(m, "CompiledModel", "A model compiled for the chosen accelerators (LiteRtCompiledModel).")
      .def(nb::init<const Model&, const Options&>(), nb::arg("model"), nb::arg("options"))
      .def("close", &CompiledModel::close)
      .def_prop_ro("closed", &CompiledModel::closed)
      .def(
          "check_usable",
          [](CompiledModel& cm) {
            CompiledModel::Guard guard(cm);
            if (cm.closed()) raise(ErrorKind::kClosed, "the compiled model is closed");
          },
          "Raise ClosedError (closed, or inherited across fork()) or ReentrantCallError (called from one of this "
          "model's kernels) where other calls would.")
      .def("set_always_release_gil", &CompiledModel::set_always_release_gil, nb::arg("on"),
           "Release the GIL on every run (models with control flow), not only on runs longer than about 20 us.")
      .def_prop_ro("num_signatures", &CompiledModel::num_signatures)
      .def("input_shape", &CompiledModel::input_shape, nb::arg("signature"), nb::arg("index"))
      .def("output_shape", &CompiledModel::output_shape, nb::arg("signature"), nb::arg("index"))
      .def("runtime_output_shapes", &CompiledModel::runtime_output_shapes, nb::arg("signature"))
      .def("resize_input", &CompiledModel::resize_input, nb::arg("signature"), nb::arg("index"), nb::arg("shape"),
           nb::arg("strict") = true)
      .def("set_input", &CompiledModel::set_input, nb::arg("signature"), nb::arg("index"), nb::arg("array"))
      .def_prop_ro("last_run_us", &CompiledModel::last_run_us, "Wall time of the last run in microseconds.")
      .def("set_input_strings", &CompiledModel::set_input_strings, nb::arg("signature"), nb::arg("index"),
           nb::arg("packed"), nb::arg("shape"))
      .def("get_input", &CompiledModel::get_input, nb::arg("signature"), nb::arg("index"))
      .def("input_view", &CompiledModel::input_view, nb::arg("signature"), nb::arg("index"))
      .def("output_view", &CompiledModel::output_view, nb::arg("signature"), nb::arg("index"))
      .def("get_output", &CompiledModel::get_output, nb::arg("signature"), nb::arg("index"))
      .def("set_division_guards", &CompiledModel::set_division_guards, nb::arg("guards"),
           "Refuse runs whose inputs hold INT_MIN / -1 for these integer divisions (see compiled_model.h).")
      .def("invoke", &CompiledModel::invoke, nb::arg("signature"))
      .def("prepare", &CompiledModel::prepare, nb::arg("signature"), "Allocate the signature's buffers now.")
      .def("set_shape_hook", &CompiledModel::set_shape_hook, nb::arg("hook").none())
      .def("run", &CompiledModel::run, nb::arg("signature"), nb::arg("inputs"), nb::arg("auto_resize") = true)
      .def(
          "run_exact", &CompiledModel::run_exact, nb::arg("signature"), nb::arg("inputs").none(),
          "run() when `inputs` is a list of exact-match arrays (small, C-contiguous, same dtype and shape), else None.")
      .def("is_fully_accelerated", &CompiledModel::is_fully_accelerated)
      .def("run_host_buffers", &CompiledModel::run_host_buffers, nb::arg("signature"), nb::arg("inputs"),
           nb::arg("outputs"), "Run on caller-owned, 64-byte aligned byte views (zero-copy), in signature order.")
      .def("host_buffer_bytes", &CompiledModel::host_buffer_bytes, nb::arg("signature"), nb::arg("index"),
           nb::arg("output"), "Bytes a host buffer for this input/output needs at its current shape.")
      .def("error_messages", &CompiledModel::error_messages);
}

}  // namespace litert_sdk
