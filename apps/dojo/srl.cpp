// `dojo srl`: state-representation learning — learn a state from a state env's picture and score it
// against the true state (rl/srl_run.h).
#include <fmt/format.h>

#include <iostream>

#include "commands.h"
#include "core/config.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/strings.h"
#include "rl/srl_run.h"
#include "rl/trainer.h"

namespace dojo::app {

namespace {

struct SrlArgs {
  std::string env, losses, config, out;
  std::vector<std::string> overrides;
  std::int64_t seed = -1;
};

std::string scores(const rl::SrlScores& s) {
  return fmt::format("GTC {:.3f} [{:.2f}]  KNN-MSE {:.4f}", s.gtc.mean, fmt::join(s.gtc.per_dimension, ", "),
                     s.knn_mse);
}

int cmd_srl_train(const SrlArgs& a) {
  core::Config cfg;
  if (!a.config.empty()) cfg = core::Config::load(rl::config_file(a.config));
  if (!a.env.empty()) cfg.set("env", YAML::Node(a.env));
  if (!a.losses.empty()) cfg.set("losses", YAML::Load("[" + a.losses + "]"));
  for (const auto& o : a.overrides) cfg.set(o);
  if (a.seed >= 0) cfg.set("seed", YAML::Node(a.seed));
  const auto resolved = rl::resolve_srl_config(cfg);
  // V's channels-last convolutions run in LibTorch's own kernels (core/runtime.h).
  core::configure_compute(resolved.get<std::int64_t>("n_threads", 1), core::ThreadSplit::torch);
  const auto s = rl::train_srl_run(resolved, a.out);
  std::cout << fmt::format("held out ({} frames): learned   {}\n", s.held_out_frames, scores(s.learned))
            << fmt::format("                     untrained {}\n", scores(s.untrained))
            << fmt::format("                     true state {}\n", scores(s.ground_truth))
            << fmt::format("{} transitions, {} epochs, {:.1f} min\n", s.transitions, s.curve.size(),
                           s.minutes)
            << "run: " << s.run_dir.string() << "\n";
  return 0;
}

}  // namespace

std::vector<Command> add_srl_commands(CLI::App& app) {
  auto a = std::make_shared<SrlArgs>();
  auto* srl = app.add_subcommand("srl", "State-representation learning from a state env's picture");
  srl->require_subcommand(1);
  auto* train =
      srl->add_subcommand("train", "Collect random frames, learn a state, score it on held-out episodes");
  train->add_option("--env", a->env, "A rendering env (default Pendulum-v1)");
  train->add_option(
      "--losses", a->losses,
      "Comma-separated: autoencoder, vae, forward, inverse, reward, priors, e2c (default autoencoder)");
  train->add_option("--config", a->config, "YAML config");
  train->add_option("--set", a->overrides, "Override a config key: key=value (repeatable)");
  train->add_option("--seed", a->seed, "Seed (default 0)");
  train->add_option("--out", a->out, "Run directory to create (default runs/srl-<env>-s<seed>-<time>)");
  return {{train, [a] { return cmd_srl_train(*a); }}};
}

}  // namespace dojo::app
