// raw_driver: the physical floor for the benchmarks. Runs a .tflite model on libLiteRt through the plain C API
// (our ABI header runtime/include/litert_sdk/litert_c_abi.h), with no language binding in between.
//
// Built by sdk/python/benchmarks/run_all.py:
//   g++ -O2 -std=c++17 -I runtime/include raw_driver.cc -L <dir of libLiteRt.so> -lLiteRt -Wl,-rpath,<same dir>
//
// It compiles the model the way litert_sdk does by default (CPU accelerator, XNNPACK opaque options
// "num_threads = N", runtime options "error_reporter_mode = 2", silent logger), resizes dynamic (-1) input
// dimensions to 1, and binds persistent 64-byte aligned host buffers for every input and output once.
//
// Usage:
//   raw_driver MODEL [--threads N] [--runs N] [--warmup N] [--weight-cache FILE] [--lib-dir DIR]
//       one-shot: warm up, time N runs of LiteRtRunCompiledModel one by one, print a result line
//   raw_driver MODEL [...] --serve
//       compile once, print "ready ...", then answer commands read from stdin, one per line:
//         run N          time N runs one by one                   -> median_us / min_us / mean_us of the N runs
//         block B K      B blocks of K back-to-back runs           -> median_us / min_us of the B per-run means
//         rtblock B K    like block, each run is a round trip:     memcpy input in, run, memcpy output out
//         quit
//   --no-runtime-options leaves out the runtime options payload (litert_sdk always sends error_reporter_mode = 2).
//   raw_driver MODEL [...] --load-repeats N
//       N times: LiteRtCreateModelFromFile, LiteRtCreateCompiledModel, bind buffers + first run, destroy; prints
//       load_ms / compile_ms / first_run_ms / total_ms for each (the runtime finishes some preparation lazily)
// Result lines are "key=value" pairs separated by spaces.
#include <litert_sdk/litert_c_abi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t0) { return std::chrono::duration<double, std::micro>(Clock::now() - t0).count(); }

void die(const std::string& what, LiteRtStatus s) {
  std::fprintf(stderr, "raw_driver: %s failed: %s (%d)\n", what.c_str(), litert_sdk_status_name(s),
               static_cast<int>(s));
  std::exit(2);
}

