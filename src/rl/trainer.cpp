#include "rl/trainer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/distributed.h"
#include "core/error.h"
#include "core/files.h"
#include "core/gif.h"
#include "core/plot.h"
#include "core/plugin.h"
#include "core/run_dir.h"
#include "core/seed.h"
#include "core/strings.h"
#include "envs/atari_wrappers.h"
#include "envs/pixels.h"
#include "envs/registry.h"
#include "rl/algos.h"
#include "rl/callbacks.h"
#include "rl/rlzoo.h"
#include "rl/srl_run.h"

namespace dojo::rl {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> all_keys(const std::string& algo) {
  auto keys = core::option_keys<RunOptions>();
  const auto algo_keys = algorithm_keys(algo);
  keys.insert(keys.end(), algo_keys.begin(), algo_keys.end());
  return keys;
}

// Loads the plugins a run names, so that the env ids they register resolve; a run's config keeps
// them as absolute paths.
void load_plugins(const core::Config& cfg) {
  for (const auto& p : cfg.get<std::vector<std::string>>("plugins", {})) core::load_plugin(p);
}

RunOptions run_options(const core::Config& cfg) {
  RunOptions run;
  core::read_options(cfg, run);
  return run;
}

// An offline run's steps are gradient steps on its dataset, an online run's env steps.
void write_learning_curve(const fs::path& dir, const RunOptions& run, bool offline) {
  core::Series episodes{"episode return", {}, {}, {0.7, 0.8, 0.95}, 1.0, false};
  core::Series smoothed{"episode return, mean of 20", {}, {}, {0.15, 0.35, 0.75}, 2.0, false};
  core::Series evals{"evaluation (mean)", {}, {}, {0.85, 0.25, 0.1}, 2.5, true};
  if (fs::exists(dir / "metrics.csv")) {
    const auto t = core::read_csv(dir / "metrics.csv");
    // Rows without an episode (an offline agent's metrics) are left out.
    const auto steps = t.column("step"), returns = t.column("episode_return");
    for (std::size_t i = 0; i < returns.size(); ++i) {
      if (std::isfinite(returns[i])) episodes.x.push_back(steps[i]), episodes.y.push_back(returns[i]);
    }
    double sum = 0.0;
    for (std::size_t i = 0; i < episodes.y.size(); ++i) {
      sum += episodes.y[i] - (i >= 20 ? episodes.y[i - 20] : 0.0);
      smoothed.x.push_back(episodes.x[i]);
      smoothed.y.push_back(sum / static_cast<double>(std::min<std::size_t>(i + 1, 20)));
    }
  }
  if (fs::exists(dir / "eval.csv")) {
    const auto t = core::read_csv(dir / "eval.csv");
    evals.x = t.column("step"), evals.y = t.column("mean_return");
  }
  core::line_plot(dir / "learning_curve.png", {episodes, smoothed, evals},
                  {fmt::format("{} on {} (seed {})", run.algo(), run.env_id(), run.seed()),
                   offline ? "gradient steps" : "env steps", "return"});
}

void write_summary(const TrainSummary& s) {
  nlohmann::json j;
  j["algo"] = s.algo;
  j["env_id"] = s.env_id;
  j["seed"] = s.seed;
  j["env_steps"] = s.env_steps;
  j["episodes"] = s.episodes;
  j["wall_time_s"] = s.wall_time_s;
  j["steps_per_s"] = s.wall_time_s > 0 ? static_cast<double>(s.env_steps) / s.wall_time_s : 0.0;
  j["final_eval_mean"] = s.final_eval_mean;
  j["final_eval_std"] = s.final_eval_std;
  j["final_eval_episodes"] = s.final_eval_episodes;
  j["best_eval_mean"] = s.best_eval_mean;
  j["n_threads"] = s.n_threads;
  core::atomic_write_text(s.run_dir / "summary.json", j.dump(2) + "\n");
}

// Episodes in metrics.csv: its rows with an episode return (an offline agent's rows have none).
std::int64_t count_episodes(const fs::path& csv) {
  if (!fs::exists(csv)) return 0;
  const auto returns = core::read_csv(csv).column("episode_return");
  return std::count_if(returns.begin(), returns.end(), [](double r) { return std::isfinite(r); });
}

// The agent, its vector envs and evaluation all make their envs from run_env_factory.
envs::EnvFactory env_factory(const RunOptions& run, bool training) { return run_env_factory(run, training); }

// A finished run's whole wall time, from its summary, when its last checkpoint is at the summary's
// step: that checkpoint noted the time before the final saves and evaluation, which a run given more
// steps must not lose. 0 otherwise (a run stopped between checkpoints has no such summary).
double finished_wall_time(const fs::path& dir, std::int64_t step) {
  const auto path = dir / "summary.json";
  if (!fs::exists(path)) return 0.0;
  const auto j = nlohmann::json::parse(core::read_text(path), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("env_steps", std::int64_t{-1}) != step) return 0.0;
  const auto wall = j.find("wall_time_s");
  return wall != j.end() && wall->is_number() ? wall->get<double>() : 0.0;
}

// Several processes train one agent only where the algorithm is written for it.
void require_data_parallel(const std::string& algo) {
  if (core::dist_world_size() <= 1 || algorithm(algo).data_parallel) return;
  std::vector<std::string> able;
  for (const auto& name : algorithms()) {
    if (algorithm(name).data_parallel) able.push_back(name);
  }
  throw Error(
      fmt::format("{} trains in one process: expected one of {} for {} processes (--nproc, torchrun, "
                  "mpirun)",
                  algo, core::join(able, ", "), core::dist_world_size()));
}

// The loop shared by a new and a resumed run.
TrainSummary run_training(const core::Config& cfg, const fs::path& dir, bool resuming) {
  const auto run = run_options(cfg);
  const auto seed = static_cast<std::uint64_t>(run.seed());
  auto agent = make_agent(run.algo(), cfg, env_factory(run, true), seed);
  const auto summary = [&] {
    TrainSummary s;
    s.run_dir = dir;
    s.algo = run.algo();
    s.env_id = run.env_id();
    s.seed = run.seed();
    s.env_steps = agent->num_timesteps();
    return s;
  };
  if (core::dist_rank() > 0) {
    // Data parallel: rank 0 speaks for the group (run directory, logs, evaluation, checkpoints, its
    // callbacks decide when to stop); the other ranks step their envs and join the updates.
    if (resuming) agent->load(dir / "checkpoints" / "last.ckpt");
    CallbackList none;
    agent->learn(run.n_timesteps(), none);
    return summary();
  }
  double wall_offset = 0.0, best = std::nan("");
  if (resuming) {
    const auto extra = agent->load(dir / "checkpoints" / "last.ckpt");
    if (extra.count("wall_time_s")) wall_offset = extra.at("wall_time_s");
    if (extra.count("best_eval_mean")) best = extra.at("best_eval_mean");
    wall_offset = std::max(wall_offset, finished_wall_time(dir, agent->num_timesteps()));
    core::truncate_csv(dir / "metrics.csv", static_cast<double>(agent->num_timesteps()));
    core::truncate_csv(dir / "eval.csv", static_cast<double>(agent->num_timesteps()));
    spdlog::info("resuming {} at step {} of {}", dir.string(), agent->num_timesteps(), run.n_timesteps());
  }

  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return wall_offset + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  auto eval_env = env_factory(run, false)();
  eval_env->reset(core::derive_seed(seed, "eval_env", static_cast<std::uint64_t>(agent->num_timesteps())));
  // TensorBoard's event file beside the CSVs (a resumed run adds one; TensorBoard reads them all).
  auto events = std::make_shared<core::EventWriter>(dir);
  auto episodes = std::make_shared<EpisodeLogger>(dir / "metrics.csv", resuming, wall_offset, events);
  auto eval = std::make_shared<EvalCallback>(
      std::move(eval_env), run.eval_freq(), run.n_eval_episodes(), dir, resuming, best,
      [&] {
        return std::map<std::string, double>{{"wall_time_s", elapsed()}};
      },
      run.stop_on_reward_threshold() ? envs::spec(run.env_id()).reward_threshold : std::nullopt, events);
  CallbackList callbacks({episodes, eval, std::make_shared<ProgressCallback>(episodes.get(), eval.get())});
  agent->learn(run.n_timesteps(), callbacks);
  events->flush();
  const double wall = elapsed();

  auto final_env = env_factory(run, false)();
  final_env->reset(core::derive_seed(seed, "final_eval_env"));
  const auto final_eval = evaluate(*agent, *final_env, run.final_eval_episodes());

  auto s = summary();
  s.episodes = count_episodes(dir / "metrics.csv");
  s.n_threads = at::get_num_threads();
  s.wall_time_s = wall;
  s.final_eval_mean = final_eval.mean;
  s.final_eval_std = final_eval.std;
  s.final_eval_episodes = run.final_eval_episodes();
  s.best_eval_mean =
      std::isnan(eval->best_mean()) ? final_eval.mean : std::max(eval->best_mean(), final_eval.mean);
  write_summary(s);
  write_learning_curve(dir, run, !cfg.get<std::string>("dataset", "").empty());
  return s;
}

// The run's config with another device, checked now (a CUDA device on a CPU-only build is refused
// before anything is loaded).
core::Config with_device(core::Config cfg, const std::string& algo, const std::string& device) {
  cfg.set("device", YAML::Node(device));
  resolve_algorithm_config(algo, cfg);
  return cfg;
}

}  // namespace

