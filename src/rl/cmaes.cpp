#include "rl/cmaes.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/seed.h"

namespace dojo::rl {

namespace {

torch::Tensor to_tensor(const std::vector<double>& v) {
  return torch::tensor(v, torch::TensorOptions().dtype(torch::kDouble));
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

}  // namespace

CmaEs::CmaEs(std::vector<double> mean, double sigma, CmaEsOptions options)
    : n_(static_cast<int>(mean.size())),
      sigma_(sigma),
      sigma0_(sigma),
      options_(options),
      rng_(options.seed) {
  if (mean.empty()) throw Error("CMA-ES: the initial mean is empty: expected at least one dimension");
  if (!(sigma > 0)) throw Error("CMA-ES: sigma " + std::to_string(sigma) + ": expected > 0");
  const double n = n_;
  lambda_ = options.population > 0 ? options.population : 4 + static_cast<int>(std::floor(3 * std::log(n)));
  if (lambda_ < 2) throw Error("CMA-ES: population " + std::to_string(lambda_) + ": expected at least 2");
  mu_ = lambda_ / 2;

  // Weights: w'_i = ln((λ + 1)/2) − ln i, positive for the best μ (summing to 1), negative after,
  // scaled so that the covariance stays positive definite (tutorial, eq. 53).
  std::vector<double> raw(static_cast<std::size_t>(lambda_));
  for (int i = 0; i < lambda_; ++i)
    raw[static_cast<std::size_t>(i)] = std::log((lambda_ + 1) / 2.0) - std::log(i + 1.0);
  double pos = 0, pos2 = 0, neg = 0, neg2 = 0;
  for (const double w : raw) (w > 0 ? pos : neg) += w, (w > 0 ? pos2 : neg2) += w * w;
  mu_eff_ = pos * pos / pos2;
  const double mu_eff_neg = neg2 > 0 ? neg * neg / neg2 : 0.0;

  c_sigma_ = (mu_eff_ + 2) / (n + mu_eff_ + 5);
  d_sigma_ = 1 + 2 * std::max(0.0, std::sqrt((mu_eff_ - 1) / (n + 1)) - 1) + c_sigma_;
  c_c_ = (4 + mu_eff_ / n) / (n + 4 + 2 * mu_eff_ / n);
  const double alpha_cov = 2;
  c_1_ = alpha_cov / ((n + 1.3) * (n + 1.3) + mu_eff_);
  c_mu_ = std::min(1 - c_1_,
                   alpha_cov * (mu_eff_ - 2 + 1 / mu_eff_) / ((n + 2) * (n + 2) + alpha_cov * mu_eff_ / 2));
  const double alpha_mu_neg = 1 + c_1_ / c_mu_;
  const double alpha_mu_eff_neg = 1 + 2 * mu_eff_neg / (mu_eff_ + 2);
  const double alpha_posdef_neg = (1 - c_1_ - c_mu_) / (n * c_mu_);
  const double neg_scale = std::min({alpha_mu_neg, alpha_mu_eff_neg, alpha_posdef_neg});
  weights_.resize(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i)
    weights_[i] = raw[i] >= 0 ? raw[i] / pos : neg_scale * raw[i] / std::abs(neg);
  chi_n_ = std::sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));  // E‖N(0, I)‖

  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  m_ = to_tensor(mean);
  C_ = torch::eye(n_, opts);
  B_ = torch::eye(n_, opts);
  D_ = torch::ones({n_}, opts);
  inv_sqrt_C_ = torch::eye(n_, opts);
  p_sigma_ = torch::zeros({n_}, opts);
  p_c_ = torch::zeros({n_}, opts);
  best_fitness_ = std::numeric_limits<double>::infinity();
}

const std::vector<std::vector<double>>& CmaEs::ask() {
  if (asked_) return candidates_;
  std::normal_distribution<double> normal;
  z_ = torch::empty({lambda_, n_}, torch::TensorOptions().dtype(torch::kDouble));
  auto* z = z_.data_ptr<double>();
  for (std::int64_t i = 0; i < z_.numel(); ++i) z[i] = normal(rng_);
  y_ = torch::matmul(z_ * D_, B_.t());  // each row B·D·z
  const auto x = m_ + sigma_ * y_;
  candidates_.clear();
  for (int k = 0; k < lambda_; ++k) candidates_.push_back(to_vector(x[k]));
  asked_ = true;
  return candidates_;
}

