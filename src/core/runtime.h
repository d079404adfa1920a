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

// Sets LibTorch's and OpenBLAS's thread counts (n <= 0: all cores) and flushes denormal floats to
// zero. Returns the thread count in force.
int configure_compute(std::int64_t n_threads);

}  // namespace dojo::core

DOJO_PUBLIC_END
