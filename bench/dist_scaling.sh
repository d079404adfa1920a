#!/bin/bash
# Issue 27's scaling figures on this machine, one thread per rank, at 1 and 2 ranks through
# `dojo --nproc`, side by side in one run (both cores idle):
#   fashion: the fashion-cnn example's epoch (60k images, batch 32 a rank, + 10k validation);
#   mol:     the captioner's training images/s (the mol/captioner preset, batch 32 a rank, 224 px) on
#            a dataset this script renders once into WORK/mol-bench;
#   alphazero: Connect Four self-play games/s (the connect4 preset: 64 games an iteration, 8 actor
#            threads a rank), from iterations 2 and 3 of a run without evaluation.
# DD-PPO's figure has its own script (bench/ddppo_scaling.sh). Usage: bench/dist_scaling.sh WORK [DOJO]
# with ROWS="fashion mol alphazero" (the default) naming the rows to run.
set -euo pipefail
work=${1:?usage: bench/dist_scaling.sh WORK [DOJO]}
dojo=$(realpath "${2:-build/dojo}")
rows=${ROWS:-fashion mol alphazero}
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
mkdir -p "$work"
ratio() { echo "speed-up $(echo "scale=2; $2 / $1" | bc)x, efficiency $(echo "scale=0; 50 * $2 / $1" | bc)%"; }

fashion() {  # fashion NPROC: seconds of fit's one epoch (rank 0's line)
  "$dojo" example fashion-cnn --epochs 1 --threads 1 --verbose 2 --nproc "$1" | grep "s/epoch" |
    sed -E 's/.* - ([0-9]+)s - .*/\1/'
}
mol() {  # mol NPROC: training images/s over 1024 images
  rm -rf "$work/mol-$1"
  "$dojo" mol train --config mol/captioner --data "$work/mol-bench" --set "validation=''" --set n_threads=1 \
    --images 1024 --out "$work/mol-$1" --nproc "$1" > "$work/mol-$1.log" 2>&1
  sed -nE 's/.* h of training \(([0-9.]+) images\/s\).*/\1/p' "$work/mol-$1.log"
}
alphazero() {  # alphazero NPROC: self-play games/s, mean of iterations 2 and 3
  rm -rf "$work/az-$1"
  "$dojo" train alphazero --game connect4 --steps 3 --set eval_games=0 --set max_minutes=0 \
    --out "$work/az-$1" --nproc "$1" > "$work/az-$1.log" 2>&1
  awk -F, 'NR > 2 { s += $9; n++ } END { printf "%.2f\n", s / n }' "$work/az-$1/metrics.csv"
}

for row in $rows; do
  case $row in
    fashion)
      one=$(fashion 1); two=$(fashion 2)
      echo "fashion-cnn epoch: 1 rank ${one} s, 2 ranks ${two} s; $(ratio "$two" "$one")" ;;
    mol)
      [ -d "$work/mol-bench" ] || "$dojo" mol make-dataset --n 2000 --out "$work/mol-bench" > /dev/null
      one=$(mol 1); two=$(mol 2)
      echo "captioner training: 1 rank ${one} images/s, 2 ranks ${two} images/s; $(ratio "$one" "$two")" ;;
    alphazero)
      one=$(alphazero 1); two=$(alphazero 2)
      echo "connect4 self-play: 1 rank ${one} games/s, 2 ranks ${two} games/s; $(ratio "$one" "$two")" ;;
    *) echo "unknown row '$row': expected fashion, mol or alphazero" >&2; exit 2 ;;
  esac
done
