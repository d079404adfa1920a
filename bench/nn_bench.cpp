// Keras-style API speed: one training step (forward, loss, backward, Adam) of the seed CNN at batch
// 32 — 1,875 of them make a Fashion-MNIST epoch — and of a Dense stack; the full epoch is measured by
// `dojo example fashion-cnn` (seconds_per_epoch in its summary).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>

#include "core/runtime.h"
#include "nn/layers.h"
#include "nn/model.h"

namespace {

using namespace dojo;

void setup() {
  const char* t = std::getenv("DOJO_BENCH_THREADS");
  core::configure_compute(t ? std::atoi(t) : 2);
  core::seed_everything(0);
}

void BM_SeedCnnTrainStep(benchmark::State& state) {
  setup();
  nn::Sequential model;
  model.add(nn::Conv2D(64, {2}, {.activation = "relu", .input_shape = {28, 28, 1}}));
  model.add(nn::MaxPooling2D({2, 2}));
  model.add(nn::Flatten());
  model.add(nn::Dense(216, {.activation = "relu"}));
  model.add(nn::Dropout(0.5));
  model.add(nn::Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  auto x = torch::rand({32, 28, 28, 1});
  auto y = torch::randint(0, 10, {32}, torch::kLong);
  for (auto _ : state) benchmark::DoNotOptimize(model->train_on_batch({x}, y));
}
BENCHMARK(BM_SeedCnnTrainStep)->Unit(benchmark::kMillisecond);

void BM_DenseStackTrainStep(benchmark::State& state) {
  setup();
  nn::Sequential model;
  model.add(nn::Dense(256, {.activation = "relu", .input_shape = {784}}));
  model.add(nn::Dense(256, {.activation = "relu"}));
  model.add(nn::Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy");
  auto x = torch::rand({32, 784});
  auto y = torch::randint(0, 10, {32}, torch::kLong);
  for (auto _ : state) benchmark::DoNotOptimize(model->train_on_batch({x}, y));
}
BENCHMARK(BM_DenseStackTrainStep)->Unit(benchmark::kMicrosecond);

void BM_SeedCnnPredict(benchmark::State& state) {
  setup();
  nn::Sequential model;
  model.add(nn::Conv2D(64, {2}, {.activation = "relu", .input_shape = {28, 28, 1}}));
  model.add(nn::MaxPooling2D({2, 2}));
  model.add(nn::Flatten());
  model.add(nn::Dense(216, {.activation = "relu"}));
  model.add(nn::Dense(10, {.activation = "softmax"}));
  auto x = torch::rand({1000, 28, 28, 1});
  for (auto _ : state) benchmark::DoNotOptimize(model.predict(x, 250));
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_SeedCnnPredict)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