void RunOptions::validate() const {
  require_algorithm(algo_);
  envs::spec(env_id_);
  core::check_options(*this);
  if (stop_on_reward_threshold_ && !envs::spec(env_id_).reward_threshold) {
    throw Error("stop_on_reward_threshold: " + env_id_ + " has no registered reward threshold");
  }
  if (!srl_run_.empty() && (pixels_ > 0 || atari_wrappers_)) {
    throw Error(
        "srl_run with pixels or atari_wrappers: expected one way of seeing (srl_run makes its own frames)");
  }
  envs::crop_from(pixel_crop_);
  if (!pixel_crop_.empty() && pixels_ == 0)
    throw Error("pixel_crop without pixels: expected pixels > 0 (an srl_run keeps its own framing)");
  if (pixels_ > 0 && atari_wrappers_) {
    throw Error(
        "pixels and atari_wrappers: expected one of them (the Atari preprocessing makes its own frames)");
  }
  if (stop_on_reward_threshold_ && eval_freq_ == 0) {
    throw Error("stop_on_reward_threshold needs periodic evaluation: expected eval_freq > 0");
  }
}

envs::EnvFactory run_env_factory(const RunOptions& run, bool training) {
  envs::EnvFactory f(run.env_id(), {.record_episode_statistics = training, .kwargs = run.env_kwargs()});
  if (!run.srl_run().empty()) f.wrap(srl_state_wrapper(run.srl_run()));
  if (run.pixels() > 0)
    f.wrap(envs::pixel_wrapper({.size = run.pixels(),
                                .frames = run.pixel_frames(),
                                .grayscale = run.pixel_gray(),
                                .crop = envs::crop_from(run.pixel_crop())}));
  if (!run.atari_wrappers()) return f;
  envs::AtariOptions o;
  o.clip_reward = training;
  o.noop_max = run.noop_max();
  return f.wrap(envs::atari_wrapper(o));
}