void CmaEs::tell(const std::vector<double>& fitness) {
  if (!asked_) ask();
  if (static_cast<int>(fitness.size()) != lambda_)
    throw Error("CMA-ES: " + std::to_string(fitness.size()) + " fitnesses told: expected " +
                std::to_string(lambda_) + ", one per candidate asked");
  for (const double f : fitness)
    if (std::isnan(f)) throw Error("CMA-ES: a fitness is NaN: expected numbers (lower is better)");
  std::vector<std::int64_t> order(fitness.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return fitness[a] < fitness[b]; });
  evaluations_ += lambda_;
  ++generation_;
  const auto best = static_cast<std::size_t>(order.front());
  if (fitness[best] < best_fitness_) best_fitness_ = fitness[best], best_ = candidates_[best];
  best_history_.push_back(fitness[best]);
  const auto history = static_cast<std::size_t>(10 + std::ceil(30.0 * n_ / lambda_));
  if (best_history_.size() > history) best_history_.erase(best_history_.begin());
  last_range_ = fitness[static_cast<std::size_t>(order.back())] - fitness[best];

  const double n = n_;
  const auto y_sorted = y_.index_select(0, torch::tensor(order, torch::kLong));  // [λ, n], best first
  const auto w = to_tensor(weights_);
  const auto positive = w.clamp_min(0);
  // Selection and recombination: the mean moves by the weighted mean step of the best μ (c_m = 1).
  const auto y_w = torch::matmul(positive, y_sorted);
  m_ = m_ + sigma_ * y_w;

  // Step-size control: the conjugate evolution path, compared with its expected length.
  p_sigma_ = (1 - c_sigma_) * p_sigma_ +
             std::sqrt(c_sigma_ * (2 - c_sigma_) * mu_eff_) * torch::matmul(inv_sqrt_C_, y_w);
  const double ps_norm = p_sigma_.norm().item<double>();
  // h_σ stalls p_c while p_σ is long (a fast σ increase): the rank-one update would overshoot.
  const double h_sigma =
      ps_norm / std::sqrt(1 - std::pow(1 - c_sigma_, 2.0 * generation_)) < (1.4 + 2 / (n + 1)) * chi_n_ ? 1.0
                                                                                                        : 0.0;
  p_c_ = (1 - c_c_) * p_c_ + h_sigma * std::sqrt(c_c_ * (2 - c_c_) * mu_eff_) * y_w;

  // Covariance: rank-one (p_c) and rank-μ (every candidate, the worst with negative weights whose
  // steps are rescaled to length √n in C's metric, so they cannot make C indefinite).
  auto w_circ = w.clone();
  const auto mahalanobis2 = torch::matmul(y_sorted, inv_sqrt_C_.t()).pow(2).sum(1);
  w_circ = torch::where(w >= 0, w, w * n / mahalanobis2.clamp_min(1e-300));
  const double delta_h = (1 - h_sigma) * c_c_ * (2 - c_c_);
  const double w_sum = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  const auto rank_mu = torch::matmul(y_sorted.t() * w_circ, y_sorted);
  C_ = (1 + c_1_ * delta_h - c_1_ - c_mu_ * w_sum) * C_ + c_1_ * torch::outer(p_c_, p_c_) + c_mu_ * rank_mu;

  sigma_ *= std::exp((c_sigma_ / d_sigma_) * (ps_norm / chi_n_ - 1));
  update_eigen();
  asked_ = false;
}

void CmaEs::update_eigen() {
  C_ = (C_ + C_.t()) / 2;  // symmetric against rounding
  auto [eigenvalues, eigenvectors] = torch::linalg_eigh(C_);
  D_ = eigenvalues.clamp_min(1e-300).sqrt();
  B_ = eigenvectors;
  inv_sqrt_C_ = torch::matmul(B_ * (1 / D_), B_.t());
}

std::vector<double> CmaEs::mean() const { return to_vector(m_); }

void CmaEs::save(core::CheckpointWriter& w, const std::string& prefix) const {
  w.put(prefix + "dimension", static_cast<std::int64_t>(n_));
  w.put(prefix + "population", static_cast<std::int64_t>(lambda_));
  w.put(prefix + "sigma", sigma_);
  w.put(prefix + "sigma0", sigma0_);
  for (const auto& [key, t] : {std::pair{"mean", m_},
                               {"C", C_},
                               {"B", B_},
                               {"D", D_},
                               {"p_sigma", p_sigma_},
                               {"p_c", p_c_},
                               {"inv_sqrt_C", inv_sqrt_C_}})
    w.put(prefix + key, t);
  w.put(prefix + "asked", static_cast<std::int64_t>(asked_));
  if (asked_) w.put(prefix + "z", z_), w.put(prefix + "y", y_);
  w.put(prefix + "generation", static_cast<std::int64_t>(generation_));
  w.put(prefix + "evaluations", evaluations_);
  w.put(prefix + "best", best_.empty() ? torch::empty({0}, torch::kDouble) : to_tensor(best_));
  w.put(prefix + "best_fitness", best_fitness_);
  w.put(prefix + "best_history",
        best_history_.empty() ? torch::empty({0}, torch::kDouble) : to_tensor(best_history_));
  w.put(prefix + "last_range", last_range_);
  std::ostringstream rng;
  rng << rng_;
  w.put(prefix + "rng", rng.str());
}

