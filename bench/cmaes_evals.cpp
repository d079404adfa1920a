// CMA-ES evaluations to reach f < 1e-8 (issue 25's acceptance 2), printed as the median over 10 seeds
// per problem, and IPOP success on Rastrigin; bench/cmaes_compare.sh runs python3-cmaes 0.9.1 on the
// same problems, starts and restart rule beside it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "rl/cmaes.h"

int main() {
  struct Problem {
    std::string name;
    double (*f)(const std::vector<double>&);
    double x0, sigma0;
    int restarts;
  };
  // Starts: the sphere from 3·1 with σ0 2, Rosenbrock from 0 with σ0 0.5, Rastrigin from 3·1 with σ0 2
  // and up to 9 IPOP restarts (population doubled after each stop test).
  const std::vector<Problem> problems{{"sphere", dojo::rl::sphere, 3.0, 2.0, 0},
                                      {"rosenbrock", dojo::rl::rosenbrock, 0.0, 0.5, 0},
                                      {"rastrigin", dojo::rl::rastrigin, 3.0, 2.0, 9}};
  std::printf("%-11s %3s  %10s  %8s  %s\n", "problem", "n", "median", "success", "evaluations (10 seeds)");
  for (const auto& p : problems) {
    for (const int n : {10, 30}) {
      std::vector<double> evals;
      int success = 0;
      std::string all;
      for (std::uint64_t seed = 0; seed < 10; ++seed) {
        dojo::rl::CmaMinimizeOptions o;
        o.target = 1e-8;
        o.restarts = p.restarts;
        o.max_evaluations = 2'000'000;
        o.cma.seed = seed;
        const auto r =
            dojo::rl::cma_minimize(p.f, std::vector<double>(static_cast<std::size_t>(n), p.x0), p.sigma0, o);
        evals.push_back(static_cast<double>(r.evaluations));
        success += r.stop == "target";
        all.append(" ").append(std::to_string(r.evaluations));
      }
      std::sort(evals.begin(), evals.end());
      std::printf("%-11s %3d  %10.0f  %5d/10 %s\n", p.name.c_str(), n, (evals[4] + evals[5]) / 2, success,
                  all.c_str());
      std::fflush(stdout);
    }
  }
}
