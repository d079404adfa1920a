#!/usr/bin/env bash
# World Models' acceptance figures (issue 25) for a finished run: every controller in it on the same
# 100 real tracks (seeds 0-99), each stage's minutes, M against the z' = z baseline, and the benches of
# V, M, CMA-ES and CarRacing (1 thread).
#   bench/worldmodel_figures.sh RUN [DOJO] [DOJO_BENCH]
set -euo pipefail
run=$1 dojo=${2:-build/dojo} bench=${3:-build/bench/dojo_bench}
echo "## stages (minutes)"
cat "$run/stages.csv"
echo "## M, held out (last epoch): NLL per dimension vs the z' = z baseline"
tail -1 "$run/mdn.csv"
for c in "$run"/controller*/; do
  c=$(basename "$c")
  echo "## $c: $(tail -1 "$run/$c/cmaes.csv" | cut -d, -f1) generations, $(tail -1 "$run/$c/cmaes.csv" | cut -d, -f8) minutes"
  "$dojo" eval "$run" --controller "$c" --episodes 100 --seed 0
done
echo "## benches"
"$bench" --benchmark_filter='CarRacing|Vae|Mdn|CmaEs'
