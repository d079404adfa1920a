#include "rl/srl_run.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/files.h"
#include "core/run_dir.h"
#include "envs/pixels.h"
#include "envs/registry.h"
#include "rl/trainer.h"

namespace dojo::rl {

namespace fs = std::filesystem;

namespace {

SrlRunOptions read_srl_options(const core::Config& config) {
  SrlRunOptions o;
  core::read_options(config, o);
  return o;
}

SrlModel make_model(const SrlRunOptions& o) {
  const auto probe = o.env_factory()();
  return SrlModel(probe->observation_space(), probe->action_space(), o.model());
}

// The learned state of every held-out frame against its true state.
SrlScores score(const torch::Tensor& states, const SrlData& held, std::int64_t k, std::uint64_t seed) {
  return {ground_truth_correlation(states, held.states), knn_mse(states, held.states, k, 0, seed)};
}

nlohmann::json to_json(const SrlScores& s) {
  return {{"gtc", s.gtc.mean}, {"gtc_per_dimension", s.gtc.per_dimension}, {"knn_mse", s.knn_mse}};
}

// The behaviour run's greedy policy on the true state; none for uniformly random actions.
SrlBehaviour behaviour_policy(const SrlRunOptions& o) {
  if (o.behaviour().empty()) return {};
  auto run =
      std::make_shared<LoadedRun>(load_run(o.behaviour(), "best", static_cast<std::uint64_t>(o.seed())));
  if (run->run.env_id() != o.env() || run->run.pixels() > 0 || !run->run.srl_run().empty() ||
      run->run.atari_wrappers())
    throw Error(fmt::format("behaviour '{}' is a run of {}{}: expected a run of {} on its true state",
                            o.behaviour(), run->run.env_id(),
                            run->run.pixels() > 0 || !run->run.srl_run().empty() ? " through pixels" : "",
                            o.env()));
  return [run](const torch::Tensor& state) {
    const torch::NoGradGuard no_grad;
    return run->agent->act(state, true);
  };
}

}  // namespace

void SrlRunOptions::validate() const {
  envs::spec(env_);
  core::check_options(*this);
  envs::crop_from(pixel_crop_);
  if (knn_k_ >= 50) throw Error("knn_k " + std::to_string(knn_k_) + ": expected fewer than 50 neighbours");
  make_model(*this);  // the losses, their weights and the env's spaces fit together
}

SrlOptions SrlRunOptions::model() const {
  return SrlOptions()
      .losses(losses_)
      .weights(weights_)
      .state_dim(state_dim_)
      .beta(beta_)
      .hidden(hidden_)
      .e2c_lambda(e2c_lambda_);
}

envs::PixelOptions SrlRunOptions::pixels() const {
  return {.size = ConvVaeImpl::kSize,
          .frames = pixel_frames_,
          .grayscale = pixel_gray_,
          .crop = envs::crop_from(pixel_crop_)};
}

envs::EnvFactory SrlRunOptions::env_factory() const {
  return envs::EnvFactory(env_).wrap(envs::pixel_wrapper(pixels()));
}

core::Config resolve_srl_config(const core::Config& config) {
  core::check_keys(config, core::option_keys<SrlRunOptions>());
  const auto o = read_srl_options(config);
  o.validate();
  core::Config out;
  core::write_options(o, out);
  // The behaviour run by its absolute path, so that the run directory's config.yaml replays anywhere.
  if (!o.behaviour().empty())
    out.set("behaviour", YAML::Node(fs::absolute(o.behaviour()).lexically_normal().string()));
  return out;
}

SrlSummary train_srl_run(const core::Config& config, const fs::path& out) {
  const auto resolved = resolve_srl_config(config);
  const auto o = read_srl_options(resolved);
  const auto start = std::chrono::steady_clock::now();
  // Experience: a random policy, whole episodes held out for scoring.
  const auto seed = static_cast<std::uint64_t>(o.seed());
  const auto data =
      collect_srl_data(o.env_factory(), o.steps(), seed, behaviour_policy(o), o.behaviour_epsilon());
  const auto episodes = data.episode[-1].item<std::int64_t>() + 1;
  const auto held_out = std::max<std::int64_t>(1, std::llround(static_cast<double>(episodes) * o.holdout()));
  if (episodes - held_out < 1)
    throw Error(fmt::format("SRL: {} steps gave {} episode(s): expected 2 or more (raise steps)", o.steps(),
                            episodes));
  const auto train = data.episodes(0, episodes - held_out);
  const auto held = data.episodes(episodes - held_out, episodes);
  spdlog::info("srl: {} transitions in {} episodes ({} held out, {} frames)", data.transitions(), episodes,
               held_out, held.frames.size(0));
  // The run directory once the data is known to fit: a failed run leaves nothing behind.
  const auto dir = core::create_run_dir(out, fmt::format("srl-{}-s{}", o.env(), o.seed()));
  core::atomic_write_text(dir / "config.yaml", resolved.dump());

  torch::manual_seed(seed);
  auto model = make_model(o);
  SrlSummary s;
  s.run_dir = dir;
  s.transitions = train.transitions();
  s.held_out_frames = held.frames.size(0);
  s.untrained = score(encode_frames(model, held.frames), held, o.knn_k(), seed);

  core::CsvWriter csv(dir / "srl.csv", {"epoch", "objective"});
  s.curve = train_srl(model, train,
                      SrlTrainOptions()
                          .epochs(o.epochs())
                          .batch_size(o.batch_size())
                          .learning_rate(o.learning_rate())
                          .seed(seed),
                      [&](std::int64_t epoch, double loss) {
                        csv.row({static_cast<double>(epoch), loss});
                        spdlog::info("srl: epoch {}: objective {:.4f}", epoch, loss);
                      });
  s.learned = score(encode_frames(model, held.frames), held, o.knn_k(), seed);
  s.ground_truth = score(held.states, held, o.knn_k(), seed);

  core::CheckpointWriter w;
  w.put("kind", std::string("dojo-srl"));
  w.put("model", *model);
  w.save(dir / "srl.ckpt");
  s.minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 60.0;
  const nlohmann::json j = {{"env", o.env()},
                            {"behaviour", o.behaviour().empty() ? "random" : o.behaviour()},
                            {"losses", o.losses()},
                            {"objective", model->objective().str()},
                            {"transitions", s.transitions},
                            {"held_out_frames", s.held_out_frames},
                            {"minutes", s.minutes},
                            {"learned", to_json(s.learned)},
                            {"untrained", to_json(s.untrained)},
                            {"ground_truth", to_json(s.ground_truth)}};
  core::atomic_write_text(dir / "summary.json", j.dump(2) + "\n");
  return s;
}

LoadedSrl load_srl_run(const fs::path& dir) {
  if (!fs::exists(dir / "config.yaml") || !fs::exists(dir / "srl.ckpt"))
    throw Error("'" + dir.string() +
                "' is not an SRL run: expected a directory with config.yaml and srl.ckpt");
  LoadedSrl l;
  l.options = read_srl_options(resolve_srl_config(core::Config::load(dir / "config.yaml")));
  l.model = make_model(l.options);
  core::CheckpointReader r(dir / "srl.ckpt");
  if (!r.has("kind") || r.get_string("kind") != "dojo-srl")
    throw Error("'" + (dir / "srl.ckpt").string() + "' is not an SRL checkpoint");
  r.get("model", *l.model);
  l.model->eval();
  return l;
}

envs::WrapperFn srl_state_wrapper(const fs::path& dir) {
  auto loaded = std::make_shared<LoadedSrl>(load_srl_run(dir));
  return [loaded, dir](std::unique_ptr<envs::Env> env) -> std::unique_ptr<envs::Env> {
    if (env->id() != loaded->options.env())
      throw Error("srl_run '" + dir.string() + "' learned its state on " + loaded->options.env() +
                  ": expected it for " + env->id());
    return std::make_unique<LearnedState>(envs::pixel_observations(std::move(env), loaded->options.pixels()),
                                          loaded->model);
  };
}

}  // namespace dojo::rl
