// litert-sdk-flex: one LiteRT custom-op kernel that runs any `Flex*` node (Select TF op) through TensorFlow's eager
// C API (libtensorflow_cc / libtensorflow_framework from the installed tensorflow package).
//
// A Flex node is a TFLite CUSTOM op whose custom options are a flexbuffer vector [tf_op_name, NodeDef bytes].
//   Init              parses the flexbuffer and the NodeDef's attributes (AttrValue protos, set as they are with
//                     TFE_OpSetAttrValueProto on a template op whose attribute set is reused by every run).
//   GetOutputLayouts  TFE_InferShapes on the input layouts. Dimensions TensorFlow cannot infer without input values
//                     are taken from the layout the model gives the output (static shapes from the converter); Run
//                     checks that the op really produced that shape and fails with a clear message otherwise.
//   Run               wraps the locked input buffers as TF_Tensors (numeric: zero copy; strings: TFLite's packed
//                     format -> TF_TString), TFE_Execute on the CPU, copies the outputs into the output buffers.
//
// The SDK registers this kernel under every Flex custom code of a model (custom_op_api.h: one instance per code,
// nodes with different attributes or static output shapes get codes of their own), hands each instance the static
// shapes of its code's nodes (configure_instance), records failed statuses and raises them.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "litert_sdk/custom_op_api.h"
#include "tensorflow/c/c_api.h"
#include "tensorflow/c/c_api_experimental.h"
#include "tensorflow/c/eager/c_api.h"
#include "tensorflow/c/eager/c_api_experimental.h"
#include "tensorflow/c/tf_tstring.h"

