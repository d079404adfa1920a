#!/bin/bash
# The SRL table of docs/rl.md (issue 26): for pixel Pendulum and CartPole, each objective's held-out
# GTC and KNN-MSE (dojo srl train, 20k steps, 10 epochs), then PPO (the env's preset) on the frozen
# learned state, on raw pixels (Nature CNN) and on the true state, at the same budget.
# Resumable: a finished run (summary.json) is skipped. Usage: bench/srl_table.sh OUT [SEEDS] [DOJO]
# e.g. bench/srl_table.sh /work/srl-runs "0 1 2" build/dojo; one job at a time (n_threads 1 each:
# run two copies on different OUTs or ENVS/METHODS, to use two cores). ENVS and METHODS (names
# below) narrow a run: METHODS="combo e2c" ENVS=CartPole-v1 bench/srl_table.sh OUT "0".
set -euo pipefail
out=${1:?usage: bench/srl_table.sh OUT [SEEDS] [DOJO]}
seeds=${2:-0 1 2}
dojo=$(realpath "${3:-build/dojo}")
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
# name, losses, weights[, one more key=value]: one objective alone each, the S-RL Toolbox's combination
# (reconstruction, inverse and reward), E2C, and inverse + forward (CartPole's best: 16 dimensions).
all_methods=(
  "autoencoder autoencoder [1]"
  "vae vae [1]"
  "inverse inverse [1]"
  "forward forward [1]"
  "priors priors [1]"
  "combo autoencoder,inverse,reward [1,10,10]"
  "e2c e2c [1]"
  "invfwd inverse,forward [1,1]"
  "invfwd16 inverse,forward [1,1] state_dim=16"
)
methods=()
for m in "${all_methods[@]}"; do
  if [[ -z ${METHODS:-} || " $METHODS " == *" ${m%% *} "* ]]; then methods+=("$m"); fi
done
run() {  # run DIR LOG CMD...: skipped when DIR/summary.json exists
  local dir=$1 log=$2; shift 2
  [ -f "$dir/summary.json" ] && return 0
  rm -rf "$dir"
  "$@" --out "$dir" > "$log" 2>&1
}
for env in ${ENVS:-Pendulum-v1 CartPole-v1}; do
  mkdir -p "$out/$env"
  for s in $seeds; do
    run "$out/$env/ppo-state-s$s" "$out/$env/ppo-state-s$s.log" "$dojo" train ppo --env "$env" --seed "$s"
  done
  # The frames: a random policy's on Pendulum (it swings through every angle); on CartPole random
  # pushes topple the pole within ~20 steps of the centre, so the data comes from PPO on the true
  # state (seed 0's best checkpoint) with half its actions random, as the S-RL Toolbox can collect
  # with a trained policy: PPO's cart then visits positions a random policy never does.
  data=()
  if [[ $env == CartPole-v1 ]]; then
    run "$out/$env/ppo-state-s0" "$out/$env/ppo-state-s0.log" "$dojo" train ppo --env "$env" --seed 0
    data=(--set "behaviour=$out/$env/ppo-state-s0" --set behaviour_epsilon=0.5)
  fi
  for m in "${methods[@]}"; do
    read -r name losses weights extra <<< "$m"
    run "$out/$env/$name" "$out/$env/$name.log" "$dojo" srl train --env "$env" --losses "$losses" \
      --set "weights=$weights" ${extra:+--set "$extra"} "${data[@]}"
  done
  for s in $seeds; do
    run "$out/$env/ppo-pixels-s$s" "$out/$env/ppo-pixels-s$s.log" "$dojo" train ppo --env "$env" --seed "$s" \
      --set pixels=64 --set network=nature
    for m in "${methods[@]}"; do
      read -r name _ <<< "$m"
      run "$out/$env/ppo-$name-s$s" "$out/$env/ppo-$name-s$s.log" "$dojo" train ppo --env "$env" --seed "$s" \
        --set "srl_run=$out/$env/$name"
    done
  done
done
# The table: held-out scores and PPO's final greedy evaluation (20 episodes) per seed.
python3 - "$out" <<'PY'
import glob, json, os, sys
for env in ["Pendulum-v1", "CartPole-v1"]:
    print(f"## {env}")
    for f in sorted(glob.glob(os.path.join(sys.argv[1], env, "*", "summary.json"))):
        j, n = json.load(open(f)), os.path.basename(os.path.dirname(f))
        if "learned" in j:
            l, u = j["learned"], j["untrained"]
            print(f"{n}: GTC {l['gtc']:.3f} KNN-MSE {l['knn_mse']:.4f} (untrained {u['gtc']:.3f}, "
                  f"{u['knn_mse']:.4f}; true state KNN-MSE {j['ground_truth']['knn_mse']:.4f}), "
                  f"{j['minutes']:.1f} min, data: {j.get('behaviour', 'random')}")
        else:
            print(f"{n}: final eval {j['final_eval_mean']:.2f} ± {j['final_eval_std']:.2f}")
PY
