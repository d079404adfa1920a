#include "rl/collect.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.h"
#include "core/progress.h"
#include "core/seed.h"
#include "core/strings.h"
#include "rl/algos.h"
#include "rl/continuous.h"
#include "rl/sac.h"
#include "rl/td3.h"
#include "rl/trainer.h"

namespace dojo::rl {

namespace fs = std::filesystem;

namespace {

// One behaviour of a mixture: a [-1, 1] action for an observation, and its share of the transitions.
struct Part {
  std::string name;
  double share = 1.0;
  std::function<torch::Tensor(const torch::Tensor& obs)> act;
};

// Rows collected so far, as tensors at the end.
struct Rows {
  std::vector<torch::Tensor> obs, actions, next_obs;
  std::vector<float> rewards;
  std::vector<std::uint8_t> terminals, timeouts;
  void add(const torch::Tensor& o, const torch::Tensor& a, double r, const torch::Tensor& o2, bool term,
           bool timeout) {
    obs.push_back(o);
    actions.push_back(a);
    next_obs.push_back(o2);
    rewards.push_back(static_cast<float>(r));
    terminals.push_back(term ? 1 : 0);
    timeouts.push_back(timeout ? 1 : 0);
  }
  OfflineDataset dataset() const {
    OfflineDataset d;
    d.observations = torch::stack(obs).to(torch::kFloat32);
    d.actions = torch::stack(actions).to(torch::kFloat32);
    d.next_observations = torch::stack(next_obs).to(torch::kFloat32);
    d.rewards = torch::tensor(rewards, torch::kFloat32);
    const auto n = static_cast<std::int64_t>(terminals.size());
    d.terminals =
        torch::from_blob(const_cast<std::uint8_t*>(terminals.data()), {n}, torch::kUInt8).to(torch::kBool);
    d.timeouts =
        torch::from_blob(const_cast<std::uint8_t*>(timeouts.data()), {n}, torch::kUInt8).to(torch::kBool);
    return d;
  }
};

// Runs each part in turn for its share of `size` transitions, in whole episodes on `env`; a part's
// last episode is cut as a time-out where its quota ends.
void run_parts(envs::Env& env, const ActionScaler& scaler, const std::vector<Part>& parts, std::int64_t size,
               std::uint64_t seed, Rows& rows, core::ProgressBar& bar) {
  std::int64_t done = 0;
  double cumulative = 0.0;
  auto obs = env.reset(core::derive_seed(seed, "collect_env")).obs;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    cumulative += parts[p].share;
    const auto until =
        p + 1 == parts.size() ? size : static_cast<std::int64_t>(std::llround(cumulative * size));
    while (done < until) {
      const auto unit = parts[p].act(obs).clamp(-1.0, 1.0);
      const auto action = scaler.to_env(unit);
      const auto r = env.step(action);
      ++done;
      const bool cut = done == until && !r.done();
      rows.add(obs, action, r.reward, r.obs, r.terminated, r.truncated || cut);
      obs = (r.done() || cut) ? env.reset().obs : r.obs;
      bar.update(done);
    }
  }
}

// The replay memory of an off-policy run, as a dataset: actions back in the env's units, a time-out
// wherever an episode ended without a terminal state.
OfflineDataset replay_dataset(const ReplayBuffer& replay, const ActionScaler& scaler) {
  const auto n = replay.size();
  const auto b = replay.gather(torch::arange(n, torch::kInt64));
  OfflineDataset d;
  d.observations = b.obs.to(torch::kFloat32);
  d.actions = scaler.to_env(b.action).to(torch::kFloat32);
  d.rewards = b.reward.to(torch::kFloat32);
  d.next_observations = b.next_obs.to(torch::kFloat32);
  d.terminals = b.terminated.to(torch::kBool);
  std::vector<std::uint8_t> ends(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) ends[static_cast<std::size_t>(i)] = replay.episode_end(i) ? 1 : 0;
  d.timeouts = torch::from_blob(ends.data(), {n}, torch::kUInt8).to(torch::kBool) & d.terminals.logical_not();
  return d;
}

const ReplayBuffer& replay_of(Agent& agent) {
  if (const auto* sac = dynamic_cast<const SAC*>(&agent)) return sac->replay();
  if (const auto* td3 = dynamic_cast<const TD3*>(&agent)) return td3->replay();
  throw Error("medium-replay: the run's algorithm '" + agent.algo() +
              "' keeps no replay memory of every step: expected an sac or td3 run");
}

// Trains the run's config again from its seed to `steps`, and returns its replay memory.
OfflineDataset medium_replay(const fs::path& dir, std::int64_t steps, const ActionScaler& scaler) {
  const auto cfg = core::Config::load(dir / "config.yaml");
  RunOptions run;
  core::read_options(cfg, run);
  auto agent =
      make_agent(run.algo(), cfg, run_env_factory(run, true), static_cast<std::uint64_t>(run.seed()));
  replay_of(*agent);  // the algorithm check, before the training
  spdlog::info("medium-replay: training {} on {} again to step {} (seed {})", run.algo(), run.env_id(), steps,
               run.seed());
  struct Bar final : Callback {
    std::unique_ptr<core::ProgressBar> bar;
    void on_start(Agent&, std::int64_t total) override {
      bar = std::make_unique<core::ProgressBar>(total, "steps");
    }
    bool on_step(Agent&, const StepInfo& info) override {
      bar->update(info.step);
      return true;
    }
    void on_end(Agent&) override { bar->finish(); }
  } bar;
  const auto capacity = replay_of(*agent).capacity();
  if (steps > capacity)
    throw Error(
        fmt::format("medium-replay: the run's buffer_size {} is smaller than its {} steps: expected a "
                    "replay memory that kept every step",
                    capacity, steps));
  agent->learn(steps, bar);
  return replay_dataset(replay_of(*agent), scaler);
}

}  // namespace

