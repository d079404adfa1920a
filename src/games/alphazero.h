// AlphaZero's parts (Silver et al. 2018): self-play games searched by MCTS with the current network,
// each position kept with the search's policy and the game's final outcome for the player to move;
// a replay window of the latest positions, sampled under a random board symmetry; and the learner's
// step, cross-entropy to the search policy plus squared error to the outcome (weight decay in the
// optimiser).
#pragma once
#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <vector>

#include "core/export.h"
#include "games/game.h"
#include "games/mcts.h"
#include "nn/model.h"

DOJO_PUBLIC_BEGIN
namespace dojo::games {

struct Sample {
  std::vector<float> observation;  // [C, H, W], the mover's view
  std::vector<float> policy;       // the search's policy over the actions
  float value = 0.0f;              // the game's outcome for the player to move here
};

struct SelfPlayOptions {
  MctsOptions mcts;            // rule puct, root noise on, as self-play wants
  int temperature_moves = 10;  // moves sampled by visit counts (temperature 1) before playing the best
};

struct SelfPlayGame {
  std::vector<Sample> samples;
  std::array<double, 2> returns{};
  std::vector<Action> moves;
};

SelfPlayGame self_play_game(const Game& game, std::shared_ptr<Evaluator> evaluator,
                            const SelfPlayOptions& options, std::uint64_t seed);

// Leaves of several searches on threads evaluated together: a client's call blocks until every client
// still playing has a request waiting, then one call of the inner evaluator (on the last caller's
// thread) serves them all, in client order — so each batch, and so each game, is the same whatever
// the threads' timing.
class SharedEvaluator {
 public:
  SharedEvaluator(std::shared_ptr<Evaluator> inner, int clients);
  // The Evaluator for client k's searches (0 <= k < clients).
  std::shared_ptr<Evaluator> client(int k);
  // Client k makes no more requests: the others stop waiting for it.
  void leave(int k);
  std::int64_t batches() const { return batches_; }
  std::int64_t evaluations() const { return evaluations_; }

 private:
  std::vector<Evaluation> submit(int k, const std::vector<const State*>& states);
  void run_batch(std::unique_lock<std::mutex>& lock);  // called holding the lock

  struct Request {
    const std::vector<const State*>* states = nullptr;
    std::vector<Evaluation> result;
    std::exception_ptr error;
    bool done = false;
  };
  std::shared_ptr<Evaluator> inner_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Request> requests_;
  int active_, waiting_ = 0;
  std::int64_t batches_ = 0, evaluations_ = 0;
};

// `count` games of self-play on `actors` threads sharing one batched evaluator; game i is seeded by
// (seed, i) and played by actor i mod actors, so the games depend only on the seed. In game order.
// Several processes share the games: this one plays games first, first + stride, ... (a rank's
// share: first = rank, stride = world size) and returns those.
std::vector<SelfPlayGame> self_play_games(const Game& game, std::shared_ptr<Evaluator> evaluator,
                                          const SelfPlayOptions& options, int count, int actors,
                                          std::uint64_t seed, int first = 0, int stride = 1);

// Distributed self-play: every rank's share of `count` games (self_play_games with first = rank,
// stride = world size) to every rank of the process group (core/distributed.h), whole and in game
// order, as if one process had played them all. Without a group: `mine`.
std::vector<SelfPlayGame> gather_games(const Game& game, std::vector<SelfPlayGame> mine, int count);

struct Batch {
  torch::Tensor observations;  // [B, H, W, C], channels-last as the network takes them
  torch::Tensor policies;      // [B, A]
  torch::Tensor values;        // [B, 1]
};

// The latest `capacity` positions (the oldest leave first).
class ReplayWindow {
 public:
  explicit ReplayWindow(std::size_t capacity);
  void add(const std::vector<Sample>& samples);
  std::size_t size() const { return samples_.size(); }
  const std::deque<Sample>& samples() const { return samples_; }
  // `n` positions drawn uniformly with replacement, each under a random symmetry of the game.
  Batch sample(const Game& game, std::int64_t n, std::mt19937_64& rng) const;

 private:
  std::size_t capacity_;
  std::deque<Sample> samples_;
};

struct Losses {
  double policy = 0.0, value = 0.0;
};

// One gradient step of the network on a batch: cross-entropy of the policy logits to the search
// policies plus the value head's squared error to the outcomes. Returns both terms (before the step).
Losses train_step(nn::Model& model, torch::optim::Optimizer& optimizer, const Batch& batch);

}  // namespace dojo::games

DOJO_PUBLIC_END
