"""dojo from Python against the figures users compare with (issue 28): CartPole steps/s for one env
and for make_vec(..., 64), and PPO on CartPole to 475 through dojo.train against the dojo command.

    PYTHONPATH=build/python python3 bench/python_speed.py [--dojo build/dojo] [--seeds 3]

Gymnasium 0.29.1 is not installable here (not in Debian); its figure on this machine is in
../shared/FACTS.md: about 105k steps/s for one CartPole with random actions.
"""
import argparse
import os
import subprocess
import tempfile
import time

import dojo
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--dojo", default=os.path.join(os.path.dirname(__file__), "..", "build", "dojo"))
parser.add_argument("--seeds", type=int, default=3)
parser.add_argument("--steps", type=int, default=300_000)
args = parser.parse_args()


def rate(steps, seconds):
    return f"{steps / seconds / 1000:.1f}k steps/s"


# One env, random actions drawn from the action space each step (Gymnasium's measurement).
env = dojo.make("CartPole-v1")
env.reset(seed=0)
env.action_space.seed(0)
sample, step = env.action_space.sample, env.step
t0 = time.perf_counter()
for _ in range(args.steps):
    _, _, terminated, truncated, _ = step(sample())
    if terminated or truncated:
        env.reset()
single = time.perf_counter() - t0
print(f"CartPole-v1, one env, random actions: {rate(args.steps, single)} (Gymnasium 0.29.1: ~105k steps/s)")

# 64 envs stepped in one call each, with batched random actions.
for async_ in (False, True):
    vec = dojo.make_vec("CartPole-v1", 64, async_=async_)
    vec.reset(seed=0)
    vec.action_space.seed(0)
    calls = args.steps // 64
    t0 = time.perf_counter()
    for _ in range(calls):
        vec.step(vec.action_space.sample())
    seconds = time.perf_counter() - t0
    print(f"CartPole-v1, make_vec(64, async_={async_}): {rate(calls * 64, seconds)}")

# PPO to 475 with the preset: from Python and from the command line, the same seeds, one after another.
with tempfile.TemporaryDirectory() as tmp:
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        summary, _ = dojo.train("ppo", "CartPole-v1", seed=seed, out=f"{tmp}/py{seed}",
                                config={"stop_on_reward_threshold": True})
        py = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([args.dojo, "train", "ppo", "--env", "CartPole-v1", "--seed", str(seed), "--set",
                        "stop_on_reward_threshold=true", "--out", f"{tmp}/cli{seed}"], check=True,
                       capture_output=True)
        cli = time.perf_counter() - t0
        print(f"PPO CartPole-v1 seed {seed}: dojo.train {py:.1f} s ({summary['env_steps']} steps, best eval "
              f"{summary['best_eval_mean']:.0f}); dojo train {cli:.1f} s (process start included)")
