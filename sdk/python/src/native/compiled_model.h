#pragma once

#include <tuple>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "model.h"
#include "options.h"

namespace litert_sdk {

// One input or output of a signature: its element type, current shape and a reusable 64-byte aligned host buffer
// registered with the runtime.
struct Slot {
  std::string name;
  LiteRtElementType type = kLiteRtElementTypeNone;
  std::vector<int64_t> dims;
  size_t bytes = 0;
  BlockPtr block;
  LiteRtTensorBuffer buffer = nullptr;
  nb::object view;  // read-only numpy view over `block`, made on first copy-out (copies are `view.copy()`)
  void release();   // needs the GIL (drops `view`)
};

struct SignatureState {
  bool ready = false;
  std::string allocation_error;  // why the outputs could not be laid out for the current input shapes
  std::vector<Slot> inputs;
  std::vector<Slot> outputs;
  // The slots' tensor buffers in signature order, as LiteRtRunCompiledModel takes them; `runnable` when every
  // buffer exists and the outputs could be laid out (set by allocate_locked).
  std::vector<LiteRtTensorBuffer> in_buffers, out_buffers;
  bool runnable = false;
  int64_t last_run_ns = -1;  // duration of the last run of this signature (-1: never run)
};

class CompiledModel {
 public:
  CompiledModel(const Model& model, const Options& options);
  ~CompiledModel();
  CompiledModel(const CompiledModel&) = delete;
  CompiledModel& operator=(const CompiledModel&) = delete;

  void close();
  bool closed() const { return cm_ == nullptr; }
  size_t num_signatures() const { return sigs_.size(); }

  std::vector<int64_t> input_shape(size_t sig, size_t index);
  std::vector<int64_t> output_shape(size_t sig, size_t index);
  void resize_input(size_t sig, size_t index, const std::vector<int64_t>& dims, bool strict);

  // `value`: anything nanobind can take as an ndarray (a TypeError otherwise).
  void set_input(size_t sig, size_t index, nb::handle value);
  void set_input_strings(size_t sig, size_t index, nb::bytes packed, const std::vector<int64_t>& dims);  // strings.h
  nb::object input_view(size_t sig, size_t index);
  nb::object output_view(size_t sig, size_t index);
  nb::object get_output(size_t sig, size_t index);
  nb::object get_input(size_t sig, size_t index);
  void invoke(size_t sig);
  void prepare(size_t sig);
  nb::list run(size_t sig, nb::list inputs, bool auto_resize);
  nb::object run_exact(size_t sig, nb::handle inputs);

  bool is_fully_accelerated();
  std::string error_messages();
  // Output shapes the SDK computes itself (litert_sdk._shapes): `hook(signature, input_shapes)` returns, per output,
  // the shape the kernels will produce, or None where the runtime's layout stands. Called whenever a signature's
  // slots are laid out (first use and every resize); the runtime keeps output layouts from before a resize when
  // shapes flow through shape operators, so output buffers are sized from the hook's shapes. None removes it.
  void set_shape_hook(nb::object hook);
  // Integer divisions the kernels cannot survive (FLOOR_MOD of INT_MIN by -1 raises SIGFPE) whose operands are
  // signature inputs (litert_sdk._kernel_rules.division_guards): (signature, dividend input or -1, divisor input or
  // -1, element type, description). -1 stands for a constant that holds the fatal value. Before each run of the
  // signature the inputs are scanned; a run that holds the fatal pair raises InvalidArgumentError instead: element
  // by element when both operands are inputs of one shape, else when each fatal value occurs anywhere.
  void set_division_guards(const std::vector<std::tuple<size_t, int, int, int, std::string>>& guards);
  // Wall time of the last run (any signature) in microseconds; 0 before the first run.
  double last_run_us() const { return static_cast<double>(last_run_ns_.load(std::memory_order_relaxed)) / 1000.0; }

  // Fast paths for the Interpreter's native hot path (interpreter_fast_path.cc). They return false, without side
  // effects, when `value` is not an exact match for the slot (dtype, shape, C-contiguous buffer); the caller then
  // takes the general path, which converts or raises the precise error.
  bool try_set_input(size_t sig, size_t index, PyObject* value);
  // set input `in_index`, run, then copy output `out_index` into `out` (a writable, exact-match buffer) or, when
  // `out` is null, into a new array stored in `result`.
  bool try_run_single(size_t sig, size_t in_index, PyObject* value, size_t out_index, PyObject* out,
                      nb::object& result);

 private:
  void lock(std::unique_lock<std::mutex>& lk);
  Slot& slot_with_buffer_locked(size_t sig, size_t index, bool output);
  nb::object slot_array(size_t sig, size_t index, bool output, bool copy);
  void ensure_open() const;
  SignatureState& state(size_t sig);  // validates `sig`, allocates slots on first use
  void allocate_locked(size_t sig);
  void resize_locked(size_t sig, size_t index, const std::vector<int64_t>& dims, bool strict);
  void copy_in_locked(size_t sig, size_t index, const nb::ndarray<nb::ro>& array, bool auto_resize);
  void run_locked(size_t sig, const std::vector<LiteRtTensorBuffer>* input_override = nullptr);
  void run_buffers_locked(SignatureState& st, size_t sig, const std::vector<LiteRtTensorBuffer>& ins,
                          const std::vector<LiteRtTensorBuffer>& outs);
  bool try_copy_in_locked(Slot& slot, PyObject* value);
  nb::object try_run_exact_locked(size_t sig, nb::handle inputs);
  static nb::object copy_out(Slot& slot);  // a new numpy array holding the slot's contents
  std::string take_errors_locked();

  ModelPtr model_;
  SessionPtr custom_ops_;  // custom-op kernel instances and the failures they report (outlives cm_)
  LiteRtCompiledModel cm_ = nullptr;
  std::mutex mu_;
  std::atomic<int64_t> last_run_ns_{0};
  std::vector<SignatureState> sigs_;
  std::vector<std::vector<LiteRtElementType>> in_types_, out_types_;
  std::vector<std::vector<std::string>> in_names_, out_names_;
  size_t string_output_capacity_ = size_t{1} << 20;
  std::vector<std::tuple<size_t, int, int, int, std::string>> division_guards_;  // see set_division_guards
  void check_division_guards_locked(size_t sig, const std::vector<LiteRtTensorBuffer>& ins);
  nb::object shape_hook_;  // see set_shape_hook  // host buffer size of string outputs (strings.h), grown when one needs more
};

void bind_compiled_model(nb::module_& m);

}  // namespace litert_sdk
