#include "games/mcts.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace dojo::games {

RolloutEvaluator::RolloutEvaluator(int rollouts, std::uint64_t seed) : rollouts_(rollouts), rng_(seed) {
  if (rollouts < 1) throw Error("rollouts " + std::to_string(rollouts) + ": expected at least 1");
}

std::vector<Evaluation> RolloutEvaluator::evaluate(const std::vector<const State*>& states) {
  std::vector<Evaluation> out(states.size());
  for (std::size_t i = 0; i < states.size(); ++i) {
    const State& s = *states[i];
    const int player = s.current_player();
    const auto legal = s.legal_actions();
    out[i].prior.assign(static_cast<std::size_t>(s.game().num_actions()), 0.0f);
    for (const Action a : legal)
      out[i].prior[static_cast<std::size_t>(a)] = 1.0f / static_cast<float>(legal.size());
    double total = 0.0;
    for (int r = 0; r < rollouts_; ++r) {
      auto game = s.clone();
      while (!game->is_terminal()) game->apply_action(game->rollout_action(rng_));
      total += game->returns()[static_cast<std::size_t>(player)];
    }
    out[i].value = static_cast<float>(total / rollouts_);
  }
  return out;
}

Mcts::Mcts(MctsOptions options, std::shared_ptr<Evaluator> evaluator, std::uint64_t seed)
    : options_(std::move(options)), evaluator_(std::move(evaluator)), rng_(seed) {
  if (options_.rule != "uct" && options_.rule != "puct")
    throw Error("MCTS rule '" + options_.rule + "': expected uct or puct");
  if (options_.simulations < 1)
    throw Error("MCTS simulations " + std::to_string(options_.simulations) + ": expected at least 1");
  if (options_.batch < 1)
    throw Error("MCTS batch " + std::to_string(options_.batch) + ": expected at least 1");
  if (!(options_.c >= 0.0)) throw Error("MCTS c " + std::to_string(options_.c) + ": expected ≥ 0");
  if (options_.gumbel && options_.gumbel_actions < 1)
    throw Error("MCTS gumbel_actions " + std::to_string(options_.gumbel_actions) + ": expected at least 1");
  if (!evaluator_) throw Error("MCTS needs an evaluator");
}

void Mcts::reset() {
  nodes_.clear();
  root_history_.clear();
}

void Mcts::set_root(const State& state) {
  const auto& history = state.history();
  std::int32_t root = -1;
  if (options_.reuse_tree && !nodes_.empty() && root_history_.size() <= history.size() &&
      std::equal(root_history_.begin(), root_history_.end(), history.begin())) {
    root = 0;
    for (auto k = root_history_.size(); k < history.size() && root >= 0; ++k) {
      const Node& n = nodes_[static_cast<std::size_t>(root)];
      std::int32_t next = -1;
      for (std::int32_t j = 0; j < n.num_children; ++j)
        if (nodes_[static_cast<std::size_t>(n.first_child + j)].action == history[k])
          next = n.first_child + j;
      root = next;
    }
  }
  if (root < 0) {
    nodes_.assign(1, Node{});
  } else if (root > 0) {
    // Keep only the subtree below the new root, children still contiguous.
    std::vector<Node> kept{nodes_[static_cast<std::size_t>(root)]};
    std::vector<std::int32_t> from{root};
    for (std::size_t k = 0; k < kept.size(); ++k) {
      if (kept[k].num_children == 0) continue;
      const auto first = static_cast<std::int32_t>(kept.size());
      const auto old_first = nodes_[static_cast<std::size_t>(from[k])].first_child;
      for (std::int32_t j = 0; j < kept[k].num_children; ++j) {
        kept.push_back(nodes_[static_cast<std::size_t>(old_first + j)]);
        from.push_back(old_first + j);
      }
      kept[k].first_child = first;
    }
    nodes_ = std::move(kept);
  }
  root_history_ = history;
}

