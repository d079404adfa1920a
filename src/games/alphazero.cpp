#include "games/alphazero.h"

#include "core/error.h"

namespace dojo::games {

SelfPlayGame self_play_game(const Game& game, std::shared_ptr<Evaluator> evaluator,
                            const SelfPlayOptions& options, std::uint64_t seed) {
  Mcts mcts(options.mcts, std::move(evaluator), seed);
  const auto shape = game.observation_shape();
  const auto size = static_cast<std::size_t>(shape[0] * shape[1] * shape[2]);
  SelfPlayGame out;
  std::vector<int> movers;
  auto state = game.new_initial_state();
  while (!state->is_terminal()) {
    const auto result = mcts.search(*state);
    Sample s;
    s.observation.resize(size);
    state->observation(s.observation.data());
    s.policy = result.policy;
    out.samples.push_back(std::move(s));
    movers.push_back(state->current_player());
    const double temperature = static_cast<int>(out.moves.size()) < options.temperature_moves ? 1.0 : 0.0;
    const Action a = mcts.choose(result, temperature);
    out.moves.push_back(a);
    state->apply_action(a);
  }
  out.returns = state->returns();
  for (std::size_t i = 0; i < out.samples.size(); ++i)
    out.samples[i].value = static_cast<float>(out.returns[static_cast<std::size_t>(movers[i])]);
  return out;
}

ReplayWindow::ReplayWindow(std::size_t capacity) : capacity_(capacity) {
  if (capacity == 0) throw Error("replay window of 0 positions: expected at least 1");
}

void ReplayWindow::add(const std::vector<Sample>& samples) {
  for (const auto& s : samples) {
    samples_.push_back(s);
    if (samples_.size() > capacity_) samples_.pop_front();
  }
}

Batch ReplayWindow::sample(const Game& game, std::int64_t n, std::mt19937_64& rng) const {
  if (samples_.empty()) throw Error("replay window is empty: nothing to sample");
  const auto shape = game.observation_shape();
  const std::int64_t size = static_cast<std::int64_t>(shape[0]) * shape[1] * shape[2];
  const std::int64_t actions = game.num_actions();
  auto obs = torch::empty({n, shape[0], shape[1], shape[2]});
  auto policies = torch::empty({n, actions});
  auto values = torch::empty({n, 1});
  std::uniform_int_distribution<std::size_t> pick(0, samples_.size() - 1);
  std::uniform_int_distribution<int> symmetry(0, game.num_symmetries() - 1);
  for (std::int64_t i = 0; i < n; ++i) {
    const Sample& s = samples_[pick(rng)];
    game.apply_symmetry(symmetry(rng), s.observation.data(), s.policy.data(),
                        obs.data_ptr<float>() + i * size, policies.data_ptr<float>() + i * actions);
    values.data_ptr<float>()[i] = s.value;
  }
  return {obs.permute({0, 2, 3, 1}).contiguous(), policies, values};
}

Losses train_step(nn::Model& model, torch::optim::Optimizer& optimizer, const Batch& batch) {
  model->train();
  const auto device = model->device();
  const auto out = model->predict_batch({batch.observations.to(device)});
  const auto policy_loss = -(batch.policies.to(device) * torch::log_softmax(out.at(0), 1)).sum(1).mean();
  const auto value_loss = (out.at(1) - batch.values.to(device)).pow(2).mean();
  optimizer.zero_grad();
  (policy_loss + value_loss).backward();
  optimizer.step();
  return {policy_loss.item<double>(), value_loss.item<double>()};
}

}  // namespace dojo::games
