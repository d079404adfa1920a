// `dojo envs`, `dojo env rollout|random` and `dojo play`: the registered environments, by listing,
// by scripted trajectory, under uniform random actions and at the keyboard.
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "core/error.h"
#include "envs/registry.h"
#include "play.h"
#include "rl/evaluation.h"

namespace dojo::app {

namespace {

int cmd_envs() {
  for (const auto& id : envs::registered_ids()) {
    const auto& spec = envs::spec(id);
    auto env = spec.entry_point();
    env->reset(0);
    const bool renders = env->render().defined();  // --record and `dojo play` need frames
    std::cout << fmt::format("{:<26} obs {:<55} action {:<22} max_steps {:<5} solved {:<6} render {}\n", id,
                             envs::to_string(env->observation_space()), envs::to_string(env->action_space()),
                             spec.max_episode_steps ? std::to_string(*spec.max_episode_steps) : "-",
                             spec.reward_threshold ? fmt::format("{:g}", *spec.reward_threshold) : "-",
                             renders ? "yes" : "no");
  }
  return 0;
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto d = t.to(torch::kDouble).contiguous().reshape({-1});
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

// Parses one line of an actions file for the env's action space.
torch::Tensor parse_action(const std::string& line, const envs::Space& space, const std::string& where) {
  std::istringstream in(line);
  std::vector<double> values;
  for (std::string tok; in >> tok;) {
    if (!tok.empty() && tok.back() == ',') tok.pop_back();
    try {
      std::size_t used = 0;
      values.push_back(std::stod(tok, &used));
      if (used != tok.size()) throw std::invalid_argument(tok);
    } catch (const std::exception&) {
      throw Error(where + ": '" + line + "' is not an action of " + envs::to_string(space));
    }
  }
  torch::Tensor a;
  if (std::holds_alternative<envs::Discrete>(space)) {
    if (values.size() != 1 || values[0] != std::floor(values[0])) {
      throw Error(where + ": '" + line + "' is not an action of " + envs::to_string(space));
    }
    a = torch::scalar_tensor(static_cast<std::int64_t>(values[0]), torch::kLong);
  } else if (const auto* multi = std::get_if<envs::MultiDiscrete>(&space)) {
    a = torch::tensor(values, torch::kDouble).to(torch::kLong);
    const bool integers =
        std::all_of(values.begin(), values.end(), [](double v) { return v == std::floor(v); });
    if (!integers || a.numel() != static_cast<std::int64_t>(multi->nvec.size()))
      throw Error(where + ": '" + line + "' is not an action of " + envs::to_string(space));
  } else {
    const auto& box = std::get<envs::Box>(space);
    a = torch::tensor(values, torch::kDouble).to(box.dtype);
    if (a.numel() != box.numel())
      throw Error(where + ": '" + line + "' is not an action of " + envs::to_string(space));
    a = a.reshape(box.shape);
  }
  if (!envs::contains(space, a))
    throw Error(where + ": '" + line + "' is not an action of " + envs::to_string(space));
  return a;
}

int cmd_rollout(const std::string& id, std::int64_t seed, std::int64_t steps, const std::string& actions_file,
                const std::vector<std::string>& kwargs) {
  auto env = envs::make(id, {.kwargs = env_kwargs(kwargs)});
  if (steps < 0) throw Error("--steps " + std::to_string(steps) + ": expected >= 0");
  std::vector<torch::Tensor> actions;
  if (!actions_file.empty()) {
    std::ifstream in(actions_file);
    if (!in) throw Error("cannot read actions file '" + actions_file + "': expected one action per line");
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      actions.push_back(parse_action(line, env->action_space(), fmt::format("{} line {}", actions_file, n)));
    }
  }
  std::mt19937_64 action_rng(static_cast<std::uint64_t>(seed));
  auto first = env->reset(static_cast<std::uint64_t>(seed));
  std::cout << nlohmann::json{{"step", 0}, {"obs", to_vector(first.obs)}}.dump() << "\n";
  for (std::int64_t t = 1; t <= steps; ++t) {
    if (!actions_file.empty() && static_cast<std::size_t>(t - 1) >= actions.size()) break;
    const auto action = actions_file.empty() ? envs::sample(env->action_space(), action_rng)
                                             : actions[static_cast<std::size_t>(t - 1)];
    const auto s = env->step(action);
    nlohmann::json j{{"step", t},
                     {"obs", to_vector(s.obs)},
                     {"reward", s.reward},
                     {"terminated", s.terminated},
                     {"truncated", s.truncated}};
    const auto av = to_vector(action);
    if (action.dim() == 0 && !action.is_floating_point())
      j["action"] = static_cast<std::int64_t>(av[0]);
    else
      j["action"] = av;
    std::cout << j.dump() << "\n";
    if (s.done()) break;  // the episode is over; Gymnasium requires a reset before the next step
  }
  return 0;
}

// Uniform random actions for whole episodes: the baseline scores are normalised against (D4RL's
// "random" reference), and the env's speed with nothing else running. One JSON line.
int cmd_random(const std::string& id, std::int64_t seed, std::int64_t episodes,
               const std::vector<std::string>& kwargs) {
  if (episodes <= 0) throw Error("--episodes " + std::to_string(episodes) + ": expected > 0");
  auto env = envs::make(id, {.kwargs = env_kwargs(kwargs)});
  std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
  env->reset(static_cast<std::uint64_t>(seed));
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = rl::evaluate([&](const torch::Tensor&) { return envs::sample(env->action_space(), rng); },
                              *env, episodes);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::int64_t steps = 0;
  for (auto n : r.lengths) steps += n;
  std::cout << nlohmann::json{{"env_id", id},
                              {"episodes", episodes},
                              {"seed", seed},
                              {"mean_return", r.mean},
                              {"std_return", r.std},
                              {"mean_length", static_cast<double>(steps) / static_cast<double>(episodes)},
                              {"steps", steps},
                              {"steps_per_s", seconds > 0 ? static_cast<double>(steps) / seconds : 0.0}}
                   .dump()
            << "\n";
  return 0;
}

struct RolloutArgs {
  std::string id, actions_file;
  std::int64_t seed = 0, steps = 100;
  std::vector<std::string> kwargs;
};

void add_kwarg_option(CLI::App* cmd, std::vector<std::string>& kwargs) {
  cmd->add_option(
      "--kwarg", kwargs,
      "The env's keyword argument as gym.make takes it, KEY=VALUE (repeatable): is_slippery=false");
}

}  // namespace

std::vector<Command> add_env_commands(CLI::App& app) {
  auto* list = app.add_subcommand("envs", "List registered environments with their spaces");

  auto* env_cmd = app.add_subcommand("env", "Environment tools");
  env_cmd->require_subcommand(1);
  auto r = std::make_shared<RolloutArgs>();
  auto* rollout = env_cmd->add_subcommand("rollout", "Print a trajectory as JSON lines (first line: reset)");
  rollout->add_option("id", r->id, "Environment id")->required();
  rollout->add_option("--seed", r->seed, "Seed of the reset and of sampled actions (default 0)");
  add_count(rollout, "--steps", r->steps, "Steps at most (default 100)");
  rollout->add_option("--actions", r->actions_file, "File with one action per line (default: sampled)");
  add_kwarg_option(rollout, r->kwargs);

  auto rnd = std::make_shared<RolloutArgs>();
  rnd->steps = 100;  // episodes
  auto* random = env_cmd->add_subcommand("random", "Mean return of uniform random actions, as one JSON line");
  random->add_option("id", rnd->id, "Environment id")->required();
  random->add_option("--seed", rnd->seed, "Seed of the first reset and of the actions (default 0)");
  add_count(random, "--episodes", rnd->steps, "Episodes (default 100)");
  add_kwarg_option(random, rnd->kwargs);

  auto p = std::make_shared<PlayOptions>();
  auto* play_cmd = app.add_subcommand(
      "play", "Play an environment at the keyboard, or a board game against a player, in the terminal");
  play_cmd->add_option("id", p->env_id, "Environment id, or a board game (dojo games list)")->required();
  play_cmd->add_option("--vs", p->vs,
                       "Board games: the opponent, random, mcts:N or solver (default mcts:1000)");
  play_cmd->add_flag("--second", p->second, "Board games: move second");
  play_cmd->add_option("--seed", p->seed, "Seed of the first episode (default 0)");
  play_cmd->add_option("--fps", p->fps, "Steps per second at a terminal (default 8)");
  add_count(play_cmd, "--episodes", p->episodes, "Episodes (default 1)");
  play_cmd->add_option("--record", p->record, "Write each episode as DIR/episode_NNN.gif");
  add_kwarg_option(play_cmd, p->kwargs);

  return {{list, [] { return cmd_envs(); }},
          {rollout, [r] { return cmd_rollout(r->id, r->seed, r->steps, r->actions_file, r->kwargs); }},
          {random, [rnd] { return cmd_random(rnd->id, rnd->seed, rnd->steps, rnd->kwargs); }},
          {play_cmd, [p] { return play(*p); }}};
}

}  // namespace dojo::app
