#include "rl/srl.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/optim/adam.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <random>

#include "core/error.h"
#include "envs/space.h"
#include "prob/distribution.h"

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
  if (rewards.dim() == 0 || rewards.size(0) != n || rewards.numel() != n)
    throw Error("robotic priors: expected one reward per transition, got " + std::to_string(rewards.numel()) +
                " for " + std::to_string(n) + " actions");
  const auto a = actions.detach().to(torch::kFloat64).reshape({n, -1});
  const auto same = torch::cdist(a, a) <= action_tolerance;
  const auto upper = torch::ones({n, n}, torch::kBool).triu(1);
  const auto same_pairs = (same & upper).nonzero();
  const auto r = rewards.detach().reshape({n, -1});
  const auto i = same_pairs.select(1, 0), j = same_pairs.select(1, 1);
  const auto differ = (r.index_select(0, i) != r.index_select(0, j)).any(1);
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

const std::vector<std::string>& srl_loss_names() {
  static const std::vector<std::string> names{"autoencoder", "vae",    "forward", "inverse",
                                              "reward",      "priors", "e2c"};
  return names;
}

SrlModelImpl::SrlModelImpl(const envs::Space& observations, const envs::Space& actions, SrlOptions options)
    : o_(std::move(options)) {
  const auto* frames = std::get_if<envs::Box>(&observations);
  vector_ = frames && frames->shape.size() == 1 && frames->dtype == torch::kFloat32;
  if (!frames || (!vector_ && (frames->shape.size() != 3 || frames->shape[0] != ConvVaeImpl::kSize ||
                               frames->shape[1] != ConvVaeImpl::kSize || frames->dtype != torch::kUInt8)))
    throw Error("SRL: expected [64, 64, C] uint8 frames (pixels: 64) or a float32 vector, the env observes " +
                envs::to_string(observations));
  if (const auto* d = std::get_if<envs::Discrete>(&actions)) {
    action_size_ = d->n;
  } else if (const auto* b = std::get_if<envs::Box>(&actions)) {
    discrete_ = false;
    action_size_ = 1;
    for (auto k : b->shape) action_size_ *= k;
  } else {
    throw Error("SRL: expected a Discrete or Box action space, got " + envs::to_string(actions));
  }
  const auto& names = srl_loss_names();
  std::string known;  // "autoencoder, vae, ... or e2c"
  for (std::size_t i = 0; i < names.size(); ++i)
    known += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  if (o_.losses().empty()) throw Error("SRL losses: expected one or more of " + known);
  for (const auto& l : o_.losses())
    if (std::find(names.begin(), names.end(), l) == names.end())
      throw Error("SRL loss '" + l + "': expected " + known);
  if (!o_.weights().empty() && o_.weights().size() != o_.losses().size())
    throw Error("SRL weights: " + std::to_string(o_.weights().size()) + " given for " +
                std::to_string(o_.losses().size()) + " losses: expected one per loss");
  if (o_.state_dim() < 1) throw Error("SRL state_dim " + std::to_string(o_.state_dim()) + ": expected >= 1");
  auto has = [&](const std::string& l) {
    return std::find(o_.losses().begin(), o_.losses().end(), l) != o_.losses().end();
  };
  const bool e2c = has("e2c");
  const bool vae = has("vae") || e2c;  // E2C's encoder is a VAE's
  if (static_cast<int>(has("vae")) + static_cast<int>(has("autoencoder")) + static_cast<int>(e2c) > 1)
    throw Error("SRL losses: autoencoder, vae and e2c each reconstruct: expected one of them");

  const auto d = o_.state_dim(), h = o_.hidden();
  using torch::nn::Linear;
  using torch::nn::ReLU;
  if (vector_ && (vae || has("autoencoder")))
    throw Error(
        "SRL losses: autoencoder, vae and e2c redraw frames: expected pixel observations (pixels: 64)");
  if (vector_) {
    observation_size_ = frames->shape[0];
    // Each bounded coordinate is scaled to [−1, 1] by its Box bounds, as frames are to [0, 1]: on
    // MountainCar the velocity (±0.07) would otherwise weigh 25 times less than the position.
    std::vector<float> offset(observation_size_, 0.0f), scale(observation_size_, 1.0f);
    for (std::int64_t i = 0; i < observation_size_; ++i) {
      const double lo = frames->low[i], hi = frames->high[i];
      if (std::isfinite(lo) && std::isfinite(hi) && hi > lo) {
        offset[i] = static_cast<float>((lo + hi) / 2);
        scale[i] = static_cast<float>((hi - lo) / 2);
      }
    }
    input_offset_ = torch::tensor(offset);
    input_scale_ = torch::tensor(scale);
    // The features end in a layer norm without gains: otherwise the forward loss shrinks φ toward 0
    // (the inverse model's weights grow to match) and curiosity, an error measured in φ, with it.
    mlp_ = register_module(
        "phi", torch::nn::Sequential(
                   Linear(observation_size_, h), ReLU(), Linear(h, h), ReLU(), Linear(h, d),
                   torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).elementwise_affine(false))));
  } else {
    vae_ = register_module("phi", ConvVae(d, frames->shape[2], /*squash=*/false));
    const auto c = frames->shape[2];
    frame_mean_ = register_buffer("frame_mean", torch::zeros({1, c, ConvVaeImpl::kSize, ConvVaeImpl::kSize}));
    frame_scale_ =
        register_buffer("frame_scale", torch::ones({1, c, ConvVaeImpl::kSize, ConvVaeImpl::kSize}));
  }
  if (has("forward"))
    forward_ =
        register_module("forward", torch::nn::Sequential(Linear(d + action_size_, h), ReLU(), Linear(h, d)));
  if (has("inverse"))
    inverse_ =
        register_module("inverse", torch::nn::Sequential(Linear(2 * d, h), ReLU(), Linear(h, action_size_)));
  if (has("reward"))
    reward_ = register_module("reward", torch::nn::Sequential(Linear(2 * d, h), ReLU(), Linear(h, 1)));
  if (e2c)  // h(μ) -> v, r, B (d × k), c: the paper's transition network, two hidden layers
    transition_ =
        register_module("transition", torch::nn::Sequential(Linear(d, h), ReLU(), Linear(h, h), ReLU(),
                                                            Linear(h, 3 * d + d * action_size_)));

  // The distributions hold this module through a non-owning pointer: it owns them.
  auto self = std::shared_ptr<torch::nn::Module>(std::shared_ptr<torch::nn::Module>{}, this);
  // A Normal of variance ½: −log p is the squared error plus a constant, as V's decoder has it.
  const double scale = std::sqrt(0.5);
  auto normal_of = [self, scale](std::function<torch::Tensor(const std::vector<torch::Tensor>&)> loc,
                                 prob::DistOptions o) {
    prob::Network net(
        self,
        [loc, scale](const auto& xs) {
          auto l = loc(xs);
          return std::vector<torch::Tensor>{l, torch::full_like(l, scale)};
        },
        o.cond_var.size());
    return prob::Normal(std::move(net), std::move(o));
  };
  const prob::DistPtr q =
      vae ? vae_->encoder()->replace_var({{"z", "s"}, {"x", "o"}})
          : prob::Deterministic(
                prob::Network(
                    self, [this](const auto& xs) { return std::vector<torch::Tensor>{state_of(xs[0])}; }, 1),
                {.var = {"s"}, .cond_var = {"o"}, .name = "q"});
  const auto q_next = q->replace_var({{"s", "s_next"}, {"o", "o_next"}});

  std::optional<prob::Loss> inner, outer;
  auto add = [](std::optional<prob::Loss>& sum, const prob::Loss& term) { sum = sum ? *sum + term : term; };
  for (std::size_t k = 0; k < o_.losses().size(); ++k) {
    const auto& name = o_.losses()[k];
    const double w = o_.weights().empty() ? 1.0 : o_.weights()[k];
    auto weighted = [w](const prob::Loss& l) { return w == 1.0 ? l : prob::Loss(w) * l; };
    std::optional<prob::Loss> in, out;
    if (name == "autoencoder" || name == "vae") {
      const auto p = vae_->decoder()->replace_var({{"x", "o"}, {"z", "s"}});
      const auto p_next = vae_->decoder()->replace_var({{"x", "o_next"}, {"z", "s_next"}});
      in = -(prob::LogProb(p) + prob::LogProb(p_next));
      if (name == "vae") {
        const auto prior = prob::standard_normal({"s"}, {d}, "p_prior");
        const auto prior_next = prob::standard_normal({"s_next"}, {d}, "p_prior");
        const auto kl = prob::KL(q, prior) + prob::KL(q_next, prior_next);
        out = o_.beta() == 1.0 ? kl : prob::Loss(o_.beta()) * kl;
      }
    } else if (name == "forward") {
      in = -prob::LogProb(normal_of(
          [this](const auto& xs) {
            return xs[0] + forward_->forward(torch::cat({xs[0], action_features(xs[1])}, 1));
          },
          {.var = {"s_next"}, .cond_var = {"s", "a"}}));
    } else if (name == "inverse") {
      auto logits = [this](const auto& xs) { return inverse_->forward(torch::cat({xs[0], xs[1]}, 1)); };
      const prob::DistOptions o{.var = {"a"}, .cond_var = {"s", "s_next"}};
      in = -prob::LogProb(discrete_ ? prob::Categorical(prob::Network(
                                                            self,
                                                            [logits](const auto& xs) {
                                                              return std::vector<torch::Tensor>{
                                                                  torch::softmax(logits(xs), -1)};
                                                            },
                                                            2),
                                                        o)
                                    : normal_of(logits, o));
    } else if (name == "e2c") {
      // The frame now is redrawn from s ~ q(s|o) (inside the expectations, with the other
      // objectives); the KL to the prior, the next frame redrawn from the step ŝ' ~ T(ŝ'|o, a) and
      // the step's pull toward q(s'|o') are expectations of their own.
      in = -prob::LogProb(vae_->decoder()->replace_var({{"x", "o"}, {"z", "s"}}));
      const auto transition =
          prob::MultivariateNormal(prob::Network(
                                       self,
                                       [this](const auto& xs) {
                                         auto [loc, tril] = e2c_transition(xs[0], xs[1]);
                                         return std::vector<torch::Tensor>{loc, tril};
                                       },
                                       2),
                                   {.var = {"s_next"}, .cond_var = {"o", "a"}, .name = "T"});
      // q(s'|o') as a multivariate Normal, so that the KL from T's full covariance has its closed form.
      // T's draw is named s_next as q's is: the two are densities of the same next state.
      const auto q_next_mvn =
          prob::MultivariateNormalDiag(prob::Network(
                                           self,
                                           [this](const auto& xs) {
                                             auto p = vae_->encoder()->params({{"x", xs[0]}});
                                             return std::vector<torch::Tensor>{p.at("loc"), p.at("scale")};
                                           },
                                           1),
                                       {.var = {"s_next"}, .cond_var = {"o_next"}, .name = "q"});
      const auto prior = prob::standard_normal({"s"}, {d}, "p_prior");
      const auto redraw_next =
          -prob::LogProb(vae_->decoder()->replace_var({{"x", "o_next"}, {"z", "s_next"}}));
      const auto pull = prob::KL(transition, q_next_mvn);
      out = prob::KL(q, prior) + prob::E(transition, redraw_next) +
            (o_.e2c_lambda() == 1.0 ? pull : prob::Loss(o_.e2c_lambda()) * pull);
    } else if (name == "reward") {
      in = -prob::LogProb(normal_of(
          [this](const auto& xs) {
            return reward_->forward(torch::cat({xs[0], xs[1]}, 1));
          },
          {.var = {"r"}, .cond_var = {"s", "s_next"}}));
    } else {
      in = TemporalCoherence() + Proportionality() + Causality() + Repeatability();
    }
    // One draw of s and s' serves every objective; a KL term needs none.
    auto alone = prob::E(q, prob::E(q_next, *in));
    if (out) alone = alone + *out;
    terms_.emplace_back(name, alone.mean());
    add(inner, weighted(*in));
    if (out) add(outer, weighted(*out));
  }
  auto all = prob::E(q, prob::E(q_next, *inner));
  if (outer) all = all + *outer;
  objective_ = all.mean();
}