double Mcts::q(const Node& child) const {
  if (child.proven != kUnproven) return child.proven;
  // Pending simulations count as losses for now, steering the rest of a batch elsewhere.
  return (child.value_sum - child.virtual_visits) / (child.visits + child.virtual_visits);
}

std::int32_t Mcts::select_child(std::int32_t parent) {
  const Node& p = nodes_[static_cast<std::size_t>(parent)];
  const double n_parent = std::max(1, p.visits + p.virtual_visits);
  const bool uct = options_.rule == "uct";
  double best = -std::numeric_limits<double>::infinity();
  std::int32_t chosen = p.first_child;
  int ties = 0;
  for (std::int32_t j = 0; j < p.num_children; ++j) {
    const std::int32_t c = p.first_child + j;
    const Node& child = nodes_[static_cast<std::size_t>(c)];
    if (options_.solver && child.proven == -1) continue;  // a proven losing move
    const int n = child.visits + child.virtual_visits;
    double score;
    if (uct)
      score = n == 0 ? std::numeric_limits<double>::max()
                     : q(child) + options_.c * std::sqrt(std::log(n_parent) / n);
    else
      score = (n == 0 ? 0.0 : q(child)) + options_.c * child.prior * std::sqrt(n_parent) / (1 + n);
    if (score > best) {
      best = score, chosen = c, ties = 1;
    } else if (score == best && std::uniform_int_distribution<int>(0, ties++)(rng_) == 0) {
      chosen = c;  // ties broken uniformly
    }
  }
  return chosen;
}

void Mcts::expand(std::int32_t node, const State& state, const Evaluation& evaluation) {
  const auto legal = state.legal_actions();
  double total = 0.0;
  for (const Action a : legal) total += std::max(0.0f, evaluation.prior.at(static_cast<std::size_t>(a)));
  const bool uniform = !(total > 0.0) || !std::isfinite(total);
  const auto first = static_cast<std::int32_t>(nodes_.size());
  for (const Action a : legal) {
    Node child;
    child.action = a;
    child.prior =
        uniform ? 1.0f / static_cast<float>(legal.size())
                : static_cast<float>(std::max(0.0f, evaluation.prior[static_cast<std::size_t>(a)]) / total);
    nodes_.push_back(child);
  }
  Node& n = nodes_[static_cast<std::size_t>(node)];
  n.first_child = first;
  n.num_children = static_cast<std::int32_t>(legal.size());
  n.expanded = true;
  n.raw_value = evaluation.value;
}

void Mcts::backup(const std::vector<std::int32_t>& path, double value, int virtual_removed) {
  // `value` is for the player who moved into the last node; each level up is the other player's.
  for (auto i = path.size(); i-- > 0;) {
    Node& n = nodes_[static_cast<std::size_t>(path[i])];
    ++n.visits;
    n.value_sum += value;
    n.virtual_visits -= virtual_removed;
    value = -value;
  }
}

void Mcts::prove(const std::vector<std::int32_t>& path) {
  // A node is lost for whoever moved into it when the mover there has a winning move; otherwise,
  // once every move is proven, it is worth minus the best of them.
  for (auto i = path.size() - 1; i-- > 0;) {
    Node& p = nodes_[static_cast<std::size_t>(path[i])];
    if (p.proven != kUnproven) return;
    int best = -2;
    bool all = true;
    for (std::int32_t j = 0; j < p.num_children && best < 1; ++j) {
      const int proven = nodes_[static_cast<std::size_t>(p.first_child + j)].proven;
      if (proven == kUnproven)
        all = false;
      else
        best = std::max(best, proven);
    }
    if (best == 1 || (all && p.expanded))
      p.proven = static_cast<std::int8_t>(-best);
    else
      return;
  }
}

