// Learned Policy Gradient (Oh et al. 2020, "Discovering Reinforcement Learning Algorithms"): an update
// rule found by meta-learning instead of by hand. The agent has a policy π(a|s) and a prediction
// y(s), a categorical over m outcomes whose meaning nobody fixes. The rule is a backward LSTM over
// the agent's trajectory that reads [r, done, γ, π(a|s), φ(y(s)), φ(y(s'))] and says what to aim at:
// π̂, a scalar that weighs ∇log π(a|s), and ŷ, a target for y:
//
//     Δθ ∝ π̂ ∇θ log πθ(a|s) − ∇θ KL(yθ(s) ‖ ŷ)                                  (paper, Eq. 2)
//
// Meta-training: many agents ("lifetimes") learn in parallel on grids drawn from a family; after K of
// their updates, the rule's parameters η move along the policy gradient of the updated agents,
// backpropagated through those K updates (Eq. 3), with the paper's regularisers (policy and
// prediction entropy, π̂ and ŷ kept small). A lifetime ends after `lifetime_updates` updates and a
// fresh agent starts on a fresh grid.
//
// At this machine's size the agents are tables (logits[s, a], y-logits[s, ·]) on
// envs::GridWorld's families, and the rule is compared with tabular A2C whose settings are tuned on
// the training grids, at the same budget of environment steps.
#pragma once
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/export.h"
#include "core/options.h"
#include "envs/toy_text/toy_text.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct LpgOptions {
  TORCH_ARG(std::int64_t, seed) = 0;
  TORCH_ARG(std::int64_t, iterations) = 3'000;      // meta-updates
  TORCH_ARG(std::int64_t, lifetimes) = 32;          // agents learning in parallel, each on its own grid
  TORCH_ARG(std::int64_t, envs_per_lifetime) = 8;   // envs an agent steps at once
  TORCH_ARG(std::int64_t, rollout) = 20;            // steps of each env between agent updates
  TORCH_ARG(std::int64_t, unroll) = 5;              // agent updates per meta-update (K)
  TORCH_ARG(std::int64_t, lifetime_updates) = 250;  // agent updates in a lifetime
  TORCH_ARG(std::int64_t, prediction_size) = 30;    // m: y's categories
  TORCH_ARG(std::int64_t, hidden) = 32;             // the rule's LSTM
  TORCH_ARG(double, gamma) = 0.99;
  TORCH_ARG(double, policy_lr) = 0.5;      // the agent's step on its logits (a sum over one rollout / envs)
  TORCH_ARG(double, prediction_lr) = 0.5;  // the agent's step on its y-logits
  TORCH_ARG(double, meta_lr) = 1e-3;       // Adam on the rule
  TORCH_ARG(double, meta_grad_clip) = 1.0;
  TORCH_ARG(double, value_lr) = 0.5;  // the meta-gradient's baseline V (a table, never seen by the rule)
  TORCH_ARG(double, policy_entropy) = 0.01;       // β0
  TORCH_ARG(double, prediction_entropy) = 0.001;  // β1
  TORCH_ARG(double, pi_hat_l2) = 0.001;           // β2
  TORCH_ARG(double, y_hat_l2) = 0.001;            // β3: ŷ's negative entropy
  TORCH_ARG(std::vector<std::string>, families) = std::vector<std::string>{"tabular", "random"};
  TORCH_ARG(std::int64_t, eval_every) = 250;  // meta-updates between validation scores (and checkpoints)
  TORCH_ARG(std::int64_t, n_threads) = 1;

 public:
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("seed", seed_, core::non_negative());
    f("iterations", iterations_, core::positive());
    f("lifetimes", lifetimes_, core::positive());
    f("envs_per_lifetime", envs_per_lifetime_, core::positive());
    f("rollout", rollout_, core::positive());
    f("unroll", unroll_, core::positive());
    f("lifetime_updates", lifetime_updates_, core::positive());
    f("prediction_size", prediction_size_, core::at_least(2));
    f("hidden", hidden_, core::positive());
    f("gamma", gamma_, core::in_open_closed(0, 1));
    f("policy_lr", policy_lr_, core::positive());
    f("prediction_lr", prediction_lr_, core::positive());
    f("meta_lr", meta_lr_, core::positive());
    f("meta_grad_clip", meta_grad_clip_, core::positive());
    f("value_lr", value_lr_, core::in_open_closed(0, 1));
    f("policy_entropy", policy_entropy_, core::non_negative());
    f("prediction_entropy", prediction_entropy_, core::non_negative());
    f("pi_hat_l2", pi_hat_l2_, core::non_negative());
    f("y_hat_l2", y_hat_l2_, core::non_negative());
    f("families", families_);
    f("eval_every", eval_every_, core::positive());
    f("n_threads", n_threads_, core::non_negative("0: all cores"));
  }
};

