// SAC and TD3: the pieces pinned against hand-computed values (action scaling, the clipped double-Q
// target with its entropy term, α's loss and step, TD3's smoothed target action and delayed updates,
// gSDE's held noise), determinism, checkpoints and the env checks.
#include "rl/continuous.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "envs/registry.h"
#include "rl/callbacks.h"
#include "rl/sac.h"
#include "rl/td3.h"

namespace dojo::rl {
namespace {

// A batch of Pendulum-shaped transitions (obs 3, action 1 in [-1, 1]) drawn from a fixed generator.
Batch pendulum_batch(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  Batch b;
  b.obs = torch::randn({n, 3});
  b.action = torch::rand({n, 1}) * 2 - 1;
  b.reward = -torch::rand({n}) * 10;
  b.next_obs = torch::randn({n, 3});
  b.terminated = (torch::rand({n}) < 0.2).to(torch::kFloat32);
  return b;
}

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().clone());
  return out;
}

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i].detach())) return false;
  return true;
}

TEST(ActionScaler, MapsTheUnitCubeOntoTheBoxAndBack) {
  const ActionScaler s(envs::Box({-2.0, 0.0}, {2.0, 1.0}, {2}));
  EXPECT_EQ(s.dim(), 2);
  const auto env = s.to_env(torch::tensor({-1.0f, 0.5f}));
  EXPECT_FLOAT_EQ(env[0].item<float>(), -2.0f);
  EXPECT_FLOAT_EQ(env[1].item<float>(), 0.75f);  // 0 + (0.5 + 1)/2 · 1
  const auto batch = torch::tensor({{1.0f, -1.0f}, {0.0f, 0.0f}});
  EXPECT_TRUE(torch::allclose(s.to_env(batch), torch::tensor({{2.0f, 0.0f}, {0.0f, 0.5f}})));
  EXPECT_TRUE(torch::allclose(s.to_unit(s.to_env(batch)), batch));
}

