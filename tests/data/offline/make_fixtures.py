#!/usr/bin/python3
"""Writes the offline-RL fixtures beside this script with Debian's python3-h5py, the way the Python
tools write them, so the C++ readers are tested against files they did not write themselves:

  d4rl_halfcheetah_tiny.hdf5  D4RL's layout and dtypes (float32 arrays, numpy-bool terminals/timeouts,
                              infos/*, metadata/*) - 3 episodes of HalfCheetah-v4 shapes, 25 steps
  minari_pendulum_tiny/       Minari 0.5.3's layout: data/metadata.json + data/main_data.hdf5 with
                              episode_{i} groups (observations T+1 rows), as minari.create_dataset_from_
                              buffers writes it - 2 episodes of Pendulum-v1 shapes

The values are a fixed function of the row index, so tests can check them. Run once; the outputs are
committed.
"""
import json
import os

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))

# D4RL: 25 transitions; episode 0 ends in a terminal at row 9, episode 1 in a timeout at row 19,
# rows 20-24 are an unfinished third episode.
n, obs_dim, act_dim = 25, 17, 6
rows = np.arange(n, dtype=np.float32)[:, None]
obs = (rows * 0.5 + np.arange(obs_dim, dtype=np.float32)[None, :] * 0.01).astype(np.float32)
next_obs = obs + np.float32(0.5)
actions = np.tanh(rows * 0.1 - np.arange(act_dim, dtype=np.float32)[None, :] * 0.2).astype(np.float32)
rewards = (np.arange(n, dtype=np.float32) * 0.25 - 1.0).astype(np.float32)
terminals = np.zeros(n, dtype=bool)
timeouts = np.zeros(n, dtype=bool)
terminals[9] = True
timeouts[19] = True
with h5py.File(os.path.join(here, "d4rl_halfcheetah_tiny.hdf5"), "w") as f:
    f["observations"] = obs
    f["next_observations"] = next_obs
    f["actions"] = actions
    f["rewards"] = rewards
    f["terminals"] = terminals
    f["timeouts"] = timeouts
    f["infos/qpos"] = obs[:, :9].copy()
    f["infos/action_log_probs"] = (-rows[:, 0]).astype(np.float32)
    f["metadata/algorithm"] = "SAC"
    f["metadata/env_id"] = "HalfCheetah-v4"
    f["metadata/policy/fc0/weight"] = np.ones((4, 3), dtype=np.float32)  # arrays are not metadata text

# Minari 0.5.3: two Pendulum-v1 episodes of 4 and 3 steps, the first truncated, the second terminated.
data = os.path.join(here, "minari_pendulum_tiny", "data")
os.makedirs(data, exist_ok=True)
lengths = [4, 3]
with h5py.File(os.path.join(data, "main_data.hdf5"), "w", track_order=True) as f:
    for i, t in enumerate(lengths):
        g = f.create_group(f"episode_{i}")
        g.attrs["id"] = i
        g.attrs["seed"] = 100 + i
        g.attrs["total_steps"] = t
        k = np.arange(t + 1, dtype=np.float32)[:, None]
        g.create_dataset("observations", data=(k + 10 * i + np.array([0.0, 0.1, 0.2], dtype=np.float32)).astype(np.float32),
                         chunks=True, maxshape=(None, 3))
        g.create_dataset("actions", data=(np.arange(t, dtype=np.float32)[:, None] * 0.5 - 1.0), chunks=True, maxshape=(None, 1))
        g.create_dataset("rewards", data=-np.arange(t, dtype=np.float64) - i, chunks=True, maxshape=(None,))
        g.create_dataset("terminations", data=np.array([False] * (t - 1) + [i == 1]), chunks=True, maxshape=(None,))
        g.create_dataset("truncations", data=np.array([False] * (t - 1) + [i == 0]), chunks=True, maxshape=(None,))
        infos = g.create_group("infos")
        infos.create_dataset("success", data=np.zeros(t + 1, dtype=bool))
box = lambda low, high, shape: json.dumps({"type": "Box", "dtype": "float32", "shape": shape, "low": low, "high": high})
spec = {"id": "Pendulum-v1", "entry_point": "gymnasium.envs.classic_control.pendulum:PendulumEnv",
        "reward_threshold": None, "nondeterministic": False, "max_episode_steps": 200, "order_enforce": True,
        "disable_env_checker": False, "kwargs": {}, "additional_wrappers": [], "vector_entry_point": None}
metadata = {
    "total_episodes": 2, "total_steps": 7, "data_format": "hdf5",
    "observation_space": box([-1.0, -1.0, -8.0], [1.0, 1.0, 8.0], [3]),
    "action_space": box([-2.0], [2.0], [1]),
    "env_spec": json.dumps(spec),
    "dataset_id": "pendulum/tiny-v0", "algorithm_name": "hand-written", "author": ["dojo"],
    "author_email": ["dojo@example.org"], "code_permalink": "tests/data/offline/make_fixtures.py",
    "minari_version": "0.5.3", "description": "two short Pendulum-v1 episodes", "dataset_size": 0.0,
}
with open(os.path.join(data, "metadata.json"), "w") as f:
    json.dump(metadata, f)

# Bad D4RL files, one fault each: a missing key, lengths that disagree, a NaN, the wrong env's shapes.
def d4rl_file(name, drop=None, **override):
    arrays = {"observations": obs, "next_observations": next_obs, "actions": actions, "rewards": rewards,
              "terminals": terminals, "timeouts": timeouts}
    arrays.update(override)
    with h5py.File(os.path.join(here, "bad", name), "w") as f:
        for k, v in arrays.items():
            if k != drop:
                f[k] = v


os.makedirs(os.path.join(here, "bad"), exist_ok=True)
d4rl_file("no_rewards.hdf5", drop="rewards")
d4rl_file("short_actions.hdf5", actions=actions[:-1])
nan_obs = obs.copy()
nan_obs[7, 3] = np.nan
d4rl_file("nan_observations.hdf5", observations=nan_obs)
d4rl_file("hopper_shapes.hdf5", observations=obs[:, :11], next_observations=next_obs[:, :11], actions=actions[:, :3])
with open(os.path.join(here, "bad", "not_hdf5.hdf5"), "w") as f:
    f.write("observations,actions\n1,2\n")
