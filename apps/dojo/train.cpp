// `dojo train` and `dojo eval`: runs, from a config to a run directory and back.
#include "games/train.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "core/config.h"
#include "core/distributed.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/strings.h"
#include "games/game.h"
#include "rl/algos.h"
#include "rl/trainer.h"
#include "rl/world_model_run.h"

namespace dojo::app {

namespace {

// The run's thread count is a process setting: the command applies it, the library never does.
void apply_threads(const core::Config& config, core::ThreadSplit prefer = core::ThreadSplit::blas) {
  core::configure_compute(config.get<std::int64_t>("n_threads", 0), prefer);
}

int cmd_train(const std::string& algo, const rl::TrainRequest& base, const std::string& resume_dir) {
  rl::TrainSummary s;
  if (!resume_dir.empty()) {
    apply_threads(core::Config::load(std::filesystem::path(resume_dir) / "config.yaml"));
    s = rl::resume(resume_dir, base.steps, base.device.value_or(""));
  } else {
    auto req = base;
    req.algo = algo;
    const auto config = rl::resolve_config(req);
    apply_threads(config);
    s = rl::train(config, req.out);
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

// AlphaZero for a board game: the games module's run, not an RL agent's (no env, no agent registry).
int cmd_train_alphazero(const std::string& game, const rl::TrainRequest& req, const std::string& resume_dir,
                        std::int64_t iterations) {
  games::AlphaZeroSummary s;
  if (!resume_dir.empty()) {
    s = games::resume_alphazero(resume_dir, iterations);
  } else {
    if (!game.empty()) games::game(game);  // an unknown name is named, with the registered games
    auto cfg = core::Config::load(
        rl::config_file(req.config_file ? *req.config_file : std::filesystem::path("alphazero") / game));
    if (!game.empty()) cfg.set("game", YAML::Node(game));
    for (const auto& o : req.overrides) cfg.set(o);
    if (req.seed) cfg.set("seed", YAML::Node(*req.seed));
    if (iterations > 0) cfg.set("iterations", YAML::Node(iterations));
    s = games::train_alphazero(games::resolve_alphazero_config(cfg), req.out);
  }
  std::cout << fmt::format(
      "{} iterations, {} self-play games ({} positions, {:.0f} positions/s), {} learner steps, "
      "{:.2f} h of training\n",
      s.iterations, s.games, s.positions, s.positions_per_second, s.steps, s.hours);
  if (std::isfinite(s.elo))
    std::cout << fmt::format("Elo {:.0f} (best {:.0f}; random = 0)\n", s.elo, s.best_elo);
  std::cout << "run: " << s.run_dir.string() << "\n";
  return 0;
}

// World Models: a pipeline of stages (rl/world_model_run.h), not an agent in the registry.
int cmd_train_world_model(const rl::TrainRequest& req, const std::string& resume_dir,
                          const std::string& stage) {
  rl::WorldModelSummary s;
  if (!resume_dir.empty()) {
    apply_threads(core::Config::load(std::filesystem::path(resume_dir) / "config.yaml"),
                  core::ThreadSplit::torch);
    s = rl::resume_world_model(resume_dir, stage, req.overrides);
  } else {
    // One preset (CarRacing-v2's); another env with the same contract takes it with --env.
    auto cfg = core::Config::load(rl::config_file(
        req.config_file ? *req.config_file : std::filesystem::path("worldmodel/CarRacing-v2")));
    if (req.env_id) cfg.set("env", YAML::Node(*req.env_id));
    for (const auto& o : req.overrides) cfg.set(o);
    if (req.seed) cfg.set("seed", YAML::Node(*req.seed));
    const auto resolved = rl::resolve_world_model_config(cfg);
    apply_threads(resolved, core::ThreadSplit::torch);
    s = rl::train_world_model(resolved, req.out, stage);
  }
  for (const auto& [name, minutes] : s.stage_minutes)
    std::cout << fmt::format("{}: {:.1f} min\n", name, minutes);
  if (s.vae_reconstruction > 0)
    std::cout << fmt::format("V (held out): reconstruction error {:.1f}, KL {:.1f} nats per frame\n",
                             s.vae_reconstruction, s.vae_kl);
  if (s.copy_nll != 0)
    std::cout << fmt::format("M (held out): next-latent NLL {:.3f} per dimension (z' = z baseline {:.3f})\n",
                             s.mdn_nll, s.copy_nll);
  if (s.generations > 0)
    std::cout << fmt::format("C: {} generations, best mean on the eval tracks {:.1f}\n", s.generations,
                             s.best_eval);
  std::cout << "run: " << s.run_dir.string() << "\n";
  return 0;
}

bool is_alphazero_run(const std::string& dir) {
  const auto path = std::filesystem::path(dir) / "config.yaml";
  if (!std::filesystem::exists(path)) return false;
  const auto cfg = core::Config::load(path);
  return cfg.has("game") && !cfg.has("algo");
}

int cmd_eval(const std::string& dir, std::int64_t episodes, const std::string& checkpoint, std::int64_t seed,
             const std::string& record, bool force, const std::string& device,
             const std::string& controller) {
  if (std::filesystem::exists(std::filesystem::path(dir) / "config.yaml"))
    apply_threads(core::Config::load(std::filesystem::path(dir) / "config.yaml"),
                  rl::is_world_model_run(dir) ? core::ThreadSplit::torch : core::ThreadSplit::blas);
  if (rl::is_world_model_run(dir)) {
    if (!record.empty() && !force && std::filesystem::exists(record) && !std::filesystem::is_empty(record))
      throw Error("--record '" + record + "' is not empty: expected a new folder, or --force to overwrite");
    const auto r = rl::evaluate_world_model(dir, episodes, static_cast<std::uint64_t>(seed), controller,
                                            checkpoint, record);
    std::cout << fmt::format("{:.2f} ± {:.2f} over {} tracks (seeds {}-{}, {} controller, {} checkpoint)\n",
                             r.mean, r.std, r.returns.size(), seed, seed + episodes - 1,
                             controller.empty() ? "the run's" : controller, checkpoint);
    return 0;
  }
  if (!controller.empty()) throw Error("--controller is for world-model runs: '" + dir + "' is not one");
  const auto r =
      rl::evaluate_run(dir, episodes, checkpoint, static_cast<std::uint64_t>(seed), record, force, device);
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

struct TrainArgs {
  std::string algo, resume_dir, env_id, config_file, out, device, dataset, game, stage;
  rl::TrainRequest req;
  std::int64_t seed = 0, steps = 0;
  CLI::Option *env_opt = nullptr, *config_opt = nullptr, *seed_opt = nullptr, *steps_opt = nullptr,
              *device_opt = nullptr, *dataset_opt = nullptr, *game_opt = nullptr, *stage_opt = nullptr;
};

struct EvalArgs {
  std::string dir, checkpoint = "best", record, device, controller;
  std::int64_t episodes = 20, seed = 0;
  bool force = false;
};

}  // namespace

std::vector<Command> add_train_commands(CLI::App& app) {
  auto t = std::make_shared<TrainArgs>();
  auto* train = app.add_subcommand("train", "Train an agent and write a run directory");
  std::string algos;
  for (const auto& name : rl::algorithms()) algos += (algos.empty() ? "" : ", ") + name;
  train->add_option("algo", t->algo,
                    "Algorithm: " + algos + ", alphazero with --game, or worldmodel (default dqn)");
  t->stage_opt = train->add_option("--stage", t->stage,
                                   "worldmodel: run only this stage (collect, vae, encode, mdn, controller)");
  t->game_opt = train->add_option("--game", t->game,
                                  "alphazero: the board game (tic_tac_toe, connect4, go; preset "
                                  "configs/alphazero/GAME.yaml)");
  t->env_opt = train->add_option("--env", t->env_id, "Environment id (default CartPole-v1)");
  t->config_opt =
      train->add_option("--config", t->config_file, "YAML config (default: the preset for algo and env)");
  train->add_option("--set", t->req.overrides, "Override a config key: key=value (repeatable)");
  t->seed_opt = train->add_option("--seed", t->seed, "Seed for every generator");
  t->steps_opt =
      add_count(train, "--steps", t->steps,
                "Environment steps (n_timesteps; 1e5 works); with --resume, steps to add; alphazero: "
                "iterations");
  t->dataset_opt = train->add_option("--dataset", t->dataset,
                                     "Offline agents: the dataset (a D4RL .hdf5 file or a Minari folder)");
  train->add_option("--out", t->out, "Run directory to create (default runs/<algo>-<env>-s<seed>-<time>)");
  train->add_option("--resume", t->resume_dir, "Continue the run in this directory from its last checkpoint");
  t->device_opt = train->add_option("--device", t->device,
                                    "cpu, cuda, cuda:N or auto: where the networks train (the `device` key; "
                                    "with --resume, this session's)");

  auto e = std::make_shared<EvalArgs>();
  auto* eval = app.add_subcommand("eval", "Evaluate a run's saved agent greedily");
  eval->add_option("run_dir", e->dir, "Run directory")->required();
  add_count(eval, "--episodes", e->episodes, "Episodes (default 20)");
  eval->add_option("--checkpoint", e->checkpoint,
                   "best, last, or random for uniform random actions (default best)");
  eval->add_option("--seed", e->seed, "Seed of the evaluation env (default 0)");
  eval->add_option(
      "--record", e->record,
      "Write each episode as an animated GIF into this directory (one episode unless --episodes)");
  eval->add_flag("--force", e->force, "Let --record overwrite the GIFs in a folder that is not empty");
  eval->add_option("--device", e->device, "cpu, cuda, cuda:N or auto (default: the run's `device`)");
  eval->add_option("--controller", e->controller,
                   "worldmodel runs: the controller directory (default controller; e.g. controller-z, "
                   "controller-dream-t1.15)");

  auto run_train = [t] {
    auto& req = t->req;
    if (*t->env_opt) req.env_id = t->env_id;
    if (*t->config_opt) req.config_file = t->config_file;
    if (*t->seed_opt) req.seed = t->seed;
    if (*t->steps_opt) req.steps = t->steps;
    if (*t->device_opt) req.device = t->device;
    if (*t->dataset_opt) req.dataset = t->dataset;
    req.out = t->out;
    req.plugins = plugins();
    const bool world_model =
        t->algo == "worldmodel" || (!t->resume_dir.empty() && rl::is_world_model_run(t->resume_dir));
    if (core::dist_world_size() > 1 && world_model)
      throw Error(
          fmt::format("worldmodel trains in one process: expected ppo, a2c or alphazero for {} processes",
                      core::dist_world_size()));
    if (*t->stage_opt && !world_model)
      throw Error("--stage is for worldmodel runs: expected dojo train worldmodel");
    if (world_model) {
      if (!t->resume_dir.empty() && (!t->algo.empty() || *t->env_opt || *t->config_opt || *t->seed_opt))
        throw Error("--resume takes the run's own config: expected no algo, --env, --config or --seed");
      if (*t->game_opt || *t->dataset_opt || *t->device_opt || *t->steps_opt)
        throw Error(
            "worldmodel: expected --env, --config, --set, --stage; not --game, --dataset, --device or "
            "--steps");
      return cmd_train_world_model(req, t->resume_dir, t->stage);
    }
    if (t->algo == "alphazero" || (!t->resume_dir.empty() && is_alphazero_run(t->resume_dir))) {
      if (!t->resume_dir.empty() &&
          (!t->algo.empty() || *t->game_opt || *t->config_opt || !req.overrides.empty() || *t->seed_opt))
        throw Error(
            "--resume takes the run's own config: expected no algo, --game, --config, --set or --seed");
      if (*t->env_opt || *t->dataset_opt || *t->device_opt)
        throw Error("alphazero trains on a board game: expected --game, not --env, --dataset or --device");
      if (t->resume_dir.empty() && !*t->game_opt && !*t->config_opt)
        throw Error("alphazero: expected --game GAME (tic_tac_toe, connect4, go) or --config FILE");
      return cmd_train_alphazero(t->game, req, t->resume_dir, t->steps);
    }
    if (*t->game_opt) throw Error("--game is for alphazero: expected an env with --env for " + t->algo);
    if (!t->resume_dir.empty() && (!t->algo.empty() || *t->env_opt || *t->config_opt ||
                                   !req.overrides.empty() || *t->seed_opt || *t->dataset_opt)) {
      throw Error(
          "--resume takes the run's own config: expected no algo, --env, --config, --set, --seed or "
          "--dataset");
    }
    return cmd_train(t->algo, req, t->resume_dir);
  };
  auto run_eval = [e, eval] {
    const auto episodes = !e->record.empty() && eval->count("--episodes") == 0 ? 1 : e->episodes;  // one GIF
    return cmd_eval(e->dir, episodes, e->checkpoint, e->seed, e->record, e->force, e->device, e->controller);
  };
  return {{train, run_train, /*distributed=*/true}, {eval, run_eval}};
}

}  // namespace dojo::app