LoadedRun load_run(const fs::path& dir, const std::string& checkpoint, std::uint64_t seed,
                   const std::string& device) {
  core::require_run_dir(dir);
  if (checkpoint != "best" && checkpoint != "last") {
    throw Error("--checkpoint '" + checkpoint + "': expected best or last");
  }
  LoadedRun r;
  r.config = core::Config::load(dir / "config.yaml");
  load_plugins(r.config);
  r.run = run_options(r.config);
  r.run.validate();
  if (!device.empty()) r.config = with_device(r.config, r.run.algo(), device);
  r.agent = make_agent(r.run.algo(), r.config, env_factory(r.run, false), seed);
  r.agent->load(dir / "checkpoints" / (checkpoint + ".ckpt"));
  return r;
}

fs::path config_dir() {
  if (const char* dir = std::getenv("DOJO_CONFIG_DIR")) return dir;
  // Where this library finds them: <prefix>/share/dojo/configs installed, build/configs (copied there by
  // the build) in the build tree; then beside the running program.
  if (auto dir = core::find_data_dir(reinterpret_cast<const void*>(&config_dir), "configs"); !dir.empty())
    return dir;
  std::error_code ec;
  const auto exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (const auto& dir : {exe_dir / ".." / "share" / "dojo" / "configs", exe_dir / "configs"}) {
    if (!ec && fs::is_directory(dir)) return fs::weakly_canonical(dir);
  }
  return exe_dir / "configs";
}

std::optional<fs::path> find_preset(const std::string& algo, const std::string& env_id) {
  std::string stem;
  for (char c : env_id.substr(0, env_id.rfind("-v"))) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      stem += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const auto path = config_dir() / algo / (stem + ".yaml");
  if (fs::exists(path)) return path;
  return std::nullopt;
}