void CmaEs::load(core::CheckpointReader& r, const std::string& prefix) {
  const auto n = r.get_int(prefix + "dimension"), lambda = r.get_int(prefix + "population");
  if (n != n_ || lambda != lambda_)
    throw Error("CMA-ES checkpoint: dimension " + std::to_string(n) + " and population " +
                std::to_string(lambda) + ": expected " + std::to_string(n_) + " and " +
                std::to_string(lambda_));
  sigma_ = r.get_double(prefix + "sigma");
  sigma0_ = r.get_double(prefix + "sigma0");
  for (auto& [key, t] : {std::pair<const char*, torch::Tensor*>{"mean", &m_},
                         {"C", &C_},
                         {"B", &B_},
                         {"D", &D_},
                         {"p_sigma", &p_sigma_},
                         {"p_c", &p_c_},
                         {"inv_sqrt_C", &inv_sqrt_C_}}) {
    auto loaded = r.get_tensor(prefix + key).to(torch::kDouble);
    if (loaded.sizes() != t->sizes())
      throw Error(std::string("CMA-ES checkpoint: ") + key + " has another shape");
    *t = loaded;
  }
  asked_ = r.get_int(prefix + "asked") != 0;
  if (asked_) {
    z_ = r.get_tensor(prefix + "z").to(torch::kDouble);
    y_ = r.get_tensor(prefix + "y").to(torch::kDouble);
    const auto x = m_ + sigma_ * y_;
    candidates_.clear();
    for (int k = 0; k < lambda_; ++k) candidates_.push_back(to_vector(x[k]));
  }
  generation_ = static_cast<int>(r.get_int(prefix + "generation"));
  evaluations_ = r.get_int(prefix + "evaluations");
  best_ = to_vector(r.get_tensor(prefix + "best").to(torch::kDouble));
  best_fitness_ = r.get_double(prefix + "best_fitness");
  best_history_ = to_vector(r.get_tensor(prefix + "best_history").to(torch::kDouble));
  last_range_ = r.get_double(prefix + "last_range");
  std::istringstream rng(r.get_string(prefix + "rng"));
  rng >> rng_;
}

std::string CmaEs::should_stop() const {
  if (generation_ == 0) return "";
  const auto history = static_cast<std::size_t>(10 + std::ceil(30.0 * n_ / lambda_));
  if (best_history_.size() >= history) {
    const auto [lo, hi] = std::minmax_element(best_history_.begin(), best_history_.end());
    if (*hi - *lo < options_.tol_fun && last_range_ < options_.tol_fun) return "tol_fun";
  }
  const double limit = options_.tol_x * sigma0_;
  const bool small_std = (sigma_ * C_.diagonal().sqrt()).max().item<double>() < limit;
  const bool small_path = (sigma_ * p_c_.abs()).max().item<double>() < limit;
  if (small_std && small_path) return "tol_x";
  const double d_max = D_.max().item<double>(), d_min = D_.min().item<double>();
  if (sigma_ * d_max > options_.tol_x_up * sigma0_) return "tol_x_up";
  if ((d_max / d_min) * (d_max / d_min) > options_.max_condition) return "condition";
  return "";
}

double sphere(const std::vector<double>& x) { return std::inner_product(x.begin(), x.end(), x.begin(), 0.0); }

double rosenbrock(const std::vector<double>& x) {
  double f = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i)
    f += 100 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(1 - x[i], 2);
  return f;
}

double rastrigin(const std::vector<double>& x) {
  double f = 10.0 * static_cast<double>(x.size());
  for (const double v : x) f += v * v - 10 * std::cos(2 * std::numbers::pi * v);
  return f;
}

CmaMinimizeResult cma_minimize(const std::function<double(const std::vector<double>&)>& f,
                               const std::vector<double>& x0, double sigma0, const CmaMinimizeOptions& o) {
  if (o.threads < 1) throw Error("cma_minimize: threads " + std::to_string(o.threads) + ": expected >= 1");
  CmaMinimizeResult r;
  r.f = std::numeric_limits<double>::infinity();
  int population = o.cma.population;
  for (int restart = 0; restart <= o.restarts; ++restart) {
    auto options = o.cma;
    options.population = population;
    options.seed = core::derive_seed(o.cma.seed, "cma-restart", static_cast<std::uint64_t>(restart));
    CmaEs es(x0, sigma0, options);
    population = es.population() * 2;  // IPOP: the next start searches with twice as many
    r.restarts = restart;
    for (;;) {
      const auto& xs = es.ask();
      std::vector<double> fx(xs.size());
      if (o.threads == 1) {
        for (std::size_t i = 0; i < xs.size(); ++i) fx[i] = f(xs[i]);
      } else {
        std::vector<std::thread> pool;
        const auto t = static_cast<std::size_t>(o.threads);
        for (std::size_t k = 0; k < t; ++k)
          pool.emplace_back([&, k] {
            for (std::size_t i = k; i < xs.size(); i += t) fx[i] = f(xs[i]);
          });
        for (auto& th : pool) th.join();
      }
      es.tell(fx);
      ++r.generations;
      r.evaluations += static_cast<std::int64_t>(xs.size());
      if (es.best_fitness() < r.f) r.f = es.best_fitness(), r.x = es.best();
      if (r.f <= o.target) {
        r.stop = "target";
        return r;
      }
      if (r.evaluations >= o.max_evaluations) {
        r.stop = "max_evaluations";
        return r;
      }
      if (auto why = es.should_stop(); !why.empty()) {
        r.stop = why;
        break;
      }
    }
  }
  return r;
}

}  // namespace dojo::rl
