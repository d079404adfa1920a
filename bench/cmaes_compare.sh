#!/usr/bin/env bash
# dojo's CMA-ES beside python3-cmaes 0.9.1 (Debian's; only measured here, never used by dojo) on the
# same problems, starts, target (f < 1e-8) and restart rule (up to 9 IPOP restarts on Rastrigin, each
# after the library's own stop test): median evaluations over 10 seeds, and successes.
#   bench/cmaes_compare.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
echo "## dojo"
"$build/bench/dojo_cmaes_evals"
echo "## python3-cmaes $(/usr/bin/python3 -c 'import cmaes; print(cmaes.__version__)')"
/usr/bin/python3 - <<'PY'
import numpy as np
from cmaes import CMA

def sphere(x): return float(np.dot(x, x))
def rosenbrock(x): return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))
def rastrigin(x): return float(10 * len(x) + np.sum(x * x - 10 * np.cos(2 * np.pi * x)))

def minimize(f, x0, sigma0, seed, restarts):
    evals, population = 0, None
    for restart in range(restarts + 1):
        es = CMA(mean=x0.copy(), sigma=sigma0, seed=seed * 1000 + restart, population_size=population)
        population = es.population_size * 2
        while True:
            sols = []
            best = np.inf
            for _ in range(es.population_size):
                x = es.ask()
                v = f(x)
                best = min(best, v)
                sols.append((x, v))
            es.tell(sols)
            evals += len(sols)
            if best < 1e-8:
                return evals, True
            if evals >= 2_000_000:
                return evals, False
            if es.should_stop():
                break
    return evals, False

print(f"{'problem':<11} {'n':>3}  {'median':>10}  {'success':>8}  evaluations (10 seeds)")
for name, f, x0, s0, restarts in [("sphere", sphere, 3.0, 2.0, 0), ("rosenbrock", rosenbrock, 0.0, 0.5, 0),
                                  ("rastrigin", rastrigin, 3.0, 2.0, 9)]:
    for n in (10, 30):
        runs = [minimize(f, np.full(n, x0), s0, seed, restarts) for seed in range(10)]
        e = sorted(r[0] for r in runs)
        print(f"{name:<11} {n:>3}  {(e[4] + e[5]) / 2:>10.0f}  {sum(r[1] for r in runs):>5}/10  " +
              " ".join(str(r[0]) for r in runs), flush=True)
PY