namespace {

struct FlexError : std::exception {
  std::string msg;
  explicit FlexError(std::string m) : msg(std::move(m)) {}
  const char* what() const noexcept override { return msg.c_str(); }
};

[[noreturn]] void fail(const std::string& msg) { throw FlexError(msg); }

struct Status {
  TF_Status* s = TF_NewStatus();
  ~Status() { TF_DeleteStatus(s); }
  void check(const std::string& what) const {
    if (TF_GetCode(s) != TF_OK) fail(what + ": " + TF_Message(s));
  }
};

// ---- the process-wide eager context ---------------------------------------------------------------------------
TFE_Context* context() {
  static TFE_Context* ctx = [] {
    Status st;
    TFE_ContextOptions* opts = TFE_NewContextOptions();
    TFE_ContextOptionsSetAsync(opts, 0);
    TFE_ContextOptionsSetDevicePlacementPolicy(opts, TFE_DEVICE_PLACEMENT_SILENT);
    TFE_Context* c = TFE_NewContext(opts, st.s);
    TFE_DeleteContextOptions(opts);
    st.check("TFE_NewContext");
    return c;  // lives for the process (TensorFlow's own teardown order is not ours to decide)
  }();
  return ctx;
}

// ---- flexbuffer: [op name, NodeDef bytes] ------------------------------------------------------------------
uint64_t read_uint(const uint8_t* p, int width) {
  uint64_t v = 0;
  std::memcpy(&v, p, static_cast<size_t>(width));  // little endian
  return v;
}

void parse_flex_options(const uint8_t* data, size_t size, std::string& op_name, std::string& node_def) {
  if (!data || size < 3) fail("the node has no Flex custom options");
  const int root_width = data[size - 1];
  const uint8_t root_type = data[size - 2];
  if ((root_width != 1 && root_width != 2 && root_width != 4 && root_width != 8) || size < 2u + root_width)
    fail("malformed Flex custom options (flexbuffer root)");
  const uint8_t* root = data + size - 2 - root_width;
  const int type = root_type >> 2;
  if (type != 10 /* FBT_VECTOR */) fail("Flex custom options are not a flexbuffer vector");
  const int elem_width = 1 << (root_type & 3);
  const uint64_t off = read_uint(root, root_width);
  if (off > static_cast<uint64_t>(root - data)) fail("malformed Flex custom options (vector offset)");
  const uint8_t* vec = root - off;
  if (vec - data < elem_width) fail("malformed Flex custom options (vector size)");
  const uint64_t n = read_uint(vec - elem_width, elem_width);
  if (n < 2 || vec + n * elem_width + n > data + size) fail("malformed Flex custom options (vector length)");
  const uint8_t* types = vec + n * elem_width;
  std::string* outs[2] = {&op_name, &node_def};
  for (int i = 0; i < 2; ++i) {
    const uint8_t packed = types[i];
    const int t = packed >> 2;
    if (t != 5 /* FBT_STRING */ && t != 25 /* FBT_BLOB */) fail("Flex custom options: element is not a string");
    const int w = 1 << (packed & 3);
    const uint8_t* slot = vec + i * elem_width;
    const uint64_t o = read_uint(slot, elem_width);
    if (o > static_cast<uint64_t>(slot - data)) fail("malformed Flex custom options (string offset)");
    const uint8_t* s = slot - o;
    if (s - data < w) fail("malformed Flex custom options (string size)");
    const uint64_t len = read_uint(s - w, w);
    if (s + len > data + size) fail("malformed Flex custom options (string length)");
    outs[i]->assign(reinterpret_cast<const char*>(s), len);
  }
}

// ---- NodeDef (protobuf wire format): op (field 2) and attr map (field 5: {key 1, AttrValue 2}) ---------------
bool read_varint(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// Calls fn(field, wire_type, data, len) for each length-delimited field; skips the others.
template <typename Fn>
void for_each_field(const std::string& msg, Fn fn) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(msg.data());
  const uint8_t* end = p + msg.size();
  while (p < end) {
    uint64_t key;
    if (!read_varint(p, end, key)) fail("malformed NodeDef");
    const int wire = static_cast<int>(key & 7);
    const uint64_t field = key >> 3;
    uint64_t v;
    switch (wire) {
      case 0:
        if (!read_varint(p, end, v)) fail("malformed NodeDef");
        break;
      case 1:
        if (end - p < 8) fail("malformed NodeDef");
        p += 8;
        break;
      case 5:
        if (end - p < 4) fail("malformed NodeDef");
        p += 4;
        break;
      case 2:
        if (!read_varint(p, end, v) || v > static_cast<uint64_t>(end - p)) fail("malformed NodeDef");
        fn(field, std::string(reinterpret_cast<const char*>(p), v));
        p += v;
        break;
      default: fail("malformed NodeDef (wire type " + std::to_string(wire) + ")");
    }
  }
}

struct NodeDef {
  std::string name, op;
  std::vector<std::pair<std::string, std::string>> attrs;  // name -> serialized AttrValue
};

NodeDef parse_node_def(const std::string& bytes) {
  NodeDef nd;
  for_each_field(bytes, [&](uint64_t field, std::string value) {
    if (field == 1) nd.name = std::move(value);
    else if (field == 2) nd.op = std::move(value);
    else if (field == 5) {
      std::pair<std::string, std::string> kv;
      for_each_field(value, [&](uint64_t f, std::string v) {
        if (f == 1) kv.first = std::move(v);
        else if (f == 2) kv.second = std::move(v);
      });
      nd.attrs.push_back(std::move(kv));
    }
  });
  return nd;
}

// ---- element types ----------------------------------------------------------------------------------------
struct TypeInfo {
  TF_DataType tf;
  size_t size;  // 0: not a fixed-size type
  const char* name;
};

bool type_info(LiteRtElementType t, TypeInfo& out) {
  switch (t) {
    case kLiteRtElementTypeFloat32: out = {TF_FLOAT, 4, "float32"}; return true;
    case kLiteRtElementTypeFloat64: out = {TF_DOUBLE, 8, "float64"}; return true;
    case kLiteRtElementTypeFloat16: out = {TF_HALF, 2, "float16"}; return true;
    case kLiteRtElementTypeBFloat16: out = {TF_BFLOAT16, 2, "bfloat16"}; return true;
    case kLiteRtElementTypeInt8: out = {TF_INT8, 1, "int8"}; return true;
    case kLiteRtElementTypeInt16: out = {TF_INT16, 2, "int16"}; return true;
    case kLiteRtElementTypeInt32: out = {TF_INT32, 4, "int32"}; return true;
    case kLiteRtElementTypeInt64: out = {TF_INT64, 8, "int64"}; return true;
    case kLiteRtElementTypeUInt8: out = {TF_UINT8, 1, "uint8"}; return true;
    case kLiteRtElementTypeUInt16: out = {TF_UINT16, 2, "uint16"}; return true;
    case kLiteRtElementTypeUInt32: out = {TF_UINT32, 4, "uint32"}; return true;
    case kLiteRtElementTypeUInt64: out = {TF_UINT64, 8, "uint64"}; return true;
    case kLiteRtElementTypeBool: out = {TF_BOOL, 1, "bool"}; return true;
    case kLiteRtElementTypeComplex64: out = {TF_COMPLEX64, 8, "complex64"}; return true;
    case kLiteRtElementTypeComplex128: out = {TF_COMPLEX128, 16, "complex128"}; return true;
    case kLiteRtElementTypeTfString: out = {TF_STRING, 0, "string"}; return true;
    default: return false;
  }
}

std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

std::string inferred_str(const TF_ShapeAndType& s) {
  if (s.num_dims < 0) return "an unknown shape";
  return dims_str(std::vector<int64_t>(s.dims, s.dims + s.num_dims));
}

std::vector<int64_t> layout_dims(const LiteRtLayout& l) {
  std::vector<int64_t> d(l.rank);
  for (unsigned i = 0; i < l.rank; ++i) d[i] = l.dimensions[i];
  return d;
}

int64_t num_elements(const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (int64_t v : d) n *= v;
  return n;
}

// ---- RAII helpers -----------------------------------------------------------------------------------------
struct Locked {
  LiteRtTensorBuffer b = nullptr;
  void* addr = nullptr;
  Locked(LiteRtTensorBuffer buffer, LiteRtTensorBufferLockMode mode, const char* what) : b(buffer) {
    if (LiteRtLockTensorBuffer(b, &addr, mode) != kLiteRtStatusOk) {
      b = nullptr;
      fail(std::string("cannot lock the ") + what + " buffer");
    }
  }
  ~Locked() {
    if (b) LiteRtUnlockTensorBuffer(b);
  }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;
};

struct Handle {
  TFE_TensorHandle* h = nullptr;
  Handle() = default;
  explicit Handle(TFE_TensorHandle* x) : h(x) {}
  Handle(Handle&& o) noexcept : h(o.h) { o.h = nullptr; }
  ~Handle() {
    if (h) TFE_DeleteTensorHandle(h);
  }
};

struct Tensor {
  TF_Tensor* t = nullptr;
  explicit Tensor(TF_Tensor* x) : t(x) {}
  ~Tensor() {
    if (t) TF_DeleteTensor(t);
  }
};

struct Op {
  TFE_Op* op = nullptr;
  explicit Op(TFE_Op* x) : op(x) {}
  ~Op() {
    if (op) TFE_DeleteOp(op);
  }
};

void noop_deallocator(void*, size_t, void*) {}

// TFLite's packed strings: int32 count, int32 offsets[count + 1], bytes.
TF_Tensor* string_tensor(const void* addr, size_t buffer_size, const std::vector<int64_t>& dims) {
  const int64_t n = num_elements(dims);
  const auto* base = static_cast<const uint8_t*>(addr);
  if (buffer_size < 4 + 4 * static_cast<size_t>(n + 1)) fail("a string input is not in TFLite's packed format");
  int32_t count;
  std::memcpy(&count, base, 4);
  if (count != n)
    fail("a string input holds " + std::to_string(count) + " strings, its shape " + dims_str(dims) + " has " +
         std::to_string(n) + " elements");
  TF_Tensor* t = TF_AllocateTensor(TF_STRING, dims.data(), static_cast<int>(dims.size()),
                                   static_cast<size_t>(n) * sizeof(TF_TString));
  auto* dst = static_cast<TF_TString*>(TF_TensorData(t));
  for (int64_t i = 0; i < n; ++i) {
    int32_t a, b;
    std::memcpy(&a, base + 4 + 4 * i, 4);
    std::memcpy(&b, base + 8 + 4 * i, 4);
    if (a < 0 || b < a || static_cast<size_t>(b) > buffer_size) {
      for (int64_t j = 0; j < i; ++j) TF_StringDealloc(&dst[j]);
      TF_DeleteTensor(t);
      fail("a string input is not in TFLite's packed format (bad offsets)");
    }
    TF_StringInit(&dst[i]);
    TF_StringCopy(&dst[i], reinterpret_cast<const char*>(base + a), static_cast<size_t>(b - a));
  }
  return t;
}

// ---- static shapes from the model ---------------------------------------------------------------------------
// GetOutputLayouts gets input layouts only: no input values (e.g. Conv2DBackpropFilter's filter_sizes, or the
// checkpoint file a Restore reads), and the output layouts it is handed are not the model's. The SDK therefore hands
// each instance (one per custom code) the static input/output shapes the model gives the code's nodes
// (configure_instance, custom_op_api.h); dimensions TensorFlow cannot infer are taken from there. Nodes with
// identical NodeDefs but different static output shapes (the converter strips node names: e.g. one Restore per
// weight) get codes, and so instances, of their own.
using Shape = std::vector<int64_t>;
struct StaticShapes {
  std::vector<std::pair<bool, Shape>> ins, outs;  // (known, dims)
};

// io_shapes: parsed by custom_op_api.h's parse_io_shapes; rank <= 8 besides (the runtime's layouts hold no more).
bool parse_io_shapes(const char* spec, std::vector<StaticShapes>& out) {
  std::vector<litert_sdk::IoShapesEntry> entries;
  if (litert_sdk::parse_io_shapes(spec, std::strlen(spec), &entries)) return false;
  for (auto& entry : entries) {
    StaticShapes s;
    for (int side = 0; side < 2; ++side) {
      for (auto& shape : side == 0 ? entry.inputs : entry.outputs) {
        if (shape.dims.size() > LITERT_SDK_TENSOR_MAX_RANK) return false;
        (side == 0 ? s.ins : s.outs).emplace_back(shape.known, std::move(shape.dims));
      }
    }
    out.push_back(std::move(s));
  }
  return true;
}

// ---- one instance per custom code -------------------------------------------------------------------------
struct Instance {
  std::string code_options;  // the custom options Init was called with (identical for every node of the code)
  NodeDef node;
  std::string op_name;
  TFE_Op* template_op = nullptr;  // holds the node's attributes; TFE_OpAddAttrs copies them into each run's op
  std::vector<bool> unknown_rank;  // per output: TensorFlow's shape inference does not even know the rank
  std::string code;                // the custom code this instance serves (configure_instance)
  std::vector<StaticShapes> static_shapes;  // the model's shapes of the code's nodes, one entry per input shapes
  std::string error;
  ~Instance() {
    if (template_op) TFE_DeleteOp(template_op);
  }
  std::string where() const { return "TF op " + op_name + (node.name.empty() ? "" : " (node '" + node.name + "')"); }
};

// The model's static shapes for a node of this instance's code with these input layouts (nullptr: none known).
const StaticShapes* find_static_shapes(const Instance& inst, size_t num_inputs, const LiteRtLayout* layouts) {
  for (const auto& s : inst.static_shapes) {
    if (s.ins.size() != num_inputs) continue;
    bool match = true;
    for (size_t i = 0; i < num_inputs && match; ++i) {
      if (!s.ins[i].first) continue;
      const Shape& d = s.ins[i].second;
      match = d.size() == layouts[i].rank;
      for (size_t k = 0; match && k < d.size(); ++k) match = d[k] == layouts[i].dimensions[k];
    }
    if (match) return &s;
  }
  return nullptr;
}

void set_attrs(TFE_Op* op, const NodeDef& node, const std::string& where) {
  Status st;
  for (const auto& [name, value] : node.attrs) {
    if (name.empty() || name[0] == '_') continue;  // graph-internal attributes (_output_shapes, _class, ...)
    TFE_OpSetAttrValueProto(op, name.c_str(), value.data(), value.size(), st.s);
    st.check(where + ": attribute '" + name + "'");
  }
}

LiteRtStatus flex_init(void* user_data, const void* data, size_t size) {
  auto* inst = static_cast<Instance*>(user_data);
  try {
    std::string opts(static_cast<const char*>(data), data ? size : 0);
    if (inst->template_op && opts == inst->code_options) return kLiteRtStatusOk;  // another node of this code
    std::string node_def;
    parse_flex_options(static_cast<const uint8_t*>(data), size, inst->op_name, node_def);
    inst->node = parse_node_def(node_def);
    if (!inst->node.op.empty()) inst->op_name = inst->node.op;
    Status st;
    TFE_Op* op = TFE_NewOp(context(), inst->op_name.c_str(), st.s);
    if (TF_GetCode(st.s) != TF_OK) {
      std::string msg = TF_Message(st.s);
      if (op) TFE_DeleteOp(op);
      fail(inst->where() + ": " + msg + " (this TensorFlow build has no such op)");
    }
    Op guard(op);
    set_attrs(op, inst->node, inst->where());
    if (inst->template_op) TFE_DeleteOp(inst->template_op);
    inst->template_op = guard.op;
    guard.op = nullptr;
    inst->code_options = std::move(opts);
    return kLiteRtStatusOk;
  } catch (const std::exception& e) {
    inst->error = e.what();
  }
  return kLiteRtStatusErrorRuntimeFailure;
}

LiteRtStatus flex_layouts(void* user_data, size_t num_inputs, const LiteRtLayout* input_layouts, size_t num_outputs,
                          LiteRtLayout* output_layouts) {
  auto* inst = static_cast<Instance*>(user_data);
  try {
    if (!inst->template_op) fail("the Flex kernel was not initialised");
    Status st;
    TF_ShapeAndTypeList* in = TF_NewShapeAndTypeList(static_cast<int>(num_inputs));
    for (size_t i = 0; i < num_inputs; ++i) {
      std::vector<int64_t> d = layout_dims(input_layouts[i]);
      TF_ShapeAndTypeListSetShape(in, static_cast<int>(i), d.data(), static_cast<int>(d.size()));
    }
    std::vector<TF_Tensor*> values(num_inputs, nullptr);
    TF_ShapeAndTypeList* out = nullptr;
    TFE_InferShapes(inst->template_op, in, values.data(), nullptr, nullptr, &out, nullptr, st.s);
    TF_DeleteShapeAndTypeList(in);
    if (TF_GetCode(st.s) != TF_OK) {
      if (out) TF_DeleteShapeAndTypeList(out);
      st.check(inst->where() + ": shape inference");
    }
    std::unique_ptr<TF_ShapeAndTypeList, void (*)(TF_ShapeAndTypeList*)> guard(out, TF_DeleteShapeAndTypeList);
    inst->unknown_rank.assign(num_outputs, false);
    if (!out || static_cast<size_t>(out->num_items) < num_outputs)
      fail(inst->where() + ": TensorFlow infers " + std::to_string(out ? out->num_items : 0) +
           " outputs, the node has " + std::to_string(num_outputs));
    const StaticShapes* model = nullptr;
    bool looked_up = false;
    for (size_t i = 0; i < num_outputs; ++i) {
      const TF_ShapeAndType& s = out->items[i];
      inst->unknown_rank[i] = s.num_dims < 0;  // e.g. an unused reserve-space output: Run accepts it only if empty
      Shape dims;
      bool known = s.num_dims >= 0;
      if (known) dims.assign(s.dims, s.dims + s.num_dims);
      for (int64_t v : dims) known = known && v >= 0;
      if (!known) {
        // TensorFlow needs input values to know this shape: take the model's static shape for these input shapes
        if (!looked_up) model = find_static_shapes(*inst, num_inputs, input_layouts);
        looked_up = true;
        const bool have = model && i < model->outs.size() && model->outs[i].first &&
                          (s.num_dims < 0 || model->outs[i].second.size() == static_cast<size_t>(s.num_dims));
        if (have) {
          const Shape& m = model->outs[i].second;
          for (size_t d = 0; d < dims.size(); ++d)
            if (dims[d] >= 0 && dims[d] != m[d])
              fail(inst->where() + ": output " + std::to_string(i) + ": TensorFlow infers " + inferred_str(s) +
                   ", the model " + dims_str(m));
          dims = m;
        } else if (s.num_dims < 0) {
          dims.clear();
        } else {
          fail(inst->where() + ": output " + std::to_string(i) + " has a value-dependent shape (TensorFlow infers " +
               inferred_str(s) +
               " and the model gives no static shape for these input shapes); the runtime's "
               "custom-op API cannot express such outputs");
        }
      }
      if (dims.size() > LITERT_SDK_TENSOR_MAX_RANK) fail(inst->where() + ": output rank above 8");
      LiteRtLayout nl;
      std::memset(&nl, 0, sizeof(nl));
      nl.rank = static_cast<unsigned>(dims.size());
      for (size_t d = 0; d < dims.size(); ++d) nl.dimensions[d] = static_cast<int32_t>(dims[d]);
      output_layouts[i] = nl;
    }
    return kLiteRtStatusOk;
  } catch (const std::exception& e) {
    inst->error = e.what();
  }
  return kLiteRtStatusErrorRuntimeFailure;
}

LiteRtStatus flex_run(void* user_data, size_t num_inputs, const LiteRtTensorBuffer* inputs, size_t num_outputs,
                      LiteRtTensorBuffer* outputs) {
  auto* inst = static_cast<Instance*>(user_data);
  try {
    if (!inst->template_op) fail("the Flex kernel was not initialised");
    Status st;
    std::vector<std::unique_ptr<Locked>> locks;
    std::vector<Handle> handles;
    locks.reserve(num_inputs);
    handles.reserve(num_inputs);
    for (size_t i = 0; i < num_inputs; ++i) {
      LiteRtRankedTensorType t;
      std::memset(&t, 0, sizeof(t));
      if (LiteRtGetTensorBufferTensorType(inputs[i], &t) != kLiteRtStatusOk)
        fail("cannot read the type of input " + std::to_string(i));
      TypeInfo ti;
      if (!type_info(t.element_type, ti))
        fail(inst->where() + ": input " + std::to_string(i) + " has element type " +
             std::to_string(static_cast<int>(t.element_type)) +
             ", which Flex ops cannot take (resource and "
             "variant tensors do not cross between TFLite and TensorFlow)");
      std::vector<int64_t> dims = layout_dims(t.layout);
      size_t bytes = 0;
      LiteRtGetTensorBufferSize(inputs[i], &bytes);
      locks.push_back(std::make_unique<Locked>(inputs[i], kLiteRtTensorBufferLockModeRead, "input"));
      void* addr = locks.back()->addr;
      TF_Tensor* tensor;
      if (ti.tf == TF_STRING) {
        tensor = string_tensor(addr, bytes, dims);
      } else {
        const size_t need = static_cast<size_t>(num_elements(dims)) * ti.size;
        // zero copy: the buffer stays locked until the op has run and its outputs are copied
        tensor = TF_NewTensor(ti.tf, dims.data(), static_cast<int>(dims.size()), need ? addr : nullptr, need,
                              noop_deallocator, nullptr);
      }
      if (!tensor) fail(inst->where() + ": cannot wrap input " + std::to_string(i));
      Tensor tguard(tensor);
      handles.emplace_back(TFE_NewTensorHandle(tensor, st.s));
      st.check(inst->where() + ": input " + std::to_string(i));
    }

    Op op(TFE_NewOp(context(), inst->op_name.c_str(), st.s));
    st.check(inst->where());
    TFE_OpAddAttrs(op.op, TFE_OpGetAttrs(inst->template_op));
    for (auto& h : handles) {
      TFE_OpAddInput(op.op, h.h, st.s);
      st.check(inst->where() + ": adding an input");
    }
    std::vector<TFE_TensorHandle*> retvals(num_outputs ? num_outputs : 1, nullptr);
    int n = static_cast<int>(num_outputs);
    TFE_Execute(op.op, retvals.data(), &n, st.s);
    std::vector<Handle> results;
    for (int i = 0; i < n && i < static_cast<int>(retvals.size()); ++i) results.emplace_back(retvals[i]);
    st.check(inst->where());
    if (static_cast<size_t>(n) < num_outputs)
      fail(inst->where() + " produced " + std::to_string(n) + " outputs, the node has " + std::to_string(num_outputs));

    for (size_t i = 0; i < num_outputs; ++i) {
      LiteRtRankedTensorType t;
      std::memset(&t, 0, sizeof(t));
      if (LiteRtGetTensorBufferTensorType(outputs[i], &t) != kLiteRtStatusOk)
        fail("cannot read the type of output " + std::to_string(i));
      TypeInfo ti;
      if (!type_info(t.element_type, ti))
        fail(inst->where() + ": output " + std::to_string(i) + " has element type " +
             std::to_string(static_cast<int>(t.element_type)) + ", which Flex ops cannot produce");
      TF_Tensor* r = TFE_TensorHandleResolve(results[i].h, st.s);
      st.check(inst->where() + ": output " + std::to_string(i));
      Tensor rguard(r);
      if (TF_TensorType(r) != ti.tf)
        fail(inst->where() + ": output " + std::to_string(i) + " has TensorFlow dtype " +
             std::to_string(static_cast<int>(TF_TensorType(r))) + ", the model's tensor is " + ti.name);
      std::vector<int64_t> got(static_cast<size_t>(TF_NumDims(r)));
      for (size_t d = 0; d < got.size(); ++d) got[d] = TF_Dim(r, static_cast<int>(d));
      std::vector<int64_t> want = layout_dims(t.layout);
      const size_t need = static_cast<size_t>(num_elements(want)) * ti.size;
      if (num_elements(got) == 0 && i < inst->unknown_rank.size() && inst->unknown_rank[i]) {
        // An empty output TensorFlow cannot type statically (e.g. FusedBatchNormV3's reserve_space_3 on the CPU):
        // the model declared a placeholder shape for it; give it zeros of that shape.
        Locked lock(outputs[i], kLiteRtTensorBufferLockModeWrite, "output");
        if (need && ti.tf != TF_STRING) std::memset(lock.addr, 0, need);
        continue;
      }
      if (num_elements(got) != num_elements(want) || (got.size() == want.size() && got != want))
        fail(inst->where() + ": output " + std::to_string(i) + " has shape " + dims_str(got) + " but was laid out as " +
             dims_str(want) + " before the run: a value-dependent shape, which the " +
             "runtime's custom-op API cannot express");
      if (ti.tf == TF_STRING)
        fail(inst->where() + ": output " + std::to_string(i) +
             " is a string tensor; string outputs of Flex ops "
             "are not supported (the runtime's custom-op API cannot size them)");
      if (TF_TensorByteSize(r) != need) fail(inst->where() + ": output " + std::to_string(i) + " size mismatch");
      Locked lock(outputs[i], kLiteRtTensorBufferLockModeWrite, "output");
      if (need) std::memcpy(lock.addr, TF_TensorData(r), need);
    }
    return kLiteRtStatusOk;
  } catch (const std::exception& e) {
    inst->error = e.what();
  }
  return kLiteRtStatusErrorRuntimeFailure;
}

LiteRtStatus flex_destroy(void*) { return kLiteRtStatusOk; }

void* flex_create_instance(void*) { return new (std::nothrow) Instance(); }
int flex_configure_instance(void* instance, const char* custom_code, const char* io_shapes) {
  auto* inst = static_cast<Instance*>(instance);
  try {
    if (!custom_code || !io_shapes) fail("configure_instance without a custom code or io_shapes");
    std::vector<StaticShapes> shapes;
    if (!parse_io_shapes(io_shapes, shapes))
      fail(std::string("malformed static shapes '") + std::string(io_shapes).substr(0, 200) + "' for code " +
           custom_code);
    inst->code = custom_code;
    inst->static_shapes = std::move(shapes);
    return 0;
  } catch (const std::exception& e) {
    inst->error = e.what();
  }
  return 1;
}
void flex_destroy_instance(void* instance) { delete static_cast<Instance*>(instance); }
const char* flex_last_error(void* instance) { return static_cast<Instance*>(instance)->error.c_str(); }

const LiteRtSdkCustomOp kOps[] = {{
    "Flex",
    1,
    LiteRtCustomOpKernel{flex_init, flex_layouts, flex_run, flex_destroy},
    flex_create_instance,
    flex_destroy_instance,
    flex_last_error,
    nullptr,
    flex_configure_instance,
}};

const LiteRtSdkCustomOpTable kTable = {LITERT_SDK_CUSTOM_OP_API_VERSION, sizeof(LiteRtSdkCustomOp), "litert-sdk-flex",
                                       1, kOps};

}  // namespace

extern "C" LITERT_SDK_CUSTOM_OP_EXPORT int litert_sdk_custom_ops_v1(const LiteRtSdkCustomOpTable** table) {
  *table = &kTable;
  return 0;
}

// The TensorFlow version the library was built against (for messages).
extern "C" LITERT_SDK_CUSTOM_OP_EXPORT const char* litert_sdk_flex_tf_version() { return TF_Version(); }
