#include "core/runtime.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

#include "core/error.h"

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

// One pool gets the threads, the other one; a caller's preference picks which unless
// $DOJO_THREAD_SPLIT says otherwise.
TEST(Runtime, ThreadSplitGoesToThePreferredPoolUnlessTheVariableSaysOtherwise) {
  unsetenv("DOJO_THREAD_SPLIT");
  configure_compute(2);
  EXPECT_EQ(torch::get_num_threads(), 1);
  configure_compute(2, ThreadSplit::torch);
  EXPECT_EQ(torch::get_num_threads(), 2);
  setenv("DOJO_THREAD_SPLIT", "blas", 1);
  configure_compute(2, ThreadSplit::torch);
  EXPECT_EQ(torch::get_num_threads(), 1);
  setenv("DOJO_THREAD_SPLIT", "both", 1);
  EXPECT_THROW(configure_compute(2), Error);
  unsetenv("DOJO_THREAD_SPLIT");
  configure_compute(1);
}

}  // namespace
}  // namespace dojo::core
