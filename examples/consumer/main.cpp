// dojo from a project of one's own: a custom env registered and trained with DQN, then a Keras-style
// model fitted. Exit code 1 when either does not learn, so a broken install shows.
#include <dojo/nn/layers.h>
#include <dojo/nn/model.h>
#include <dojo/rl/dqn.h>
#include <dojo/rl/evaluation.h>
#include <torch/torch.h>

#include <iostream>

#include "corridor.h"

int main() {
  corridor::register_corridor();

  // DQN on the custom env, made by id like any registered one.
  dojo::rl::DQN agent(dojo::envs::EnvFactory("Corridor-v0", {.record_episode_statistics = true}),
                      dojo::rl::DQNOptions()
                          .gamma(0.9)
                          .learning_rate(1e-3)
                          .learning_starts(200)
                          .target_update_interval(100)
                          .exploration_fraction(0.3),
                      /*seed=*/0);
  dojo::rl::Callback none;
  agent.learn(2'000, none);
  auto env = dojo::envs::make("Corridor-v0");
  env->reset(1);
  const auto eval = dojo::rl::evaluate(agent, *env, 5);
  std::cout << "DQN on Corridor-v0: " << eval.mean << " over 5 episodes\n";

  // A Keras-style regression: y = x0 - 2 x1.
  torch::manual_seed(0);
  const auto x = torch::randn({512, 2});
  const auto y = (x.select(1, 0) - 2 * x.select(1, 1)).unsqueeze(1);
  dojo::nn::Sequential model;
  model.add(dojo::nn::Dense(16, {.activation = "relu", .input_shape = {2}}));
  model.add(dojo::nn::Dense(1));
  model.compile("adam", "mse");
  const auto history = model.fit(x, y, {.batch_size = 32, .epochs = 100, .verbose = 0});
  const double loss = history.history.at("loss").back();
  std::cout << "Dense regression: loss " << history.history.at("loss").front() << " -> " << loss << "\n";

  return eval.mean >= 1.0 && loss < 0.1 ? 0 : 1;
}
