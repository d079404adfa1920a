"""dojo's toy-text envs beside Gymnasium 0.29.1's, in one run on one machine (issue 29):

1. the transition tables P[s][a] of FrozenLake (4x4 slippery and not, 8x8), Taxi and CliffWalking,
   compared outcome by outcome (probability, next state, reward, terminated);
2. Blackjack's rules, by the mean return of one fixed policy under each rule set;
3. Taxi speed: random actions from Python (Gymnasium vs dojo.make), random actions in C++
   (`dojo env random`), and tabular Q-learning — a NumPy loop on Gymnasium's Taxi, as the tutorials
   write it, against `dojo train qlearning`.

    PYTHONPATH=build/python:<a Gymnasium 0.29.1 checkout> python3 bench/toy_text_gymnasium.py

Gymnasium is not in Debian; a checkout of its source (pure Python, NumPy only for the toy-text envs)
is enough.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import gymnasium as gym
import numpy as np

import dojo

parser = argparse.ArgumentParser()
parser.add_argument("--dojo", default=os.path.join(os.path.dirname(__file__), "..", "build", "dojo"))
parser.add_argument("--steps", type=int, default=300_000)
parser.add_argument("--hands", type=int, default=200_000)
args = parser.parse_args()
print(f"Gymnasium {gym.__version__}")

# 1. Transition tables.
for env_id, kwargs in [("FrozenLake-v1", {}), ("FrozenLake-v1", {"is_slippery": False}),
                       ("FrozenLake8x8-v1", {}), ("Taxi-v3", {}), ("CliffWalking-v0", {})]:
    theirs = gym.make(env_id, **kwargs).unwrapped.P
    ours = dojo.make(env_id, **kwargs).unwrapped.P
    assert sorted(theirs) == sorted(ours), env_id
    outcomes = 0
    for s in theirs:
        assert sorted(theirs[s]) == sorted(ours[s]), (env_id, s)
        for a in theirs[s]:
            t, o = theirs[s][a], ours[s][a]
            assert len(t) == len(o), (env_id, s, a, t, o)
            for (tp, tn, tr, td), (op, on, orr, od) in zip(t, o):
                assert abs(tp - op) < 1e-12 and tn == on and tr == orr and bool(td) == od, (env_id, s, a, t, o)
            outcomes += len(t)
    print(f"P of {env_id} {kwargs or ''}: {len(theirs)} states, {outcomes} outcomes, all equal")


# 2. Blackjack: hit below 17, else stick, under each rule set; the means must agree within noise.
def blackjack_mean(make, hands, seed):
    env = make()
    total = 0.0
    obs, _ = env.reset(seed=seed)
    for _ in range(hands):
        done = False
        while not done:
            obs, r, terminated, truncated, _ = env.step(1 if obs[0] < 17 else 0)
            done = terminated or truncated
            total += r
        obs, _ = env.reset()
    return total / hands


for kwargs in ({}, {"sab": False, "natural": True}, {"sab": False, "natural": False}):
    g = blackjack_mean(lambda: gym.make("Blackjack-v1", **kwargs), args.hands, 0)
    d = blackjack_mean(lambda: dojo.make("Blackjack-v1", **kwargs), args.hands, 0)
    se = 1.0 / np.sqrt(args.hands)  # returns are within [-1, 1.5]: a loose standard error
    print(f"Blackjack-v1 {kwargs or '(sab)'}: hit below 17: Gymnasium {g:+.4f}, dojo {d:+.4f} "
          f"({args.hands} hands each; |difference| {abs(g - d):.4f}, 3 s.e. {3 * se * np.sqrt(2):.4f})")


# 3. Taxi speed.
def random_steps(env, steps):
    env.reset(seed=0)
    env.action_space.seed(0)
    sample, step = env.action_space.sample, env.step
    t0 = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = step(sample())
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - t0)


g_rate = random_steps(gym.make("Taxi-v3"), args.steps)
d_rate = random_steps(dojo.make("Taxi-v3"), args.steps)
out = subprocess.run([args.dojo, "env", "random", "Taxi-v3", "--episodes", "2000"], check=True,
                     capture_output=True, text=True).stdout
c_rate = json.loads(out)["steps_per_s"]
print(f"Taxi-v3 random actions: Gymnasium {g_rate / 1e3:.0f}k steps/s; dojo.make from Python "
      f"{d_rate / 1e3:.0f}k ({d_rate / g_rate:.1f}x); dojo env random (C++) {c_rate / 1e3:.0f}k ({c_rate / g_rate:.1f}x)")


def numpy_qlearning(steps, alpha=0.5, gamma=0.99, seed=0):
    # The tutorials' loop: ε-greedy on a NumPy table, ε linear 1 -> 0.05 over half the run.
    env = gym.make("Taxi-v3")
    rng = np.random.default_rng(seed)
    q = np.zeros((env.observation_space.n, env.action_space.n))
    s, _ = env.reset(seed=seed)
    t0 = time.perf_counter()
    for t in range(steps):
        eps = max(0.05, 1.0 - 0.95 * t / (0.5 * steps))
        a = int(rng.integers(6)) if rng.random() < eps else int(np.argmax(q[s]))
        s2, r, terminated, truncated, _ = env.step(a)
        q[s, a] += alpha * (r + (0.0 if terminated else gamma * np.max(q[s2])) - q[s, a])
        s = s2
        if terminated or truncated:
            s, _ = env.reset()
    seconds = time.perf_counter() - t0
    # Greedy evaluation, 1,000 episodes.
    total = 0.0
    for e in range(1000):
        s, _ = env.reset(seed=10_000 + e)
        done = False
        while not done:
            s, r, terminated, truncated, _ = env.step(int(np.argmax(q[s])))
            total += r
            done = terminated or truncated
    return steps / seconds, total / 1000


py_rate, py_return = numpy_qlearning(200_000)
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    subprocess.run([args.dojo, "train", "qlearning", "--env", "Taxi-v3", "--out", os.path.join(tmp, "run"),
                    "--set", "eval_freq=0"], check=True, capture_output=True)
    wall = time.perf_counter() - t0
    with open(os.path.join(tmp, "run", "summary.json")) as f:
        summary = json.load(f)
dojo_rate = summary["env_steps"] / summary["wall_time_s"]
print(f"Q-learning on Taxi-v3, 200k steps: NumPy + Gymnasium {py_rate / 1e3:.0f}k steps/s (greedy return "
      f"{py_return:.2f} over 1,000 episodes); dojo train qlearning (preset) {dojo_rate / 1e3:.0f}k steps/s with its "
      f"final 1,000-episode evaluation inside the wall time ({dojo_rate / py_rate:.1f}x; return "
      f"{summary['final_eval_mean']:.2f}; the whole command {wall:.1f} s)")
