#include "core/runtime.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace dojo::core {
namespace {

// test_env.cpp calls use_fast_blas_kernels() before main: where OpenBLAS fell back to generic kernels
// on this CPU, the program has started again on the right ones.
TEST(Runtime, TestsRunOnTheCpusOwnBlasKernels) {
  const auto kernels = blas_kernels();
  if (kernels.empty()) GTEST_SKIP() << "the BLAS is not OpenBLAS";
  EXPECT_EQ(better_blas_kernels(), "") << "OpenBLAS runs " << kernels;
}

TEST(Runtime, ConfigureComputeGivesTheThreadCount) {
  EXPECT_EQ(configure_compute(1), 1);
  EXPECT_GE(configure_compute(0), 1);
  configure_compute(1);
}

}  // namespace
}  // namespace dojo::core
