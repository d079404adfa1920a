#!/bin/bash
# Issue 27's scaling figures on this machine, one thread per rank: the fashion-cnn example's epoch
# (60k images, batch 32 a rank, validation on the 10k test images) at 1 and 2 ranks through
# `dojo --nproc`, side by side in one run. Usage: bench/dist_scaling.sh [DOJO]
set -euo pipefail
dojo=$(realpath "${1:-build/dojo}")
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
epoch() {  # epoch NPROC: seconds of fit's one epoch (rank 0's line) and of the whole command
  local start end line
  start=$(date +%s.%N)
  line=$("$dojo" example fashion-cnn --epochs 1 --threads 1 --verbose 2 --nproc "$1" | grep "s/epoch")
  end=$(date +%s.%N)
  echo "$(sed -E 's/.* - ([0-9]+)s - .*/\1/' <<< "$line") $(echo "$end - $start" | bc)"
}
read -r one one_wall <<< "$(epoch 1)"
read -r two two_wall <<< "$(epoch 2)"
echo "fashion-cnn epoch: 1 rank ${one} s (command ${one_wall} s), 2 ranks ${two} s (command ${two_wall} s)"
echo "speed-up $(echo "scale=2; $one / $two" | bc)x, efficiency $(echo "scale=2; 100 * $one / (2 * $two)" | bc)%"
