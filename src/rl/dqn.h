// Deep Q-Network (Mnih et al. 2015, "Human-level control through deep reinforcement learning") and
// the descendants Rainbow (Hessel et al. 2018) found to add up: Double DQN (van Hasselt et al. 2016),
// Dueling heads (Wang et al. 2016), prioritized replay (Schaul et al. 2016) and n-step returns.
//
//   for each env step:  a = ε-greedy(Q(s))  ->  store (s, a, r, s', terminated) in replay
//   every train_freq steps (after learning_starts):  gradient_steps × minimise
//       w · Huber(Q(s,a), R + γ^m (1 − terminated) max_a' Q_target(s_{t+m}, a'))
//     on a minibatch drawn uniformly (w = 1) or by priority (w: importance weights), where R sums m
//     discounted rewards (m = n_step, fewer at an episode's end) and Double DQN picks a' with Q
//   every target_update_interval steps:  Q_target <- τ Q + (1 − τ) Q_target   (τ = 1: hard copy)
//
// Defaults are Stable-Baselines3's (the key names RL practitioners know); presets in configs/dqn/.
#pragma once
#include <torch/arg.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/export.h"
#include "core/options.h"
#include "envs/env.h"
#include "envs/factory.h"
#include "rl/agent.h"
#include "rl/frame_replay.h"
#include "rl/networks.h"
#include "rl/prioritized.h"
#include "rl/replay.h"
#include "rl/schedule.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct DQNOptions {
  TORCH_ARG(double, learning_rate) = 1e-4;
  TORCH_ARG(std::int64_t, buffer_size) = 1'000'000;  // transitions
  TORCH_ARG(std::int64_t, learning_starts) = 100;    // env steps before the first update
  TORCH_ARG(std::int64_t, batch_size) = 32;
  TORCH_ARG(double, tau) = 1.0;  // target update coefficient; 1 = hard copy
  TORCH_ARG(double, gamma) = 0.99;
  TORCH_ARG(std::int64_t, train_freq) = 4;                   // env steps between update rounds
  TORCH_ARG(std::int64_t, gradient_steps) = 1;               // updates per round
  TORCH_ARG(std::int64_t, target_update_interval) = 10'000;  // env steps
  TORCH_ARG(double, exploration_fraction) = 0.1;             // of total steps over which ε anneals
  // Steps over which ε anneals, whatever the run's length (0: exploration_fraction of the run).
  TORCH_ARG(std::int64_t, exploration_steps) = 0;
  // Hold ε at its initial value until learning_starts and anneal it after, as DeepMind's, Dopamine's
  // and MinAtar's DQN do; false anneals from the first step, as SB3 does.
  TORCH_ARG(bool, exploration_after_learning_starts) = false;
  TORCH_ARG(double, exploration_initial_eps) = 1.0;
  TORCH_ARG(double, exploration_final_eps) = 0.05;
  // ε of evaluation episodes. 0 is greedy (SB3); Mnih et al. evaluate with 0.05 so that a
  // deterministic policy cannot stall a game forever.
  TORCH_ARG(double, eval_exploration_eps) = 0.0;
  TORCH_ARG(double, max_grad_norm) = 10.0;  // SB3's; 0: no clipping (Mnih et al., Young & Tian)
  TORCH_ARG(bool, double_q) = false;
  TORCH_ARG(bool, dueling) = false;
  TORCH_ARG(std::int64_t, n_step) = 1;
  TORCH_ARG(bool, prioritized_replay) = false;  // proportional (sum tree)
  TORCH_ARG(double, prioritized_replay_alpha) = 0.6;
  TORCH_ARG(double, prioritized_replay_beta0) = 0.4;  // annealed linearly to 1 over training
  TORCH_ARG(double, prioritized_replay_eps) = 1e-6;
  // What the importance weights are divided by: "global", the largest weight any stored transition
  // could get (baselines), or "batch", the largest in the minibatch (Dopamine). Batch by default:
  // with global, one near-zero priority in the memory shrinks every weight (to a mean of 0.015 on
  // MinAtar Breakout) and with it the step, and PER barely learns there.
  TORCH_ARG(std::string, prioritized_replay_weights) = "batch";
  TORCH_ARG(std::string, loss) = "huber";  // huber (Mnih et al.'s error clipping) | mse
  // mlp: net_arch on a flat observation; minatar: Young & Tian's CNN (16 3×3 filters, 128 units) on a
  // [H, W, C] grid; nature: Mnih et al.'s CNN (32 8×8/4, 64 4×4/2, 64 3×3/1, 512) on [84, 84, k]
  // uint8 frame stacks, replayed from a FrameReplay that keeps each frame once.
  TORCH_ARG(std::string, network) = "mlp";
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{64, 64};
  TORCH_ARG(std::string, activation) = "relu";
  TORCH_ARG(std::string, optimizer) = "adam";  // adam | rmsprop
  TORCH_ARG(double, optimizer_eps) = 1e-8;     // Adam's / RMSprop's epsilon
  TORCH_ARG(double, rmsprop_alpha) = 0.95;
  TORCH_ARG(bool, rmsprop_centered) = false;
  // Heavy-ball momentum on RMSprop's step (PyTorch's `momentum`). 0 is DeepMind's RMSProp, where the
  // "gradient momentum" 0.95 is the decay of the centring mean; MinAtar's later dqn.py passes 0.95 here.
  TORCH_ARG(double, rmsprop_momentum) = 0.0;
  TORCH_ARG(std::string, device) = "auto";  // cpu | cuda | cuda:N | auto (core/device.h)

 public:  // TORCH_ARG leaves the access private
  // Throws dojo::Error naming the first field out of range.
  void validate() const;

  template <class F>
  void visit(F&& f) {
    f("learning_rate", learning_rate_, core::positive());
    f("buffer_size", buffer_size_, core::positive());
    f("learning_starts", learning_starts_, core::non_negative());
    f("batch_size", batch_size_, core::positive());
    f("tau", tau_, core::in_open_closed(0, 1));
    f("gamma", gamma_, core::in(0, 1));
    f("train_freq", train_freq_, core::positive());
    f("gradient_steps", gradient_steps_, core::positive());
    f("target_update_interval", target_update_interval_, core::positive());
    f("exploration_fraction", exploration_fraction_, core::in(0, 1));
    f("exploration_steps", exploration_steps_, core::non_negative("0: exploration_fraction of the run"));
    f("exploration_after_learning_starts", exploration_after_learning_starts_);
    f("exploration_initial_eps", exploration_initial_eps_, core::in(0, 1));
    f("exploration_final_eps", exploration_final_eps_, core::in(0, 1));
    f("eval_exploration_eps", eval_exploration_eps_, core::in(0, 1));
    f("max_grad_norm", max_grad_norm_, core::non_negative("0: no clipping"));
    f("double_q", double_q_);
    f("dueling", dueling_);
    f("n_step", n_step_, core::at_least(1));
    f("prioritized_replay", prioritized_replay_);
    f("prioritized_replay_alpha", prioritized_replay_alpha_, core::non_negative());
    f("prioritized_replay_beta0", prioritized_replay_beta0_, core::in(0, 1));
    f("prioritized_replay_eps", prioritized_replay_eps_, core::positive());
    f("prioritized_replay_weights", prioritized_replay_weights_, core::one_of({"global", "batch"}));
    f("loss", loss_, core::one_of({"huber", "mse"}));
    f("network", network_, core::one_of(trunk_names()));
    f("net_arch", net_arch_, core::layer_sizes());
    f("activation", activation_, core::one_of({"relu", "tanh", "elu"}));
    f("optimizer", optimizer_, core::one_of({"adam", "rmsprop"}));
    f("optimizer_eps", optimizer_eps_, core::positive());
    f("rmsprop_alpha", rmsprop_alpha_, core::in_open_closed(0, 1));
    f("rmsprop_centered", rmsprop_centered_);
    f("rmsprop_momentum", rmsprop_momentum_, core::in_closed_open(0, 1));
    f("device", device_, core::device_name());
  }
};

