// Direct numpy array access for hot paths (see numpy_access.h).
#include "numpy_access.h"

#include <atomic>
#include <cstdint>

namespace litert_sdk {

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
