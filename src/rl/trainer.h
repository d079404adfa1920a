// A training run from configuration to run directory (DESIGN.md "Runs, files and the command line"):
// resolve the config (preset, --config, --set, flags), check every key and value before anything is
// written, then train with metrics, periodic evaluation, checkpoints, a final evaluation, a summary and
// a learning curve.
#pragma once
#include <torch/arg.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/export.h"
#include "core/options.h"
#include "envs/factory.h"
#include "rl/agent.h"
#include "rl/evaluation.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// Keys of a run that are not the algorithm's own.
struct RunOptions {
  TORCH_ARG(std::string, algo) = "dqn";
  TORCH_ARG(std::string, env_id) = "CartPole-v1";
  // The env's own keyword arguments, as gym.make(id, **kwargs): {is_slippery: false, map_name: 8x8}.
  TORCH_ARG(core::Config, env_kwargs) = {};
  TORCH_ARG(std::int64_t, seed) = 0;
  TORCH_ARG(std::int64_t, n_timesteps) = 50'000;      // env steps
  TORCH_ARG(std::int64_t, eval_freq) = 5'000;         // env steps between evaluations; 0 = only at the end
  TORCH_ARG(std::int64_t, n_eval_episodes) = 10;      // per periodic evaluation
  TORCH_ARG(std::int64_t, final_eval_episodes) = 20;  // after training
  // LibTorch threads for this process; 0 = all cores. One by default: several runs (or ranks) on a
  // node would otherwise each take every core, and the MLP presets are fastest on one anyway.
  TORCH_ARG(std::int64_t, n_threads) = 1;
  // Mnih et al.'s preprocessing (envs::atari_preprocessing) on a pixel env; evaluations see the
  // game's unclipped score.
  TORCH_ARG(bool, atari_wrappers) = false;
  TORCH_ARG(std::int64_t, noop_max) = 30;  // the Atari preprocessing's random no-op starts (0: none)
  // Observe the env's rendered picture instead of its state (envs::pixel_observations): frames of
  // pixels x pixels (0: off), pixel_frames of them stacked, RGB or pixel_gray; the state goes to
  // info["state"]. The S-RL Toolbox's setting for classic control.
  TORCH_ARG(std::int64_t, pixels) = 0;
  TORCH_ARG(std::int64_t, pixel_frames) = 2;
  TORCH_ARG(bool, pixel_gray) = false;
  // The camera's framing: [top, left, bottom, right] fractions of the rendered frame ([]: all of it).
  TORCH_ARG(std::vector<double>, pixel_crop) = {};
  // Observe a learned state instead: a `dojo srl train` run's frozen encoder on the env's picture
  // (rl/srl_run.h); "" = off.
  TORCH_ARG(std::string, srl_run) = "";
  // Stop once a periodic evaluation reaches the env's registered reward threshold.
  TORCH_ARG(bool, stop_on_reward_threshold) = false;
  // Shared libraries that register the run's env (core/plugin.h), loaded again by eval and resume.
  TORCH_ARG(std::vector<std::string>, plugins) = {};

 public:  // TORCH_ARG leaves the access private
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("algo", algo_);
    f("env_id", env_id_);
    f("env_kwargs", env_kwargs_);
    f("seed", seed_, core::non_negative());
    f("n_timesteps", n_timesteps_, core::positive());
    f("eval_freq", eval_freq_, core::non_negative("0: only at the end"));
    f("n_eval_episodes", n_eval_episodes_, core::positive());
    f("final_eval_episodes", final_eval_episodes_, core::positive());
    f("n_threads", n_threads_, core::non_negative("0: all cores"));
    f("atari_wrappers", atari_wrappers_);
    f("noop_max", noop_max_, core::non_negative());
    f("pixels", pixels_, core::non_negative("0: the env's own observation"));
    f("pixel_frames", pixel_frames_, core::positive());
    f("pixel_gray", pixel_gray_);
    f("pixel_crop", pixel_crop_);
    f("srl_run", srl_run_);
    f("stop_on_reward_threshold", stop_on_reward_threshold_);
    f("plugins", plugins_);
  }
};

