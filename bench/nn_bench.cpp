// Keras-style API speed: one training step (forward, loss, backward, Adam) of the seed CNN at batch
// 32 — 1,875 of them make a Fashion-MNIST epoch — and of a Dense stack; the full epoch is measured by
// `dojo example fashion-cnn` (seconds_per_epoch in its summary). The sequential latent models of
// prob: a DRAW training step (batch 128, 10 glimpses), a TD-VAE one (64 sequences of 20 frames) and
// a GQN one (32 scenes, 5 context views, 6 generation steps), items being images, sequences or
// scenes; and the ray caster that draws GQN's rooms (items: 32 × 32 views).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>

#include "core/runtime.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "nn/scenes.h"
#include "prob/draw.h"
#include "prob/gqn.h"
#include "prob/model.h"
#include "prob/tdvae.h"

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

void BM_DrawTrainStep(benchmark::State& state) {
  setup();
  prob::Draw draw(prob::DrawOptions{});
  prob::Model model(draw->loss(), draw->distributions(), nn::optimizers::Adam(1e-3), 10.0);
  const auto batch = draw->initial(torch::rand({128, 784}));
  for (auto _ : state) benchmark::DoNotOptimize(model.train(batch));
  state.SetItemsProcessed(state.iterations() * 128);
}
BENCHMARK(BM_DrawTrainStep)->Unit(benchmark::kMillisecond);

void BM_TdVaeTrainStep(benchmark::State& state) {
  setup();
  prob::TdVae td(prob::TdVaeOptions{});
  prob::Model model(td->loss(), td->distributions(), nn::optimizers::Adam(5e-4), 10.0);
  const auto batch = td->batch(prob::shifting_sequences(torch::rand({64, 28, 28}), 20).first);
  for (auto _ : state) benchmark::DoNotOptimize(model.train(batch));
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_TdVaeTrainStep)->Unit(benchmark::kMillisecond);

void BM_GqnTrainStep(benchmark::State& state) {
  setup();
  prob::Gqn gqn(prob::GqnOptions{});
  prob::Model model(gqn->loss(), gqn->distributions(), nn::optimizers::Adam(5e-4), 10.0);
  const auto batch = gqn->batch(torch::rand({32, 5, 3, 32, 32}), torch::randn({32, 5, 7}),
                                torch::rand({32, 3, 32, 32}), torch::randn({32, 7}));
  for (auto _ : state) benchmark::DoNotOptimize(model.train(batch));
  state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_GqnTrainStep)->Unit(benchmark::kMillisecond);

void BM_RenderRooms(benchmark::State& state) {
  std::uint64_t seed = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(nn::data::render_rooms({.scenes = 10, .views = 10, .seed = seed++}));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_RenderRooms)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
