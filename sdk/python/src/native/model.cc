// Binding: litert_sdk._native.Model (LiteRtModel: loading, signatures and graph inspection).
#include "model.h"

#include "optional_api.h"

#include <nanobind/stl/string.h>

#include <cstring>
#include <set>

namespace litert_sdk {

// Captured runtime text appended to an error message (" (runtime: ...)"), or nothing.
static std::string detail_of(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text.empty() ? std::string() : " (runtime: " + text + ")";
}

Model Model::from_file(const Environment& env, const std::string& path) {
  auto h = std::make_shared<ModelHandle>();
  h->env = env.handle();
  h->path = path;
  LiteRtStatus status;
  std::string captured;
  {
    nb::gil_scoped_release release;
    StderrCapture capture;
    status = LiteRtCreateModelFromFile(h->env->env, path.c_str(), &h->model);
    captured = capture.finish();
  }
  if (status != kLiteRtStatusOk) h->model = nullptr;
  check(status, "LiteRtCreateModelFromFile", "could not load a TFLite model from '" + path + "'" + detail_of(captured));
  forward_runtime_log(captured);
  return Model(h);
}

// Loads the model held in h->buffer (which must outlive it: the runtime keeps pointers into it).
static Model load_buffer(std::shared_ptr<ModelHandle> h);

Model Model::from_buffer(const Environment& env, nb::bytes data) {
  auto h = std::make_shared<ModelHandle>();
  h->env = env.handle();
  // The runtime keeps pointers into the buffer: hold our own 64-byte aligned copy for the model's lifetime.
  h->buffer = std::make_shared<AlignedBlock>(data.size(), false);
  std::memcpy(h->buffer->data, data.c_str(), data.size());
  return load_buffer(std::move(h));
}

Model Model::from_model_bytes(const Environment& env, const ModelBytes& bytes) {
  auto h = std::make_shared<ModelHandle>();
  h->env = env.handle();
  h->buffer = bytes.block;
  return load_buffer(std::move(h));
}

static Model load_buffer(std::shared_ptr<ModelHandle> h) {
  LiteRtStatus status;
  std::string captured;
  {
    nb::gil_scoped_release release;
    StderrCapture capture;
    status = LiteRtCreateModelFromBuffer(h->env->env, h->buffer->data, h->buffer->size, &h->model);
    captured = capture.finish();
  }
  if (status != kLiteRtStatusOk) h->model = nullptr;
  check(status, "LiteRtCreateModelFromBuffer", "the bytes are not a loadable TFLite model" + detail_of(captured));
  forward_runtime_log(captured);
  return Model::wrap(std::move(h));
}

LiteRtSubgraph Model::subgraph(size_t index) const {
  LiteRtSubgraph sg = nullptr;
  check(LiteRtGetModelSubgraph(handle_->model, index, &sg), "LiteRtGetModelSubgraph");
  return sg;
}

nb::dict describe_tensor(LiteRtTensor tensor) {
  nb::dict d;
  const char* name = nullptr;
  check(LiteRtGetTensorName(tensor, &name), "LiteRtGetTensorName");
  d["name"] = name ? name : "";
  uint32_t index = 0;
  check(LiteRtGetTensorIndex(tensor, &index), "LiteRtGetTensorIndex");
  d["index"] = index;
  LiteRtTensorTypeId type_id;
  check(LiteRtGetTensorTypeId(tensor, &type_id), "LiteRtGetTensorTypeId");
  if (type_id == kLiteRtRankedTensorType) {
    LiteRtRankedTensorType t;
    std::memset(&t, 0, sizeof(t));
    check(LiteRtGetRankedTensorType(tensor, &t), "LiteRtGetRankedTensorType");
    d["element_type"] = static_cast<int>(t.element_type);
    nb::list shape;
    for (int64_t v : layout_dims(t.layout)) shape.append(v);
    d["shape"] = shape;
    d["ranked"] = true;
  } else {
    LiteRtUnrankedTensorType t{};
    check(LiteRtGetUnrankedTensorType(tensor, &t), "LiteRtGetUnrankedTensorType");
    d["element_type"] = static_cast<int>(t.element_type);
    d["shape"] = nb::none();
    d["ranked"] = false;
  }
  LiteRtQuantizationTypeId q = kLiteRtQuantizationNone;
  check(LiteRtGetQuantizationTypeId(tensor, &q), "LiteRtGetQuantizationTypeId");
  if (q == kLiteRtQuantizationPerTensor) {
    LiteRtQuantizationPerTensor pt{};
    check(LiteRtGetPerTensorQuantization(tensor, &pt), "LiteRtGetPerTensorQuantization");
    nb::list scales, zps;
    scales.append(static_cast<double>(pt.scale));
    zps.append(pt.zero_point);
    d["quantization"] = nb::make_tuple(scales, zps, 0);
  } else if (q == kLiteRtQuantizationPerChannel) {
    LiteRtQuantizationPerChannel pc{};
    check(LiteRtGetPerChannelQuantization(tensor, &pc), "LiteRtGetPerChannelQuantization");
    nb::list scales, zps;
    for (uint64_t i = 0; i < pc.num_channels; ++i) {
      scales.append(pc.scales ? static_cast<double>(pc.scales[i]) : 0.0);
      zps.append(pc.zero_points ? pc.zero_points[i] : 0);
    }
    d["quantization"] = nb::make_tuple(scales, zps, pc.quantized_dimension);
  } else {
    d["quantization"] = nb::none();
  }
  return d;
}

// {"signatures": [{key, subgraph, inputs: [(name, tensor)], outputs: [...]}],
//  "subgraphs": [{name, inputs: [idx], outputs: [idx], ops: [{opcode, custom_code, inputs, outputs}],
//                 tensors: {idx: tensor}}], "main_subgraph": int}
nb::dict Model::describe() const {
  LiteRtModel model = handle_->model;
  nb::dict result;
  LiteRtParamIndex num_subgraphs = 0;
  check(LiteRtGetNumModelSubgraphs(model, &num_subgraphs), "LiteRtGetNumModelSubgraphs");
  std::vector<LiteRtSubgraph> subgraphs;
  nb::list sg_list;
  for (LiteRtParamIndex s = 0; s < num_subgraphs; ++s) {
    LiteRtSubgraph sg = subgraph(s);
    subgraphs.push_back(sg);
    nb::dict sgd;
    const char* sg_name = nullptr;
    check(LiteRtGetSubgraphName(sg, &sg_name), "LiteRtGetSubgraphName");
    sgd["name"] = sg_name ? sg_name : "";
    nb::dict tensors;
    auto note = [&](LiteRtTensor t) -> uint32_t {
      uint32_t idx = 0;
      check(LiteRtGetTensorIndex(t, &idx), "LiteRtGetTensorIndex");
      nb::int_ key(idx);
      if (!tensors.contains(key)) tensors[key] = describe_tensor(t);
      return idx;
    };
    nb::list ins, outs, ops;
    LiteRtParamIndex n = 0;
    check(LiteRtGetNumSubgraphInputs(sg, &n), "LiteRtGetNumSubgraphInputs");
    for (LiteRtParamIndex i = 0; i < n; ++i) {
      LiteRtTensor t = nullptr;
      check(LiteRtGetSubgraphInput(sg, i, &t), "LiteRtGetSubgraphInput");
      ins.append(note(t));
    }
    check(LiteRtGetNumSubgraphOutputs(sg, &n), "LiteRtGetNumSubgraphOutputs");
    for (LiteRtParamIndex i = 0; i < n; ++i) {
      LiteRtTensor t = nullptr;
      check(LiteRtGetSubgraphOutput(sg, i, &t), "LiteRtGetSubgraphOutput");
      outs.append(note(t));
    }
    check(LiteRtGetNumSubgraphOps(sg, &n), "LiteRtGetNumSubgraphOps");
    for (LiteRtParamIndex i = 0; i < n; ++i) {
      LiteRtOp op = nullptr;
      check(LiteRtGetSubgraphOp(sg, i, &op), "LiteRtGetSubgraphOp");
      nb::dict od;
      LiteRtOpCode code = 0;
      check(LiteRtGetOpCode(op, &code), "LiteRtGetOpCode");
      od["opcode"] = code;
      if (code == LITERT_SDK_OPCODE_CUSTOM) {
        // Unavailable where the runtime does not export these (libLiteRt.dll): the facade then reads the custom
        // code and options from the flatbuffer itself.
        const char* custom = nullptr;
        const LiteRtStatus code_status = optional_api::GetCustomCode(op, &custom);
        if (code_status == kLiteRtStatusErrorUnsupported) {
          od["custom_code"] = nb::none();
          od["custom_options"] = nb::none();
        } else {
          check(code_status, "LiteRtGetCustomCode");
          od["custom_code"] = custom ? custom : "";
          const uint8_t* opts = nullptr;
          size_t opts_size = 0;
          check(optional_api::GetCustomOptions(op, &opts, &opts_size), "LiteRtGetCustomOptions");
          od["custom_options"] = nb::bytes(reinterpret_cast<const char*>(opts), opts ? opts_size : 0);
        }
      } else {
        od["custom_code"] = nb::none();
        od["custom_options"] = nb::none();
      }
      // Tensors reachable from ops (intermediates and constants); -1 marks an omitted optional input.
      nb::list oi, oo;
      LiteRtParamIndex k = 0;
      check(LiteRtGetNumOpInputs(op, &k), "LiteRtGetNumOpInputs");
      for (LiteRtParamIndex j = 0; j < k; ++j) {
        LiteRtTensor t = nullptr;
        if (LiteRtGetOpInput(op, j, &t) != kLiteRtStatusOk || t == nullptr) {
          oi.append(-1);
          continue;
        }
        oi.append(note(t));
      }
      check(LiteRtGetNumOpOutputs(op, &k), "LiteRtGetNumOpOutputs");
      for (LiteRtParamIndex j = 0; j < k; ++j) {
        LiteRtTensor t = nullptr;
        check(LiteRtGetOpOutput(op, j, &t), "LiteRtGetOpOutput");
        oo.append(note(t));
      }
      od["inputs"] = oi;
      od["outputs"] = oo;
      ops.append(od);
    }
    sgd["inputs"] = ins;
    sgd["outputs"] = outs;
    sgd["ops"] = ops;
    sgd["tensors"] = tensors;
    sg_list.append(sgd);
  }
  result["subgraphs"] = sg_list;
  LiteRtParamIndex main_sg = 0;
  if (LiteRtGetMainModelSubgraphIndex(model, &main_sg) != kLiteRtStatusOk) main_sg = 0;
  result["main_subgraph"] = main_sg;

  nb::list sigs;
  LiteRtParamIndex num_sigs = 0;
  check(LiteRtGetNumModelSignatures(model, &num_sigs), "LiteRtGetNumModelSignatures");
  for (LiteRtParamIndex s = 0; s < num_sigs; ++s) {
    LiteRtSignature sig = nullptr;
    check(LiteRtGetModelSignature(model, s, &sig), "LiteRtGetModelSignature");
    nb::dict sd;
    const char* key = nullptr;
    check(LiteRtGetSignatureKey(sig, &key), "LiteRtGetSignatureKey");
    sd["key"] = key ? key : "";
    LiteRtSubgraph sg = nullptr;
    check(LiteRtGetSignatureSubgraph(sig, &sg), "LiteRtGetSignatureSubgraph");
    long sg_index = -1;
    for (size_t i = 0; i < subgraphs.size(); ++i)
      if (subgraphs[i] == sg) sg_index = static_cast<long>(i);
    sd["subgraph"] = sg_index;
    nb::list ins, outs;
    LiteRtParamIndex n = 0;
    check(LiteRtGetNumSignatureInputs(sig, &n), "LiteRtGetNumSignatureInputs");
    for (LiteRtParamIndex i = 0; i < n; ++i) {
      const char* name = nullptr;
      check(LiteRtGetSignatureInputName(sig, i, &name), "LiteRtGetSignatureInputName");
      LiteRtTensor t = nullptr;
      check(LiteRtGetSignatureInputTensorByIndex(sig, i, &t), "LiteRtGetSignatureInputTensorByIndex");
      ins.append(nb::make_tuple(name ? name : "", describe_tensor(t)));
    }
    check(LiteRtGetNumSignatureOutputs(sig, &n), "LiteRtGetNumSignatureOutputs");
    for (LiteRtParamIndex i = 0; i < n; ++i) {
      const char* name = nullptr;
      check(LiteRtGetSignatureOutputName(sig, i, &name), "LiteRtGetSignatureOutputName");
      LiteRtTensor t = nullptr;
      check(LiteRtGetSignatureOutputTensorByIndex(sig, i, &t), "LiteRtGetSignatureOutputTensorByIndex");
      outs.append(nb::make_tuple(name ? name : "", describe_tensor(t)));
    }
    sd["inputs"] = ins;
    sd["outputs"] = outs;
    sigs.append(sd);
  }
  result["signatures"] = sigs;
  return result;
}

nb::object Model::metadata(const std::string& key) const {
  const void* buf = nullptr;
  size_t size = 0;
  if (LiteRtGetModelMetadata(handle_->model, key.c_str(), &buf, &size) != kLiteRtStatusOk || !buf) return nb::none();
  return nb::bytes(static_cast<const char*>(buf), size);
}

nb::object Model::constant_bytes(size_t subgraph_index, uint32_t tensor_index) const {
  LiteRtSubgraph sg = subgraph(subgraph_index);
  LiteRtParamIndex n = 0;
  check(LiteRtGetNumSubgraphOps(sg, &n), "LiteRtGetNumSubgraphOps");
  for (LiteRtParamIndex i = 0; i < n; ++i) {
    LiteRtOp op = nullptr;
    check(LiteRtGetSubgraphOp(sg, i, &op), "LiteRtGetSubgraphOp");
    LiteRtParamIndex k = 0;
    check(LiteRtGetNumOpInputs(op, &k), "LiteRtGetNumOpInputs");
    for (LiteRtParamIndex j = 0; j < k; ++j) {
      LiteRtTensor t = nullptr;
      if (LiteRtGetOpInput(op, j, &t) != kLiteRtStatusOk || !t) continue;
      uint32_t idx = 0;
      check(LiteRtGetTensorIndex(t, &idx), "LiteRtGetTensorIndex");
      if (idx != tensor_index) continue;
      LiteRtWeights w = nullptr;
      if (LiteRtGetTensorWeights(t, &w) != kLiteRtStatusOk || !w) return nb::none();
      const void* addr = nullptr;
      size_t size = 0;
      check(LiteRtGetWeightsBytes(w, &addr, &size), "LiteRtGetWeightsBytes");
      if (!addr || size == 0) return nb::none();
      return nb::bytes(static_cast<const char*>(addr), size);
    }
  }
  return nb::none();
}

void bind_model(nb::module_& m) {
  nb::class_<ModelBytes>(m, "ModelBytes", "64-byte aligned memory for a model's bytes (see Model.from_model_bytes).")
      .def(nb::init<size_t>(), nb::arg("size"))
      .def(
          "view",
          [](const ModelBytes& b) {
            return numpy_view(b.block, kLiteRtElementTypeUInt8, {static_cast<int64_t>(b.block->size)}, false);
          },
          "A writable uint8 numpy array over the memory (it keeps the memory alive).")
      .def_prop_ro("size", [](const ModelBytes& b) { return b.block->size; });
  nb::class_<Model>(m, "Model", "A loaded TFLite flatbuffer (LiteRtModel).")
      .def_static("from_file", &Model::from_file, nb::arg("env"), nb::arg("path"))
      .def_static("from_buffer", &Model::from_buffer, nb::arg("env"), nb::arg("data"))
      .def_static("from_model_bytes", &Model::from_model_bytes, nb::arg("env"), nb::arg("bytes"),
                  "Loads from a ModelBytes' memory (kept alive by the model), without copying it.")
      .def("describe", &Model::describe, "Signatures and subgraphs as plain Python data.")
      .def("metadata", &Model::metadata, nb::arg("key"), "Metadata buffer stored under `key`, or None.")
      .def("constant_bytes", &Model::constant_bytes, nb::arg("subgraph"), nb::arg("tensor_index"),
           "Constant (weights) bytes of a tensor, or None.");
}

}  // namespace litert_sdk