int Mcts::run_batch(const State& root_state, int count, const std::vector<Action>* forced_root) {
  std::vector<Leaf> leaves;
  int i = 0;
  for (; i < count; ++i) {
    std::vector<std::int32_t> path{0};
    auto state = root_state.clone();
    int mover = state->current_player();
    std::int32_t node = 0;
    while (true) {
      const Node& n = nodes_[static_cast<std::size_t>(node)];
      if (n.proven != kUnproven || !n.expanded) break;
      std::int32_t child = -1;
      if (forced_root && path.size() == 1) {
        for (std::int32_t j = 0; j < n.num_children; ++j)
          if (nodes_[static_cast<std::size_t>(n.first_child + j)].action ==
              (*forced_root)[static_cast<std::size_t>(i)])
            child = n.first_child + j;
      } else {
        child = select_child(node);
      }
      mover = state->current_player();
      state->apply_action(nodes_[static_cast<std::size_t>(child)].action);
      path.push_back(child);
      node = child;
    }
    Node& leaf = nodes_[static_cast<std::size_t>(node)];
    if (leaf.pending) break;  // another simulation of this batch waits on this leaf: evaluate first
    if (leaf.proven != kUnproven) {
      backup(path, leaf.proven, 0);
      continue;
    }
    if (state->is_terminal()) {
      const double value = state->returns()[static_cast<std::size_t>(mover)];
      if (options_.solver) leaf.proven = static_cast<std::int8_t>((value > 0) - (value < 0));
      backup(path, value, 0);
      if (options_.solver) prove(path);
      continue;
    }
    for (const auto p : path) ++nodes_[static_cast<std::size_t>(p)].virtual_visits;
    leaf.pending = true;
    leaves.push_back({std::move(path), std::move(state)});
  }
  if (!leaves.empty()) {
    std::vector<const State*> states;
    for (const auto& l : leaves) states.push_back(l.state.get());
    const auto evaluations = evaluator_->evaluate(states);
    for (std::size_t k = 0; k < leaves.size(); ++k) {
      const auto node = leaves[k].path.back();
      expand(node, *leaves[k].state, evaluations.at(k));
      nodes_[static_cast<std::size_t>(node)].pending = false;
      // The evaluation is for the player to move at the leaf; the node holds its opponent's view.
      backup(leaves[k].path, -evaluations[k].value, 1);
    }
  }
  return i;
}

void Mcts::add_root_noise() {
  Node& root = nodes_[0];
  std::gamma_distribution<double> gamma(options_.dirichlet_alpha, 1.0);
  std::vector<double> noise(static_cast<std::size_t>(root.num_children));
  for (auto& x : noise) x = gamma(rng_);
  const double total = std::accumulate(noise.begin(), noise.end(), 0.0);
  root_priors_.clear();
  for (std::int32_t j = 0; j < root.num_children; ++j) {
    Node& child = nodes_[static_cast<std::size_t>(root.first_child + j)];
    root_priors_.push_back(child.prior);
    const double eta = total > 0 ? noise[static_cast<std::size_t>(j)] / total : 1.0 / root.num_children;
    child.prior = static_cast<float>((1.0 - options_.dirichlet_epsilon) * child.prior +
                                     options_.dirichlet_epsilon * eta);
  }
}

SearchResult Mcts::search(const State& state) {
  if (state.is_terminal()) throw Error("MCTS: the position is already finished");
  set_root(state);
  int simulations = 0;
  if (!nodes_[0].expanded) {  // the root's own evaluation counts as the first simulation
    const auto e = evaluator_->evaluate({&state});
    expand(0, state, e.at(0));
    backup({0}, -e[0].value, 0);
    simulations = 1;
  }
  if (options_.gumbel) return run_gumbel(state, simulations);
  const bool noise = options_.dirichlet_alpha > 0.0;
  if (noise) add_root_noise();
  while (simulations < options_.simulations && nodes_[0].proven == kUnproven)
    simulations += run_batch(state, std::min(options_.batch, options_.simulations - simulations), nullptr);
  if (noise)  // the priors without noise, should this position be searched again
    for (std::int32_t j = 0; j < nodes_[0].num_children; ++j)
      nodes_[static_cast<std::size_t>(nodes_[0].first_child + j)].prior =
          root_priors_[static_cast<std::size_t>(j)];
  return result(state, simulations);
}