class DQN final : public Agent {
 public:
  // The env (made once from the factory) must have a Discrete action space and a Box observation
  // space the network takes (flat for mlp, [H, W, C] for minatar and nature). Replay stores
  // observations in the space's dtype (uint8 grids stay uint8).
  DQN(envs::EnvFactory env, DQNOptions options, std::uint64_t seed);
  // Throws dojo::Error when DQN with these options cannot run on env's spaces.
  static void check_env(const DQNOptions& options, const envs::Env& env);

  std::string algo() const override { return "dqn"; }
  void learn(std::int64_t total_timesteps, Callback& callback) override;
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;
  torch::Tensor act(const torch::Tensor& obs, bool deterministic = true) override;

  // One gradient step on a minibatch; returns {"loss", "q_mean"}. A prioritized batch (with slots
  // and weights) gets its priorities updated from the TD errors.
  std::map<std::string, double> update(const Batch& batch);
  // The minibatch the next update would use: uniform or prioritized, n-step per the options.
  Batch sample_batch();
  // Prioritized replay's β at the current step.
  double importance_beta() const { return beta_; }
  void update_target();
  std::int64_t greedy_action(const torch::Tensor& obs);

  const DQNOptions& options() const { return opts_; }
  double exploration_rate() const { return epsilon_; }
  // The behaviour policy's ε at env step `step` of a run of `total_timesteps`.
  double exploration_at(std::int64_t step, std::int64_t total_timesteps) const;
  torch::nn::Sequential q_net() const { return q_net_; }
  const ReplayBuffer& replay() const { return replay_; }
  const FrameReplay* frame_replay() const { return frames_.get(); }
  const Replay& memory() const { return frames_ ? static_cast<const Replay&>(*frames_) : replay_; }
  const PrioritizedSampler* prioritized() const { return per_.get(); }

 private:
  void save_state(core::CheckpointWriter& w) const override;
  void load_state(core::CheckpointReader& r) override;

  std::unique_ptr<envs::Env> env_;
  DQNOptions opts_;
  std::uint64_t seed_;
  envs::Discrete action_space_;
  torch::nn::Sequential q_net_, target_net_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  ReplayBuffer replay_;                  // transitions (all networks but nature)
  std::unique_ptr<FrameReplay> frames_;  // nature: one frame per transition
  std::unique_ptr<PrioritizedSampler> per_;
  LinearSchedule exploration_;
  std::mt19937_64 eval_rng_;  // evaluation's ε draws: evaluating leaves training's stream alone
  double epsilon_;
  double beta_;
  bool env_started_ = false;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
