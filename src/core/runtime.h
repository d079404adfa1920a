// Process-wide settings: logging, the one global seed and the thread count.
#pragma once
#include <cstdint>
#include <string>

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
// A workload measured faster the other way passes its split as `prefer` (the variable still
// overrides it): World Models' V is channels-last, whose convolutions are LibTorch's own kernels,
// not BLAS products (2 threads to LibTorch: V train step 2.4x, encode 1.9x, M train step 1.3x).
enum class ThreadSplit { blas, torch };
int configure_compute(std::int64_t n_threads, ThreadSplit prefer = ThreadSplit::blas);

// Debian's OpenBLAS (0.3.21) picks its kernels by CPU model and falls back to the generic Prescott
// (SSE3) ones on models newer than its table, AVX-512 Xeons among them (this project's machines:
// Emerald Rapids, model 207). sgemm is every Linear layer and, through im2col, every convolution, so
// the whole of training ran at half speed or less (captioner step: 2.0x faster with SkylakeX kernels).
// OpenBLAS reads $OPENBLAS_CORETYPE only while it loads, so when it chose generic kernels on a CPU
// with AVX-512 (or AVX2), this sets the variable to the matching kernels (SkylakeX, Haswell) and
// starts the program again with the same arguments (execv of /proc/self/exe). Nothing happens when
// the variable is already set, the BLAS is not OpenBLAS, or its choice was already right. Call it
// first thing in main(), before threads start or files open; the dojo command and dojo's tests do.
void use_fast_blas_kernels();

// The kernels OpenBLAS runs ("SkylakeX", "Prescott"), or "" when the BLAS is not OpenBLAS.
std::string blas_kernels();

// The kernels OpenBLAS should run on this CPU when it chose generic ones ("SkylakeX", "Haswell"),
// else "" (its choice stands).
std::string better_blas_kernels();

}  // namespace dojo::core

DOJO_PUBLIC_END