SearchResult Mcts::run_gumbel(const State& state, int simulations) {
  const Node& root = nodes_[0];
  const auto k = static_cast<std::size_t>(root.num_children);
  std::vector<double> logits(k), gumbel(k);
  std::extreme_value_distribution<double> g(0.0, 1.0);  // Gumbel(0, 1)
  for (std::size_t j = 0; j < k; ++j) {
    logits[j] = std::log(std::max(1e-12f, nodes_[static_cast<std::size_t>(root.first_child) + j].prior));
    gumbel[j] = options_.gumbel_scale * g(rng_);
  }
  auto child = [&](std::size_t j) -> const Node& {
    return nodes_[static_cast<std::size_t>(nodes_[0].first_child) + j];
  };
  // σ(q̂): the children's values from the root mover's view, rescaled from [−1, 1] to [0, 1].
  auto sigma = [&](double q) {
    int max_visits = 0;
    for (std::size_t j = 0; j < k; ++j) max_visits = std::max(max_visits, child(j).visits);
    return (options_.gumbel_c_visit + max_visits) * options_.gumbel_c_scale * (q + 1.0) / 2.0;
  };
  auto child_q = [&](std::size_t j) {
    const Node& c = child(j);
    return c.proven != kUnproven ? double(c.proven) : c.value_sum / c.visits;
  };
  auto score = [&](std::size_t j) {
    return gumbel[j] + logits[j] +
           (child(j).visits > 0 || child(j).proven != kUnproven ? sigma(child_q(j)) : 0.0);
  };

  // Gumbel-top-m, then Sequential Halving: each phase spreads an equal share of the budget over the
  // candidates left and keeps the better half by g + logits + σ(q̂).
  std::vector<std::size_t> candidates(k);
  std::iota(candidates.begin(), candidates.end(), std::size_t{0});
  std::sort(candidates.begin(), candidates.end(),
            [&](std::size_t a, std::size_t b) { return gumbel[a] + logits[a] > gumbel[b] + logits[b]; });
  candidates.resize(std::min(k, static_cast<std::size_t>(options_.gumbel_actions)));
  const int budget = options_.simulations - simulations;
  const int phases =
      std::max(1, static_cast<int>(std::ceil(std::log2(static_cast<double>(candidates.size())))));
  for (int phase = 0; phase < phases && nodes_[0].proven == kUnproven; ++phase) {
    // The last phase spends what is left, round-robin from the best candidate.
    const int cands = static_cast<int>(candidates.size());
    const int count = phase + 1 < phases ? std::max(1, budget / (phases * cands)) * cands
                                         : std::max(cands, options_.simulations - simulations);
    std::vector<Action> forced;
    for (int r = 0; r < count; ++r)
      forced.push_back(child(candidates[static_cast<std::size_t>(r % cands)]).action);
    for (std::size_t done = 0; done < forced.size() && nodes_[0].proven == kUnproven;) {
      const std::vector<Action> chunk(
          forced.begin() + static_cast<std::ptrdiff_t>(done),
          forced.begin() + static_cast<std::ptrdiff_t>(
                               std::min(forced.size(), done + static_cast<std::size_t>(options_.batch))));
      const int n = run_batch(state, static_cast<int>(chunk.size()), &chunk);
      done += static_cast<std::size_t>(n);
      simulations += n;
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [&](std::size_t a, std::size_t b) { return score(a) > score(b); });
    if (candidates.size() > 1) candidates.resize((candidates.size() + 1) / 2);
  }
  auto out = result(state, simulations);
  if (nodes_[0].proven == kUnproven) out.best = child(candidates.front()).action;

  // The improved policy: softmax(logits + σ(completed Q)), unvisited actions completed by the mixed
  // value of the root's own estimate and the prior-weighted values of the visited ones.
  double visited_prior = 0.0, visited_value = 0.0;
  int total_visits = 0;
  for (std::size_t j = 0; j < k; ++j)
    if (child(j).visits > 0) {
      visited_prior += child(j).prior;
      visited_value += child(j).prior * child_q(j);
      total_visits += child(j).visits;
    }
  const double raw = nodes_[0].raw_value;  // the Evaluator's value of the root, for its mover
  const double mixed =
      visited_prior > 0 ? (raw + total_visits * visited_value / visited_prior) / (1 + total_visits) : raw;
  std::vector<double> z(k);
  for (std::size_t j = 0; j < k; ++j) z[j] = logits[j] + sigma(child(j).visits > 0 ? child_q(j) : mixed);
  const double top = *std::max_element(z.begin(), z.end());
  double total = 0.0;
  for (auto& x : z) total += (x = std::exp(x - top));
  std::fill(out.policy.begin(), out.policy.end(), 0.0f);
  for (std::size_t j = 0; j < k; ++j)
    out.policy[static_cast<std::size_t>(child(j).action)] = static_cast<float>(z[j] / total);
  return out;
}

