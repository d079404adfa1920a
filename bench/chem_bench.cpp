// The captioner's costs on this machine: one training step (encoder + decoder, forward and backward,
// AdamW) at the shipped config's size, and its parts, so the images/s `dojo mol train` prints can be
// traced to the encoder or the decoder. DOJO_BENCH_THREADS sets LibTorch's threads (default 1).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>

#include "chem/captioner.h"
#include "chem/dataset.h"
#include "chem/labels.h"
#include "chem/tokens.h"
#include "chem/train.h"
#include "core/files.h"
#include "core/runtime.h"
#include "nn/optim.h"

namespace {

using dojo::chem::Captioner;
using dojo::chem::CaptionerOptions;

void setup_threads() {
  const char* env = std::getenv("DOJO_BENCH_THREADS");
  dojo::core::configure_compute(env ? std::atoi(env) : 1);
}

CaptionerOptions shipped_size() {  // configs/mol/captioner.yaml
  CaptionerOptions o;
  o.max_len(160).vocab(60);
  return o;
}

constexpr std::int64_t kBatch = 32, kTokens = 60;

torch::Tensor images() { return torch::randint(0, 256, {kBatch, 224, 224}, torch::kUInt8); }
torch::Tensor tokens() { return torch::randint(4, 60, {kBatch, kTokens}, torch::kLong); }

void BM_CaptionerTrainStep(benchmark::State& state) {
  setup_threads();
  torch::manual_seed(0);
  Captioner model(shipped_size());
  model->train();
  dojo::nn::OptimizerOptions oo;
  oo.name = "adamw";
  auto optimizer = dojo::nn::make_optimizer(model->parameters(), oo);
  const auto x = images();
  const auto t = tokens();
  for (auto _ : state) {
    const auto logits = model->decode(model->encode(x), t.slice(1, 0, -1));
    const auto loss = torch::nn::functional::cross_entropy(logits.flatten(0, 1), t.slice(1, 1).flatten());
    dojo::nn::backward(*optimizer, loss);
    dojo::nn::clip_and_step(*optimizer, 1.0);
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(kBatch * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CaptionerTrainStep)->Unit(benchmark::kMillisecond)->UseRealTime();

// The encoder alone, forward and backward (the ResNet on 224 px images).
void BM_CaptionerEncoder(benchmark::State& state) {
  setup_threads();
  torch::manual_seed(0);
  Captioner model(shipped_size());
  model->train();
  if (state.range(0) == 1) {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters())
      if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  }
  const auto x = images();
  for (auto _ : state) {
    model->zero_grad();
    model->encode(x).sum().backward();
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(kBatch * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CaptionerEncoder)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// The decoder alone over a fixed memory, forward and backward (teacher forcing, 60 tokens).
void BM_CaptionerDecoder(benchmark::State& state) {
  setup_threads();
  torch::manual_seed(0);
  Captioner model(shipped_size());
  model->train();
  const auto memory = torch::randn({kBatch, 49, 256});
  const auto t = tokens();
  for (auto _ : state) {
    model->zero_grad();
    model->decode(memory, t.slice(1, 0, -1)).sum().backward();
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(kBatch * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CaptionerDecoder)->Unit(benchmark::kMillisecond)->UseRealTime();

// What the training loader does for each image on its own thread: read the PNG, clean it (despeckle,
// crop, turn) and fit it into 224 px — 64 noisy drawings made once.
void BM_CaptionerPrepareImage(benchmark::State& state) {
  setup_threads();
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / "dojo_chem_bench_images";
  if (!fs::exists(dir / "train_labels.csv")) {
    fs::remove_all(dir);
    dojo::chem::make_dataset(dir, {.n = 64, .threads = 1});
  }
  const auto labels = dojo::chem::read_labels(dir / "train_labels.csv");
  std::size_t i = 0;
  for (auto _ : state) {
    const auto path = dojo::chem::image_path(dir / "train", labels[i++ % labels.size()].image_id);
    benchmark::DoNotOptimize(dojo::chem::prepare_image(dojo::chem::read_image(path), 224, true));
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CaptionerPrepareImage)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