torch::Tensor SrlModelImpl::action_features(const torch::Tensor& a) const {
  return discrete_ ? torch::one_hot(a.to(torch::kInt64), action_size_).to(torch::kFloat32) : a;
}

torch::Tensor SrlModelImpl::state_of(const torch::Tensor& o) {
  return vector_ ? mlp_->forward(o) : vae_->encoder()->params({{"x", o}}).at("loc");
}

torch::Tensor SrlModelImpl::input(const torch::Tensor& obs) const {
  if (vector_) {
    if (obs.dim() != 2 || obs.size(1) != observation_size_)
      throw Error("SRL batch: observations " + std::string(c10::str(obs.sizes())) + ": expected [B, " +
                  std::to_string(observation_size_) + "]");
    return (obs.to(torch::kFloat32) - input_offset_.to(obs.device())) / input_scale_.to(obs.device());
  }
  if (obs.dim() != 4 || obs.size(3) != vae_->channels())
    throw Error("SRL batch: frames " + std::string(c10::str(obs.sizes())) + ": expected [B, 64, 64, " +
                std::to_string(vae_->channels()) + "] uint8");
  return (ConvVaeImpl::pixels(obs) - frame_mean_) / frame_scale_;
}

void SrlModelImpl::fit_frames(const torch::Tensor& frames) {
  if (vector_) return;
  if (frames.dim() != 4 || frames.size(0) < 1 || frames.size(3) != vae_->channels())
    throw Error("SRL fit_frames: frames " + std::string(c10::str(frames.sizes())) +
                ": expected [M, 64, 64, " + std::to_string(vae_->channels()) + "] uint8");
  torch::NoGradGuard no_grad;
  // Sums in float64 over chunks: the frames may be many.
  auto sum = torch::zeros_like(frame_mean_, torch::kFloat64), squares = sum.clone();
  for (std::int64_t start = 0; start < frames.size(0); start += 1024) {
    const auto x = ConvVaeImpl::pixels(frames.slice(0, start, std::min(frames.size(0), start + 1024)))
                       .to(torch::kFloat64);
    sum += x.sum(0, true);
    squares += x.pow(2).sum(0, true);
  }
  const auto n = static_cast<double>(frames.size(0));
  const auto mean = sum / n;
  frame_mean_.copy_(mean);
  frame_scale_.copy_((squares / n - mean.pow(2)).clamp_min(0).sqrt().clamp_min(0.1));
}