fs::path config_file(const fs::path& name) {
  if (fs::exists(name)) return name;
  // A preset's name, from any directory: dqn/acrobot -> <config_dir>/dqn/acrobot.yaml.
  for (const auto& candidate : {config_dir() / name, config_dir() / fs::path(name.string() + ".yaml")}) {
    if (fs::is_regular_file(candidate)) return candidate;
  }
  throw Error("config '" + name.string() +
              "' not found: expected a YAML file or a preset name like dqn/acrobot (in " +
              config_dir().string() + ")");
}

core::Config resolve_config(const TrainRequest& req) {
  std::vector<std::string> plugins;
  for (const auto& p : req.plugins) plugins.push_back(core::load_plugin(p).string());
  core::Config cfg;
  if (req.config_file) {
    const auto file = config_file(*req.config_file);
    cfg = core::Config::load(file);
    if (is_rl_zoo_file(cfg)) {
      // RL Zoo names its files after the algorithm (ppo.yml) and keys entries by env id.
      std::string algo = req.algo;
      if (algo.empty()) {
        const auto algos = algorithms();
        const auto stem = file.stem().string();
        algo = std::find(algos.begin(), algos.end(), stem) != algos.end() ? stem : "dqn";
      }
      if (!req.env_id) {
        throw Error(
            "RL Zoo file '" + file.string() +
            "' holds one entry per env: expected --env naming one of: " + core::join(cfg.keys(), ", "));
      }
      envs::spec(*req.env_id);
      cfg = from_rl_zoo(cfg, *req.env_id, algo, file.string());
      spdlog::info("RL Zoo entry for {} from {} ({})", *req.env_id, file.string(), algo);
    }
  } else {
    const std::string algo = req.algo.empty() ? "dqn" : req.algo;
    require_algorithm(algo);
    const std::string env_id = req.env_id.value_or(RunOptions().env_id());
    envs::spec(env_id);
    if (auto preset = find_preset(algo, env_id)) {
      cfg = core::Config::load(*preset);
      spdlog::info("preset {}", preset->string());
    } else {
      spdlog::info("no preset for {} on {} in {}: using defaults", algo, env_id, config_dir().string());
    }
  }
  for (const auto& s : req.overrides) cfg.set(s);
  for (const auto& p : cfg.get<std::vector<std::string>>("plugins", {})) {
    const auto path = core::load_plugin(p).string();
    if (std::find(plugins.begin(), plugins.end(), path) == plugins.end()) plugins.push_back(path);
  }
  if (!plugins.empty()) cfg.set("plugins", YAML::Node(plugins));
  if (!req.algo.empty()) cfg.set("algo", YAML::Node(req.algo));
  if (req.env_id) cfg.set("env_id", YAML::Node(*req.env_id));
  if (req.seed) cfg.set("seed", YAML::Node(*req.seed));
  if (req.steps) cfg.set("n_timesteps", YAML::Node(*req.steps));
  if (req.device) cfg.set("device", YAML::Node(*req.device));
  // Absolute, so that resume and eval find it from any directory.
  if (req.dataset) cfg.set("dataset", YAML::Node(fs::absolute(*req.dataset).lexically_normal().string()));
  if (const auto srl = cfg.get<std::string>("srl_run", ""); !srl.empty())
    cfg.set("srl_run", YAML::Node(fs::absolute(srl).lexically_normal().string()));

  const std::string algo = cfg.get<std::string>("algo", RunOptions().algo());
  require_algorithm(algo);
  require_data_parallel(algo);
  core::check_keys(cfg, all_keys(algo));
  auto run = run_options(cfg);
  run.validate();

  core::Config resolved;
  core::write_options(run, resolved);
  resolved.merge(resolve_algorithm_config(algo, cfg));
  // The algorithm against the env's spaces (with the run's wrappers), before anything is written.
  algorithm(algo).check_env(resolved, *env_factory(run, true)());
  return resolved;
}

TrainSummary train(const TrainRequest& req) {
  return train(resolve_config(req), req.out);  // every check happens before the run directory exists
}

TrainSummary train(const core::Config& cfg, const fs::path& out) {
  const auto run = run_options(cfg);
  require_data_parallel(run.algo());
  if (core::dist_rank() > 0) return run_training(cfg, out, false);  // rank 0 writes the directory
  const auto dir = core::create_run_dir(out, fmt::format("{}-{}-s{}", run.algo(), run.env_id(), run.seed()));
  core::atomic_write_text(dir / "config.yaml", cfg.dump());
  spdlog::info("run directory {}", dir.string());
  return run_training(cfg, dir, false);
}

