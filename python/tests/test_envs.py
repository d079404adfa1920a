"""Environments from Python: Gymnasium's API, spaces, seeding, vector autoreset, errors, and the same
trajectories as the dojo command."""
import json

import numpy as np
import pytest

import dojo


def test_version_is_the_library_version(run_dojo):
    assert run_dojo("--version").stdout.split()[1] == dojo.__version__


def test_spaces_of_cartpole():
    env = dojo.make("CartPole-v1")
    obs_space, act_space = env.observation_space, env.action_space
    assert isinstance(obs_space, dojo.Box) and isinstance(act_space, dojo.Discrete)
    assert obs_space.shape == (4,) and obs_space.dtype == np.float32
    np.testing.assert_allclose(obs_space.high[[0, 2]], [4.8, 0.41887903], rtol=1e-6)
    np.testing.assert_array_equal(obs_space.low, -obs_space.high)
    assert act_space.n == 2 and act_space.start == 0 and act_space.shape == ()
    assert repr(act_space) == "Discrete(2)"
    assert act_space.contains(1) and 0 in act_space and np.int64(1) in act_space
    assert not act_space.contains(2) and not act_space.contains(0.5) and not act_space.contains("a")
    assert obs_space.contains(np.zeros(4, np.float32))
    assert not obs_space.contains(np.zeros(3, np.float32))
    assert not obs_space.contains(np.array([5.0, 0, 0, 0], np.float32))


def test_space_sampling_is_seeded():
    space = dojo.Box(-1.0, 2.0, shape=(3,))
    assert space.seed(5) == [5]
    a = [space.sample() for _ in range(5)]
    space.seed(5)
    b = [space.sample() for _ in range(5)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
        assert x.dtype == np.float32 and x.shape == (3,) and space.contains(x)
    assert not np.array_equal(a[0], a[1])
    md = dojo.MultiDiscrete([3, 2])
    md.seed(0)
    assert all(md.contains(md.sample()) for _ in range(20))
    np.testing.assert_array_equal(md.nvec, [3, 2])
    d = dojo.Discrete(3, start=-1)
    d.seed(1)
    assert {d.sample() for _ in range(200)} == {-1, 0, 1}


def test_reset_and_step_follow_gymnasium():
    env = dojo.make("CartPole-v1")
    obs, info = env.reset(seed=42)
    assert isinstance(obs, np.ndarray) and obs.dtype == np.float32 and obs.shape == (4,)
    assert isinstance(info, dict)
    assert np.all(np.abs(obs) <= 0.05)  # CartPole starts uniformly in [-0.05, 0.05]
    total, steps = 0.0, 0
    while True:
        obs, reward, terminated, truncated, info = env.step(1)  # always push right: falls over soon
        assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
        total += reward
        steps += 1
        if terminated or truncated:
            break
    assert terminated and not truncated and 5 < steps < 30 and total == steps
    frame = env.render()
    assert frame.shape == (400, 600, 3) and frame.dtype == np.uint8


def test_time_limit_truncates():
    env = dojo.make("Pendulum-v1", max_episode_steps=7)
    env.reset(seed=0)
    flags = [env.step(np.array([0.0], np.float32))[3] for _ in range(7)]
    assert flags == [False] * 6 + [True]


def test_same_seed_same_episode_and_different_seed_not():
    def episode(seed):
        env = dojo.make("Acrobot-v1")
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        out = [obs]
        for _ in range(50):
            out.append(env.step(env.action_space.sample())[0])
        return np.stack(out)

    np.testing.assert_array_equal(episode(3), episode(3))
    assert not np.array_equal(episode(3), episode(4))


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1", "MountainCar-v0", "Acrobot-v1",
                                    "MountainCarContinuous-v0"])
def test_rollout_equals_the_command_line(run_dojo, env_id):
    # `dojo env rollout ID --seed S` resets with S and samples actions from a generator seeded with S:
    # the same as seeding the action space with S.
    seed, steps = 7, 60
    lines = [json.loads(l) for l in run_dojo("env", "rollout", env_id, "--seed", seed, "--steps", steps)
             .stdout.splitlines()]
    env = dojo.make(env_id)
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    np.testing.assert_array_equal(obs, np.array(lines[0]["obs"], dtype=np.float32))
    for line in lines[1:]:
        action = env.action_space.sample()
        np.testing.assert_array_equal(np.asarray(action, dtype=np.float64).ravel(),
                                      np.asarray(line["action"], dtype=np.float64).ravel())
        obs, reward, terminated, truncated, _ = env.step(action)
        np.testing.assert_array_equal(obs, np.array(line["obs"], dtype=np.float32))
        assert reward == line["reward"]
        assert (terminated, truncated) == (line["terminated"], line["truncated"])
    assert len(lines) > 1


