// `dojo lpg`: meta-train a Learned Policy Gradient rule on grid worlds and score it against tuned A2C
// (rl/lpg.h).
#include "rl/lpg.h"

#include <fmt/format.h>

#include <cmath>
#include <iostream>

#include "commands.h"
#include "core/config.h"
#include "core/runtime.h"
#include "rl/trainer.h"

namespace dojo::app {

namespace {

namespace fs = std::filesystem;

struct LpgArgs {
  std::string config, out, rule;
  std::vector<std::string> overrides, envs;
  std::int64_t iterations = 0, seed = -1, grids = 16, agents = 4, episodes = 50, updates = 0,
               env_updates = 2000;
};

int cmd_meta_train(const LpgArgs& a) {
  core::Config cfg;
  if (!a.config.empty()) cfg = core::Config::load(rl::config_file(a.config));
  for (const auto& o : a.overrides) cfg.set(o);
  if (a.iterations > 0) cfg.set("iterations", YAML::Node(a.iterations));
  if (a.seed >= 0) cfg.set("seed", YAML::Node(a.seed));
  const auto o = rl::lpg_options(cfg);  // every key checked before anything is written
  core::configure_compute(o.n_threads(), core::ThreadSplit::torch);
  rl::meta_train_lpg(cfg, a.out, [](const rl::LpgCurvePoint& p) {
    std::cout << fmt::format(
                     "meta-update {:6d}  loss {:+.4f}  episode return {:.3f}  |pi_hat| {:.3f}  "
                     "validation {:.3f}  {:.0f} s\n",
                     p.iteration, p.meta_loss, p.episode_return, p.pi_hat, p.validation, p.seconds)
              << std::flush;
  });
  std::cout << "rule: " << (std::filesystem::path(a.out) / "rule.ckpt").string() << "\n";
  return 0;
}

void print_score(const rl::LpgScore& s) {
  std::cout << fmt::format(
                   "{:<28} LPG {:7.3f}  A2C {:7.3f}  random {:7.3f}  optimal {:7.3f}  ({:.1f} s, {:.1f} s)\n",
                   s.task, s.lpg, s.a2c, s.random, s.optimal, s.seconds_lpg, s.seconds_a2c)
            << std::flush;
}

int cmd_evaluate(const LpgArgs& a) {
  core::configure_compute(1, core::ThreadSplit::torch);
  rl::LpgEvaluationOptions e;
  e.grids = a.grids, e.agents = a.agents, e.episodes = a.episodes, e.updates = a.updates;
  e.envs = a.envs, e.env_updates = a.env_updates,
  e.seed = static_cast<std::uint64_t>(std::max<std::int64_t>(a.seed, 0));
  const auto r =
      rl::evaluate_lpg_rule(a.rule.empty() ? rl::shipped_lpg_rule() : fs::path(a.rule), e, print_score);
  const auto normalised = [](double x, double lo, double hi) { return (x - lo) / (hi - lo); };
  std::cout << fmt::format(
      "held-out grids ({}, {} agents each, {} env steps an agent): LPG {:.3f}  A2C {:.3f} (policy_lr {}, "
      "entropy {})  "
      "random {:.3f}  optimal {:.3f}\nLPG / A2C = {:.2f}; normalised (random 0, optimal 1): LPG {:.2f}, A2C "
      "{:.2f}\n",
      r.grids.size(), e.agents, r.env_steps_per_agent, r.grid_lpg, r.grid_a2c, r.a2c.policy_lr, r.a2c.entropy,
      r.grid_random, r.grid_optimal, r.grid_lpg / r.grid_a2c,
      normalised(r.grid_lpg, r.grid_random, r.grid_optimal),
      normalised(r.grid_a2c, r.grid_random, r.grid_optimal));
  return 0;
}

}  // namespace

std::vector<Command> add_lpg_commands(CLI::App& app) {
  auto a = std::make_shared<LpgArgs>();
  auto* lpg =
      app.add_subcommand("lpg", "Learned Policy Gradient: meta-learn an RL update rule on grid worlds");
  lpg->require_subcommand(1);
  auto* train = lpg->add_subcommand("meta-train", "Meta-train a rule (resumes when --out holds one)");
  train->add_option("--config", a->config, "YAML config (default: the built-in settings)");
  train->add_option("--set", a->overrides, "Override a config key: key=value (repeatable)");
  add_count(train, "--iterations", a->iterations, "Meta-updates in all (default 3000)");
  train->add_option("--seed", a->seed, "Seed (default 0)");
  train->add_option("--out", a->out, "Run directory (rule.ckpt, curve.csv, config.yaml)")->required();
  auto* evaluate = lpg->add_subcommand(
      "evaluate", "Train fresh agents with a rule on held-out grids (and --env tasks) beside tuned A2C");
  evaluate->add_option("--rule", a->rule,
                       "A meta-train run directory (default: the shipped rule, models/lpg-grids)");
  evaluate->add_option("--grids", a->grids, "Held-out grids (default 16)");
  evaluate->add_option("--agents", a->agents, "Agents (seeds) per grid (default 4)");
  evaluate->add_option("--episodes", a->episodes, "Episodes scoring each final policy (default 50)");
  add_count(evaluate, "--updates", a->updates, "Agent updates on a grid (default: the rule's lifetime)");
  evaluate->add_option("--env", a->envs, "A toy-text env never seen in meta-training (repeatable)");
  add_count(evaluate, "--env-updates", a->env_updates, "Agent updates on each --env (default 2000)");
  evaluate->add_option("--seed", a->seed, "Seed (default 0)");
  auto* exp =
      lpg->add_subcommand("export", "Write a run's rule as a model: weights only, its config and curve");
  exp->add_option("--rule", a->rule, "A meta-train run directory")->required();
  exp->add_option("--out", a->out, "Directory to write (e.g. models/lpg-grids)")->required();
  return {{train, [a] { return cmd_meta_train(*a); }},
          {evaluate, [a] { return cmd_evaluate(*a); }},
          {exp, [a] {
             rl::export_lpg_rule(a->rule, a->out);
             std::cout << "rule: " << (fs::path(a->out) / "rule.ckpt").string() << "\n";
             return 0;
           }}};
}

}  // namespace dojo::app
