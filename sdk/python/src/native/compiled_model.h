#pragma once

#include <tuple>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
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
  bool empty = false;  // a zero-size shape: no elements, no runtime buffer (the runtime refuses zero-size tensors)
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
  // Outputs whose shape only the run tells (the shape hook gave a capacity, not a shape): their buffers have room
  // for `capacity` elements, grow when the runtime needs more, and take the runtime's shape after each run.
  std::vector<char> dynamic;
  bool has_dynamic = false;
  // Zero-size inputs (a batch of 0): libLiteRt refuses zero-size dimensions, so the runtime keeps the shape with
  // each 0 as 1 and the SDK answers the run itself when the shape hook shows every output empty (no elements to
  // compute); otherwise `empty_error` says why the run cannot be answered.
  std::vector<std::vector<int64_t>> zero_dims;  // per input: its zero-size shape, or empty when it has none
  bool empty = false;
  std::string empty_error;
  int64_t last_run_ns = -1;  // duration of the last run of this signature (-1: never run)
};

class CompiledModel {
 public:
  CompiledModel(const Model& model, const Options& options);
  ~CompiledModel();
  CompiledModel(const CompiledModel&) = delete;
  CompiledModel& operator=(const CompiledModel&) = delete;

  // Never waits for a call in progress (e.g. a run stuck in an endless WHILE loop): the model is marked closed at
  // once and the call in progress frees the runtime's objects when it returns. Raises ReentrantCallError from a
  // custom-op kernel of this model, which runs inside one of its calls.
  void close();
  bool closed() const { return closed_.load() || forked_since(fork_gen_); }
  // Whether every run releases the GIL (models with control flow, whose run time depends on the data: a WHILE
  // loop that never ends must not hold the GIL). Otherwise runs that took less than about 20 us keep it.
  void set_always_release_gil(bool on) { always_release_gil_ = on; }
  size_t num_signatures() const { return sigs_.size(); }

  std::vector<int64_t> input_shape(size_t sig, size_t index);
  std::vector<int64_t> output_shape(size_t sig, size_t index);
  // The runtime's own current output shapes (after a run: what the kernels resized them to).
  std::vector<std::vector<int64_t>> runtime_output_shapes(size_t sig);
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

  // Runs on caller-owned host memory (compiled_model_host_buffers.cc): byte views, 64-byte aligned, one per input
  // and output in signature order, bound without copies with the tensors' current layouts.
  using HostBytesIn = nb::ndarray<const uint8_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
  using HostBytesOut = nb::ndarray<uint8_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
  void run_host_buffers(size_t sig, const std::vector<HostBytesIn>& inputs, const std::vector<HostBytesOut>& outputs);
  // Bytes a host buffer for input/output `index` of `sig` must have at its current shape.
  size_t host_buffer_bytes(size_t sig, size_t index, bool output);
  std::string error_messages();
  // Output shapes the SDK computes itself (litert_sdk._shapes): `hook(signature, input_shapes)` returns, per output,
  // the shape the kernels will produce, None where the runtime's layout stands, or an int: a capacity in elements
  // for an output whose shape depends on tensor values (its shape is read back from the runtime after each run). Called
  // whenever a signature's slots are laid out (first use and every resize); the runtime keeps output layouts from
  // before a resize when shapes flow through shape operators, so output buffers are sized from the hook's shapes. None
  // removes it.
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

  // Holds mu_ for one call: refuses use after fork() (ClosedError) and re-entrant calls from this model's own
  // kernels (ReentrantCallError), waits for the mutex with the GIL released, and on exit carries out a close()
  // that arrived during the call (public for the bindings).
  class Guard {
   public:
    explicit Guard(CompiledModel& cm);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    CompiledModel& cm_;
  };

 private:
  void check_usable_here() const;  // not forked, not re-entrant (raises)
  void release_locked();  // frees the runtime's objects (mu_ held, GIL held)
  void forget();  // drops the handles without calling the runtime (fork child)
  Slot& slot_with_buffer_locked(size_t sig, size_t index, bool output);
  nb::object slot_array(size_t sig, size_t index, bool output, bool copy);
  void ensure_open() const;
  SignatureState& state(size_t sig);  // validates `sig`, allocates slots on first use
  void allocate_locked(size_t sig);
  void lay_out_empty_locked(size_t sig);
  void resize_locked(size_t sig, size_t index, const std::vector<int64_t>& dims, bool strict);
  void copy_in_locked(size_t sig, size_t index, const nb::ndarray<nb::ro>& array, bool auto_resize);
  void run_locked(size_t sig, const std::vector<LiteRtTensorBuffer>* input_override = nullptr);
  void run_buffers_locked(SignatureState& st, size_t sig, const std::vector<LiteRtTensorBuffer>& ins,
                          const std::vector<LiteRtTensorBuffer>& outs);
  bool run_once_locked(SignatureState& st, size_t sig, const std::vector<LiteRtTensorBuffer>& ins,
                       std::vector<LiteRtTensorBuffer>& outs, bool may_grow);
  bool try_copy_in_locked(Slot& slot, PyObject* value);
  nb::object try_run_exact_locked(size_t sig, nb::handle inputs);
  static nb::object copy_out(Slot& slot);  // a new numpy array holding the slot's contents
  std::string take_errors_locked();
  bool grow_dynamic_outputs_locked(SignatureState& st, size_t sig, std::vector<LiteRtTensorBuffer>& outs);
  void read_dynamic_shapes_locked(SignatureState& st, size_t sig);

  ModelPtr model_;
  SessionPtr custom_ops_;  // custom-op kernel instances and the failures they report (outlives cm_)
  LiteRtCompiledModel cm_ = nullptr;
  std::timed_mutex mu_;  // timed: a waiter gives up when the model is closed meanwhile
  std::atomic<std::thread::id> owner_{};  // the thread holding mu_ (default id: none)
  std::atomic<bool> closed_{false};
  bool always_release_gil_ = false;
  uint64_t fork_gen_ = fork_generation();
  std::atomic<int64_t> last_run_ns_{0};
  std::vector<SignatureState> sigs_;
  std::vector<std::vector<LiteRtElementType>> in_types_, out_types_;
  std::vector<std::vector<std::string>> in_names_, out_names_;
  size_t string_output_capacity_ = size_t{1} << 20;
  std::vector<std::tuple<size_t, int, int, int, std::string>> division_guards_;  // see set_division_guards
  void check_division_guards_locked(size_t sig, const std::vector<LiteRtTensorBuffer>& ins);
  nb::object
      shape_hook_;  // see set_shape_hook  // host buffer size of string outputs (strings.h), grown when one needs more
};

void bind_compiled_model(nb::module_& m);

}  // namespace litert_sdk
