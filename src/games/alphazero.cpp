#include "games/alphazero.h"

#include <functional>
#include <thread>

#include "core/distributed.h"
#include "core/error.h"
#include "core/seed.h"

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

namespace {

class SharedClient final : public Evaluator {
 public:
  SharedClient(std::function<std::vector<Evaluation>(const std::vector<const State*>&)> submit)
      : submit_(std::move(submit)) {}
  std::vector<Evaluation> evaluate(const std::vector<const State*>& states) override {
    return submit_(states);
  }

 private:
  std::function<std::vector<Evaluation>(const std::vector<const State*>&)> submit_;
};

}  // namespace

SharedEvaluator::SharedEvaluator(std::shared_ptr<Evaluator> inner, int clients)
    : inner_(std::move(inner)), requests_(static_cast<std::size_t>(clients)), active_(clients) {
  if (clients < 1)
    throw Error("shared evaluator for " + std::to_string(clients) + " clients: expected 1 or more");
}

std::shared_ptr<Evaluator> SharedEvaluator::client(int k) {
  return std::make_shared<SharedClient>([this, k](const auto& states) { return submit(k, states); });
}

std::vector<Evaluation> SharedEvaluator::submit(int k, const std::vector<const State*>& states) {
  std::unique_lock lock(mutex_);
  auto& r = requests_[static_cast<std::size_t>(k)];
  r.states = &states;
  r.done = false;
  if (++waiting_ == active_)
    run_batch(lock);
  else
    cv_.wait(lock, [&] { return r.done; });
  if (r.error) std::rethrow_exception(r.error);
  return std::move(r.result);
}

void SharedEvaluator::leave(int /*k*/) {
  std::unique_lock lock(mutex_);
  --active_;
  if (active_ > 0 && waiting_ == active_) run_batch(lock);
}

void SharedEvaluator::run_batch(std::unique_lock<std::mutex>& lock) {
  // Every other active client waits, so nobody touches the requests while the lock is released.
  std::vector<const State*> all;
  for (const auto& r : requests_)
    if (r.states) all.insert(all.end(), r.states->begin(), r.states->end());
  lock.unlock();
  std::vector<Evaluation> out;
  std::exception_ptr error;
  try {
    out = inner_->evaluate(all);
  } catch (...) {
    error = std::current_exception();
  }
  lock.lock();
  std::size_t at = 0;
  for (auto& r : requests_) {
    if (!r.states) continue;
    const auto n = r.states->size();
    if (error)
      r.error = error;
    else
      r.result.assign(std::make_move_iterator(out.begin() + static_cast<long>(at)),
                      std::make_move_iterator(out.begin() + static_cast<long>(at + n)));
    at += n;
    r.states = nullptr;
    r.done = true;
  }
  ++batches_;
  evaluations_ += static_cast<std::int64_t>(all.size());
  waiting_ = 0;
  cv_.notify_all();
}

std::vector<SelfPlayGame> self_play_games(const Game& game, std::shared_ptr<Evaluator> evaluator,
                                          const SelfPlayOptions& options, int count, int actors,
                                          std::uint64_t seed, int first, int stride) {
  if (count < 0 || actors < 1)
    throw Error("self-play of " + std::to_string(count) + " games on " + std::to_string(actors) +
                " actors: expected 0 or more games and 1 or more actors");
  if (first < 0 || stride < 1) throw Error("self-play: expected first >= 0 and stride >= 1");
  // This process's games: first, first + stride, ... below count.
  const int mine = first < count ? (count - first + stride - 1) / stride : 0;
  if (mine == 0) return {};
  actors = std::max(1, std::min(actors, mine));
  std::vector<SelfPlayGame> games(static_cast<std::size_t>(mine));
  SharedEvaluator shared(std::move(evaluator), actors);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(actors));
  std::vector<std::thread> threads;
  for (int k = 0; k < actors; ++k) {
    threads.emplace_back([&, k] {
      try {
        const auto client = shared.client(k);
        for (int j = k; j < mine; j += actors)
          games[static_cast<std::size_t>(j)] = self_play_game(
              game, client, options,
              core::derive_seed(seed, "self-play", static_cast<std::uint64_t>(first + j * stride)));
      } catch (...) {
        errors[static_cast<std::size_t>(k)] = std::current_exception();
      }
      shared.leave(k);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return games;
}

std::vector<SelfPlayGame> gather_games(const Game& game, std::vector<SelfPlayGame> mine, int count) {
  auto* group = core::process_group();
  if (group == nullptr || group->size() <= 1) return mine;
  const int rank = group->rank(), world = group->size();
  // An allgather as two sums of zero-filled tensors in which each rank writes only its own games:
  // first each game's length and returns, then one row per position (observation, search policy,
  // value, move played).
  const auto shape = game.observation_shape();
  const std::int64_t size = static_cast<std::int64_t>(shape[0]) * shape[1] * shape[2];
  const std::int64_t actions = game.num_actions(), width = size + actions + 2;
  std::vector<torch::Tensor> heads{torch::zeros({count, 3}, torch::kDouble)};
  for (std::size_t j = 0; j < mine.size(); ++j) {
    const auto i = rank + static_cast<std::int64_t>(j) * world;
    heads[0][i][0] = static_cast<double>(mine[j].samples.size());
    heads[0][i][1] = mine[j].returns[0];
    heads[0][i][2] = mine[j].returns[1];
  }
  group->allreduce_sum(heads);
  const auto head = heads[0].contiguous();
  const auto* h = head.data_ptr<double>();
  std::vector<std::int64_t> offset(static_cast<std::size_t>(count) + 1, 0);
  for (int i = 0; i < count; ++i)
    offset[static_cast<std::size_t>(i) + 1] =
        offset[static_cast<std::size_t>(i)] + static_cast<std::int64_t>(h[3 * i]);
  std::vector<torch::Tensor> rows{torch::zeros({offset.back(), width})};
  auto* r = rows[0].data_ptr<float>();
  for (std::size_t j = 0; j < mine.size(); ++j) {
    auto* row = r + offset[static_cast<std::size_t>(rank) + j * static_cast<std::size_t>(world)] * width;
    for (std::size_t t = 0; t < mine[j].samples.size(); ++t, row += width) {
      const auto& s = mine[j].samples[t];
      std::copy(s.observation.begin(), s.observation.end(), row);
      std::copy(s.policy.begin(), s.policy.end(), row + size);
      row[size + actions] = s.value;
      row[size + actions + 1] = static_cast<float>(mine[j].moves[t]);
    }
  }
  group->allreduce_sum(rows);
  r = rows[0].data_ptr<float>();
  std::vector<SelfPlayGame> all(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    auto& g = all[static_cast<std::size_t>(i)];
    g.returns = {h[3 * i + 1], h[3 * i + 2]};
    for (auto k = offset[static_cast<std::size_t>(i)]; k < offset[static_cast<std::size_t>(i) + 1]; ++k) {
      const float* row = r + k * width;
      Sample s;
      s.observation.assign(row, row + size);
      s.policy.assign(row + size, row + size + actions);
      s.value = row[size + actions];
      g.samples.push_back(std::move(s));
      g.moves.push_back(static_cast<Action>(row[size + actions + 1]));
    }
  }
  return all;
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
