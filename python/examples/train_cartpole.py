"""A notebook's worth of dojo from Python: train PPO on CartPole, evaluate it, watch it act, and plot
the learning curve with Matplotlib.

    PYTHONPATH=build/python python3 python/examples/train_cartpole.py --out runs/py-ppo
"""
import argparse
import csv
import os

import dojo  # before NumPy: dojo chooses OpenBLAS's kernels while it loads

import matplotlib

matplotlib.use("Agg")  # no display needed: the figure goes to a PNG
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="runs/py-ppo-cartpole", help="run folder to create")
parser.add_argument("--steps", type=int, default=60_000, help="env steps to train")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

# 1. Train with the preset the command line uses (configs/ppo/cartpole.yaml), stopping at 475.
summary, run_dir = dojo.train("ppo", "CartPole-v1", steps=args.steps, seed=args.seed, out=args.out,
                              config={"stop_on_reward_threshold": True, "eval_freq": 5000})
print(f"trained {summary['env_steps']} steps in {summary['wall_time_s']:.1f} s: "
      f"final eval {summary['final_eval_mean']:.1f} ± {summary['final_eval_std']:.1f}")

# 2. Evaluate the best checkpoint on fresh episodes.
result = dojo.evaluate(run_dir, episodes=10, seed=100)
print(f"evaluation over 10 episodes: {result['mean']:.1f} ± {result['std']:.1f}")

# 3. Act in a loop of our own, Gymnasium style.
agent, env = dojo.load(run_dir), dojo.make("CartPole-v1")
obs, info = env.reset(seed=7)
episode_return, done = 0.0, False
while not done:
    obs, reward, terminated, truncated, info = env.step(agent.act(obs))
    episode_return += reward
    done = terminated or truncated
print(f"one episode of our own loop: return {episode_return:.0f}")

# 4. The learning curve: episode returns during training and the periodic evaluations.
def read(name):
    with open(os.path.join(run_dir, name)) as f:
        return list(csv.DictReader(f))

episodes, evals = read("metrics.csv"), read("eval.csv")
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot([int(r["step"]) for r in episodes], [float(r["episode_return"]) for r in episodes], ".", alpha=0.3,
        label="training episodes")
ax.plot([int(r["step"]) for r in evals], [float(r["mean_return"]) for r in evals], "o-", label="evaluation")
ax.axhline(475, color="grey", linestyle="--", label="solved (475)")
ax.set(xlabel="env steps", ylabel="return", title="PPO on CartPole-v1 (dojo from Python)")
ax.legend()
png = os.path.join(run_dir, "python_learning_curve.png")
fig.savefig(png, dpi=100, bbox_inches="tight")
print(f"learning curve: {png}")
assert result["mean"] >= 475, "PPO should solve CartPole with its preset"