def test_vector_env_autoresets_next_step():
    vec = dojo.make_vec("CartPole-v1", 3)
    assert vec.num_envs == 3
    assert vec.observation_space.shape == (3, 4) and vec.single_observation_space.shape == (4,)
    assert repr(vec.action_space) == "MultiDiscrete([2 2 2])"
    obs, infos = vec.reset(seed=0)
    assert obs.shape == (3, 4) and obs.dtype == np.float32 and infos == {}
    returns = np.zeros(3)
    ended = np.zeros(3, bool)
    finished = 0
    for _ in range(200):
        obs, rewards, terminated, truncated, infos = vec.step(np.ones(3, np.int64))
        assert rewards.dtype == np.float64 and terminated.dtype == np.bool_ and obs.shape == (3, 4)
        # The step after an episode's end resets that env: reward 0, both flags false.
        np.testing.assert_array_equal(rewards[ended], 0.0)
        assert not terminated[ended].any() and not truncated[ended].any()
        returns = np.where(ended, 0.0, returns) + rewards
        done = terminated | truncated
        if done.any():
            np.testing.assert_array_equal(infos["_episode"], done)
            np.testing.assert_array_equal(infos["episode"]["r"][done], returns[done])
            np.testing.assert_array_equal(infos["episode"]["l"][done], returns[done].astype(np.int64))
            finished += int(done.sum())
        else:
            assert infos == {}
        ended = done
    assert finished >= 10


def test_async_vector_env_equals_sync():
    def run(async_):
        vec = dojo.make_vec("Pendulum-v1", 4, async_=async_, n_threads=2)
        obs = [vec.reset(seed=11)[0]]
        rng = np.random.default_rng(0)
        for _ in range(30):
            obs.append(vec.step(rng.uniform(-2, 2, size=(4, 1)).astype(np.float32))[0])
        return np.stack(obs)

    np.testing.assert_array_equal(run(False), run(True))


def test_bad_input_raises_dojo_error():
    assert issubclass(dojo.Error, ValueError)
    with pytest.raises(dojo.Error, match="unknown env id 'CartPol-v1'"):
        dojo.make("CartPol-v1")
    with pytest.raises(dojo.Error, match="unknown keyword argument 'gravity'"):
        dojo.make("CartPole-v1", gravity=3)
    with pytest.raises(dojo.Error, match="render_mode='human'"):
        dojo.make("CartPole-v1", render_mode="human")
    env = dojo.make("CartPole-v1", render_mode="rgb_array")
    assert env.render_mode == "rgb_array"
    env.reset(seed=0)
    with pytest.raises(dojo.Error, match="not in Discrete"):
        env.step(3)
    with pytest.raises(dojo.Error, match="not in Discrete"):
        env.step(0.5)
    with pytest.raises(dojo.Error, match="reset options"):
        env.reset(options={"low": -0.1})
    vec = dojo.make_vec("CartPole-v1", 2)
    vec.reset(seed=0)
    with pytest.raises(dojo.Error, match="one per env"):
        vec.step(np.zeros(3, np.int64))
    with pytest.raises(dojo.Error, match="expected integers"):
        vec.step(np.zeros(2, np.float32))
    with pytest.raises(dojo.Error):
        dojo.make_vec("CartPole-v1", 0)


def test_observations_are_not_copied_twice():
    # The array of a step is a view of the C++ tensor (its base owns it), not a copy made on the way.
    env = dojo.make("CartPole-v1")
    obs, _ = env.reset(seed=0)
    assert obs.base is not None and not obs.flags.owndata


def test_toy_text_with_keyword_arguments():
    env = dojo.make("FrozenLake-v1", is_slippery=False)
    obs, info = env.reset(seed=0)
    assert obs == 0 and isinstance(obs, int) and info["prob"] == 1.0
    assert env.observation_space.n == 16 and env.action_space.n == 4
    total = 0.0
    for a in (2, 2, 1, 1, 1, 2):  # right, right, down, down, down, right: the goal
        obs, reward, terminated, truncated, info = env.step(a)
        total += reward
    assert (obs, total, terminated) == (15, 1.0, True)
    assert "G" in env.render_text()
    lake = dojo.make("FrozenLake-v1", desc=["SFH", "FFG"], is_slippery=False)
    assert lake.observation_space.n == 6
    with pytest.raises(dojo.Error, match="no goal tile G"):
        dojo.make("FrozenLake-v1", desc=["SF", "FF"])
    with pytest.raises(dojo.Error, match="unknown keyword argument 'slippery'"):
        dojo.make("FrozenLake-v1", slippery=False)
    taxi = dojo.make("Taxi-v3")
    _, info = taxi.reset(seed=1)
    assert info["action_mask"].dtype == np.bool_ and info["action_mask"].shape == (6,)
    assert dojo.make("CartPole-v1").render_text() is None


def test_toy_text_transition_tables_as_gymnasium_gives_them():
    P = dojo.make("FrozenLake-v1").unwrapped.P
    assert len(P) == 16 and sorted(P[0]) == [0, 1, 2, 3]
    # LEFT from the start slips up, goes left or slips down: walls keep the first two in place.
    assert P[0][0] == [(1 / 3, 0, 0.0, False), (1 / 3, 0, 0.0, False), (1 / 3, 4, 0.0, False)]
    assert P[14][2][1] == (1 / 3, 15, 1.0, True)  # RIGHT into the goal
    assert dojo.make("FrozenLake-v1", is_slippery=False).unwrapped.P[14][2] == [(1.0, 15, 1.0, True)]
    with pytest.raises(dojo.Error, match="CartPole-v1 has no transition table"):
        dojo.make("CartPole-v1").unwrapped.P