TEST(ContinuousEnvCheck, NamesTheAlgorithmAndTheSpace) {
  try {
    SAC("CartPole-v1", SACOptions(), 0);
    FAIL() << "SAC accepted a Discrete action space";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("sac"), std::string::npos) << what;
    EXPECT_NE(what.find("Discrete(2)"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  EXPECT_THROW(TD3("MinAtar/Breakout-v1", TD3Options(), 0), Error);
  EXPECT_THROW(SAC("Pendulum-v1", SACOptions().ent_coef("warm"), 0), Error);
  EXPECT_THROW(SAC("Pendulum-v1", SACOptions().target_entropy("high"), 0), Error);
  EXPECT_THROW(SAC("Pendulum-v1", SACOptions().noise_type("pink"), 0), Error);
}

TEST(ClippedDoubleQTarget, TakesTheSmallerCriticAndSubtractsTheEntropyTerm) {
  const auto d = torch::kDouble;
  const auto r = torch::tensor({1.0, -2.0, 0.5}, d);
  const auto done = torch::tensor({0.0, 0.0, 1.0}, d);
  const auto q1 = torch::tensor({10.0, 3.0, 7.0}, d);
  const auto q2 = torch::tensor({8.0, 4.0, 9.0}, d);
  const auto logp = torch::tensor({-1.5, 0.25, 2.0}, d);
  // y_0 = 1 + 0.9 (8 − 0.2·(−1.5)) = 8.47; y_1 = −2 + 0.9 (3 − 0.2·0.25) = 0.655; y_2 = 0.5 (terminal).
  const auto y = clipped_double_q_target(r, done, 0.9, q1, q2, logp, 0.2);
  EXPECT_TRUE(torch::allclose(y, torch::tensor({8.47, 0.655, 0.5}, d), 1e-12, 1e-12)) << y;
  // TD3's: no entropy term.
  const auto y_td3 = clipped_double_q_target(r, done, 0.9, q1, q2);
  EXPECT_TRUE(torch::allclose(y_td3, torch::tensor({8.2, 0.7, 0.5}, d), 1e-12, 1e-12)) << y_td3;
}

TEST(EntropyCoefLoss, PushesAlphaTowardsTheTargetEntropy) {
  // log α = log 0.5; log π = (−0.5, 1.5), target −1: loss = −log 0.5 · mean(−1.5, 0.5) = log 0.5 · 0.5.
  const auto log_alpha =
      torch::full({1}, std::log(0.5), torch::TensorOptions().dtype(torch::kDouble).requires_grad(true));
  const auto log_prob = torch::tensor({-0.5, 1.5}, torch::kDouble);
  const auto loss = entropy_coef_loss(log_alpha, log_prob, -1.0);
  EXPECT_NEAR(loss.item<double>(), std::log(0.5) * 0.5, 1e-12);
  loss.backward();
  // ∂/∂ log α = −mean(log π + H̄) = 0.5 > 0: the entropy estimate −mean log π = −0.5 is above the
  // target −1, so the policy is random enough and gradient descent lowers α.
  EXPECT_NEAR(log_alpha.grad().item<double>(), 0.5, 1e-12);
}

SACOptions small_sac() {
  return SACOptions().net_arch({32, 32}).buffer_size(5000).learning_starts(100).batch_size(32).learning_rate(
      1e-3);
}

TEST(SAC, AlphasFirstAdamStepMovesLogAlphaByTheLearningRateAgainstItsGradient) {
  SAC agent("Pendulum-v1", small_sac().ent_coef("auto_0.5"), 0);
  EXPECT_NEAR(agent.ent_coef(), 0.5, 1e-7);        // log α is a float32 parameter
  EXPECT_DOUBLE_EQ(agent.target_entropy(), -1.0);  // −|A|
  const auto out = agent.update(pendulum_batch(32, 1));
  EXPECT_NEAR(out.at("ent_coef"), 0.5, 1e-7);  // the α that weighted this step's losses
  // ent_coef_loss = −log 0.5 · (mean log π + H̄), so its sign gives the gradient's; Adam's first step
  // moves log α by the learning rate against the gradient's sign.
  const double m_plus_target = out.at("ent_coef_loss") / -std::log(0.5);
  const double gradient = -m_plus_target;
  EXPECT_NEAR(std::log(agent.ent_coef()), std::log(0.5) - 1e-3 * (gradient > 0 ? 1 : -1), 1e-7);
  // A fixed coefficient never moves.
  SAC fixed("Pendulum-v1", small_sac().ent_coef("0.1"), 0);
  fixed.update(pendulum_batch(32, 1));
  EXPECT_DOUBLE_EQ(fixed.ent_coef(), 0.1);
}

TEST(SAC, CriticLossIsHalfTheSumOfBothCriticsErrorsAndTheTargetFollowsByTau) {
  SAC agent("Pendulum-v1", small_sac().ent_coef("0.2").tau(0.25), 0);
  const auto target_before = copies(agent.critic_target()->parameters());
  const auto critic_before = copies(agent.critic()->parameters());
  const auto actor_before = copies(agent.actor()->parameters());
  // Every transition terminal: y = r, so the loss can be written out from the critics before the step.
  auto batch = pendulum_batch(32, 2);
  batch.terminated = torch::ones({32});
  torch::Tensor expected_loss;
  {
    torch::NoGradGuard no_grad;
    const auto [q1, q2] = agent.critic()->forward(batch.obs, batch.action);
    expected_loss = 0.5 * ((q1 - batch.reward).pow(2).mean() + (q2 - batch.reward).pow(2).mean());
  }
  EXPECT_NEAR(agent.update(batch).at("critic_loss"), expected_loss.item<double>(),
              1e-4 * expected_loss.item<double>());
  // Every parameter moved; the target moved a quarter of the way to the updated critic.
  EXPECT_FALSE(same(actor_before, agent.actor()->parameters()));
  const auto critic_after = agent.critic()->parameters();
  const auto target_after = agent.critic_target()->parameters();
  for (std::size_t i = 0; i < critic_after.size(); ++i) {
    EXPECT_FALSE(torch::equal(critic_before[i], critic_after[i].detach()));
    const auto expected = 0.25 * critic_after[i].detach() + 0.75 * target_before[i];
    EXPECT_TRUE(torch::allclose(target_after[i], expected, 1e-6, 1e-6));
  }
}

TEST(SAC, TheSameSeedGivesTheSameRunAndACheckpointActsTheSame) {
  auto run = [](std::uint64_t seed) {
    auto agent = std::make_unique<SAC>("Pendulum-v1", small_sac(), seed);
    Callback none;
    agent->learn(300, none);
    return agent;
  };
  const auto a = run(0), b = run(0), c = run(1);
  EXPECT_EQ(a->num_timesteps(), 300);
  EXPECT_EQ(a->replay().size(), 300);
  EXPECT_TRUE(same(copies(a->actor()->parameters()), b->actor()->parameters()));
  EXPECT_FALSE(same(copies(a->actor()->parameters()), c->actor()->parameters()));
  // Stored actions are the policy's [-1, 1] ones, not the env's [-2, 2] torques.
  const auto stored = a->replay().gather(torch::arange(300)).action;
  EXPECT_LE(stored.abs().max().item<float>(), 1.0f);
  EXPECT_GT(stored.abs().max().item<float>(), 0.5f);

  const auto path =
      std::filesystem::temp_directory_path() / ("dojo_sac_" + std::to_string(::getpid()) + ".ckpt");
  a->save(path);
  SAC loaded("Pendulum-v1", small_sac(), 7);
  loaded.load(path);
  const auto obs = torch::randn({5, 3});
  EXPECT_TRUE(torch::equal(a->act_batch(obs), loaded.act_batch(obs)));
  EXPECT_DOUBLE_EQ(a->ent_coef(), loaded.ent_coef());
  const auto greedy = a->act_batch(obs);
  EXPECT_LE(greedy.abs().max().item<float>(), 2.0f);  // env units
  std::filesystem::remove(path);
}

TEST(SAC, GeneralisedStateDependentExplorationHoldsItsNoiseUntilResampled) {
  SAC agent("MountainCarContinuous-v0", small_sac().use_sde(true).log_std_init(-1.0), 0);
  const auto obs = torch::tensor({{-0.5f, 0.01f}});
  const auto a1 = agent.act_batch(obs, false), a2 = agent.act_batch(obs, false);
  EXPECT_TRUE(torch::equal(a1, a2));  // the same noise matrix: the same action for the same state
  agent.reset_noise();
  EXPECT_FALSE(torch::equal(a1, agent.act_batch(obs, false)));
  EXPECT_FALSE(torch::equal(a1, agent.act_batch(obs, true)));
  // log σ is a matrix [latent, |A|] that learns.
  EXPECT_EQ(agent.actor()->sde_log_std.sizes(), torch::IntArrayRef({32, 1}));
  const auto before = agent.actor()->sde_log_std.detach().clone();
  Batch b;
  torch::manual_seed(3);
  b.obs = torch::randn({16, 2});
  b.action = torch::rand({16, 1}) * 2 - 1;
  b.reward = torch::randn({16});
  b.next_obs = torch::randn({16, 2});
  b.terminated = torch::zeros({16});
  agent.update(b);
  EXPECT_FALSE(torch::equal(before, agent.actor()->sde_log_std.detach()));
}

TD3Options small_td3() {
  return TD3Options().net_arch({32, 32}).buffer_size(5000).learning_starts(100).batch_size(32);
}

TEST(TD3, TheTargetActionIsSmoothedByClippedNoiseAndStaysInTheBox) {
  TD3 agent("Pendulum-v1", small_td3().target_noise_clip(0.5), 0);
  const auto next_obs = torch::randn({4, 3});
  const auto mu = agent.actor_target()->forward(next_obs).detach();
  const auto eps = torch::tensor({{0.1f}, {-0.9f}, {2.0f}, {-0.3f}});
  const auto clipped = torch::tensor({{0.1f}, {-0.5f}, {0.5f}, {-0.3f}});
  const auto expected = torch::clamp(mu + clipped, -1.0, 1.0);
  EXPECT_TRUE(torch::allclose(agent.target_action(next_obs, eps), expected));
  // However far the noise, the action stays in [-1, 1]: μ̄ is in (−1, 1) and the noise clip 0.5.
  const auto far = agent.target_action(next_obs, torch::full({4, 1}, 100.0f));
  EXPECT_TRUE(torch::allclose(far, torch::clamp(mu + 0.5, -1.0, 1.0)));
  TD3 wide("Pendulum-v1", small_td3().target_noise_clip(3.0), 0);
  EXPECT_TRUE(torch::equal(wide.target_action(next_obs, torch::full({4, 1}, 2.5f)), torch::ones({4, 1})));
  EXPECT_TRUE(torch::equal(wide.target_action(next_obs, torch::full({4, 1}, -2.5f)), -torch::ones({4, 1})));
}

TEST(TD3, TheActorAndTheTargetsMoveOnlyEveryPolicyDelayUpdates) {
  TD3 agent("Pendulum-v1", small_td3().policy_delay(2).tau(0.5), 0);
  const auto batch = pendulum_batch(32, 4);
  const auto actor0 = copies(agent.actor()->parameters());
  const auto actor_target0 = copies(agent.actor_target()->parameters());
  const auto critic_target0 = copies(agent.critic_target()->parameters());
  const auto critic0 = copies(agent.critic()->parameters());

  auto out = agent.update(batch);  // update 1: critics only
  EXPECT_EQ(out.count("actor_loss"), 0u);
  EXPECT_FALSE(same(critic0, agent.critic()->parameters()));
  EXPECT_TRUE(same(actor0, agent.actor()->parameters()));
  EXPECT_TRUE(same(actor_target0, agent.actor_target()->parameters()));
  EXPECT_TRUE(same(critic_target0, agent.critic_target()->parameters()));

  out = agent.update(batch);  // update 2: the actor, then both targets by τ
  EXPECT_EQ(out.count("actor_loss"), 1u);
  EXPECT_FALSE(same(actor0, agent.actor()->parameters()));
  const auto actor = agent.actor()->parameters();
  const auto actor_target = agent.actor_target()->parameters();
  for (std::size_t i = 0; i < actor.size(); ++i) {
    EXPECT_TRUE(
        torch::allclose(actor_target[i], 0.5 * actor[i].detach() + 0.5 * actor_target0[i], 1e-6, 1e-6));
  }
  const auto critic = agent.critic()->parameters();
  const auto critic_target = agent.critic_target()->parameters();
  for (std::size_t i = 0; i < critic.size(); ++i) {
    EXPECT_TRUE(
        torch::allclose(critic_target[i], 0.5 * critic[i].detach() + 0.5 * critic_target0[i], 1e-6, 1e-6));
  }
  EXPECT_EQ(agent.n_updates(), 2);
}

TEST(TD3, ExploresWithGaussianNoiseAroundTheDeterministicPolicy) {
  TD3 agent("Pendulum-v1", small_td3().noise_type("normal").noise_std(0.1), 0);
  const auto obs = torch::randn({1, 3});
  const auto greedy = agent.act_batch(obs, true);
  EXPECT_TRUE(torch::equal(greedy, agent.act_batch(obs, true)));
  const auto noisy = agent.act_batch(obs, false);
  EXPECT_FALSE(torch::equal(greedy, noisy));
  EXPECT_LT((greedy - noisy).abs().item<float>(), 2.0f * 0.5f);  // σ 0.1 in [-1, 1] units, ×2 for [-2, 2]
}

TEST(ActionNoise, OrnsteinUhlenbeckIsCorrelatedAndResets) {
  ActionNoise ou("ornstein-uhlenbeck", 0.3, 1);
  std::mt19937_64 rng(0);
  const double first = ou.sample(rng).item<float>();
  const double second = ou.sample(rng).item<float>();
  // x_1 = σ √dt ε_1 (from 0); x_2 = x_1 (1 − θ dt) + σ √dt ε_2: |x_1| ≤ 5σ√dt and x_2 stays near x_1.
  EXPECT_LT(std::abs(first), 5 * 0.3 * 0.1);
  EXPECT_LT(std::abs(second - first * (1 - 0.15 * 1e-2)), 5 * 0.3 * 0.1);
  ou.reset();
  std::mt19937_64 again(0);
  EXPECT_FLOAT_EQ(ou.sample(again).item<float>(), static_cast<float>(first));
  ActionNoise none("none", 0.3, 2);
  EXPECT_FALSE(none.active());
}

}  // namespace
}  // namespace dojo::rl
