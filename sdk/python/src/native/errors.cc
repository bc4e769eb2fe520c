// Error translation: LiteRtStatus -> ErrorKind, the Python hooks, and the exception translator.
#include "errors.h"

#include <nanobind/stl/string.h>

#include <new>
#include <typeinfo>

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

}  // namespace litert_sdk
