#!/usr/bin/env bash
# AlphaZero's acceptance figures (issue 24) for a finished run: matches against the UCT ladder with
# 200 simulations per move and with the raw network (no search), and for Connect Four the share of
# solver-optimal moves on 1,000 solver-labelled positions. 100 games each, colours alternating over
# openings of 2 random plies.
#   bench/alphazero_figures.sh connect4|go RUN [DOJO]
set -euo pipefail
game=$1 run=$2 dojo=${3:-build/dojo}
match() {  # A B
  echo "## $1 vs $2"
  "$dojo" arena "$1" "$2" --game "$game" --games 100 --random-plies 2 --seed 1
}
if [[ $game == connect4 ]]; then
  match "$run:200" mcts:1000
  match "$run:200" mcts:100
  match "$run:0" mcts:1000
  match "$run:0" mcts:100
  match "$run:0" random
  echo "## solver-optimal moves"
  "$dojo" games optimal "$run:200" "$run:0" mcts:1000 random --positions 1000 --table-mb 500
else
  match "$run:200" random
  match "$run:200" mcts:100
  match "$run:0" random
  match "$run:0" mcts:100
fi