// The rule: φ embeds a prediction vector as one number (m → 16 → 1), an LSTM runs backwards in time
// over [r, done, γ, π(a|s), φ(y(s)), φ(y(s'))], and two heads give π̂ and log ŷ.
class LpgNetImpl : public torch::nn::Module {
 public:
  LpgNetImpl(std::int64_t prediction_size, std::int64_t hidden);
  // reward, done, pi_a: [T, B]; y, y_next: [T, B, m] probabilities. Returns π̂ [T, B] and log ŷ [T, B, m].
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& reward, const torch::Tensor& done,
                                                  double gamma, const torch::Tensor& pi_a,
                                                  const torch::Tensor& y, const torch::Tensor& y_next);

 private:
  std::int64_t hidden_;
  torch::nn::Linear phi1_{nullptr}, phi2_{nullptr}, pi_head_{nullptr}, y_head_{nullptr};
  torch::nn::LSTMCell lstm_{nullptr};
};
TORCH_MODULE(LpgNet);

// A finite MDP an agent learns in: its table, start distribution and step limit.
struct TabularTask {
  std::string name;
  std::shared_ptr<const envs::TransitionTable> P;
  std::vector<double> initial_distribution;
  std::int64_t max_episode_steps = 50;
  std::int64_t n_states() const { return static_cast<std::int64_t>(P->size()); }
  std::int64_t n_actions() const { return static_cast<std::int64_t>((*P)[0].size()); }
};
// The task of a registered env whose unwrapped env is an envs::TabularEnv (its limit, or 100 when it
// has none); dojo::Error otherwise.
TabularTask tabular_task(const std::string& env_id, const core::Config& kwargs = {});
TabularTask grid_task(const std::string& family, std::uint64_t seed);
// Grid seeds: meta-training draws from [0, 10⁶), validation from [10⁶, 2·10⁶), the held-out test
// grids from [2·10⁶, ∞): no grid a rule is scored on was seen while it was trained.
inline constexpr std::uint64_t kValidationGridSeed = 1'000'000, kTestGridSeed = 2'000'000;

// One trajectory segment of every env: [T, lifetimes·envs] tensors. rows / next_rows index the
// stacked tables (a lifetime's block, then the state); next_rows is the state the step reached, before
// any reset. terminated ends an episode; truncated is the step limit (the value is bootstrapped).
struct TabularRollout {
  torch::Tensor rows, next_rows, actions, rewards, terminated, truncated;
};

// One LPG update of an agent's tables by the rule (Eq. 2): logits along π̂·∇log π(a|s), y-logits
// against ∇KL(y(s) ‖ ŷ), each summed over the rollout and divided by envs_per_lifetime. Written with
// the gradients in closed form, so that autograd sees how the new tables depend on the rule (the
// meta-gradient) while π̂ and ŷ stay targets for the agent.
struct LpgUpdate {
  torch::Tensor logits, y_logits, pi_hat, log_y_hat;
};
LpgUpdate lpg_update(LpgNet& rule, const TabularRollout& rollout, const torch::Tensor& logits,
                     const torch::Tensor& y_logits, const LpgOptions& options);

// The hand-designed update LPG is compared with: advantage actor-critic on tables (n-step returns
// over the rollout, bootstrapped from V), with an entropy bonus.
struct TabularA2C {
  double policy_lr = 0.5, value_lr = 0.5, entropy = 0.01;
};

