#include "rl/srl.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.h"

namespace dojo::rl {

namespace {

torch::Tensor value(const prob::Dict& values, const std::string& name, const std::string& prior) {
  const auto it = values.find(name);
  if (it == values.end()) throw Error(prior + ": the batch has no '" + name + "'");
  return it->second;
}

// One robotic prior: a scalar over the batch, printed as its formula.
class PriorNode : public prob::LossNode {
 public:
  using Compute = torch::Tensor (*)(const torch::Tensor& s, const torch::Tensor& s_next,
                                    const PriorPairs& pairs);
  PriorNode(std::string name, std::string formula, PriorVariables v, bool needs_pairs, Compute compute)
      : name_(std::move(name)),
        formula_(std::move(formula)),
        v_(std::move(v)),
        needs_pairs_(needs_pairs),
        compute_(compute) {}
  torch::Tensor eval(prob::Dict& values) const override {
    const auto s = value(values, v_.s, name_), s_next = value(values, v_.s_next, name_);
    if (s.dim() != 2 || s.sizes() != s_next.sizes())
      throw Error(name_ + ": expected " + v_.s + " and " + v_.s_next + " of the same [batch, d] shape");
    PriorPairs pairs;
    if (needs_pairs_) {
      const auto actions = value(values, v_.action, name_);
      pairs = prior_pairs(actions, value(values, v_.reward, name_), v_.action_tolerance);
    }
    return compute_(s, s_next, pairs);
  }
  std::string str() const override { return formula_; }

