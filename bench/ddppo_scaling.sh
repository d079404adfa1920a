#!/bin/bash
# Issue 27's DD-PPO figure on this machine, one thread per rank: wall time until PPO's evaluation on
# CartPole-v1 reaches its threshold (475; the run stops there: stop_on_reward_threshold) at 1 and 2
# ranks through `dojo --nproc`, the same seeds side by side. RL Zoo's CartPole preset (8 envs × 32
# steps, minibatch 256) at 1 rank; at 2 ranks both DD-PPO's way (each rank the preset: twice the
# envs and data per update) and split (4 envs and minibatch 128 a rank: the one-rank algorithm).
# Usage: bench/ddppo_scaling.sh OUT [SEEDS] [DOJO]
set -euo pipefail
out=${1:?usage: bench/ddppo_scaling.sh OUT [SEEDS] [DOJO]}
seeds=${2:-0 1 2}
dojo=$(realpath "${3:-build/dojo}")
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
mkdir -p "$out"
common=(train ppo --env CartPole-v1 --set stop_on_reward_threshold=true --set eval_freq=2048
        --set n_eval_episodes=10 --set n_threads=1)
row() {  # row NAME NPROC SEED ARGS...: wall time, steps, best evaluation
  local name=$1 nproc=$2 seed=$3; shift 3
  local dir="$out/$name-s$seed"
  rm -rf "$dir"
  "$dojo" "${common[@]}" --seed "$seed" --out "$dir" --nproc "$nproc" "$@" > "$dir.log" 2>&1
  python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(f\"{sys.argv[2]:<22} seed {sys.argv[3]}: \
{s['wall_time_s']:6.1f} s  {s['env_steps']:6d} steps  best eval {s['best_eval_mean']:.1f}\")" \
    "$dir/summary.json" "$name" "$seed"
}
for s in $seeds; do
  row "1-rank" 1 "$s"
  row "2-ranks-ddppo" 2 "$s"
  row "2-ranks-split" 2 "$s" --set n_envs=4 --set batch_size=128
done
