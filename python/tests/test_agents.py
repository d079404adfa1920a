"""Training, loading, acting and evaluating from Python, as the dojo command does."""
import json
import os

import numpy as np
import pytest

import dojo


@pytest.fixture(scope="module")
def dqn_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "dqn"
    summary, run_dir = dojo.train("dqn", "CartPole-v1", steps=3000, seed=1, out=str(out),
                                  config={"eval_freq": 1000, "n_eval_episodes": 2, "final_eval_episodes": 3,
                                          "learning_starts": 500})
    return summary, run_dir


def test_train_returns_summary_and_writes_the_run(dqn_run):
    summary, run_dir = dqn_run
    assert summary["run_dir"] == run_dir and summary["algo"] == "dqn" and summary["env_id"] == "CartPole-v1"
    assert summary["env_steps"] == 3000 and summary["seed"] == 1 and summary["final_eval_episodes"] == 3
    for f in ("config.yaml", "metrics.csv", "eval.csv", "summary.json", "checkpoints/best.ckpt"):
        assert os.path.exists(os.path.join(run_dir, f)), f
    with open(os.path.join(run_dir, "summary.json")) as f:
        on_disk = json.load(f)
    assert on_disk["final_eval_mean"] == pytest.approx(summary["final_eval_mean"])


def test_load_and_act(dqn_run):
    _, run_dir = dqn_run
    agent = dojo.load(run_dir)
    assert agent.algo == "dqn" and agent.env_id == "CartPole-v1"
    assert agent.config["learning_starts"] == 500 and agent.config["seed"] == 1
    env = dojo.make("CartPole-v1")
    obs, _ = env.reset(seed=0)
    a = agent.act(obs)
    assert isinstance(a, int) and a in (0, 1)
    batch = np.stack([env.observation_space.sample() for _ in range(6)]).clip(-1, 1)
    actions = agent.act(batch)
    assert actions.shape == (6,)
    # Greedy actions are a function of the observation: one by one equals the batch.
    assert [agent.act(o) for o in batch] == actions.tolist()
    # float64 observations are converted to the space's float32.
    assert agent.act(obs.astype(np.float64)) == a
    with pytest.raises(dojo.Error, match="expected 1"):
        agent.act(np.zeros((2, 2, 4), np.float32))


def test_evaluate_is_the_command_lines(dqn_run, run_dojo):
    _, run_dir = dqn_run
    r = dojo.evaluate(run_dir, 4, seed=3)
    assert len(r["returns"]) == 4 and len(r["lengths"]) == 4
    assert r["mean"] == pytest.approx(np.mean(r["returns"]))
    out = run_dojo("eval", run_dir, "--episodes", 4, "--seed", 3).stdout
    assert f"{r['mean']:.2f}" in out, out


def test_an_agent_acting_in_python_matches_evaluate(dqn_run):
    # The loop a user writes: greedy actions from dojo.load on dojo.make's env.
    _, run_dir = dqn_run
    agent, env = dojo.load(run_dir), dojo.make("CartPole-v1")
    obs, _ = env.reset(seed=0)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(agent.act(obs))
        total += reward
        done = terminated or truncated
    assert 8 <= total <= 500


def test_train_errors_are_dojo_errors(tmp_path):
    with pytest.raises(dojo.Error, match="lerning_rate"):
        dojo.train("dqn", "CartPole-v1", config={"lerning_rate": 0.1}, out=str(tmp_path / "a"))
    with pytest.raises(dojo.Error, match="CartPol-v1"):
        dojo.train("dqn", "CartPol-v1", out=str(tmp_path / "b"))
    with pytest.raises(dojo.Error):
        dojo.load(str(tmp_path / "nope"))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_tabular_agent_with_env_kwargs(tmp_path):
    # gym.make's keyword arguments ride along as the run's env_kwargs; the table comes back as NumPy.
    summary, run_dir = dojo.train("qlearning", "FrozenLake-v1", steps=20000, seed=0, out=str(tmp_path / "q"),
                                  config={"env_kwargs": {"is_slippery": False}, "learning_rate": 0.5,
                                          "eval_freq": 0, "final_eval_episodes": 5})
    assert summary["final_eval_mean"] == 1.0
    agent = dojo.load(run_dir)
    assert agent.config["env_kwargs"] == {"is_slippery": False}
    q = agent.q_table
    assert q.shape == (16, 4) and q.dtype == np.float64
    assert agent.act(0) == int(np.argmax(q[0]))
    assert agent.act(np.array([0, 4])).tolist() == [int(np.argmax(q[0])), int(np.argmax(q[4]))]
    assert q[0].max() == pytest.approx(0.99 ** 5, abs=1e-3)  # six moves to the goal, undiscounted reward 1


def test_a_tabular_agent_acts_on_blackjacks_tuple(tmp_path):
    _, run_dir = dojo.train("monte_carlo", "Blackjack-v1", steps=20000, out=str(tmp_path / "mc"),
                            config={"lr_schedule": "average", "eval_freq": 0, "final_eval_episodes": 5})
    agent = dojo.load(run_dir)
    assert agent.q_table.shape == (32 * 11 * 2, 2)
    assert agent.act((21, 10, 0)) == 0  # stick on 21
    assert agent.act(np.array([[21, 10, 0], [4, 10, 0]])).shape == (2,)