 private:
  std::string name_, formula_;
  PriorVariables v_;
  bool needs_pairs_;
  Compute compute_;
};

// The mean over pairs, 0 (still part of the graph) when the batch has none.
torch::Tensor pair_mean(const torch::Tensor& per_pair, const torch::Tensor& like) {
  return per_pair.numel() > 0 ? per_pair.mean() : like.sum() * 0.0;
}

torch::Tensor squared_norm(const torch::Tensor& x) { return x.pow(2).sum(1); }

}  // namespace

PriorPairs prior_pairs(const torch::Tensor& actions, const torch::Tensor& rewards, double action_tolerance) {
  const auto n = actions.size(0);
  if (rewards.dim() != 1 || rewards.size(0) != n)
    throw Error("robotic priors: expected one reward per transition, got " + std::to_string(rewards.numel()) +
                " for " + std::to_string(n) + " actions");
  const auto a = actions.detach().to(torch::kFloat64).reshape({n, -1});
  const auto same = torch::cdist(a, a) <= action_tolerance;
  const auto upper = torch::ones({n, n}, torch::kBool).triu(1);
  const auto same_pairs = (same & upper).nonzero();
  const auto r = rewards.detach();
  const auto i = same_pairs.select(1, 0), j = same_pairs.select(1, 1);
  const auto differ = r.index_select(0, i) != r.index_select(0, j);
  return {same_pairs, same_pairs.index({differ})};
}

prob::Loss TemporalCoherence(PriorVariables v) {
  const auto formula = "mean_t[||" + v.s_next + " - " + v.s + "||^2]";
  return prob::Loss(
      std::make_shared<PriorNode>("TemporalCoherence", formula, v, false,
                                  [](const torch::Tensor& s, const torch::Tensor& s_next, const PriorPairs&) {
                                    return squared_norm(s_next - s).mean();
                                  }));
}

prob::Loss Proportionality(PriorVariables v) {
  const auto formula = "mean_(" + v.action + "_i=" + v.action + "_j)[(||" + v.s_next + "_j - " + v.s +
                       "_j|| - ||" + v.s_next + "_i - " + v.s + "_i||)^2]";
  return prob::Loss(std::make_shared<PriorNode>(
      "Proportionality", formula, v, true,
      [](const torch::Tensor& s, const torch::Tensor& s_next, const PriorPairs& p) {
        const auto moved = (s_next - s).norm(2, 1);
        const auto i = p.same_action.select(1, 0), j = p.same_action.select(1, 1);
        return pair_mean((moved.index_select(0, j) - moved.index_select(0, i)).pow(2), s);
      }));
}

prob::Loss Causality(PriorVariables v) {
  const auto formula = "mean_(" + v.action + "_i=" + v.action + "_j, " + v.reward + "_i!=" + v.reward +
                       "_j)[exp(-||" + v.s + "_j - " + v.s + "_i||^2)]";
  return prob::Loss(std::make_shared<PriorNode>(
      "Causality", formula, v, true, [](const torch::Tensor& s, const torch::Tensor&, const PriorPairs& p) {
        const auto i = p.different_reward.select(1, 0), j = p.different_reward.select(1, 1);
        return pair_mean(torch::exp(-squared_norm(s.index_select(0, j) - s.index_select(0, i))), s);
      }));
}

prob::Loss Repeatability(PriorVariables v) {
  const auto formula = "mean_(" + v.action + "_i=" + v.action + "_j)[exp(-||" + v.s + "_j - " + v.s +
                       "_i||^2) * ||(" + v.s_next + "_j - " + v.s + "_j) - (" + v.s_next + "_i - " + v.s +
                       "_i)||^2]";
  return prob::Loss(std::make_shared<PriorNode>(
      "Repeatability", formula, v, true,
      [](const torch::Tensor& s, const torch::Tensor& s_next, const PriorPairs& p) {
        const auto delta = s_next - s;
        const auto i = p.same_action.select(1, 0), j = p.same_action.select(1, 1);
        const auto similar = torch::exp(-squared_norm(s.index_select(0, j) - s.index_select(0, i)));
        return pair_mean(similar * squared_norm(delta.index_select(0, j) - delta.index_select(0, i)), s);
      }));
}

GroundTruthCorrelation ground_truth_correlation(const torch::Tensor& learned, const torch::Tensor& truth) {
  if (learned.dim() != 2 || truth.dim() != 2 || learned.size(0) != truth.size(0) || learned.size(0) < 2)
    throw Error(
        "ground_truth_correlation: expected learned [N, d] and true [N, m] states of the same N >= 2");
  // Standardised columns: their products averaged are the correlations; a constant column
  // correlates with nothing (0).
  auto standardise = [](const torch::Tensor& x) {
    auto c = x.to(torch::kFloat64) - x.to(torch::kFloat64).mean(0, true);
    const auto sd = c.pow(2).mean(0, true).sqrt();
    return torch::where(sd > 1e-12, c / sd.clamp_min(1e-12), torch::zeros_like(c));
  };
  const auto corr = standardise(truth).t().mm(standardise(learned)) / static_cast<double>(learned.size(0));
  const auto best = std::get<0>(corr.abs().max(1));
  GroundTruthCorrelation g;
  for (std::int64_t i = 0; i < best.size(0); ++i) g.per_dimension.push_back(best[i].item<double>());
  g.mean = best.mean().item<double>();
  return g;
}

double knn_mse(const torch::Tensor& learned, const torch::Tensor& truth, std::int64_t k, std::int64_t samples,
               std::uint64_t seed) {
  const auto n = learned.size(0);
  if (learned.dim() != 2 || truth.dim() != 2 || truth.size(0) != n)
    throw Error("knn_mse: expected learned [N, d] and true [N, m] states of the same N");
  if (k < 1 || k >= n)
    throw Error("knn_mse: k = " + std::to_string(k) + ", expected 1 <= k < " + std::to_string(n) +
                " (the observations)");
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  if (samples > 0 && samples < n) {
    std::mt19937_64 gen(seed);
    std::shuffle(rows.begin(), rows.end(), gen);
    rows.resize(static_cast<std::size_t>(samples));
  }
  const auto x = learned.detach().to(torch::kFloat64), t = truth.detach().to(torch::kFloat64);
  double total = 0.0;
  constexpr std::int64_t kChunk = 512;  // reference rows per distance matrix
  for (std::size_t start = 0; start < rows.size(); start += kChunk) {
    const auto end = std::min(rows.size(), start + kChunk);
    const auto ref = torch::tensor(std::vector<std::int64_t>(
        rows.begin() + static_cast<std::ptrdiff_t>(start), rows.begin() + static_cast<std::ptrdiff_t>(end)));
    auto d = torch::cdist(x.index_select(0, ref), x);
    d.scatter_(1, ref.unsqueeze(1), std::numeric_limits<double>::infinity());  // not its own neighbour
    const auto nearest = std::get<1>(d.topk(k, 1, /*largest=*/false));
    const auto gap = t.index_select(0, nearest.reshape(-1)).reshape({ref.size(0), k, -1}) -
                     t.index_select(0, ref).unsqueeze(1);
    total += gap.pow(2).sum(2).sum().item<double>();
  }
  return total / static_cast<double>(rows.size() * static_cast<std::size_t>(k));
}

}  // namespace dojo::rl
