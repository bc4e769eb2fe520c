// Binding: litert_sdk._native.InterpreterFastPath, the Interpreter's hot methods in native code.
//
// tflite_runtime programs call set_tensor / invoke / get_tensor (and flutter_litert's run) in tight loops. Once the
// model is compiled, the Python Interpreter installs these bound methods as instance attributes, so such calls go
// straight to C++: an exact-match numpy array is copied into its slot, the run keeps the GIL when it is short, and
// results are copied out with numpy's own copy. Anything else (other index types, conversions, errors, tensors that
// are not inputs/outputs) is handed to the Python method of the Interpreter class, which implements the full
// semantics; the fast path never decides an error on its own.
//
// The object holds the compiled model, a weak reference to the Interpreter (no reference cycle through the
// instance dict) and the class's plain functions for the general path. Once its compiled model is closed (the
// interpreter was closed, or reset_all_variables() recompiled it) every call takes the general path, so a bound method
// kept in a local variable still reaches the interpreter's current model.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/vector.h>

#include <utility>
#include <vector>

#include "compiled_model.h"

namespace litert_sdk {

namespace {

class InterpreterFastPath {
 public:
  InterpreterFastPath(nb::object compiled, size_t signature, std::vector<std::pair<int64_t, size_t>> inputs,
                      std::vector<std::pair<int64_t, size_t>> outputs, std::vector<size_t> run_slots,
                      nb::object ndarray_type, nb::object owner, nb::object general)
      : compiled_(std::move(compiled)), cm_(nb::cast<CompiledModel*>(compiled_)), sig_(signature),
        inputs_(std::move(inputs)), outputs_(std::move(outputs)), run_slots_(std::move(run_slots)),
        ndarray_type_(std::move(ndarray_type)), owner_(std::move(owner)), general_(std::move(general)) {}

  // A ClosedError from a compiled model that was closed during the call (reset_all_variables() recompiled the model
  // in another thread) is not the caller's: the general path then uses the interpreter's current model.
  bool closed_meanwhile(const Error& e) const { return e.kind == ErrorKind::kClosed && cm_->closed(); }

  nb::object set_tensor(nb::handle tensor_index, nb::handle value) {
    size_t slot;
    try {
      if (!cm_->closed() && is_ndarray(value) && find(inputs_, tensor_index, slot) &&
          cm_->try_set_input(sig_, slot, value.ptr()))
        return nb::none();
    } catch (const Error& e) {
      if (!closed_meanwhile(e)) throw;
    }
    return general("set_tensor")(owner(), tensor_index, value);
  }

  nb::object get_tensor(nb::handle tensor_index, nb::handle subgraph_index) {
    size_t slot;
    try {
      if (!cm_->closed() && is_zero(subgraph_index)) {
        if (find(outputs_, tensor_index, slot)) return cm_->get_output(sig_, slot);
        if (find(inputs_, tensor_index, slot)) return cm_->get_input(sig_, slot);
      }
    } catch (const Error& e) {
      if (!closed_meanwhile(e)) throw;
    }
    return general("get_tensor")(owner(), tensor_index, subgraph_index);
  }

  nb::object invoke() {
    try {
      if (!cm_->closed()) {
        cm_->invoke(sig_);
        return nb::none();
      }
    } catch (const Error& e) {
      if (!closed_meanwhile(e)) throw;
    }
    return general("invoke")(owner());
  }

  // flutter_litert's run(input, output=None): one input, output 0.
  nb::object run(nb::handle input, nb::handle output) {
    nb::object result;
    const bool has_out = !output.is_none();
    try {
      if (!cm_->closed() && run_slots_.size() == 2 && is_ndarray(input) && (!has_out || is_ndarray(output)) &&
          cm_->try_run_single(sig_, run_slots_[0], input.ptr(), run_slots_[1], has_out ? output.ptr() : nullptr,
                              result))
        return result;
    } catch (const Error& e) {
      if (!closed_meanwhile(e)) throw;
    }
    return general("run")(owner(), input, output);
  }

 private:
  bool is_ndarray(nb::handle h) const { return h.type().ptr() == ndarray_type_.ptr(); }

  static bool is_zero(nb::handle h) {
    if (!PyLong_CheckExact(h.ptr())) return false;
    int overflow = 0;
    return PyLong_AsLongLongAndOverflow(h.ptr(), &overflow) == 0 && !overflow;
  }

  static bool find(const std::vector<std::pair<int64_t, size_t>>& map, nb::handle index, size_t& slot) {
    if (!PyLong_CheckExact(index.ptr())) return false;  // bool, numpy integers...: the general path
    int overflow = 0;
    long long t = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
    if (overflow || (t == -1 && PyErr_Occurred())) {
      PyErr_Clear();
      return false;
    }
    for (const auto& [tensor, s] : map)
      if (tensor == t) {
        slot = s;
        return true;
      }
    return false;
  }

  nb::object owner() const {
    nb::object o = owner_();  // weakref.ref call
    if (o.is_none()) raise(ErrorKind::kClosed, "the interpreter no longer exists");
    return o;
  }

  nb::object general(const char* name) const { return general_.attr(name); }

  nb::object compiled_;  // keeps the native CompiledModel alive
  CompiledModel* cm_;
  size_t sig_;
  std::vector<std::pair<int64_t, size_t>> inputs_, outputs_;  // tensor index -> slot of the signature
  std::vector<size_t> run_slots_;  // {input slot, output slot} for run(), if it has one input
  nb::object ndarray_type_, owner_, general_;
};

}  // namespace

void bind_interpreter_fast_path(nb::module_& m) {
  nb::class_<InterpreterFastPath>(m, "InterpreterFastPath",
                                  "Native set_tensor/get_tensor/invoke/run of an Interpreter (internal).")
      .def(nb::init<nb::object, size_t, std::vector<std::pair<int64_t, size_t>>,
                    std::vector<std::pair<int64_t, size_t>>, std::vector<size_t>, nb::object, nb::object, nb::object>(),
           nb::arg("compiled"), nb::arg("signature"), nb::arg("inputs"), nb::arg("outputs"), nb::arg("run_slots"),
           nb::arg("ndarray_type"), nb::arg("owner"), nb::arg("general"))
      .def("set_tensor", &InterpreterFastPath::set_tensor, nb::arg("tensor_index").none(), nb::arg("value").none())
      .def("get_tensor", &InterpreterFastPath::get_tensor, nb::arg("tensor_index").none(),
           nb::arg("subgraph_index").none() = 0)
      .def("invoke", &InterpreterFastPath::invoke)
      .def("run", &InterpreterFastPath::run, nb::arg("input").none(), nb::arg("output").none() = nb::none());
}

}  // namespace litert_sdk
