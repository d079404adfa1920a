// The World Models pipeline as one run directory whose stages resume (`dojo train worldmodel`):
//
//   collect     random rollouts of the env (Brownian-motion actions), each frame cropped and resized
//               to 64 × 64 -> rollouts/rollout_NNNNN.ckpt
//   vae         V trained on the frames (held-out rollouts for validation) -> vae.ckpt, vae.csv,
//               vae_curve.png, reconstructions.png (held-out frames above, V's reconstructions below)
//   encode      every frame through q(z|x) -> latents.ckpt (μ, σ, actions, rewards, ends per rollout)
//   mdn         M trained on sequences of z ~ q(z|x) and actions -> mdn.ckpt, mdn.csv (next-latent NLL
//               beside the z_{t+1} = z_t baseline's), mdn_curve.png, dream.png (a held-out rollout: real
//               frames, V's reconstructions, M's one-step predictions and M's open-loop dream, decoded)
//   controller  C evolved by CMA-ES, each candidate scored by its mean return over
//               `rollouts_per_candidate` tracks (the same tracks for the whole generation), in the real
//               env or in M's dream -> controller[-z][-dream-tT]/ with cmaes.csv, curve.png, cmaes.ckpt
//               (the search state) and best.ckpt (the best mean so far on `eval_rollouts` fixed tracks)
//
// stages.csv records each finished stage and its minutes; a stage finds the previous ones' artefacts
// or says which stage to run first. Every stage checkpoints (rollout by rollout; V and M every
// `checkpoint_minutes`; C every generation), so a stopped run resumes where it was.
#pragma once
#include <torch/arg.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/export.h"
#include "core/options.h"
#include "rl/world_model.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct WorldModelOptions {
  TORCH_ARG(std::string, env) = "CarRacing-v2";
  // collect
  TORCH_ARG(std::int64_t, rollouts) = 200;
  TORCH_ARG(std::int64_t, max_steps) = 1000;  // per rollout and per controller episode
  TORCH_ARG(double, holdout) = 0.05;          // share of rollouts V and M validate on
  // V
  TORCH_ARG(std::int64_t, z_size) = 32;
  TORCH_ARG(double, kl_floor) = 16;  // nats per frame: the paper's kl_tolerance 0.5 × z_size
  TORCH_ARG(std::int64_t, vae_epochs) = 3;
  TORCH_ARG(std::int64_t, vae_batch_size) = 100;
  TORCH_ARG(double, vae_learning_rate) = 1e-3;
  // M
  TORCH_ARG(std::int64_t, hidden) = 256;
  TORCH_ARG(std::int64_t, mixtures) = 5;
  TORCH_ARG(std::int64_t, mdn_epochs) = 20;
  TORCH_ARG(std::int64_t, mdn_batch_size) = 32;
  TORCH_ARG(std::int64_t, sequence_length) = 200;
  TORCH_ARG(double, mdn_learning_rate) = 1e-3;
  TORCH_ARG(double, grad_clip) = 1.0;
  // C
  TORCH_ARG(std::string, controller) = "zh";  // zh: a = C([z, h]); z: V alone (the paper's ablation)
  TORCH_ARG(bool, dream) = false;             // evolve inside M's dream instead of the real env
  TORCH_ARG(double, temperature) = 1.0;       // the dream's τ
  TORCH_ARG(std::int64_t, population) = 0;    // 0: CMA-ES's 4 + ⌊3 ln n⌋
  TORCH_ARG(std::int64_t, rollouts_per_candidate) = 4;
  TORCH_ARG(std::int64_t, generations) = 100;
  TORCH_ARG(double, sigma0) = 0.1;
  // Training episodes in the real env (never evaluations) end once this many steps pass without a
  // positive reward (no new tile), credited with the last step's reward (−0.1) for each step left,
  // so that a candidate parked on the grass does not cost 1,000 steps of V; 0: off.
  TORCH_ARG(std::int64_t, stall_steps) = 0;
  TORCH_ARG(double, controller_minutes) = 0;  // 0: no limit; else no generation starts past it
  TORCH_ARG(std::int64_t, eval_every) = 10;   // generations between evaluations of CMA-ES's mean
  TORCH_ARG(std::int64_t, eval_rollouts) = 16;
  // Run
  TORCH_ARG(double, checkpoint_minutes) = 5;
  TORCH_ARG(std::int64_t, seed) = 0;
  TORCH_ARG(std::int64_t, n_threads) = 0;  // 0: every core

 public:
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("env", env_);
    f("rollouts", rollouts_, core::positive());
    f("max_steps", max_steps_, core::positive());
    f("holdout", holdout_, core::in_closed_open(0, 1));
    f("z_size", z_size_, core::positive());
    f("kl_floor", kl_floor_, core::non_negative());
    f("vae_epochs", vae_epochs_, core::positive());
    f("vae_batch_size", vae_batch_size_, core::positive());
    f("vae_learning_rate", vae_learning_rate_, core::positive());
    f("hidden", hidden_, core::positive());
    f("mixtures", mixtures_, core::positive());
    f("mdn_epochs", mdn_epochs_, core::positive());
    f("mdn_batch_size", mdn_batch_size_, core::positive());
    f("sequence_length", sequence_length_, core::at_least(2));
    f("mdn_learning_rate", mdn_learning_rate_, core::positive());
    f("grad_clip", grad_clip_, core::non_negative("0: none"));
    f("controller", controller_, core::one_of({"zh", "z"}));
    f("dream", dream_);
    f("temperature", temperature_, core::positive());
    f("population", population_, core::non_negative("0: 4 + 3 ln n"));
    f("rollouts_per_candidate", rollouts_per_candidate_, core::positive());
    f("generations", generations_, core::positive());
    f("sigma0", sigma0_, core::positive());
    f("stall_steps", stall_steps_, core::non_negative("0: off"));
    f("controller_minutes", controller_minutes_, core::non_negative("0: no limit"));
    f("eval_every", eval_every_, core::positive());
    f("eval_rollouts", eval_rollouts_, core::positive());
    f("checkpoint_minutes", checkpoint_minutes_, core::positive());
    f("seed", seed_);
    f("n_threads", n_threads_, core::non_negative("0: every core"));
  }
};

