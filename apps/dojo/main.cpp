// The dojo command: parses, dispatches and prints. All work happens in the library.
#include <fmt/format.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/checkpoint.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/strings.h"
#include "envs/registry.h"
#include "examples/examples.h"
#include "nn/model.h"
#include "nn/zoo.h"
#include "play.h"
#include "rl/algos.h"
#include "rl/trainer.h"

namespace {

using namespace dojo;

int cmd_train(const std::string& algo, const rl::TrainRequest& base, const std::string& resume_dir) {
  rl::TrainSummary s;
  if (!resume_dir.empty()) {
    s = rl::resume(resume_dir, base.steps);
  } else {
    auto req = base;
    req.algo = algo;
    s = rl::train(req);
  }
  std::cout << fmt::format(
                   "final eval: {:.2f} ± {:.2f} over {} evaluation episodes of the last policy (best eval "
                   "{:.2f})\n",
                   s.final_eval_mean, s.final_eval_std, s.final_eval_episodes, s.best_eval_mean)
            << fmt::format("env steps: {}  episodes: {}  wall time: {:.1f} s ({:.0f} steps/s, {} threads)\n",
                           s.env_steps, s.episodes, s.wall_time_s,
                           s.wall_time_s > 0 ? static_cast<double>(s.env_steps) / s.wall_time_s : 0.0,
                           s.n_threads)
            << "run: " << s.run_dir.string() << "\n";
  return 0;
}

int cmd_eval(const std::string& dir, std::int64_t episodes, const std::string& checkpoint, std::int64_t seed,
             const std::string& record) {
  const auto r = rl::evaluate_run(dir, episodes, checkpoint, static_cast<std::uint64_t>(seed), record);
  if (!record.empty()) {
    for (std::size_t e = 0; e < r.returns.size(); ++e) {
      std::cout << fmt::format("episode {}: return {:g}, {} steps -> {}/episode_{:03d}.gif\n", e,
                               r.returns[e], r.lengths[e], record, e);
    }
  }
  std::cout << fmt::format("{:.2f} ± {:.2f} over {} episodes ({} checkpoint)\n", r.mean, r.std,
                           r.returns.size(), checkpoint);
  return 0;
}

int cmd_envs() {
  for (const auto& id : envs::registered_ids()) {
    const auto& spec = envs::spec(id);
    auto env = spec.entry_point();
    std::cout << fmt::format("{:<16} obs {:<55} action {:<22} max_steps {:<5} solved {}\n", id,
                             envs::to_string(env->observation_space()), envs::to_string(env->action_space()),
                             spec.max_episode_steps ? std::to_string(*spec.max_episode_steps) : "-",
                             spec.reward_threshold ? fmt::format("{:g}", *spec.reward_threshold) : "-");
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

int cmd_rollout(const std::string& id, std::int64_t seed, std::int64_t steps,
                const std::string& actions_file) {
  auto env = envs::make(id);
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

int cmd_example(const std::string& name, const examples::ExampleOptions& o) {
  if (name.empty()) {
    for (const auto& e : examples::all()) std::cout << fmt::format("{:<16} {}\n", e.name, e.description);
    return 0;
  }
  const auto result = examples::run(name, o);
  std::cout << result.dump(2) << "\n";
  return 0;
}

// Loads a saved model without the code that built it and runs it on the tensors x0, x1, … of a
// checkpoint file, writing its first output as "y".
int cmd_model_predict(const std::string& model_path, const std::string& input, const std::string& output) {
  auto model = nn::load_model(model_path);
  core::CheckpointReader in(input);
  std::vector<torch::Tensor> xs;
  for (std::size_t i = 0; i < model->inputs().size(); ++i)
    xs.push_back(in.get_tensor("x" + std::to_string(i)));
  auto y = model.predict(xs);
  core::CheckpointWriter out;
  out.put("y", y);
  out.save(output);
  std::cout << "wrote " << output << ": y " << y.sizes() << "\n";
  return 0;
}

int cmd_zoo_list() {
  for (const auto& e : nn::zoo::entries()) {
    auto model = nn::zoo::build(e.name);
    std::cout << fmt::format("{:<10} {:>11} params  {}\n", e.name,
                             core::thousands(model->trainable_param_count()), e.description);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dojo — deep reinforcement learning and deep learning in C++"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");

  auto* train = app.add_subcommand("train", "Train an agent and write a run directory");
  std::string algo, resume_dir;
  std::string env_id, config_file;
  rl::TrainRequest req;
  std::int64_t seed = 0, steps = 0;
  std::string out;
  train->add_option("algo", algo,
                    "Algorithm: " + dojo::core::join(rl::algorithms(), ", ") + " (default dqn)");
  auto* env_opt = train->add_option("--env", env_id, "Environment id (default CartPole-v1)");
  auto* config_opt =
      train->add_option("--config", config_file, "YAML config (default: the preset for algo and env)");
  train->add_option("--set", req.overrides, "Override a config key: key=value (repeatable)");
  auto* seed_opt = train->add_option("--seed", seed, "Seed for every generator");
  auto* steps_opt = train->add_option("--steps", steps, "Environment steps (n_timesteps)");
  train->add_option("--out", out, "Run directory to create (default runs/<algo>-<env>-s<seed>-<time>)");
  train->add_option("--resume", resume_dir, "Continue the run in this directory from its last checkpoint");

  auto* eval = app.add_subcommand("eval", "Evaluate a run's saved agent greedily");
  std::string eval_dir, checkpoint = "best";
  std::int64_t episodes = 20, eval_seed = 0;
  eval->add_option("run_dir", eval_dir, "Run directory")->required();
  eval->add_option("--episodes", episodes, "Episodes (default 20)");
  eval->add_option("--checkpoint", checkpoint,
                   "best, last, or random for uniform random actions (default best)");
  eval->add_option("--seed", eval_seed, "Seed of the evaluation env (default 0)");
  std::string record;
  eval->add_option(
      "--record", record,
      "Write each episode as an animated GIF into this directory (one episode unless --episodes)");

  auto* play_cmd = app.add_subcommand("play", "Play an environment at the keyboard, in the terminal");
  app::PlayOptions play;
  play_cmd->add_option("id", play.env_id, "Environment id")->required();
  play_cmd->add_option("--seed", play.seed, "Seed of the first episode (default 0)");
  play_cmd->add_option("--fps", play.fps, "Steps per second at a terminal (default 8)");
  play_cmd->add_option("--episodes", play.episodes, "Episodes (default 1)");

  app.add_subcommand("envs", "List registered environments with their spaces");

  auto* env_cmd = app.add_subcommand("env", "Environment tools");
  env_cmd->require_subcommand(1);
  auto* rollout = env_cmd->add_subcommand("rollout", "Print a trajectory as JSON lines (first line: reset)");
  std::string rollout_id, actions_file;
  std::int64_t rollout_seed = 0, rollout_steps = 100;
  rollout->add_option("id", rollout_id, "Environment id")->required();
  rollout->add_option("--seed", rollout_seed, "Seed of the reset and of sampled actions (default 0)");
  rollout->add_option("--steps", rollout_steps, "Steps at most (default 100)");
  rollout->add_option("--actions", actions_file, "File with one action per line (default: sampled)");

  auto* example = app.add_subcommand("example", "Run one of the seed's example models (no name: list them)");
  std::string example_name;
  examples::ExampleOptions ex;
  std::string ex_out, ex_data;
  example->add_option("name", example_name, "Example name");
  example->add_option("--epochs", ex.epochs, "Epochs (default: the example's own)");
  example->add_option("--seed", ex.seed, "Seed (default 0)");
  example->add_option("--threads", ex.n_threads, "Threads (default: all cores)");
  example->add_option("--limit", ex.limit, "Train on at most this many samples");
  example->add_option("--verbose", ex.verbose, "0 silent, 1 progress bar, 2 one line per epoch (default 1)")
      ->check(CLI::Range(0, 2));
  example->add_option("--out", ex_out, "Folder for summary.json, the saved model and images");
  example->add_option("--data", ex_data, "Input file or folder, where the example reads one");

  auto* zoo = app.add_subcommand("zoo", "The model zoo");
  zoo->require_subcommand(1);
  zoo->add_subcommand("list", "List the zoo's models with their trainable parameter counts");
  auto* zoo_summary = zoo->add_subcommand("summary", "Print a zoo model's summary");
  std::string zoo_name;
  zoo_summary->add_option("name", zoo_name, "Model name")->required();

  auto* model_cmd = app.add_subcommand("model", "Saved Keras-style models");
  model_cmd->require_subcommand(1);
  auto* model_summary = model_cmd->add_subcommand("summary", "Print a saved model's summary");
  auto* model_predict =
      model_cmd->add_subcommand("predict", "Run a saved model on tensors from a checkpoint file");
  std::string model_path, model_input, model_output;
  model_summary->add_option("model", model_path, "Model file (written by save)")->required();
  model_predict->add_option("model", model_path, "Model file (written by save)")->required();
  model_predict->add_option("--input", model_input, "Checkpoint with tensors x0, x1, …")->required();
  model_predict->add_option("--output", model_output, "Checkpoint to write, with tensor y")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }

  dojo::core::init_logging();
  try {
    if (*train) {
      if (*env_opt) req.env_id = env_id;
      if (*config_opt) req.config_file = config_file;
      if (*seed_opt) req.seed = seed;
      if (*steps_opt) req.steps = steps;
      req.out = out;
      if (!resume_dir.empty() &&
          (!algo.empty() || *env_opt || *config_opt || !req.overrides.empty() || *seed_opt)) {
        throw dojo::Error(
            "--resume takes the run's own config: expected no algo, --env, --config, --set or --seed");
      }
      return cmd_train(algo, req, resume_dir);
    }
    if (*play_cmd) return app::play(play);
    if (*eval && !record.empty() && eval->count("--episodes") == 0) episodes = 1;  // one GIF unless asked
    if (*eval) return cmd_eval(eval_dir, episodes, checkpoint, eval_seed, record);
    if (app.got_subcommand("envs")) return cmd_envs();
    if (*rollout) return cmd_rollout(rollout_id, rollout_seed, rollout_steps, actions_file);
    if (*example) {
      ex.out = ex_out;
      ex.data = ex_data;
      return cmd_example(example_name, ex);
    }
    if (zoo->got_subcommand("list")) return cmd_zoo_list();
    if (*model_summary) {
      nn::load_model(model_path).summary();
      return 0;
    }
    if (*model_predict) return cmd_model_predict(model_path, model_input, model_output);
    if (*zoo_summary) {
      nn::zoo::build(zoo_name).summary();
      return 0;
    }
  } catch (const dojo::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