prob::Dict SrlModelImpl::batch(const torch::Tensor& obs, const torch::Tensor& next_obs,
                               const torch::Tensor& actions, const torch::Tensor& rewards) const {
  const auto n = obs.size(0);
  return {{"o", input(obs)},
          {"o_next", input(next_obs)},
          {"a",
           discrete_ ? actions.to(torch::kInt64).reshape({n}) : actions.to(torch::kFloat32).reshape({n, -1})},
          {"r", rewards.to(torch::kFloat32).reshape({n, 1})}};
}

torch::Tensor SrlModelImpl::encode(const torch::Tensor& frames) {
  torch::NoGradGuard no_grad;
  return state_of(input(frames));
}

torch::Tensor SrlModelImpl::decode(const torch::Tensor& states) {
  if (vector_) throw Error("SRL decode: a model of vector observations has no decoder");
  torch::NoGradGuard no_grad;
  const auto x = vae_->decoder()->params({{"z", states}}).at("loc");
  return ConvVaeImpl::frames(x * frame_scale_ + frame_mean_);
}

std::pair<torch::Tensor, torch::Tensor> SrlModelImpl::e2c_transition(const torch::Tensor& o,
                                                                     const torch::Tensor& a) {
  if (!transition_) throw Error("SRL e2c_transition: the model has no e2c loss");
  const auto q = vae_->encoder()->params({{"x", o}});
  const auto& mu = q.at("loc");
  const auto n = mu.size(0), d = mu.size(1);
  const auto h = transition_->forward(mu);
  const auto v = h.slice(1, 0, d).unsqueeze(2), r = h.slice(1, d, 2 * d).unsqueeze(1);
  const auto b = h.slice(1, 2 * d, 2 * d + d * action_size_).reshape({n, d, action_size_});
  const auto c = h.slice(1, 2 * d + d * action_size_);
  const auto A = torch::eye(d, mu.options()).expand({n, d, d}) + v.matmul(r);  // I + vrᵀ
  const auto loc =
      A.matmul(mu.unsqueeze(2)).squeeze(2) + b.matmul(action_features(a).unsqueeze(2)).squeeze(2) + c;
  // AΣAᵀ is singular where 1 + rᵀv = 0; a small jitter keeps its Cholesky factor defined.
  const auto spread = A * q.at("scale").unsqueeze(1);  // A·diag(σ)
  const auto covariance = spread.matmul(spread.transpose(1, 2)) + 1e-6 * torch::eye(d, mu.options());
  return {loc, torch::linalg_cholesky(covariance)};
}