#define CHECK(call)                            \
  do {                                         \
    LiteRtStatus _s = (call);                  \
    if (_s != kLiteRtStatusOk) die(#call, _s); \
  } while (0)

size_t element_size(LiteRtElementType t) {
  switch (t) {
    case kLiteRtElementTypeBool:
    case kLiteRtElementTypeInt8:
    case kLiteRtElementTypeUInt8: return 1;
    case kLiteRtElementTypeInt16:
    case kLiteRtElementTypeUInt16:
    case kLiteRtElementTypeFloat16:
    case kLiteRtElementTypeBFloat16: return 2;
    case kLiteRtElementTypeFloat32:
    case kLiteRtElementTypeInt32:
    case kLiteRtElementTypeUInt32: return 4;
    case kLiteRtElementTypeInt64:
    case kLiteRtElementTypeUInt64:
    case kLiteRtElementTypeFloat64:
    case kLiteRtElementTypeComplex64: return 8;
    default: return 0;
  }
}

LiteRtElementType tensor_element_type(LiteRtTensor t) {
  LiteRtTensorTypeId id;
  CHECK(LiteRtGetTensorTypeId(t, &id));
  if (id == kLiteRtRankedTensorType) {
    LiteRtRankedTensorType rt;
    std::memset(&rt, 0, sizeof(rt));
    CHECK(LiteRtGetRankedTensorType(t, &rt));
    return rt.element_type;
  }
  LiteRtUnrankedTensorType ut{};
  CHECK(LiteRtGetUnrankedTensorType(t, &ut));
  return ut.element_type;
}

struct Io {
  LiteRtElementType type = kLiteRtElementTypeNone;
  LiteRtLayout layout{};
  size_t bytes = 0;
  void* data = nullptr;  // 64-byte aligned, owned here
  LiteRtTensorBuffer buffer = nullptr;
};

size_t layout_elements(const LiteRtLayout& l) {
  size_t n = 1;
  for (unsigned i = 0; i < l.rank; ++i) n *= static_cast<size_t>(l.dimensions[i] < 0 ? 0 : l.dimensions[i]);
  return n;
}

void bind(Io& io) {
  io.bytes = layout_elements(io.layout) * element_size(io.type);
  size_t rounded = (io.bytes + LITERT_SDK_HOST_MEMORY_ALIGNMENT - 1) / LITERT_SDK_HOST_MEMORY_ALIGNMENT *
                   LITERT_SDK_HOST_MEMORY_ALIGNMENT;
  io.data = std::aligned_alloc(LITERT_SDK_HOST_MEMORY_ALIGNMENT, rounded ? rounded : LITERT_SDK_HOST_MEMORY_ALIGNMENT);
  std::memset(io.data, 0, rounded);
  LiteRtRankedTensorType rtt;
  std::memset(&rtt, 0, sizeof(rtt));
  rtt.element_type = io.type;
  rtt.layout = io.layout;
  rtt.layout.has_strides = 0;
  CHECK(LiteRtCreateTensorBufferFromHostMemory(&rtt, io.data, io.bytes, nullptr, &io.buffer));
}

struct Args {
  std::string model;
  std::string lib_dir;
  std::string weight_cache;
  int threads = 1;
  int runs = 50;
  int warmup = 10;
  int load_repeats = 0;
  bool serve = false;
  bool no_runtime_options = false;  // omit "error_reporter_mode = 2" (for comparison; litert_sdk always sets it)
};

LiteRtOptions make_options(const Args& a) {
  LiteRtOptions options = nullptr;
  CHECK(LiteRtCreateOptions(&options));
  CHECK(LiteRtSetOptionsHardwareAccelerators(options, kLiteRtHwAcceleratorCpu));
  std::string cpu = "num_threads = " + std::to_string(a.threads) + "\n";
  if (!a.weight_cache.empty()) cpu += "weight_cache_file_path = \"" + a.weight_cache + "\"\n";
  const std::pair<const char*, std::string> opaque[] = {{LITERT_SDK_CPU_OPTIONS_ID, cpu},
                                                        {LITERT_SDK_RUNTIME_OPTIONS_ID, "error_reporter_mode = 2\n"}};
  for (const auto& kv : opaque) {
    if (a.no_runtime_options && std::strcmp(kv.first, LITERT_SDK_RUNTIME_OPTIONS_ID) == 0) continue;
    char* payload = static_cast<char*>(std::malloc(kv.second.size() + 1));
    std::memcpy(payload, kv.second.c_str(), kv.second.size() + 1);
    LiteRtOpaqueOptions o = nullptr;
    CHECK(LiteRtCreateOpaqueOptions(kv.first, payload, std::free, &o));
    CHECK(LiteRtAddOpaqueOptions(options, o));
  }
  return options;
}

struct Runner {
  LiteRtEnvironment env = nullptr;
  LiteRtModel model = nullptr;
  LiteRtCompiledModel cm = nullptr;
  std::vector<Io> ins, outs;
  std::vector<LiteRtTensorBuffer> in_bufs, out_bufs;
  std::vector<unsigned char> src, dst;  // round-trip source / destination (plain heap memory, like numpy arrays)
  double load_ms = 0, compile_ms = 0;

  void compile(const Args& a) {
    auto t0 = Clock::now();
    CHECK(LiteRtCreateModelFromFile(env, a.model.c_str(), &model));
    load_ms = us_since(t0) / 1e3;
    LiteRtOptions options = make_options(a);
    t0 = Clock::now();
    CHECK(LiteRtCreateCompiledModel(env, model, options, &cm));
    compile_ms = us_since(t0) / 1e3;
    LiteRtDestroyOptions(options);
  }

  void destroy() {
    in_bufs.clear();
    out_bufs.clear();
    for (auto* v : {&ins, &outs})
      for (auto& io : *v) {
        if (io.buffer) LiteRtDestroyTensorBuffer(io.buffer);
        std::free(io.data);
      }
    ins.clear();
    outs.clear();
    if (cm) LiteRtDestroyCompiledModel(cm);
    if (model) LiteRtDestroyModel(model);
    cm = nullptr;
    model = nullptr;
  }

  void prepare() {
    LiteRtSignature sig = nullptr;
    CHECK(LiteRtGetModelSignature(model, 0, &sig));
    LiteRtParamIndex n_in = 0, n_out = 0;
    CHECK(LiteRtGetNumSignatureInputs(sig, &n_in));
    CHECK(LiteRtGetNumSignatureOutputs(sig, &n_out));
    ins.resize(n_in);
    outs.resize(n_out);
    for (LiteRtParamIndex i = 0; i < n_in; ++i) {
      LiteRtTensor t = nullptr;
      CHECK(LiteRtGetSignatureInputTensorByIndex(sig, i, &t));
      ins[i].type = tensor_element_type(t);
      CHECK(LiteRtGetCompiledModelInputTensorLayout(cm, 0, i, &ins[i].layout));
      bool dynamic = false;
      int dims[LITERT_SDK_TENSOR_MAX_RANK];
      for (unsigned d = 0; d < ins[i].layout.rank; ++d) {
        dims[d] = ins[i].layout.dimensions[d] < 0 ? 1 : ins[i].layout.dimensions[d];
        dynamic |= ins[i].layout.dimensions[d] < 0;
      }
      if (dynamic) {
        CHECK(LiteRtCompiledModelResizeInputTensor(cm, 0, i, dims, ins[i].layout.rank));
        CHECK(LiteRtGetCompiledModelInputTensorLayout(cm, 0, i, &ins[i].layout));
      }
    }
    for (LiteRtParamIndex i = 0; i < n_out; ++i) {
      LiteRtTensor t = nullptr;
      CHECK(LiteRtGetSignatureOutputTensorByIndex(sig, i, &t));
      outs[i].type = tensor_element_type(t);
    }
    std::vector<LiteRtLayout> layouts(n_out);
    if (n_out) CHECK(LiteRtGetCompiledModelOutputTensorLayouts(cm, 0, n_out, layouts.data(), true));
    for (LiteRtParamIndex i = 0; i < n_out; ++i) outs[i].layout = layouts[i];
    size_t in_bytes = 0, out_bytes = 0;
    uint32_t seed = 12345;
    for (auto& io : ins) {
      bind(io);
      in_bytes = std::max(in_bytes, io.bytes);
      if (io.type == kLiteRtElementTypeFloat32) {  // deterministic values in [-1, 1)
        float* f = static_cast<float*>(io.data);
        for (size_t k = 0; k < io.bytes / 4; ++k) {
          seed = seed * 1664525u + 1013904223u;
          f[k] = static_cast<float>(seed >> 8) / 8388608.0f - 1.0f;
        }
      }
      in_bufs.push_back(io.buffer);
    }
    for (auto& io : outs) {
      bind(io);
      out_bytes = std::max(out_bytes, io.bytes);
      out_bufs.push_back(io.buffer);
    }
    src.assign(in_bytes + 1, 0);
    dst.assign(out_bytes + 1, 0);
    if (!ins.empty()) std::memcpy(src.data(), ins[0].data, ins[0].bytes);
  }

  inline void run() {
    LiteRtStatus s = LiteRtRunCompiledModel(cm, 0, in_bufs.size(), in_bufs.data(), out_bufs.size(), out_bufs.data());
    if (s != kLiteRtStatusOk) die("LiteRtRunCompiledModel", s);
  }

  inline void round_trip() {
    for (auto& io : ins) std::memcpy(io.data, src.data(), io.bytes);
    run();
    for (auto& io : outs) std::memcpy(dst.data(), io.data, io.bytes);
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string time_runs(Runner& r, int n) {
  std::vector<double> t(n);
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    r.run();
    t[i] = us_since(t0);
  }
  double sum = 0;
  for (double x : t) sum += x;
  std::ostringstream os;
  os << "median_us=" << median(t) << " min_us=" << *std::min_element(t.begin(), t.end()) << " mean_us=" << sum / n
     << " runs=" << n;
  return os.str();
}

std::string time_blocks(Runner& r, int blocks, int k, bool round_trip) {
  std::vector<double> per(blocks);
  for (int b = 0; b < blocks; ++b) {
    auto t0 = Clock::now();
    if (round_trip)
      for (int i = 0; i < k; ++i) r.round_trip();
    else
      for (int i = 0; i < k; ++i) r.run();
    per[b] = us_since(t0) / k;
  }
  std::ostringstream os;
  os << "median_us=" << median(per) << " min_us=" << *std::min_element(per.begin(), per.end()) << " blocks=" << blocks
     << " per_block=" << k;
  return os.str();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "raw_driver: %s needs a value\n", s.c_str());
        std::exit(3);
      }
      return argv[++i];
    };
    if (s == "--threads") a.threads = std::atoi(next().c_str());
    else if (s == "--runs") a.runs = std::atoi(next().c_str());
    else if (s == "--warmup") a.warmup = std::atoi(next().c_str());
    else if (s == "--weight-cache") a.weight_cache = next();
    else if (s == "--lib-dir") a.lib_dir = next();
    else if (s == "--load-repeats") a.load_repeats = std::atoi(next().c_str());
    else if (s == "--serve") a.serve = true;
    else if (s == "--no-runtime-options") a.no_runtime_options = true;
    else if (!s.empty() && s[0] != '-' && a.model.empty()) a.model = s;
    else {
      std::fprintf(stderr, "raw_driver: unknown argument %s\n", s.c_str());
      return 3;
    }
  }
  if (a.model.empty() || a.threads < 1 || a.runs < 1) {
    std::fprintf(stderr, "usage: raw_driver MODEL [--threads N] [--runs N] [--warmup N] [--weight-cache FILE] "
                         "[--lib-dir DIR] [--no-runtime-options] [--serve | --load-repeats N]\n");
    return 3;
  }

  Runner r;
  std::vector<LiteRtEnvOption> env_opts;
  LiteRtEnvOption sev{};
  sev.tag = kLiteRtEnvOptionTagMinLoggerSeverity;
  sev.value.type = kLiteRtAnyTypeInt;
  sev.value.int_value = kLiteRtLogSeveritySilent;
  env_opts.push_back(sev);
  if (!a.lib_dir.empty()) {
    LiteRtEnvOption dir{};
    dir.tag = kLiteRtEnvOptionTagRuntimeLibraryDir;
    dir.value.type = kLiteRtAnyTypeString;
    dir.value.str_value = a.lib_dir.c_str();
    env_opts.push_back(dir);
  }
  auto t_env = Clock::now();
  CHECK(LiteRtCreateEnvironment(static_cast<int>(env_opts.size()), env_opts.data(), &r.env));
  double env_ms = us_since(t_env) / 1e3;

  if (a.load_repeats > 0) {
    std::printf("env_ms=%.3f\n", env_ms);
    for (int k = 0; k < a.load_repeats; ++k) {
      r.compile(a);
      auto t0 = Clock::now();
      r.prepare();
      r.run();
      double first_run_ms = us_since(t0) / 1e3;
      r.destroy();
      std::printf("load_ms=%.3f compile_ms=%.3f first_run_ms=%.3f total_ms=%.3f\n", r.load_ms, r.compile_ms,
                  first_run_ms, r.load_ms + r.compile_ms + first_run_ms);
      std::fflush(stdout);
    }
    LiteRtDestroyEnvironment(r.env);
    return 0;
  }

  r.compile(a);
  r.prepare();
  for (int i = 0; i < a.warmup; ++i) r.run();

  if (!a.serve) {
    std::printf("threads=%d env_ms=%.3f load_ms=%.3f compile_ms=%.3f %s\n", a.threads, env_ms, r.load_ms, r.compile_ms,
                time_runs(r, a.runs).c_str());
  } else {
    std::printf("ready threads=%d env_ms=%.3f load_ms=%.3f compile_ms=%.3f inputs=%zu outputs=%zu\n", a.threads, env_ms,
                r.load_ms, r.compile_ms, r.ins.size(), r.outs.size());
    std::fflush(stdout);
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream is(line);
      std::string cmd;
      is >> cmd;
      if (cmd == "quit" || cmd.empty()) break;
      int x = 0, y = 0;
      is >> x >> y;
      if (cmd == "run" && x > 0) std::printf("%s\n", time_runs(r, x).c_str());
      else if ((cmd == "block" || cmd == "rtblock") && x > 0 && y > 0)
        std::printf("%s\n", time_blocks(r, x, y, cmd == "rtblock").c_str());
      else std::printf("error=unknown_command\n");
      std::fflush(stdout);
    }
  }
  r.destroy();
  LiteRtDestroyEnvironment(r.env);
  return 0;
}