const std::vector<std::string>& collect_mixes() {
  static const std::vector<std::string> mixes{"pure",   "eps1",   "eps3",   "gaussian1",     "gaussian3",
                                              "random", "medium", "expert", "medium-expert", "medium-replay"};
  return mixes;
}

OfflineDataset collect(const std::vector<fs::path>& runs, const CollectOptions& o) {
  const auto& mixes = collect_mixes();
  if (std::find(mixes.begin(), mixes.end(), o.mix) == mixes.end())
    throw Error("--mix '" + o.mix + "': expected one of " + core::join(mixes, ", "));
  if (o.size <= 0) throw Error("--size " + std::to_string(o.size) + ": expected > 0 transitions");
  const std::size_t want = o.mix == "medium-expert" ? 2 : 1;
  if (runs.size() != want)
    throw Error(fmt::format("--mix {}: expected {} --run (got {})", o.mix,
                            want == 2 ? "two runs, medium then expert," : "one", runs.size()));

  auto first = load_run(runs[0], o.checkpoint, o.seed);
  auto env = run_env_factory(first.run, false)();
  const auto* box = std::get_if<envs::Box>(&env->action_space());
  if (!box) throw Error("--run " + runs[0].string() + ": " + first.run.env_id() + " has no Box actions");
  const ActionScaler scaler(*box);
  std::mt19937_64 rng(core::derive_seed(o.seed, "collect"));

  // The behaviours, in [-1, 1].
  // Every draw comes from the collector's own generator, so a seed gives the same dataset.
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto uniform_action = [&](const torch::Tensor&) {
    auto a = torch::empty({scaler.dim()});
    for (std::int64_t i = 0; i < scaler.dim(); ++i) a[i] = 2.0 * u01(rng) - 1.0;
    return a;
  };
  auto policy = [&](Agent& agent, bool deterministic) {
    return [&agent, &scaler, deterministic](const torch::Tensor& obs) {
      return scaler.to_unit(agent.act(obs, deterministic));
    };
  };
  auto eps_greedy = [&](double eps) {
    return [&, eps, pure = policy(*first.agent, true)](const torch::Tensor& obs) {
      return u01(rng) < eps ? uniform_action(obs) : pure(obs);
    };
  };
  auto gaussian = [&](double sigma) {
    return [&, sigma, pure = policy(*first.agent, true)](const torch::Tensor& obs) {
      auto a = pure(obs).clone();
      for (std::int64_t i = 0; i < scaler.dim(); ++i) a[i] += sigma * normal(rng);
      return a;
    };
  };

  std::vector<Part> parts;
  const auto brac = [&](const std::string& noisy, std::function<torch::Tensor(const torch::Tensor&)> act) {
    parts = {{"random", 0.2, uniform_action},
             {"pure", 0.4, policy(*first.agent, true)},
             {noisy, 0.4, std::move(act)}};
  };
  std::unique_ptr<LoadedRun> second;
  OfflineDataset data;
  if (o.mix == "medium-replay") {
    const auto steps = first.agent->num_timesteps();
    data = medium_replay(runs[0], steps, scaler);
    if (data.size() > o.size) {
      // The first `size` transitions of the run, cut as a time-out.
      for (auto* t : {&data.observations, &data.actions, &data.rewards, &data.next_observations,
                      &data.terminals, &data.timeouts})
        *t = t->slice(0, 0, o.size).clone();
      if (!data.terminals[o.size - 1].item<bool>()) data.timeouts[o.size - 1] = true;
    }
  } else {
    if (o.mix == "pure") parts = {{"pure", 1.0, policy(*first.agent, true)}};
    if (o.mix == "eps1") brac("eps 0.1", eps_greedy(0.1));
    if (o.mix == "eps3") brac("eps 0.3", eps_greedy(0.3));
    if (o.mix == "gaussian1") brac("gaussian 0.1", gaussian(0.1));
    if (o.mix == "gaussian3") brac("gaussian 0.3", gaussian(0.3));
    if (o.mix == "random") parts = {{"random", 1.0, uniform_action}};
    if (o.mix == "medium" || o.mix == "expert") parts = {{o.mix, 1.0, policy(*first.agent, false)}};
    if (o.mix == "medium-expert") {
      second = std::make_unique<LoadedRun>(load_run(runs[1], o.checkpoint, o.seed));
      if (second->run.env_id() != first.run.env_id())
        throw Error("--run " + runs[1].string() + " trained on " + second->run.env_id() + ": expected " +
                    first.run.env_id() + " as the first run");
      parts = {{"medium", 0.5, policy(*first.agent, false)}, {"expert", 0.5, policy(*second->agent, false)}};
    }
    Rows rows;
    core::ProgressBar bar(o.size, "transitions");
    run_parts(*env, scaler, parts, o.size, o.seed, rows, bar);
    bar.finish();
    data = rows.dataset();
  }
  data.metadata["env_id"] = first.run.env_id();
  data.metadata["mix"] = o.mix;
  data.metadata["algorithm"] = first.run.algo();
  data.metadata["policy"] =
      runs[0].string() + " (" + o.checkpoint + ", step " + std::to_string(first.agent->num_timesteps()) + ")";
  if (second) data.metadata["expert_policy"] = runs[1].string() + " (" + o.checkpoint + ")";
  data.metadata["seed"] = std::to_string(o.seed);
  data.metadata["collector"] = "dojo dataset collect";
  return data;
}

}  // namespace dojo::rl