torch::Tensor SrlModelImpl::forward_error(const prob::Dict& batch) {
  if (!forward_) throw Error("SRL forward_error: the model has no forward loss");
  torch::NoGradGuard no_grad;
  const auto s = state_of(batch.at("o")), s_next = state_of(batch.at("o_next"));
  const auto predicted = s + forward_->forward(torch::cat({s, action_features(batch.at("a"))}, 1));
  return (predicted - s_next).pow(2).sum(1);
}

SrlData SrlData::episodes(std::int64_t first, std::int64_t last) const {
  const auto keep = (episode >= first) & (episode < last);
  const auto rows = keep.nonzero().squeeze(1);
  if (rows.numel() == 0)
    throw Error("SRL data: no frames in episodes [" + std::to_string(first) + ", " + std::to_string(last) +
                ")");
  // Frames renumber from the first kept one; a transition is kept with the frame it starts from.
  const auto offset = rows[0].item<std::int64_t>();
  const auto t = (episode.index_select(0, from) >= first) & (episode.index_select(0, from) < last);
  return {frames.index_select(0, rows), states.index_select(0, rows), episode.index_select(0, rows),
          from.index({t}) - offset,     actions.index({t}),           rewards.index({t})};
}

SrlData collect_srl_data(const envs::EnvFactory& factory, std::int64_t steps, std::uint64_t seed,
                         const SrlBehaviour& behaviour, double epsilon) {
  if (steps < 1) throw Error("SRL data: steps " + std::to_string(steps) + ": expected >= 1");
  if (!(epsilon >= 0.0 && epsilon <= 1.0))
    throw Error(fmt::format("SRL data: epsilon {}: expected a probability in [0, 1]", epsilon));
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  auto env = factory();
  // A behaviour's action in the shape and type a random draw has, so that both stack together.
  auto in_space = [&env](const torch::Tensor& a) {
    const auto& space = env->action_space();
    if (const auto* box = std::get_if<envs::Box>(&space)) return a.reshape(box->shape).to(box->dtype);
    return std::holds_alternative<envs::Discrete>(space) ? a.to(torch::kLong).reshape({})
                                                         : a.to(torch::kLong).reshape({-1});
  };
  std::mt19937_64 rng(seed);
  std::vector<torch::Tensor> frames, states, actions;
  std::vector<std::int64_t> episode, from;
  std::vector<float> rewards;
  std::int64_t episodes = 0;
  auto keep = [&](const envs::Info& info, torch::Tensor obs) {
    const auto it = info.find("state");
    if (it == info.end())
      throw Error("SRL data: " + env->name() +
                  " gives no info[\"state\"]: expected pixel observations (pixels: 64)");
    frames.push_back(std::move(obs));
    states.push_back(it->second.tensor().to(torch::kFloat32).reshape({-1}));
    episode.push_back(episodes);
  };
  auto reset = env->reset(seed);
  keep(reset.info, reset.obs);
  for (std::int64_t t = 0; t < steps; ++t) {
    const bool explore = !behaviour || epsilon >= 1.0 || uniform(rng) < epsilon;  // ε 1: the random data
    const auto a = explore ? envs::sample(env->action_space(), rng) : in_space(behaviour(states.back()));
    auto r = env->step(a);
    from.push_back(static_cast<std::int64_t>(frames.size()) - 1);
    actions.push_back(a);
    rewards.push_back(static_cast<float>(r.reward));
    keep(r.info, r.obs);
    if (r.done() && t + 1 < steps) {
      ++episodes;
      auto next = env->reset(seed + static_cast<std::uint64_t>(episodes));
      keep(next.info, next.obs);
    }
  }
  return {torch::stack(frames), torch::stack(states),  torch::tensor(episode),
          torch::tensor(from),  torch::stack(actions), torch::tensor(rewards)};
}

