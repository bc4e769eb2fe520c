// Aligned host storage, the memory-available check, numpy views and copies over host blocks.
#include "storage.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#if !defined(_WIN32)
#include <unistd.h>
#endif

#include "element_types.h"

namespace litert_sdk {

// Largest block worth trying: the memory available now (MemAvailable on Linux, else the physical memory). A bigger
// request would only succeed through overcommit and get the process killed once the block is zero-filled.
size_t available_memory() {
#if defined(__linux__)
  if (FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    unsigned long long kb = 0;
    while (std::fgets(line, sizeof(line), f))
      if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    std::fclose(f);
    if (kb) return static_cast<size_t>(kb) * 1024;
  }
#endif
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGE_SIZE)
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) return static_cast<size_t>(pages) * static_cast<size_t>(page);
#endif
  return std::numeric_limits<size_t>::max() / 2;
}

AlignedBlock::AlignedBlock(size_t bytes, bool zero) : size(bytes) {
  // (only large blocks are checked: reading the available memory costs a few microseconds)
  if (bytes >= (size_t{64} << 20) && bytes > available_memory()) throw std::bad_alloc();
  size_t rounded = (bytes + LITERT_SDK_HOST_MEMORY_ALIGNMENT - 1) / LITERT_SDK_HOST_MEMORY_ALIGNMENT *
                   LITERT_SDK_HOST_MEMORY_ALIGNMENT;
  if (rounded == 0) rounded = LITERT_SDK_HOST_MEMORY_ALIGNMENT;
#if defined(_WIN32)
  data = _aligned_malloc(rounded, LITERT_SDK_HOST_MEMORY_ALIGNMENT);
#else
  data = std::aligned_alloc(LITERT_SDK_HOST_MEMORY_ALIGNMENT, rounded);
#endif
  if (!data) throw std::bad_alloc();
  if (zero) std::memset(data, 0, rounded);
}

AlignedBlock::~AlignedBlock() {
#if defined(_WIN32)
  _aligned_free(data);
#else
  std::free(data);
#endif
}

static nb::object make_array(void* data, nb::handle owner, LiteRtElementType type, const std::vector<int64_t>& dims,
                             bool readonly) {
  std::vector<size_t> shape(dims.begin(), dims.end());
  nb::dlpack::dtype dt = element_dlpack_dtype(type);
  if (readonly) {
    nb::ndarray<nb::numpy, nb::ro> arr(data, shape.size(), shape.data(), owner, nullptr, dt);
    return nb::cast(arr);
  }
  nb::ndarray<nb::numpy> arr(data, shape.size(), shape.data(), owner, nullptr, dt);
  return nb::cast(arr);
}

nb::object numpy_view(const BlockPtr& block, LiteRtElementType type, const std::vector<int64_t>& dims, bool readonly) {
  auto* holder = new BlockPtr(block);
  nb::capsule owner(holder, [](void* p) noexcept { delete static_cast<BlockPtr*>(p); });
  return make_array(block->data, owner, type, dims, readonly);
}

nb::object numpy_copy(const void* src, LiteRtElementType type, const std::vector<int64_t>& dims) {
  size_t n = 1;
  for (int64_t d : dims) n *= static_cast<size_t>(d);
  size_t bytes = n * element_size(type);
  auto block = std::make_shared<AlignedBlock>(bytes, /*zero=*/false);
  if (bytes) std::memcpy(block->data, src, bytes);
  return numpy_view(block, type, dims, false);
}

void copy_ndarray_to(const nb::ndarray<nb::ro>& array, void* dst, size_t bytes) {
  const size_t ndim = array.ndim();
  const size_t item = array.itemsize();
  const auto* src = static_cast<const uint8_t*>(array.data());
  // Contiguous fast path.
  bool contiguous = true;
  int64_t expect = 1;
  for (size_t i = ndim; i-- > 0;) {
    if (array.shape(i) != 1 && array.stride(i) != expect) {
      contiguous = false;
      break;
    }
    expect *= static_cast<int64_t>(array.shape(i));
  }
  if (contiguous) {
    if (bytes) std::memcpy(dst, src, bytes);
    return;
  }
  // Generic strided copy (strides are in elements).
  auto* out = static_cast<uint8_t*>(dst);
  std::vector<size_t> idx(ndim, 0);
  size_t total = bytes / (item ? item : 1);
  for (size_t k = 0; k < total; ++k) {
    int64_t off = 0;
    for (size_t d = 0; d < ndim; ++d) off += static_cast<int64_t>(idx[d]) * array.stride(d);
    std::memcpy(out + k * item, src + off * static_cast<int64_t>(item), item);
    for (size_t d = ndim; d-- > 0;) {
      if (++idx[d] < array.shape(d)) break;
      idx[d] = 0;
    }
  }
}

}  // namespace litert_sdk
