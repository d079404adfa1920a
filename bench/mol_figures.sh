#!/usr/bin/env bash
# The captioner's acceptance figures (issue 21) on a labelled set drawn twice — noisy (BMS-style scans)
# and clean, same molecules and ids (`dojo mol make-dataset` with the same --split, --n and --seed,
# with and without --clean): mean LD, exact match, validity and images/s for clean vs noisy, beam 1
# vs 5, re-ranking on and off, and cleaning whole, off, and with each step left out in turn.
#   bench/mol_figures.sh NOISY_DIR CLEAN_DIR [LIMIT] [MODEL] [DOJO]
set -euo pipefail
noisy=$1 clean=$2 limit=${3:-1000} model=${4:-} dojo=${5:-build/dojo}
args=(--limit "$limit" --threads 2)
[[ -n $model ]] && args+=(--model "$model")
eval_on() {  # DIR, then eval flags
  local dir=$1
  shift
  echo "## $(basename "$dir") $*"
  "$dojo" mol eval --labels "$dir/train_labels.csv" --images "$dir/train" "${args[@]}" "$@"
}
eval_on "$noisy"
eval_on "$clean"
eval_on "$noisy" --beam 5
eval_on "$noisy" --no-rerank
eval_on "$noisy" --beam 5 --no-rerank
eval_on "$noisy" --clean none
eval_on "$noisy" --clean crop,rotate     # without despeckling
eval_on "$noisy" --clean despeckle,rotate  # without cropping
eval_on "$noisy" --clean despeckle,crop  # without the rotation fix
