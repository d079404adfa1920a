// Monte Carlo tree search over any Game: each simulation walks down the tree by a selection rule,
// evaluates the leaf it reaches, expands it and backs the value up.
//
// - UCT (Kocsis & Szepesvári 2006) with an Evaluator that plays random games to the end is the
//   AlphaGo-era baseline; PUCT (AlphaZero) weighs exploration by an Evaluator's prior, usually a
//   policy-value network's.
// - Root Dirichlet noise and a temperature for the move chosen make self-play explore.
// - The tree is reused between moves: a search from a position that extends the last one's continues
//   in the subtree already built.
// - MCTS-Solver (Winands, Björnsson & Saito 2008): terminal positions are proven wins, losses or
//   draws, and proofs climb the tree — a position is lost when every move loses, won when one move
//   wins — so proven subtrees are never searched again and proven losing moves are never chosen.
// - Batched evaluation: up to `batch` leaves are gathered before the Evaluator is called once, each
//   path carrying a virtual loss so that the simulations of one batch spread over different leaves.
// - Gumbel root selection (Danihelka et al. 2022): m actions sampled without replacement by
//   Gumbel-top-k on the prior's logits, the budget split over them by Sequential Halving, and the
//   improved policy softmax(logits + σ(completed Q)) as the training target — a policy improvement
//   even with few simulations.
//
// Games are two-player, zero-sum and strictly alternating (a pass is a move). Values are from the view
// of the player to move at the position searched, in [−1, 1].
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/export.h"
#include "games/game.h"

DOJO_PUBLIC_BEGIN
namespace dojo::games {

// A leaf's evaluation: a prior over the game's actions (zero on illegal ones; normalised by the
// search) and the position's value for the player to move.
struct Evaluation {
  std::vector<float> prior;
  float value = 0.0f;
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // One evaluation per state (none terminal), in order: a batch so a network runs them in one pass.
  virtual std::vector<Evaluation> evaluate(const std::vector<const State*>& states) = 0;
};

// Uniform priors over the legal moves; the value is the mean outcome of `rollouts` games played on
// by random moves (State::rollout_action).
class RolloutEvaluator final : public Evaluator {
 public:
  explicit RolloutEvaluator(int rollouts = 1, std::uint64_t seed = 0);
  std::vector<Evaluation> evaluate(const std::vector<const State*>& states) override;

 private:
  int rollouts_;
  std::mt19937_64 rng_;
};

struct MctsOptions {
  int simulations = 1000;
  // "uct": Q + c·sqrt(ln N / n), unvisited moves first; "puct": Q + c·P·sqrt(N) / (1 + n).
  std::string rule = "uct";
  double c = 2.0;  // exploration constant (OpenSpiel's default for both rules)
  // Root noise (1 − ε)·P + ε·Dir(α) for self-play; off when α is 0.
  double dirichlet_alpha = 0.0, dirichlet_epsilon = 0.25;
  bool solver = true;      // MCTS-Solver
  bool reuse_tree = true;  // continue in the subtree of the position reached
  int batch = 1;           // leaves per Evaluator call
  // Gumbel root selection with Sequential Halving over `gumbel_actions` sampled actions; σ(q) =
  // (c_visit + max visits)·c_scale·q with q rescaled to [0, 1]. gumbel_scale 0 ranks by the prior
  // alone (no noise: for evaluation games).
  bool gumbel = false;
  int gumbel_actions = 16;
  double gumbel_c_visit = 50.0, gumbel_c_scale = 1.0, gumbel_scale = 1.0;
};

inline constexpr int kUnproven = 2;

struct SearchResult {
  Action best = -1;           // proven win first, then the most visited (Gumbel: its final choice)
  std::vector<int> visits;    // per action (num_actions)
  std::vector<float> policy;  // training target: visit shares, or Gumbel's improved policy
  std::vector<bool> losing;   // per action: proven to lose (MCTS-Solver)
  double value = 0.0;         // the root's mean value for the player to move
  int proven = kUnproven;     // +1 a proven win for the player to move, −1 a loss, 0 a draw
  int simulations = 0;        // run by this search (fewer when the root is proven early)
};

class Mcts {
 public:
  // dojo::Error naming a bad option (rule, simulations, batch, c, Gumbel's m).
  Mcts(MctsOptions options, std::shared_ptr<Evaluator> evaluator, std::uint64_t seed = 0);
  SearchResult search(const State& state);
  // An action by temperature: 0 takes `best`; otherwise visits^(1/t) are sampled.
  Action choose(const SearchResult& result, double temperature);
  // Forgets the tree (a new game).
  void reset();
  std::size_t tree_size() const { return nodes_.size(); }
  const MctsOptions& options() const { return options_; }

 private:
  struct Node {
    Action action = -1;
    float prior = 0.0f;
    int visits = 0, virtual_visits = 0;
    double value_sum = 0.0;  // for the player who moved into this node
    float raw_value = 0.0f;  // the Evaluator's value at expansion, for the player to move here
    std::int32_t first_child = -1;
    std::int32_t num_children = 0;
    std::int8_t proven = kUnproven;  // for the player who moved into this node
    bool expanded = false, pending = false;
  };
  struct Leaf {
    std::vector<std::int32_t> path;  // root first
    std::unique_ptr<State> state;
  };

  void set_root(const State& state);
  // One batch of simulations (at most `count`), each forced through `forced_root` when given.
  int run_batch(const State& root_state, int count, const std::vector<Action>* forced_root);
  std::int32_t select_child(std::int32_t parent);
  void expand(std::int32_t node, const State& state, const Evaluation& evaluation);
  void backup(const std::vector<std::int32_t>& path, double value, int virtual_removed);
  void prove(const std::vector<std::int32_t>& path);
  double q(const Node& child) const;
  void add_root_noise();
  SearchResult run_gumbel(const State& state, int simulations);
  SearchResult result(const State& state, int simulations) const;

  MctsOptions options_;
  std::shared_ptr<Evaluator> evaluator_;
  std::mt19937_64 rng_;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::vector<Action> root_history_;
  std::vector<float> root_priors_;  // the root's priors before noise
};

}  // namespace dojo::games

DOJO_PUBLIC_END
