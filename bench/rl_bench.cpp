// Env stepping (CartPole, MinAtar, MuJoCo, CarRacing), greedy action latency, the updates of DQN, PPO,
// SAC and TD3, and World Models' V, M and CMA-ES.
// Run: build/bench/dojo_bench [--benchmark_filter=...]; threads via DOJO_BENCH_THREADS (default 1).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>

#include "core/runtime.h"
#include "envs/atari_wrappers.h"
#include "envs/classic_control/cartpole.h"
#include "envs/pixels.h"
#include "envs/registry.h"
#include "envs/vector.h"
#include "nn/optim.h"
#include "rl/bc.h"
#include "rl/brac.h"
#include "rl/cmaes.h"
#include "rl/cql.h"
#include "rl/dataset.h"
#include "rl/dqn.h"
#include "rl/frame_replay.h"
#include "rl/offline.h"
#include "rl/ppo.h"
#include "rl/prioritized.h"
#include "rl/sac.h"
#include "rl/srl.h"
#include "rl/td3.h"
#include "rl/world_model.h"

namespace {

using namespace dojo;

rl::DQNOptions rlzoo_cartpole() {
  return rl::DQNOptions().learning_rate(2.3e-3).batch_size(64).buffer_size(100'000).net_arch({256, 256});
}

void BM_CartPoleStep(benchmark::State& state) {
  envs::CartPole env;
  env.reset(0);
  const auto left = torch::scalar_tensor(0, torch::kLong), right = torch::scalar_tensor(1, torch::kLong);
  std::int64_t t = 0;
  for (auto _ : state) {
    auto s = env.step((t++ & 1) ? left : right);
    if (s.terminated) env.reset();
    benchmark::DoNotOptimize(s.obs);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CartPoleStep);

void BM_CartPoleStepRegistered(benchmark::State& state) {  // with OrderEnforcing and TimeLimit
  auto env = envs::make("CartPole-v1");
  env->reset(0);
  const auto action = torch::scalar_tensor(1, torch::kLong);
  for (auto _ : state) {
    auto s = env->step(action);
    if (s.done()) env->reset();
    benchmark::DoNotOptimize(s.obs);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CartPoleStepRegistered);

// Random actions, resetting at each episode's end: one item per step.
void step_randomly(benchmark::State& state, envs::Env& env) {
  env.reset(0);
  std::mt19937_64 rng(0);
  for (auto _ : state) {
    auto s = env.step(envs::sample(env.action_space(), rng));
    if (s.done()) env.reset();
    benchmark::DoNotOptimize(s.obs);
  }
  state.SetItemsProcessed(state.iterations());
}

// CarRacing-v2 with random actions: Box2D's step, the car's wheels and the 96×96 picture every step
// (steps per second = items per second; resets generate new tracks).
void BM_CarRacingStep(benchmark::State& state) {
  auto env = envs::make("CarRacing-v2");
  step_randomly(state, *env);
}
BENCHMARK(BM_CarRacingStep);

// MinAtar games on their 10×10×C grid, or drawn as frames (frames per second = items per second).
void BM_MinAtarStep(benchmark::State& state, const char* id) {
  auto env = envs::make(id);
  step_randomly(state, *env);
}
BENCHMARK_CAPTURE(BM_MinAtarStep, Breakout, "MinAtar/Breakout-v1");
BENCHMARK_CAPTURE(BM_MinAtarStep, Freeway, "MinAtar/Freeway-v1");
BENCHMARK_CAPTURE(BM_MinAtarStep, Asterix, "MinAtar/Asterix-v1");
BENCHMARK_CAPTURE(BM_MinAtarStep, SpaceInvaders, "MinAtar/SpaceInvaders-v1");
BENCHMARK_CAPTURE(BM_MinAtarStep, Seaquest, "MinAtar/Seaquest-v1");
BENCHMARK_CAPTURE(BM_MinAtarStep, PixelBreakout, "Pixel/Breakout-v1");
BENCHMARK_CAPTURE(BM_MinAtarStep, PixelSeaquest, "Pixel/Seaquest-v1");

// Classic control seen through its picture (the S-RL setting): the step, render() at full size and
// the area resize to 64×64 RGB, two frames stacked.
void BM_PixelStep(benchmark::State& state, const char* id) {
  auto env = envs::pixel_observations(envs::make(id), {.size = 64, .frames = 2});
  step_randomly(state, *env);
}
BENCHMARK_CAPTURE(BM_PixelStep, CartPole, "CartPole-v1");
BENCHMARK_CAPTURE(BM_PixelStep, Pendulum, "Pendulum-v1");
BENCHMARK_CAPTURE(BM_PixelStep, MountainCar, "MountainCar-v0");
BENCHMARK_CAPTURE(BM_PixelStep, Acrobot, "Acrobot-v1");

// MuJoCo locomotion (frame skip 4 or 5 physics steps per env step), uniform random actions.
void BM_MujocoStep(benchmark::State& state, const char* id) {
  auto env = envs::make(id);
  step_randomly(state, *env);
}
BENCHMARK_CAPTURE(BM_MujocoStep, Hopper, "Hopper-v4");
BENCHMARK_CAPTURE(BM_MujocoStep, Walker2d, "Walker2d-v4");
BENCHMARK_CAPTURE(BM_MujocoStep, HalfCheetah, "HalfCheetah-v4");

// The whole Atari preprocessing (no-ops, skip 4 with max, clip, grayscale 84×84, stack 4) on pixel
// Breakout: items are agent steps, each of four frames.
void BM_AtariPreprocessingStep(benchmark::State& state) {
  auto env = envs::atari_preprocessing(envs::make("Pixel/Breakout-v1"));
  step_randomly(state, *env);
}
BENCHMARK(BM_AtariPreprocessingStep);

void BM_GreedyAction(benchmark::State& state) {
  rl::DQN agent("CartPole-v1", rlzoo_cartpole(), 0);
  const auto obs = torch::randn({4});
  for (auto _ : state) benchmark::DoNotOptimize(agent.greedy_action(obs));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GreedyAction);

void BM_DQNGradientStep(benchmark::State& state) {
  rl::DQN agent("CartPole-v1", rlzoo_cartpole(), 0);
  rl::ReplayBuffer replay(10'000, {4}, torch::kFloat32, {}, torch::kLong);
  for (int i = 0; i < 10'000; ++i) {
    replay.add(torch::randn({4}), torch::scalar_tensor(i % 2, torch::kLong), 1.0, torch::randn({4}),
               i % 50 == 0);
  }
  std::mt19937_64 rng(0);
  for (auto _ : state) benchmark::DoNotOptimize(agent.update(replay.sample(64, rng)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DQNGradientStep);

// One SAC or TD3 update on HalfCheetah-sized transitions (obs 17, action 6) from a 10k buffer:
// batch range(0), two hidden layers of range(1). {256, 256} is the figure (SB3's SAC sizes);
// {1, 8} is the same sequence of ops with almost no arithmetic: LibTorch's per-op overhead alone.
rl::ReplayBuffer halfcheetah_replay() {
  rl::ReplayBuffer replay(10'000, {17}, torch::kFloat32, {6}, torch::kFloat32);
  torch::manual_seed(0);
  for (int i = 0; i < 10'000; ++i) {
    replay.add(torch::randn({17}), torch::rand({6}) * 2 - 1, 1.0, torch::randn({17}), false);
  }
  return replay;
}

void BM_SACUpdate(benchmark::State& state) {
  rl::SAC agent("HalfCheetah-v4", rl::SACOptions().net_arch({state.range(1), state.range(1)}), 0);
  const auto replay = halfcheetah_replay();
  std::mt19937_64 rng(0);
  for (auto _ : state) benchmark::DoNotOptimize(agent.update(replay.sample(state.range(0), rng)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SACUpdate)->Args({256, 256})->Args({1, 8})->Unit(benchmark::kMicrosecond);

// TD3's update alternates: critics only, then critics + actor + both targets (policy_delay 2).
void BM_TD3Update(benchmark::State& state) {
  rl::TD3 agent("HalfCheetah-v4", rl::TD3Options().net_arch({state.range(1), state.range(1)}), 0);
  const auto replay = halfcheetah_replay();
  std::mt19937_64 rng(0);
  for (auto _ : state) benchmark::DoNotOptimize(agent.update(replay.sample(state.range(0), rng)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TD3Update)->Args({256, 256})->Args({1, 8})->Unit(benchmark::kMicrosecond);

// One gradient step of the offline agents on a HalfCheetah-v4-shaped dataset (10k random transitions,
// written once to a temporary D4RL file), batch 256, each with its paper's networks: BC (200-200), BRAC-v
// with KL from 4 samples (Q 300-300 × 2, π and b 200-200) and CQL (256-256, 10 + 10 + 10 actions).
const std::string& offline_bench_dataset() {
  static const std::string path = [] {
    rl::OfflineDataset d;
    const std::int64_t n = 10'000;
    d.observations = torch::randn({n, 17});
    d.next_observations = torch::randn({n, 17});
    d.actions = torch::rand({n, 6}) * 2 - 1;
    d.rewards = torch::randn({n});
    d.terminals = torch::zeros({n}, torch::kBool);
    d.timeouts = torch::zeros({n}, torch::kBool);
    d.metadata["env_id"] = "HalfCheetah-v4";
    const auto file = (std::filesystem::temp_directory_path() / "dojo_bench_offline.hdf5").string();
    rl::write_dataset(d, file);
    return file;
  }();
  return path;
}

template <class A, class O>
void offline_update(benchmark::State& state, O options) {
  A agent("HalfCheetah-v4", options.dataset(offline_bench_dataset()), 0);
  rl::OfflineData data(offline_bench_dataset(), *envs::make("HalfCheetah-v4"));
  std::mt19937_64 rng(0);
  for (auto _ : state) benchmark::DoNotOptimize(agent.update(data.sample(256, rng)));
  state.SetItemsProcessed(state.iterations());
}
void BM_BCUpdate(benchmark::State& state) { offline_update<rl::BC>(state, rl::BCOptions()); }
void BM_BRACvKLUpdate(benchmark::State& state) {
  offline_update<rl::BRAC>(state, rl::BRACOptions().value_penalty(true).divergence("kl").warm_start(0));
}
void BM_CQLUpdate(benchmark::State& state) { offline_update<rl::CQL>(state, rl::CQLOptions()); }
BENCHMARK(BM_BCUpdate)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BRACvKLUpdate)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CQLUpdate)->Unit(benchmark::kMicrosecond);

// The DQN both presets share for these benches: `network`, centred RMSProp (lr 2.5e-4, ε 0.01).
rl::DQNOptions centred_rmsprop_dqn(const std::string& network) {
  return rl::DQNOptions()
      .network(network)
      .optimizer("rmsprop")
      .rmsprop_centered(true)
      .optimizer_eps(0.01)
      .learning_rate(2.5e-4)
      .buffer_size(10'000);
}

// One DQN update with MinAtar's CNN on Breakout's uint8 grids (batch 32, centred RMSProp), and the
// greedy action on one grid: the two costs of a MinAtar training frame.
rl::DQN minatar_agent() { return rl::DQN("MinAtar/Breakout-v1", centred_rmsprop_dqn("minatar"), 0); }

void BM_DQNGradientStepMinAtar(benchmark::State& state) {
  auto agent = minatar_agent();
  rl::ReplayBuffer replay(10'000, {10, 10, 4}, torch::kUInt8, {}, torch::kLong);
  for (int i = 0; i < 10'000; ++i) {
    auto grid = (torch::rand({10, 10, 4}) < 0.1).to(torch::kUInt8);
    replay.add(grid, torch::scalar_tensor(i % 3, torch::kLong), 1.0, grid, i % 50 == 0);
  }
  std::mt19937_64 rng(0);
  for (auto _ : state) benchmark::DoNotOptimize(agent.update(replay.sample(32, rng)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DQNGradientStepMinAtar);

// The optimizer step alone on the MinAtar network's parameters (centred RMSProp): LibTorch's
// (arg 0) against dojo's fused one (arg 1).
void BM_RMSpropStepMinAtar(benchmark::State& state) {
  auto agent = minatar_agent();
  auto params = agent.q_net()->parameters();
  for (auto& p : params) p.mutable_grad() = torch::randn_like(p);
  const auto options = torch::optim::RMSpropOptions(2.5e-4).alpha(0.95).eps(0.01).centered(true);
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (state.range(0) == 0) {
    opt = std::make_unique<torch::optim::RMSprop>(params, options);
  } else {
    opt = std::make_unique<nn::FusedRMSprop>(params, options);
  }
  for (auto _ : state) opt->step();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RMSpropStepMinAtar)->Arg(0)->Arg(1);

// One DQN update with the Nature CNN (batch 32 of 84×84×4 uint8 stacks from the frame memory, centred
// RMSProp): the cost that bounds the `nature` preset's agent steps per second once learning starts.
void BM_DQNGradientStepNature(benchmark::State& state) {
  rl::DQN agent(envs::EnvFactory("Pixel/Breakout-v1").wrap(envs::atari_wrapper()),
                centred_rmsprop_dqn("nature"), 0);
  rl::FrameReplay replay(5'000, 84, 84, 4);
  const auto obs = torch::randint(0, 255, {84, 84, 4}, torch::kUInt8);
  replay.start(obs);
  for (int i = 0; i < 5'000; ++i) {
    if (i % 500 == 499) {
      replay.start(obs);
    } else {
      replay.add(i % 3, i % 7 == 0 ? 1.0 : 0.0, obs, false);
    }
  }
  std::mt19937_64 rng(0);
  for (auto _ : state) benchmark::DoNotOptimize(agent.update(replay.sample(32, rng)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DQNGradientStepNature)->Unit(benchmark::kMillisecond);

void BM_GreedyActionMinAtar(benchmark::State& state) {
  auto agent = minatar_agent();
  const auto grid = (torch::rand({10, 10, 4}) < 0.1).to(torch::kUInt8);
  for (auto _ : state) benchmark::DoNotOptimize(agent.greedy_action(grid));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GreedyActionMinAtar);

// A minibatch of 32 Atari transitions (84×84×4 stacks rebuilt from single frames), from 20k.
void BM_FrameReplaySample32(benchmark::State& state) {
  rl::FrameReplay replay(20'000, 84, 84, 4);
  auto obs = torch::randint(0, 255, {84, 84, 4}, torch::kUInt8);
  replay.start(obs);
  for (int i = 0; i < 20'000; ++i) {
    if (i % 500 == 499) {
      replay.start(obs);
    } else {
      replay.add(i % 4, 1.0, obs, false);
    }
  }
  std::mt19937_64 rng(0);
  for (auto _ : state) benchmark::DoNotOptimize(replay.sample(32, rng));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FrameReplaySample32);

void BM_ReplaySample64(benchmark::State& state) {
  rl::ReplayBuffer replay(100'000, {4}, torch::kFloat32, {}, torch::kLong);
  for (int i = 0; i < 100'000; ++i)
    replay.add(torch::randn({4}), torch::scalar_tensor(0, torch::kLong), 1.0, torch::randn({4}), false);
  std::mt19937_64 rng(0);
  for (auto _ : state) benchmark::DoNotOptimize(replay.sample(64, rng));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReplaySample64);

// Prioritized, 3-step minibatches of 32 MinAtar-sized transitions from a full 100k buffer (the
// minatar preset's): the sum-tree draws, the n-step walk and the gather, then the priority update.
void BM_PrioritizedNStepSample32(benchmark::State& state) {
  rl::ReplayBuffer replay(100'000, {10, 10, 4}, torch::kUInt8, {}, torch::kLong);
  rl::PrioritizedSampler per(100'000, {});
  const auto obs = torch::randint(0, 2, {10, 10, 4}, torch::kUInt8);
  std::mt19937_64 rng(0);
  for (int i = 0; i < 100'000; ++i) {
    per.added(replay.add(obs, torch::scalar_tensor(i % 3, torch::kLong), 1.0, obs, i % 200 == 199));
  }
  const auto errors = torch::rand({32});
  for (auto _ : state) {
    auto b = per.sample(replay, 32, 0.5, rng, rl::NStep{3, 0.99});
    per.update(b.slots, errors);
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PrioritizedNStepSample32);

// CartPole through make_vec: state.range(0) envs, synchronous (range(1) = 0) or on the thread pool
// (range(1) = 1, one worker per core), random actions; items are env steps.
void BM_VectorCartPole(benchmark::State& state) {
  const auto n = state.range(0);
  auto vec = envs::make_vec("CartPole-v1", n, {.async = state.range(1) == 1, .n_threads = 0, .make = {}});
  vec->reset(0);
  std::mt19937_64 rng(0);
  std::vector<torch::Tensor> actions;
  for (int k = 0; k < 64; ++k) actions.push_back(torch::randint(0, 2, {n}, torch::kLong));
  std::size_t k = 0;
  for (auto _ : state) benchmark::DoNotOptimize(vec->step(actions[k++ % actions.size()]).reward);
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_VectorCartPole)->ArgsProduct({{1, 8, 64}, {0, 1}})->UseRealTime();

// One PPO iteration with ppo/cartpole's settings: a rollout of 32 steps in 8 envs, then 20 epochs
// of one 256-sample minibatch. Items are samples through the update (256 × 20 per iteration).
void BM_PPOIterationCartPole(benchmark::State& state) {
  rl::PPO agent(
      "CartPole-v1",
      rl::PPOOptions().n_envs(8).n_steps(32).batch_size(256).n_epochs(20).gae_lambda(0.8).gamma(0.98), 0);
  rl::Callback none;
  std::int64_t total = 0;
  for (auto _ : state) agent.learn(total += 256, none);
  state.SetItemsProcessed(state.iterations() * 256 * 20);
}
BENCHMARK(BM_PPOIterationCartPole)->UseRealTime();

// World Models. V's encoder on a batch of 64 × 64 frames (items: frames); the controller stage
// encodes its whole population's frames as one batch each step.
void BM_VaeEncode(benchmark::State& state) {
  torch::manual_seed(0);
  rl::ConvVae vae(32);
  vae->eval();
  const auto frames = torch::randint(0, 256, {state.range(0), 64, 64, 3}).to(torch::kUInt8);
  for (auto _ : state) benchmark::DoNotOptimize(vae->encode(frames).first.data_ptr());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_VaeEncode)->Arg(1)->Arg(96)->UseRealTime();

// One V training step on a batch of 100 frames (encode, sample, decode, backward, Adam); items: frames.
void BM_VaeTrainStep(benchmark::State& state) {
  torch::manual_seed(0);
  rl::ConvVae vae(32);
  torch::optim::Adam optimizer(vae->parameters(), 1e-3);
  const auto frames = torch::randint(0, 256, {100, 64, 64, 3}).to(torch::kUInt8);
  for (auto _ : state) {
    const auto l = vae->losses(frames, 16);
    optimizer.zero_grad();
    l.total.backward();
    optimizer.step();
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_VaeTrainStep)->UseRealTime();

// M's step for a batch of envs (LSTM 256 and the mixture head); items: env steps.
void BM_MdnStep(benchmark::State& state) {
  torch::NoGradGuard no_grad;
  rl::MdnRnn mdn;
  const auto n = state.range(0);
  auto s = mdn->initial_state(n);
  const auto z = torch::randn({n, 32}), a = torch::rand({n, 3});
  for (auto _ : state) s = mdn->step(z, a, s).state;
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_MdnStep)->Arg(1)->Arg(96)->UseRealTime();

// One M training step on 32 sequences of 200 (items: sequence positions).
void BM_MdnTrainStep(benchmark::State& state) {
  torch::manual_seed(0);
  rl::MdnRnn mdn;
  torch::optim::Adam optimizer(mdn->parameters(), 1e-3);
  const auto z = torch::randn({32, 200, 32}), a = torch::rand({32, 200, 3}), mask = torch::ones({32, 200});
  for (auto _ : state) {
    const auto loss = mdn->latent_nll(mdn->forward(z, a), z, mask);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  state.SetItemsProcessed(state.iterations() * 32 * 200);
}
BENCHMARK(BM_MdnTrainStep)->UseRealTime();

// One SRL training step (objective, backward, Adam) on 128 transitions of pixel CartPole (two stacked
// 64 × 64 RGB frames): the autoencoder alone (0), and the S-RL Toolbox's best combination,
// autoencoder + inverse + forward (1). Items: transitions, each two frame stacks.
void BM_SrlTrainStep(benchmark::State& state) {
  torch::manual_seed(0);
  const auto losses = state.range(0) == 0 ? std::vector<std::string>{"autoencoder"}
                                          : std::vector<std::string>{"autoencoder", "inverse", "forward"};
  rl::SrlModel model(envs::Box(0.0, 255.0, {64, 64, 6}, torch::kUInt8), envs::Discrete{2},
                     rl::SrlOptions().losses(losses));
  torch::optim::Adam optimizer(model->parameters(), 1e-3);
  const auto frames = torch::randint(0, 256, {128, 64, 64, 6}).to(torch::kUInt8);
  const auto batch =
      model->batch(frames, frames.roll(1, 0), torch::randint(0, 2, {128}, torch::kLong), torch::zeros({128}));
  for (auto _ : state) {
    auto loss = model->objective().eval(batch);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  state.SetItemsProcessed(state.iterations() * 128);
}
BENCHMARK(BM_SrlTrainStep)->Arg(0)->Arg(1)->UseRealTime();

// CMA-ES's own cost per generation for the controller's 867 parameters and 24 candidates (ask, tell
// with its eigendecomposition); the rollouts are the rest of a generation's wall time.
void BM_CmaEsGeneration867(benchmark::State& state) {
  rl::CmaEs es(std::vector<double>(867, 0.0), 0.1, {.population = 24});
  std::vector<double> fitness(24);
  for (auto _ : state) {
    const auto& xs = es.ask();
    for (std::size_t k = 0; k < xs.size(); ++k) fitness[k] = rl::sphere(xs[k]);
    es.tell(fitness);
  }
}
BENCHMARK(BM_CmaEsGeneration867)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  const char* threads = std::getenv("DOJO_BENCH_THREADS");
  dojo::core::configure_compute(threads ? std::atoi(threads) : 1);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
