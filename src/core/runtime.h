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

// Sets the thread counts (n <= 0: all cores) and flushes denormal floats to zero; returns n.
// LibTorch's OpenMP pool and OpenBLAS's pool spin against each other when both have every core, so
// one pool gets the n threads and the other one. Measured on 2 cores with Debian's LibTorch, OpenBLAS
// getting them is faster for every workload dojo has, convolutions included (its CPU convolutions
// are im2col + BLAS products): VAE epoch 1.57x, fashion-cnn epoch 1.22x, seed-CNN train step 1.22x,
// MinAtar DQN 1.16x. $DOJO_THREAD_SPLIT=torch gives LibTorch's pool the threads instead (blas: the
// default); anything else is a dojo::Error.
int configure_compute(std::int64_t n_threads);

}  // namespace dojo::core

DOJO_PUBLIC_END
