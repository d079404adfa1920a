// `dojo srl train`: state-representation learning end to end — a random (or given) policy's frames of a state
// env (its picture, pixels: 64), an SrlModel trained on them, and the S-RL Toolbox's scores of the
// learned state against the true one on held-out episodes. Run directory: config.yaml, srl.ckpt
// (the encoder), srl.csv (the objective per epoch), summary.json (GTC, KNN-MSE and their baselines).
#pragma once
#include <torch/arg.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/export.h"
#include "core/options.h"
#include "envs/factory.h"
#include "envs/pixels.h"
#include "rl/srl.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct SrlRunOptions {
  TORCH_ARG(std::string, env) = "Pendulum-v1";
  TORCH_ARG(std::int64_t, pixel_frames) = 2;  // frames stacked (64 × 64 each)
  TORCH_ARG(bool, pixel_gray) = false;
  TORCH_ARG(std::vector<double>, pixel_crop) = {};  // [top, left, bottom, right] (envs::Crop); []: all
  TORCH_ARG(std::int64_t, steps) = 20'000;          // transitions collected
  // Who acts while collecting: "" for uniformly random actions, or a dojo run on the env's true state
  // whose best checkpoint acts, with a random action at probability behaviour_epsilon.
  TORCH_ARG(std::string, behaviour) = "";
  TORCH_ARG(double, behaviour_epsilon) = 0.5;
  TORCH_ARG(double, holdout) = 0.2;  // share of the episodes scored and never trained on
  TORCH_ARG(std::vector<std::string>, losses) = std::vector<std::string>{"autoencoder"};
  TORCH_ARG(std::vector<double>, weights) = {};
  TORCH_ARG(std::int64_t, state_dim) = 8;
  TORCH_ARG(double, beta) = 1.0;
  TORCH_ARG(std::int64_t, hidden) = 64;
  TORCH_ARG(double, e2c_lambda) = 0.25;
  TORCH_ARG(std::int64_t, epochs) = 10;
  TORCH_ARG(std::int64_t, batch_size) = 128;
  TORCH_ARG(double, learning_rate) = 1e-3;
  TORCH_ARG(std::int64_t, knn_k) = 5;
  TORCH_ARG(std::int64_t, seed) = 0;
  TORCH_ARG(std::int64_t, n_threads) = 1;

 public:
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("env", env_);
    f("pixel_frames", pixel_frames_, core::positive());
    f("pixel_gray", pixel_gray_);
    f("pixel_crop", pixel_crop_);
    f("steps", steps_, core::positive());
    f("behaviour", behaviour_);
    f("behaviour_epsilon", behaviour_epsilon_, core::in(0, 1));
    f("holdout", holdout_, core::in_open_closed(0, 0.5));
    f("losses", losses_);
    f("weights", weights_);
    f("state_dim", state_dim_, core::positive());
    f("beta", beta_, core::non_negative());
    f("hidden", hidden_, core::positive());
    f("e2c_lambda", e2c_lambda_, core::non_negative());
    f("epochs", epochs_, core::positive());
    f("batch_size", batch_size_, core::at_least(2));
    f("learning_rate", learning_rate_, core::positive());
    f("knn_k", knn_k_, core::positive());
    f("seed", seed_, core::non_negative());
    f("n_threads", n_threads_, core::non_negative("0: all cores"));
  }
  SrlOptions model() const;
  envs::PixelOptions pixels() const;     // its 64 × 64 picture
  envs::EnvFactory env_factory() const;  // the env seen through that picture
};

struct SrlScores {
  GroundTruthCorrelation gtc;
  double knn_mse = 0.0;
};
struct SrlSummary {
  std::filesystem::path run_dir;
  std::int64_t transitions = 0, held_out_frames = 0;
  double minutes = 0.0;
  std::vector<double> curve;  // the objective per epoch
  // On the held-out episodes: the learned state; the same model untrained (what the architecture
  // alone gives); and the true state itself (KNN-MSE's floor, GTC 1).
  SrlScores learned, untrained, ground_truth;
};

core::Config resolve_srl_config(const core::Config& config);
SrlSummary train_srl_run(const core::Config& config, const std::filesystem::path& out);
// A finished run's model and options (throws dojo::Error naming what is missing or corrupt).
struct LoadedSrl {
  SrlRunOptions options;
  SrlModel model{nullptr};
};
LoadedSrl load_srl_run(const std::filesystem::path& dir);
// An env factory step: the run's pixel observations, then its frozen encoder (LearnedState), so an
// agent learns on the learned state. The run's env must be the env it wraps.
envs::WrapperFn srl_state_wrapper(const std::filesystem::path& dir);

}  // namespace dojo::rl

DOJO_PUBLIC_END
