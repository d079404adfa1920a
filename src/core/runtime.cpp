#include "core/runtime.h"

#include <dlfcn.h>
#include <malloc.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "core/error.h"

namespace dojo::core {

void init_logging(bool verbose) {
  static auto logger = spdlog::stderr_color_mt("dojo");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("[%H:%M:%S] %v");
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
}

void seed_everything(std::uint64_t seed) { torch::manual_seed(seed); }

int configure_compute(std::int64_t n) {
  const int threads =
      n > 0 ? static_cast<int>(n) : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool blas = true;
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
  return threads;
}

}  // namespace dojo::core