TrainSummary resume(const fs::path& dir, std::optional<std::int64_t> steps, const std::string& device) {
  core::require_run_dir(dir);
  if (!fs::exists(dir / "checkpoints" / "last.ckpt")) {
    throw Error("run '" + dir.string() + "' has no checkpoints/last.ckpt to resume from");
  }
  core::CheckpointReader check(dir / "checkpoints" / "last.ckpt");  // a corrupt one fails before any write
  const auto done = check.get_int("num_timesteps");
  auto cfg = core::Config::load(dir / "config.yaml");
  load_plugins(cfg);
  const auto algo = cfg.get<std::string>("algo", "");
  require_algorithm(algo);
  require_data_parallel(algo);
  core::check_keys(cfg, all_keys(algo));
  auto run = run_options(cfg);
  run.validate();
  // SB3's learn(reset_num_timesteps=False): --steps N trains N steps more than the checkpoint holds.
  // Without it the run continues to its own n_timesteps; a finished run has nothing left to do.
  if (steps) {
    if (*steps <= 0) throw Error("--steps " + std::to_string(*steps) + ": expected > 0 (steps to add)");
    cfg.set("n_timesteps", YAML::Node(done + *steps));
  } else if (done >= run.n_timesteps()) {
    throw Error(fmt::format("run '{}' has finished its {} steps: expected --steps N to train N steps more",
                            dir.string(), run.n_timesteps()));
  }
  if (steps && core::dist_rank() == 0) core::atomic_write_text(dir / "config.yaml", cfg.dump());
  if (!device.empty()) cfg = with_device(cfg, algo, device);  // this session's, not the run's record
  return run_training(cfg, dir, true);
}

EvalResult evaluate_run(const fs::path& dir, std::int64_t episodes, const std::string& checkpoint,
                        std::uint64_t seed, const fs::path& record_dir, bool overwrite,
                        const std::string& device) {
  core::require_run_dir(dir);
  if (!record_dir.empty() && !overwrite && fs::exists(record_dir) &&
      !(fs::is_directory(record_dir) && fs::is_empty(record_dir))) {
    throw Error("--record '" + record_dir.string() +
                "' is not empty: expected a new or empty folder (--force to overwrite its GIFs)");
  }
  if (checkpoint != "best" && checkpoint != "last" && checkpoint != "random") {
    throw Error("--checkpoint '" + checkpoint + "': expected best, last or random");
  }
  if (episodes <= 0) throw Error("--episodes " + std::to_string(episodes) + ": expected > 0");
  auto cfg = core::Config::load(dir / "config.yaml");
  load_plugins(cfg);
  const auto run = run_options(cfg);
  run.validate();
  auto env = env_factory(run, false)();
  // "random": uniform random actions on the same env, the baseline a trained agent is held against.
  LoadedRun loaded;
  std::mt19937_64 rng(seed);
  Policy policy = [&](const torch::Tensor&) { return envs::sample(env->action_space(), rng); };
  if (checkpoint != "random") {
    loaded = load_run(dir, checkpoint, seed, device);
    policy = [&](const torch::Tensor& obs) { return loaded.agent->act(obs, true); };
  }
  env->reset(seed);
  if (record_dir.empty()) return evaluate(policy, *env, episodes);

  if (!env->render().defined()) {
    throw Error("--record: " + run.env_id() +
                " has no renderer; expected an env whose render() gives RGB frames");
  }
  fs::create_directories(record_dir);
  std::vector<torch::Tensor> frames;
  auto result = evaluate(policy, *env, episodes, [&](std::int64_t, std::int64_t, const envs::Env& e) {
    frames.push_back(e.render());
  });
  // The observer saw every episode in turn: split the frames at each episode's length + 1.
  std::size_t first = 0;
  for (std::size_t e = 0; e < result.lengths.size(); ++e) {
    const auto n = static_cast<std::size_t>(result.lengths[e]) + 1;
    core::save_gif(record_dir / fmt::format("episode_{:03d}.gif", e),
                   {frames.begin() + static_cast<std::ptrdiff_t>(first),
                    frames.begin() + static_cast<std::ptrdiff_t>(first + n)});
    first += n;
  }
  return result;
}

}  // namespace dojo::rl