std::vector<double> train_srl(SrlModel& model, const SrlData& data, const SrlTrainOptions& o,
                              const std::function<void(std::int64_t, double)>& on_epoch) {
  if (o.epochs() < 1 || o.batch_size() < 2)
    throw Error("SRL training: expected epochs >= 1 and batch_size >= 2, got " + std::to_string(o.epochs()) +
                " and " + std::to_string(o.batch_size()));
  model->fit_frames(data.frames);
  auto optimizer = torch::optim::Adam(model->parameters(), torch::optim::AdamOptions(o.learning_rate()));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
  const auto n = data.transitions();
  std::vector<double> curve;
  model->train();
  for (std::int64_t epoch = 0; epoch < o.epochs(); ++epoch) {
    const auto order = torch::randperm(n, gen, torch::kInt64);
    double total = 0.0;
    std::int64_t batches = 0;
    // A last batch too small to pair within is left for the next epoch's shuffle.
    for (std::int64_t start = 0; start + 2 <= n; start += o.batch_size()) {
      const auto idx = order.slice(0, start, std::min(n, start + o.batch_size()));
      const auto at = data.from.index_select(0, idx);
      const auto batch = model->batch(data.frames.index_select(0, at), data.frames.index_select(0, at + 1),
                                      data.actions.index_select(0, idx), data.rewards.index_select(0, idx));
      optimizer.zero_grad();
      const auto loss = model->objective().eval(batch);
      loss.backward();
      optimizer.step();
      total += loss.item<double>();
      ++batches;
    }
    curve.push_back(total / static_cast<double>(batches));
    if (on_epoch) on_epoch(epoch + 1, curve.back());
  }
  model->eval();
  return curve;
}

torch::Tensor encode_frames(SrlModel& model, const torch::Tensor& frames) {
  std::vector<torch::Tensor> parts;
  for (std::int64_t start = 0; start < frames.size(0); start += 256)
    parts.push_back(model->encode(frames.slice(0, start, std::min(frames.size(0), start + 256))));
  return torch::cat(parts);
}

LearnedState::LearnedState(std::unique_ptr<envs::Env> env, SrlModel model)
    : Wrapper(std::move(env)),
      model_(std::move(model)),
      space_(envs::Box(-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
                       {model_->options().state_dim()})) {
  model_->eval();
}

envs::ResetResult LearnedState::reset(std::optional<std::uint64_t> seed) {
  auto r = env_->reset(seed);
  r.obs = model_->encode(r.obs.unsqueeze(0)).squeeze(0);
  return r;
}

envs::StepResult LearnedState::step(const torch::Tensor& action) {
  auto r = env_->step(action);
  r.obs = model_->encode(r.obs.unsqueeze(0)).squeeze(0);
  return r;
}

}  // namespace dojo::rl
