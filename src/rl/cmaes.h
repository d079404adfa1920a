// CMA-ES, the covariance matrix adaptation evolution strategy, as Hansen's tutorial sets it out ("The
// CMA Evolution Strategy: A Tutorial", 2016): candidates x = m + σ·B·D·z drawn from N(m, σ²C); the
// mean moves to the weighted recombination of the best μ; the step size σ follows the length of its
// evolution path (cumulative step-size adaptation); C learns from the rank-one update (the path p_c)
// and the rank-μ update, with the tutorial's negative weights on the worst candidates (active CMA).
// Every constant is the tutorial's default (λ = 4 + ⌊3 ln n⌋, μ = ⌊λ/2⌋, c_σ, d_σ, c_c, c_1, c_μ).
//
// Ask-and-tell: ask() gives a generation's λ candidates, tell() their fitness (lower is better), so
// the caller evaluates them however it likes; cma_minimize() does it on threads and restarts with a
// doubled population (IPOP-CMA-ES, Auger & Hansen 2005) while the target is not reached.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/checkpoint.h"
#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct CmaEsOptions {
  int population = 0;  // λ; 0: 4 + ⌊3 ln n⌋
  std::uint64_t seed = 0;
  // Stop tests (should_stop), as in Hansen's reference code: the best fitness of the last
  // 10 + ⌈30n/λ⌉ generations and this generation's fitnesses all within tol_fun; every coordinate's
  // standard deviation and σ·p_c below tol_x·σ0; σ·√max(eig C) above tol_x_up·σ0; C's condition
  // number above max_condition.
  double tol_fun = 1e-12, tol_x = 1e-11, tol_x_up = 1e4, max_condition = 1e14;
};

class CmaEs {
 public:
  // dojo::Error for an empty mean, σ0 ≤ 0 or a population below 2.
  CmaEs(std::vector<double> mean, double sigma, CmaEsOptions options = {});
  // This generation's λ candidates (the same until tell()).
  const std::vector<std::vector<double>>& ask();
  // Their fitnesses in ask()'s order; dojo::Error for another count or a NaN.
  void tell(const std::vector<double>& fitness);

  int dimension() const { return n_; }
  int population() const { return lambda_; }
  int generation() const { return generation_; }
  std::int64_t evaluations() const { return evaluations_; }
  std::vector<double> mean() const;
  double sigma() const { return sigma_; }
  // The best candidate told so far and its fitness.
  const std::vector<double>& best() const { return best_; }
  double best_fitness() const { return best_fitness_; }
  // Why the search has converged or broken down ("tol_fun", "tol_x", "tol_x_up", "condition"), or "".
  std::string should_stop() const;

  // The whole search state (mean, σ, C and its eigensystem, both paths, this generation's draws,
  // counters, the generator) under keys starting with `prefix`, and back: a search loaded from a
  // checkpoint continues exactly as the saved one would have. load() throws dojo::Error when the
  // checkpoint's dimension or population differ from this search's.
  void save(core::CheckpointWriter& w, const std::string& prefix) const;
  void load(core::CheckpointReader& r, const std::string& prefix);

 private:
  void update_eigen();

  int n_, lambda_, mu_;
  double sigma_, sigma0_;
  CmaEsOptions options_;
  // Strategy constants (tutorial, Table 1).
  std::vector<double> weights_;  // λ of them: positive for the best μ, negative after
  double mu_eff_, c_sigma_, d_sigma_, c_c_, c_1_, c_mu_, chi_n_;
  torch::Tensor m_, C_, B_, D_, p_sigma_, p_c_, inv_sqrt_C_;  // double
  std::vector<std::vector<double>> candidates_;
  torch::Tensor z_, y_;  // this generation's N(0, I) draws and B·D·z, [λ, n]
  bool asked_ = false;
  int generation_ = 0;
  std::int64_t evaluations_ = 0;
  std::vector<double> best_;
  double best_fitness_;
  std::vector<double> best_history_;  // the best fitness of each recent generation
  double last_range_ = 0;             // this generation's fitness range
  std::mt19937_64 rng_;
};

struct CmaMinimizeOptions {
  CmaEsOptions cma;
  double target = -std::numeric_limits<double>::infinity();  // stop once f ≤ target
  std::int64_t max_evaluations = 1'000'000;
  int restarts = 0;  // IPOP: after a stop test fires, start again with twice the population
  int threads = 1;   // candidates of a generation evaluated in parallel (f must be thread-safe)
};

struct CmaMinimizeResult {
  std::vector<double> x;
  double f = 0.0;
  std::int64_t evaluations = 0;
  int generations = 0, restarts = 0;
  std::string stop;  // "target", "max_evaluations", or the last stop test
};

// The classic test problems (pycma's cma.ff), minimum 0: the sphere Σx², Rosenbrock's valley
// Σ 100(x_{i+1} − x_i²)² + (1 − x_i)² (at 1; a local minimum near x_1 = −1 for n ≥ 4) and Rastrigin's
// 10n + Σ x² − 10 cos 2πx (a local minimum at every integer point).
double sphere(const std::vector<double>& x);
double rosenbrock(const std::vector<double>& x);
double rastrigin(const std::vector<double>& x);

CmaMinimizeResult cma_minimize(const std::function<double(const std::vector<double>&)>& f,
                               const std::vector<double>& x0, double sigma0,
                               const CmaMinimizeOptions& options);

}  // namespace dojo::rl

DOJO_PUBLIC_END
