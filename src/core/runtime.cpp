#include "core/runtime.h"

#include <dlfcn.h>
#include <malloc.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/error.h"

namespace dojo::core {

void init_logging(bool verbose) {
  static auto logger = spdlog::stderr_color_mt("dojo");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("[%H:%M:%S] %v");
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
}

void seed_everything(std::uint64_t seed) { torch::manual_seed(seed); }

int configure_compute(std::int64_t n, ThreadSplit prefer) {
  const int threads =
      n > 0 ? static_cast<int>(n) : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool blas = prefer == ThreadSplit::blas;
  if (const char* split = std::getenv("DOJO_THREAD_SPLIT")) {
    const std::string s = split;
    if (s != "torch" && s != "blas")
      throw Error("DOJO_THREAD_SPLIT '" + s +
                  "': expected torch (LibTorch gets the threads) or blas (OpenBLAS does)");
    blas = s == "blas";
  }
  // LibTorch does not pass its thread count on to OpenBLAS, whose own pool then busy-waits in
  // sched_yield beside our thread (a quarter of a DQN run's time, measured). With several threads,
  // LibTorch's OpenMP pool and OpenBLAS's pool spin against each other on the same cores (seed CNN:
  // 5.1 s with both at 2 threads), so one of them gets them all (runtime.h has the measurements).
  // Looked up at run time so another BLAS behind libblas.so.3 still works.
  torch::set_num_threads(blas ? 1 : threads);
  using SetThreads = void (*)(int);
  if (auto* f = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    f(blas ? threads : 1);
  // Adam's second moments of small gradients underflow into denormals, which the FPU handles ~100x
  // slower (measured: Adam 124 -> 57 us per step for a 66k-parameter MLP). Values below 1.2e-38 carry
  // nothing a network can use; torch.set_flush_denormal exists for the same reason.
  at::globalContext().setFlushDenormal(true);
  // glibc serves blocks above its mmap threshold with fresh pages from the kernel and unmaps them on
  // free, so every training step page-faulted its large activations and gradients back in (~15% of
  // a seed-CNN epoch in perf). Keeping such blocks in the heap lets steps reuse them.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  static const bool warned = [] {
    if (const auto better = better_blas_kernels(); !better.empty())
      spdlog::warn(
          "OpenBLAS runs its generic {} kernels on this CPU; {} ones are several times faster: "
          "set OPENBLAS_CORETYPE={} (or call dojo::core::use_fast_blas_kernels() first in main)",
          blas_kernels(), better, better);
    return true;
  }();
  (void)warned;
  return threads;
}

std::string blas_kernels() {
  using CoreName = char* (*)();
  if (auto* f = reinterpret_cast<CoreName>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"))) return f();
  return "";
}

std::string better_blas_kernels() {
  // Kernel sets older than AVX2: OpenBLAS's fall-backs for a model it does not know.
  static constexpr std::array<std::string_view, 11> generic = {
      "prescott", "core2",      "penryn",    "dunnington", "nehalem",    "atom",
      "katmai",   "coppermine", "northwood", "banias",     "sandybridge"};
  std::string name = blas_kernels();
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (std::find(generic.begin(), generic.end(), name) == generic.end()) return "";
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return "";
}

void use_fast_blas_kernels() {
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's choice, or this function's second run
  const auto better = better_blas_kernels();
  if (better.empty()) return;
  // The arguments as the kernel has them: main()'s argv may be gone (a static initialiser calls this).
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<char*> args;
  for (std::size_t i = 0; i < cmdline.size();) {  // NUL-separated; c_str() ends the last one
    args.push_back(const_cast<char*>(cmdline.c_str() + i));
    const auto end = cmdline.find('\0', i);
    if (end == std::string::npos) break;
    i = end + 1;
  }
  if (args.empty()) return;
  args.push_back(nullptr);
  ::setenv("OPENBLAS_CORETYPE", better.c_str(), 1);
  ::execv("/proc/self/exe", args.data());
  ::unsetenv("OPENBLAS_CORETYPE");  // exec failed: carry on with the generic kernels
}

}  // namespace dojo::core
