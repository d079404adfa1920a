#!/usr/bin/env bash
# Installs the build into a fresh prefix and uses it as a user would: the consumer project
# (examples/consumer) configured with find_package(dojo) builds and runs; its plugin trains, evaluates,
# records and resumes a run through the *installed* dojo command; a program built with
# `pkg-config --cflags --libs dojo` runs. Usage: consumer_test.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" > /dev/null
cmake -S "$src/examples/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" > /dev/null
cmake --build "$work/consumer" -j2
"$work/consumer/consumer"

dojo=$prefix/bin/dojo
"$dojo" --version
plugin=$work/consumer/libcorridor.so
"$dojo" train dqn --plugin "$plugin" --env Corridor-v0 --steps 2000 --set learning_starts=200 \
  --set gamma=0.9 --set learning_rate=1e-3 --set target_update_interval=100 --set exploration_fraction=0.3 \
  --set eval_freq=1000 --set final_eval_episodes=3 --out "$work/run" > "$work/train.txt"
grep -q "final eval: 1.00" "$work/train.txt" || { cat "$work/train.txt"; exit 1; }
grep -q "plugins:" "$work/run/config.yaml"
# The run names its plugin: eval and resume need no --plugin.
"$dojo" eval "$work/run" --episodes 3 | grep "1.00 ± 0.00 over 3 episodes" > /dev/null
"$dojo" eval "$work/run" --record "$work/gifs" > /dev/null
test -s "$work/gifs/episode_000.gif"
"$dojo" train --resume "$work/run" --steps 1000 | grep "env steps: 3000" > /dev/null
# Presets come from the installed share/dojo/configs.
"$dojo" train dqn --env CartPole-v1 --steps 200 --set learning_starts=100 --set eval_freq=0 \
  --set stop_on_reward_threshold=false --set final_eval_episodes=1 --out "$work/cartpole" 2>&1 | grep "preset .*share/dojo/configs/dqn/cartpole.yaml" > /dev/null

# Python: the installed package, from the prefix's site folder; its module finds the libraries by its
# rpath and the presets under share/dojo/configs (found from the library, not from python3's place).
site=$(dirname "$(find "$prefix" -type f -name '_dojo*.so' | head -1)")
test -f "$site/__init__.py"
PYTHONPATH=$(dirname "$site") /usr/bin/python3 - 2>&1 > "$work/python.txt" <<'PY' | grep "preset .*share/dojo/configs/dqn/cartpole.yaml" > /dev/null
import os, sys, tempfile
import dojo
assert os.path.dirname(dojo.__file__) != "", dojo.__file__
env = dojo.make("CartPole-v1")
obs, info = env.reset(seed=0)
assert obs.shape == (4,)
summary, run_dir = dojo.train("dqn", "CartPole-v1", steps=200, out=tempfile.mkdtemp() + "/run",
                              config={"learning_starts": 100, "eval_freq": 0, "final_eval_episodes": 1,
                                      "stop_on_reward_threshold": False})
assert summary["env_steps"] == 200
print("python ok", dojo.__version__, dojo.__file__)
PY
grep -q "python ok" "$work/python.txt" || { cat "$work/python.txt"; exit 1; }
grep -q "$prefix" "$work/python.txt" || { cat "$work/python.txt"; exit 1; }

# pkg-config
cat > "$work/pc.cpp" <<'CPP'
#include <dojo/envs/registry.h>
#include <iostream>
int main() {
  auto env = dojo::envs::make("CartPole-v1");
  auto [obs, info] = env->reset(42);
  std::cout << "CartPole obs " << obs.sizes() << "\n";
  return obs.numel() == 4 ? 0 : 1;
}
CPP
export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name dojo.pc)")
g++ "$work/pc.cpp" -o "$work/pc" $(pkg-config --cflags --libs dojo)
"$work/pc"
echo "install ok"