SearchResult Mcts::result(const State& state, int simulations) const {
  SearchResult out;
  const Node& root = nodes_[0];
  const auto actions = static_cast<std::size_t>(state.game().num_actions());
  out.visits.assign(actions, 0);
  out.policy.assign(actions, 0.0f);
  out.losing.assign(actions, false);
  out.simulations = simulations;
  out.proven = root.proven == kUnproven ? kUnproven : -root.proven;
  out.value = out.proven != kUnproven ? out.proven : (root.visits > 0 ? -root.value_sum / root.visits : 0.0);
  int total = 0;
  std::int32_t best = -1;
  auto better = [&](const Node& a, const Node& b) {
    // A proven win first; proven losses last; then visits, then value.
    auto rank = [](const Node& n) { return n.proven == kUnproven ? 0 : int{n.proven}; };
    if (options_.solver && rank(a) != rank(b)) return rank(a) > rank(b);
    if (a.visits != b.visits) return a.visits > b.visits;
    return (a.visits > 0 ? a.value_sum / a.visits : -2.0) > (b.visits > 0 ? b.value_sum / b.visits : -2.0);
  };
  for (std::int32_t j = 0; j < root.num_children; ++j) {
    const std::int32_t c = root.first_child + j;
    const Node& child = nodes_[static_cast<std::size_t>(c)];
    out.visits[static_cast<std::size_t>(child.action)] = child.visits;
    out.losing[static_cast<std::size_t>(child.action)] = options_.solver && child.proven == -1;
    total += child.visits;
    if (best < 0 || better(child, nodes_[static_cast<std::size_t>(best)])) best = c;
  }
  out.best = nodes_[static_cast<std::size_t>(best)].action;
  for (std::size_t a = 0; a < actions; ++a)
    out.policy[a] = total > 0 ? static_cast<float>(out.visits[a]) / static_cast<float>(total) : 0.0f;
  return out;
}

Action Mcts::choose(const SearchResult& result, double temperature) {
  if (temperature <= 0.0 || options_.gumbel) return result.best;
  // visits^(1/t), leaving out proven losing moves while another move remains.
  std::vector<double> weights(result.visits.size(), 0.0);
  double total = 0.0;
  for (std::size_t a = 0; a < weights.size(); ++a)
    if (!result.losing[a]) total += (weights[a] = std::pow(result.visits[a], 1.0 / temperature));
  if (!(total > 0.0)) return result.best;
  return static_cast<Action>(std::discrete_distribution<std::size_t>(weights.begin(), weights.end())(rng_));
}

}  // namespace dojo::games