struct TrainRequest {
  std::string algo;                                  // "" = from the config, else dqn
  std::optional<std::string> env_id;                 // --env
  std::optional<std::filesystem::path> config_file;  // --config; else the preset for algo and env
  std::vector<std::string> overrides;                // --set key=value
  std::optional<std::int64_t> seed;                  // --seed
  std::optional<std::int64_t> steps;                 // --steps (n_timesteps)
  std::filesystem::path out;                         // --out; "" = runs/<algo>-<env>-s<seed>-<time>
  std::vector<std::filesystem::path> plugins;        // --plugin: loaded first, recorded in the run
  std::optional<std::string> device;                 // --device: the algorithm's `device` key
  std::optional<std::filesystem::path> dataset;      // --dataset: an offline algorithm's `dataset` key
};

struct TrainSummary {
  std::filesystem::path run_dir;
  std::string algo, env_id;
  std::int64_t seed = 0, env_steps = 0, episodes = 0, n_threads = 0, final_eval_episodes = 0;
  double wall_time_s = 0, final_eval_mean = 0, final_eval_std = 0, best_eval_mean = 0;
};

// Where presets live: $DOJO_CONFIG_DIR, else share/dojo/configs under the installed prefix, else
// configs/ beside the program (the build tree's copy). Never the source tree.
std::filesystem::path config_dir();
// configs/<algo>/<env>.yaml where <env> is the id lower-cased without version or punctuation
// ("CartPole-v1" -> cartpole.yaml), if it exists.
std::optional<std::filesystem::path> find_preset(const std::string& algo, const std::string& env_id);

// A --config value: a file, else a preset name ("dqn/acrobot" -> config_dir()/dqn/acrobot.yaml).
// Throws dojo::Error when neither exists.
std::filesystem::path config_file(const std::filesystem::path& name);

// Every key of the run with its value; a --config in RL Zoo's layout gives the entry for --env
// (rl/rlzoo.h), its algorithm from the command or the file's name (ppo.yml); throws dojo::Error for unknown
// keys, bad types or values, an unknown algorithm or env id, or an unreadable config file.
core::Config resolve_config(const TrainRequest& request);

TrainSummary train(const TrainRequest& request);
// The same from a config resolve_config returned (a program that applies its threads first).
TrainSummary train(const core::Config& resolved, const std::filesystem::path& out);
// Continues the run in run_dir from its last checkpoint: to the run's n_timesteps, or with `steps`,
// that many steps beyond the checkpoint (n_timesteps is raised to match). Throws dojo::Error for a
// finished run without `steps`. `device` ("" = the run's own) trains on another device than the run
// recorded, e.g. a GPU run continued on a CPU-only machine; config.yaml keeps the run's.
TrainSummary resume(const std::filesystem::path& run_dir, std::optional<std::int64_t> steps = std::nullopt,
                    const std::string& device = "");
// The run's envs: its registered id, with episode statistics for training, and the Atari
// preprocessing when the run asks for it (training clips rewards, evaluation keeps the score).
envs::EnvFactory run_env_factory(const RunOptions& run, bool training);

// A saved run's config and its agent with the "best" or "last" checkpoint loaded (plugins loaded
// first); `device` as in resume. Throws dojo::Error for a folder that is no run or a bad checkpoint.
struct LoadedRun {
  core::Config config;
  RunOptions run;
  std::unique_ptr<Agent> agent;
};
LoadedRun load_run(const std::filesystem::path& run_dir, const std::string& checkpoint, std::uint64_t seed,
                   const std::string& device = "");

// Greedy evaluation of a saved run's "best" or "last" checkpoint, or of uniformly random actions
// ("random") on the run's env. With record_dir, each episode is
// also written there as an animated GIF of the env's rendered frames (episode_000.gif, ...); a
// record_dir that holds files is refused (dojo::Error) unless `overwrite`. `device` as in resume.
EvalResult evaluate_run(const std::filesystem::path& run_dir, std::int64_t episodes,
                        const std::string& checkpoint, std::uint64_t seed,
                        const std::filesystem::path& record_dir = {}, bool overwrite = false,
                        const std::string& device = "");

}  // namespace dojo::rl

DOJO_PUBLIC_END
