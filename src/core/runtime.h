// Process-wide settings: logging, the one global seed and the thread count.
#pragma once
#include <cstdint>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// Logs go to stderr as "[HH:MM:SS] message" so stdout stays for results.
void init_logging(bool verbose = false);

// Seeds LibTorch's global generator (network initialisation). Environments, exploration and replay
// sampling own generators seeded from the same value, so one seed fixes the whole run.
void seed_everything(std::uint64_t seed);

// What a process mostly computes, which decides how its threads are split between LibTorch's pool
// and OpenBLAS's (the two spin against each other when both have them all). Dense layers spend their
// time in OpenBLAS's matrix products, convolutions in LibTorch's own kernels; measured on 2 cores,
// the VAE family runs ~1.5x faster at LibTorch 1 / OpenBLAS 2, the seed CNN ~1.1x faster the other
// way round.
enum class Workload { kDense, kConvolutional };

// Sets the thread counts (n <= 0: all cores) for the workload: dense -> LibTorch 1, OpenBLAS n;
// convolutional -> LibTorch n, OpenBLAS 1. $DOJO_THREAD_SPLIT=torch|blas overrides the choice
// (torch: LibTorch n / OpenBLAS 1; blas: LibTorch 1 / OpenBLAS n); anything else is a dojo::Error.
// Also flushes denormal floats to zero. Returns n.
int configure_compute(std::int64_t n_threads, Workload workload = Workload::kConvolutional);

}  // namespace dojo::core

DOJO_PUBLIC_END