// The keys that only shape the controller stage: --resume takes them (another controller from the
// same V and M), not the others.
std::vector<std::string> world_model_controller_keys();

// The stages in order, and the controller directory's name for a configuration ("controller",
// "controller-z", "controller-dream-t1.15", ...).
const std::vector<std::string>& world_model_stages();
std::string world_model_controller_dir(const WorldModelOptions& o);

// Checks the keys and values (dojo::Error naming the first bad one) and returns the full config.
core::Config resolve_world_model_config(const core::Config& config);

struct WorldModelSummary {
  std::filesystem::path run_dir;
  std::vector<std::pair<std::string, double>> stage_minutes;  // the finished stages
  double vae_reconstruction = 0, vae_kl = 0;                  // held-out, per frame
  double mdn_nll = 0, copy_nll = 0;                           // held-out, per latent dimension
  std::int64_t generations = 0;
  double best_eval = 0;  // the controller's best mean return on the eval tracks
};

// Creates the run in `out` (or runs/worldmodel-<env>-s<seed>-<time>) and runs every stage, or only
// `stage`. A stage other than collect cannot start a new run: dojo::Error naming the stage to run
// first (before anything is written).
WorldModelSummary train_world_model(const core::Config& config, const std::filesystem::path& out,
                                    const std::string& stage = "");
// Continues a run: every stage not yet finished, in order, or only `stage` (which may be run again
// after it finished: the controller stage with `controller_overrides` — "key=value", controller keys
// only — evolves another controller from the same V and M, in its own directory). A stage whose
// predecessor has not finished is dojo::Error naming the one to run first.
WorldModelSummary resume_world_model(const std::filesystem::path& dir, const std::string& stage = "",
                                     const std::vector<std::string>& controller_overrides = {});

// Whether `dir` holds a world-model run (it has stages.csv).
bool is_world_model_run(const std::filesystem::path& dir);

struct WorldModelEval {
  std::vector<double> returns;
  double mean = 0, std = 0;
};
// The controller in `controller` (a directory name under the run; "" for the run's own) from its
// best.ckpt ("best") or cmaes.ckpt's mean ("last"), on `episodes` real tracks seeded seed, seed+1, …,
// batched across episodes. `record` writes each episode's frames as a GIF there.
WorldModelEval evaluate_world_model(const std::filesystem::path& dir, std::int64_t episodes,
                                    std::uint64_t seed, const std::string& controller = "",
                                    const std::string& checkpoint = "best",
                                    const std::filesystem::path& record = {});

}  // namespace dojo::rl

DOJO_PUBLIC_END
