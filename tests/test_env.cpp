// Every test program reads the source tree's presets (and the dojo programs it starts inherit this):
// CTest's ENVIRONMENT property cannot carry a second variable through gtest_discover_tests, whose
// property lists split at the semicolon between them.
// They also run on the BLAS kernels the dojo command runs on (core::use_fast_blas_kernels).
#include <cstdlib>

#include "core/runtime.h"

namespace {
const bool kFastBlas = (dojo::core::use_fast_blas_kernels(), true);
const int kConfigDirSet = ::setenv("DOJO_CONFIG_DIR", DOJO_TEST_CONFIG_DIR, /*overwrite=*/0);
}  // namespace