// An update rule as the agents' loop sees it: the frozen LPG rule or tabular A2C.
struct LpgAgentRule {
  LpgNet lpg{nullptr};
  TabularA2C a2c;
  bool is_lpg() const { return !lpg.is_empty(); }
};

struct LpgScore {
  std::string task;
  double lpg = 0, a2c = 0, random = 0, optimal = 0;  // mean episode returns of the final policies
  double seconds_lpg = 0, seconds_a2c = 0;
};

// Trains `agents` fresh tabular agents (different seeds) on `task` with `rule` for `updates` updates
// of `options`' envs_per_lifetime × rollout steps, then returns the mean return of their final
// (stochastic) policies over `episodes` episodes each.
double train_tabular_agents(const TabularTask& task, const LpgAgentRule& rule, const LpgOptions& options,
                            std::int64_t updates, std::int64_t agents, std::int64_t episodes,
                            std::uint64_t seed);
// The same tasks with the uniform policy and with value iteration's greedy policy (γ = options.gamma).
double random_policy_return(const TabularTask& task, std::int64_t episodes, std::uint64_t seed);
double optimal_policy_return(const TabularTask& task, double gamma, std::int64_t episodes,
                             std::uint64_t seed);

struct LpgCurvePoint {
  std::int64_t iteration = 0;
  double meta_loss = 0, episode_return = 0, pi_hat = 0, seconds = 0;
  double validation = std::nan("");  // mean final return of fresh agents on the validation grids
};

// Meta-trains a rule into `dir` (rule.ckpt, curve.csv, config.yaml), resuming from rule.ckpt when the
// directory has one (the lifetimes restart: they are not saved). `on_point` sees each curve point.
LpgNet meta_train_lpg(const core::Config& config, const std::filesystem::path& dir,
                      const std::function<void(const LpgCurvePoint&)>& on_point = {});
// The options a config resolves to (every key checked: dojo::Error names a bad one).
LpgOptions lpg_options(const core::Config& config);
// A trained rule and its options; dojo::Error when `dir` has no readable rule.ckpt.
std::pair<LpgNet, LpgOptions> load_lpg_rule(const std::filesystem::path& dir);

// A run's rule as a shipped model: config.yaml, rule.ckpt with the weights only (no optimizer state)
// and curve.csv, written into `out` (each file atomically).
void export_lpg_rule(const std::filesystem::path& run, const std::filesystem::path& out);
// The shipped rule: $DOJO_LPG_RULE, else models/lpg-grids where this library finds dojo's models;
// dojo::Error when there is none.
std::filesystem::path shipped_lpg_rule();

// A2C's settings tuned on the training grids (a grid of policy_lr × entropy, the best mean return at
// the given budget).
TabularA2C tune_tabular_a2c(const std::vector<TabularTask>& tasks, const LpgOptions& options,
                            std::int64_t updates, std::int64_t agents, std::uint64_t seed);

// Scoring a trained rule: fresh agents on held-out grids (seeds from kTestGridSeed, the families
// alternating) and on the given envs (tasks never seen in meta-training), against tabular A2C whose
// settings are tuned per setting at the same budget: on the training grids for the grids, on the env
// itself for an env.
struct LpgEvaluationOptions {
  std::int64_t grids = 16, agents = 4, episodes = 50;
  std::int64_t updates = 0;  // agent updates per lifetime on the grids (0: the rule's lifetime_updates)
  std::vector<std::string> envs = {};
  std::int64_t env_updates = 2'000;  // agent updates on each env
  std::uint64_t seed = 0;
};
struct LpgEvaluation {
  TabularA2C a2c;  // tuned on the training grids
  std::vector<LpgScore> grids, envs;
  double grid_lpg = 0, grid_a2c = 0, grid_random = 0, grid_optimal = 0;  // means over the held-out grids
  std::int64_t env_steps_per_agent = 0;  // on a grid: updates × envs_per_lifetime × rollout
};
LpgEvaluation evaluate_lpg_rule(const std::filesystem::path& dir, const LpgEvaluationOptions& options,
                                const std::function<void(const LpgScore&)>& on_score = {});

}  // namespace dojo::rl

DOJO_PUBLIC_END
