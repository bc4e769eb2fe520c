/* floor_binding: the thinnest Python binding of LiteRtRunCompiledModel we can write, to show what a binding on this
 * runtime can reach for a tiny model's round trip. Not part of the SDK: a measuring stick for the benchmarks.
 *
 * Built by sdk/python/benchmarks/run_all.py (C11, CPython + numpy C APIs, our ABI header, libLiteRt):
 *   cc -O2 -shared -fPIC -I<python include> -I<numpy include> -I runtime/include floor_binding.c -lLiteRt
 *
 *   m = _litert_floor.Model(path, num_threads)       # signature 0, dynamic dims resized to 1, aligned slots bound
 *   m.set_input(i, array)    memcpy a C-contiguous array of the right dtype/size into input slot i
 *   m.invoke()               LiteRtRunCompiledModel, GIL held (what a tiny model wants)
 *   m.invoke_nogil()         the same with the GIL released around the run (what big models need)
 *   m.get_output(i)          a new numpy array (PyArray_SimpleNew + memcpy)
 *   m.run(x, out)            fused round trip for 1 input / 1 output: copy in, run (GIL held), copy into `out`
 * No locking, one signature, no resize after construction: only the work a round trip cannot avoid.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <stdlib.h>
#include <string.h>

#include <litert_sdk/litert_c_abi.h>

#define MAX_IO 16

typedef struct {
  LiteRtElementType type;
  LiteRtLayout layout;
  size_t bytes;
  void* data;
  LiteRtTensorBuffer buffer;
  int npy_type;
  int ndim;
  npy_intp dims[LITERT_SDK_TENSOR_MAX_RANK];
} Slot;

typedef struct {
  PyObject_HEAD
  LiteRtEnvironment env;
  LiteRtModel model;
  LiteRtCompiledModel cm;
  size_t n_in, n_out;
  Slot in[MAX_IO], out[MAX_IO];
  LiteRtTensorBuffer in_bufs[MAX_IO], out_bufs[MAX_IO];
} FloorModel;

static int npy_of(LiteRtElementType t, size_t* size) {
  switch (t) {
    case kLiteRtElementTypeFloat32: *size = 4; return NPY_FLOAT32;
    case kLiteRtElementTypeInt32: *size = 4; return NPY_INT32;
    case kLiteRtElementTypeInt8: *size = 1; return NPY_INT8;
    case kLiteRtElementTypeUInt8: *size = 1; return NPY_UINT8;
    case kLiteRtElementTypeInt64: *size = 8; return NPY_INT64;
    case kLiteRtElementTypeInt16: *size = 2; return NPY_INT16;
    case kLiteRtElementTypeBool: *size = 1; return NPY_BOOL;
    case kLiteRtElementTypeFloat16: *size = 2; return NPY_FLOAT16;
    default: *size = 0; return -1;
  }
}

static int fail(const char* what, LiteRtStatus s) {
  PyErr_Format(PyExc_RuntimeError, "%s failed: %s", what, litert_sdk_status_name(s));
  return -1;
}

static LiteRtElementType element_type(LiteRtTensor t) {
  LiteRtTensorTypeId id;
  if (LiteRtGetTensorTypeId(t, &id) != kLiteRtStatusOk) return kLiteRtElementTypeNone;
  if (id == kLiteRtRankedTensorType) {
    LiteRtRankedTensorType rt;
    memset(&rt, 0, sizeof(rt));
    if (LiteRtGetRankedTensorType(t, &rt) != kLiteRtStatusOk) return kLiteRtElementTypeNone;
    return rt.element_type;
  }
  LiteRtUnrankedTensorType ut;
  if (LiteRtGetUnrankedTensorType(t, &ut) != kLiteRtStatusOk) return kLiteRtElementTypeNone;
  return ut.element_type;
}

static int bind_slot(Slot* s) {
  size_t esize = 0, n = 1;
  s->npy_type = npy_of(s->type, &esize);
  if (s->npy_type < 0) {
    PyErr_SetString(PyExc_TypeError, "element type not supported by floor_binding");
    return -1;
  }
  s->ndim = (int)s->layout.rank;
  for (int d = 0; d < s->ndim; ++d) {
    s->dims[d] = s->layout.dimensions[d];
    n *= (size_t)s->layout.dimensions[d];
  }
  s->bytes = n * esize;
  size_t rounded = (s->bytes + 63) / 64 * 64;
  s->data = aligned_alloc(LITERT_SDK_HOST_MEMORY_ALIGNMENT, rounded ? rounded : 64);
  if (!s->data) {
    PyErr_NoMemory();
    return -1;
  }
  memset(s->data, 0, rounded ? rounded : 64);
  LiteRtRankedTensorType rtt;
  memset(&rtt, 0, sizeof(rtt));
  rtt.element_type = s->type;
  rtt.layout = s->layout;
  rtt.layout.has_strides = 0;
  LiteRtStatus st = LiteRtCreateTensorBufferFromHostMemory(&rtt, s->data, s->bytes, NULL, &s->buffer);
  return st == kLiteRtStatusOk ? 0 : fail("LiteRtCreateTensorBufferFromHostMemory", st);
}

static int add_opaque(LiteRtOptions options, const char* id, const char* text) {
  size_t len = strlen(text) + 1;
  char* payload = (char*)malloc(len);
  memcpy(payload, text, len);
  LiteRtOpaqueOptions o = NULL;
  LiteRtStatus st = LiteRtCreateOpaqueOptions(id, payload, free, &o);
  if (st != kLiteRtStatusOk) return fail("LiteRtCreateOpaqueOptions", st);
  st = LiteRtAddOpaqueOptions(options, o);
  return st == kLiteRtStatusOk ? 0 : fail("LiteRtAddOpaqueOptions", st);
}

static int FloorModel_init(FloorModel* self, PyObject* args, PyObject* kw) {
  const char* path;
  int threads = 1;
  static char* kwlist[] = {"path", "num_threads", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "s|i", kwlist, &path, &threads)) return -1;
  LiteRtEnvOption sev;
  memset(&sev, 0, sizeof(sev));
  sev.tag = kLiteRtEnvOptionTagMinLoggerSeverity;
  sev.value.type = kLiteRtAnyTypeInt;
  sev.value.int_value = kLiteRtLogSeveritySilent;
  LiteRtStatus st = LiteRtCreateEnvironment(1, &sev, &self->env);
  if (st != kLiteRtStatusOk) return fail("LiteRtCreateEnvironment", st);
  if ((st = LiteRtCreateModelFromFile(self->env, path, &self->model)) != kLiteRtStatusOk)
    return fail("LiteRtCreateModelFromFile", st);
  LiteRtOptions options = NULL;
  if ((st = LiteRtCreateOptions(&options)) != kLiteRtStatusOk) return fail("LiteRtCreateOptions", st);
  LiteRtSetOptionsHardwareAccelerators(options, kLiteRtHwAcceleratorCpu);
  char cpu[64];
  snprintf(cpu, sizeof(cpu), "num_threads = %d\n", threads);
  if (add_opaque(options, LITERT_SDK_CPU_OPTIONS_ID, cpu) ||
      add_opaque(options, LITERT_SDK_RUNTIME_OPTIONS_ID, "error_reporter_mode = 2\n"))
    return -1;
  st = LiteRtCreateCompiledModel(self->env, self->model, options, &self->cm);
  LiteRtDestroyOptions(options);
  if (st != kLiteRtStatusOk) return fail("LiteRtCreateCompiledModel", st);

  LiteRtSignature sig = NULL;
  LiteRtParamIndex n_in = 0, n_out = 0;
  LiteRtGetModelSignature(self->model, 0, &sig);
  LiteRtGetNumSignatureInputs(sig, &n_in);
  LiteRtGetNumSignatureOutputs(sig, &n_out);
  if (n_in > MAX_IO || n_out > MAX_IO) {
    PyErr_SetString(PyExc_ValueError, "too many inputs/outputs for floor_binding");
    return -1;
  }
  self->n_in = n_in;
  self->n_out = n_out;
  for (size_t i = 0; i < n_in; ++i) {
    LiteRtTensor t = NULL;
    LiteRtGetSignatureInputTensorByIndex(sig, i, &t);
    self->in[i].type = element_type(t);
    LiteRtGetCompiledModelInputTensorLayout(self->cm, 0, i, &self->in[i].layout);
    int dims[LITERT_SDK_TENSOR_MAX_RANK], dynamic = 0;
    for (unsigned d = 0; d < self->in[i].layout.rank; ++d) {
      dims[d] = self->in[i].layout.dimensions[d] < 0 ? 1 : self->in[i].layout.dimensions[d];
      dynamic |= self->in[i].layout.dimensions[d] < 0;
    }
    if (dynamic) {
      if ((st = LiteRtCompiledModelResizeInputTensor(self->cm, 0, i, dims, self->in[i].layout.rank)) != kLiteRtStatusOk)
        return fail("LiteRtCompiledModelResizeInputTensor", st);
      LiteRtGetCompiledModelInputTensorLayout(self->cm, 0, i, &self->in[i].layout);
    }
  }
  LiteRtLayout layouts[MAX_IO];
  memset(layouts, 0, sizeof(layouts));
  if (n_out && (st = LiteRtGetCompiledModelOutputTensorLayouts(self->cm, 0, n_out, layouts, true)) != kLiteRtStatusOk)
    return fail("LiteRtGetCompiledModelOutputTensorLayouts", st);
  for (size_t i = 0; i < n_out; ++i) {
    LiteRtTensor t = NULL;
    LiteRtGetSignatureOutputTensorByIndex(sig, i, &t);
    self->out[i].type = element_type(t);
    self->out[i].layout = layouts[i];
  }
  for (size_t i = 0; i < n_in; ++i) {
    if (bind_slot(&self->in[i])) return -1;
    self->in_bufs[i] = self->in[i].buffer;
  }
  for (size_t i = 0; i < n_out; ++i) {
    if (bind_slot(&self->out[i])) return -1;
    self->out_bufs[i] = self->out[i].buffer;
  }
  return 0;
}

static void FloorModel_dealloc(FloorModel* self) {
  for (size_t i = 0; i < self->n_in; ++i) {
    if (self->in[i].buffer) LiteRtDestroyTensorBuffer(self->in[i].buffer);
    free(self->in[i].data);
  }
  for (size_t i = 0; i < self->n_out; ++i) {
    if (self->out[i].buffer) LiteRtDestroyTensorBuffer(self->out[i].buffer);
    free(self->out[i].data);
  }
  if (self->cm) LiteRtDestroyCompiledModel(self->cm);
  if (self->model) LiteRtDestroyModel(self->model);
  if (self->env) LiteRtDestroyEnvironment(self->env);
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static inline int copy_in(Slot* s, PyObject* obj) {
  if (!PyArray_Check(obj)) {
    PyErr_SetString(PyExc_TypeError, "expected a numpy array");
    return -1;
  }
  PyArrayObject* a = (PyArrayObject*)obj;
  if (PyArray_TYPE(a) != s->npy_type || (size_t)PyArray_NBYTES(a) != s->bytes || !PyArray_IS_C_CONTIGUOUS(a)) {
    PyErr_SetString(PyExc_ValueError, "array dtype/size/layout does not match the input");
    return -1;
  }
  memcpy(s->data, PyArray_DATA(a), s->bytes);
  return 0;
}

static inline int run(FloorModel* self, int release_gil) {
  LiteRtStatus st;
  if (release_gil) {
    Py_BEGIN_ALLOW_THREADS
    st = LiteRtRunCompiledModel(self->cm, 0, self->n_in, self->in_bufs, self->n_out, self->out_bufs);
    Py_END_ALLOW_THREADS
  } else {
    st = LiteRtRunCompiledModel(self->cm, 0, self->n_in, self->in_bufs, self->n_out, self->out_bufs);
  }
  return st == kLiteRtStatusOk ? 0 : fail("LiteRtRunCompiledModel", st);
}

static int index_arg(PyObject* o, size_t n) {
  long i = PyLong_AsLong(o);
  if (i == -1 && PyErr_Occurred()) return -1;
  if (i < 0 || (size_t)i >= n) {
    PyErr_SetString(PyExc_IndexError, "index out of range");
    return -1;
  }
  return (int)i;
}

static PyObject* FloorModel_set_input(FloorModel* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) return PyErr_Format(PyExc_TypeError, "set_input(index, array)");
  int i = index_arg(args[0], self->n_in);
  if (i < 0 || copy_in(&self->in[i], args[1])) return NULL;
  Py_RETURN_NONE;
}

static PyObject* FloorModel_invoke(FloorModel* self, PyObject* unused) {
  (void)unused;
  if (run(self, 0)) return NULL;
  Py_RETURN_NONE;
}

static PyObject* FloorModel_invoke_nogil(FloorModel* self, PyObject* unused) {
  (void)unused;
  if (run(self, 1)) return NULL;
  Py_RETURN_NONE;
}

static PyObject* FloorModel_get_output(FloorModel* self, PyObject* arg) {
  int i = index_arg(arg, self->n_out);
  if (i < 0) return NULL;
  Slot* s = &self->out[i];
  PyObject* arr = PyArray_SimpleNew(s->ndim, s->dims, s->npy_type);
  if (arr) memcpy(PyArray_DATA((PyArrayObject*)arr), s->data, s->bytes);
  return arr;
}

static PyObject* FloorModel_run(FloorModel* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2 || self->n_in != 1 || self->n_out != 1)
    return PyErr_Format(PyExc_TypeError, "run(x, out) needs a 1-input, 1-output model");
  if (copy_in(&self->in[0], args[0]) || run(self, 0)) return NULL;
  PyObject* out = args[1];
  if (!PyArray_Check(out) || PyArray_TYPE((PyArrayObject*)out) != self->out[0].npy_type ||
      (size_t)PyArray_NBYTES((PyArrayObject*)out) != self->out[0].bytes ||
      !PyArray_IS_C_CONTIGUOUS((PyArrayObject*)out) || !PyArray_ISWRITEABLE((PyArrayObject*)out)) {
    PyErr_SetString(PyExc_ValueError, "out does not match the output");
    return NULL;
  }
  memcpy(PyArray_DATA((PyArrayObject*)out), self->out[0].data, self->out[0].bytes);
  Py_RETURN_NONE;
}

static PyMethodDef FloorModel_methods[] = {
    {"set_input", (PyCFunction)(void (*)(void))FloorModel_set_input, METH_FASTCALL, "set_input(index, array)"},
    {"invoke", (PyCFunction)FloorModel_invoke, METH_NOARGS, "run, GIL held"},
    {"invoke_nogil", (PyCFunction)FloorModel_invoke_nogil, METH_NOARGS, "run, GIL released"},
    {"get_output", (PyCFunction)FloorModel_get_output, METH_O, "get_output(index) -> new array"},
    {"run", (PyCFunction)(void (*)(void))FloorModel_run, METH_FASTCALL, "run(x, out): fused round trip"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject FloorModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_litert_floor.Model",
    .tp_basicsize = sizeof(FloorModel),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)FloorModel_init,
    .tp_dealloc = (destructor)FloorModel_dealloc,
    .tp_methods = FloorModel_methods,
};

static struct PyModuleDef floor_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_litert_floor",
    .m_doc = "Minimal LiteRtRunCompiledModel binding (benchmark floor).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__litert_floor(void) {
  import_array();
  if (PyType_Ready(&FloorModelType) < 0) return NULL;
  PyObject* m = PyModule_Create(&floor_module);
  if (!m) return NULL;
  Py_INCREF(&FloorModelType);
  if (PyModule_AddObject(m, "Model", (PyObject*)&FloorModelType) < 0) {
    Py_DECREF(&FloorModelType);
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
