#!/usr/bin/env bash
# Before/after on a noisy machine: runs two dojo_bench builds at the same time, one per core, swapping
# cores each round, so whatever disturbs one run disturbs the other; prints each benchmark's median
# over rounds of the per-round ratio new/old with its range.
#   bench/compare.sh OLD_BENCH NEW_BENCH [ROUNDS] [FILTER]
set -euo pipefail
old=$1 new=$2 rounds=${3:-6}
filter=${4:-'BM_CartPoleStepRegistered|BM_MinAtarStep/Breakout$|BM_GreedyAction$|BM_DQNGradientStep$|BM_DQNGradientStepMinAtar|BM_PPOIterationCartPole'}
out=$(mktemp -d)
for round in $(seq "$rounds"); do
  a=$((round % 2)) b=$((1 - round % 2))
  taskset -c "$a" "$old" --benchmark_filter="$filter" --benchmark_format=json > "$out/old-$round.json" 2> /dev/null &
  taskset -c "$b" "$new" --benchmark_filter="$filter" --benchmark_format=json > "$out/new-$round.json" 2> /dev/null &
  wait
done
python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def times(path):
    return {b["name"]: (b["real_time"] if "real_time" in b["name"] else b["cpu_time"], b["time_unit"])
            for b in json.load(open(path))["benchmarks"]}
rows = {}
for r in range(1, rounds + 1):
    old, new = times(f"{out}/old-{r}.json"), times(f"{out}/new-{r}.json")
    for name in old.keys() & new.keys():
        rows.setdefault(name, []).append((old[name][0], new[name][0], old[name][1]))
print(f"{'benchmark':42s} {'old':>12s} {'new':>12s}  new/old median [min, max]")
for name, v in sorted(rows.items()):
    ratios = [n / o for o, n, _ in v]
    print(f"{name:42s} {statistics.median(o for o, _, _ in v):12.1f} {statistics.median(n for _, n, _ in v):12.1f}"
          f"  {statistics.median(ratios):.3f} [{min(ratios):.2f}, {max(ratios):.2f}] {v[0][2]}")
PY
rm -rf "$out"
