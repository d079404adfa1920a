#include "games/players.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "games/connect4.h"
#include "games/network.h"
#include "games/train.h"

namespace dojo::games {

Action RandomPlayer::act(const State& state) {
  const auto legal = state.legal_actions();
  return legal[std::uniform_int_distribution<std::size_t>(0, legal.size() - 1)(rng_)];
}

MctsPlayer::MctsPlayer(std::string name, MctsOptions options, std::shared_ptr<Evaluator> evaluator,
                       std::uint64_t seed, double temperature)
    : name_(std::move(name)),
      mcts_(std::move(options), std::move(evaluator), seed),
      temperature_(temperature) {}

Action MctsPlayer::act(const State& state) {
  last_ = mcts_.search(state);
  return mcts_.choose(last_, temperature_);
}

int FullSearch::value(const State& state) {
  const auto key = state.to_string() + static_cast<char>('0' + state.current_player());
  if (const auto it = values_.find(key); it != values_.end()) return it->second;
  const int mover = state.current_player();
  int best = -1;
  for (const Action a : state.legal_actions()) {
    auto child = state.clone();
    child->apply_action(a);
    const int v = child->is_terminal() ? static_cast<int>(child->returns()[static_cast<std::size_t>(mover)])
                                       : -value(*child);
    best = std::max(best, v);
    if (best == 1) break;
  }
  values_.emplace(key, best);
  return best;
}

std::vector<Action> FullSearch::optimal_moves(const State& state) {
  const int mover = state.current_player();
  const int target = value(state);
  std::vector<Action> out;
  for (const Action a : state.legal_actions()) {
    auto child = state.clone();
    child->apply_action(a);
    const int v = child->is_terminal() ? static_cast<int>(child->returns()[static_cast<std::size_t>(mover)])
                                       : -value(*child);
    if (v == target) out.push_back(a);
  }
  return out;
}

std::vector<Action> PerfectPlayer::optimal_moves(const State& state) {
  if (const auto* c4 = dynamic_cast<const Connect4State*>(&state)) {
    if (!connect4_) connect4_ = std::make_unique<Connect4Solver>();
    const auto scores = connect4_->analyze(c4->board());
    const int best = *std::max_element(scores.begin(), scores.end());
    std::vector<Action> out;
    for (int c = 0; c < Connect4Board::kWidth; ++c)
      if (scores[static_cast<std::size_t>(c)] == best) out.push_back(c);
    return out;
  }
  return search_.optimal_moves(state);
}

Action PerfectPlayer::act(const State& state) {
  const auto moves = optimal_moves(state);
  return moves[std::uniform_int_distribution<std::size_t>(0, moves.size() - 1)(rng_)];
}

Action NetworkPlayer::act(const State& state) {
  const auto e = evaluator_->evaluate({&state});
  const auto& prior = e.at(0).prior;
  Action best = -1;
  for (const Action a : state.legal_actions())
    if (best < 0 || prior[static_cast<std::size_t>(a)] > prior[static_cast<std::size_t>(best)]) best = a;
  return best;
}

namespace {

// "RUN" or "RUN:N" naming an existing run directory or checkpoint; nullptr when `spec` names none.
std::unique_ptr<Player> run_player(const std::string& spec, const Game& game, std::uint64_t seed) {
  std::string path = spec;
  std::optional<std::int64_t> simulations;
  if (!std::filesystem::exists(path)) {
    const auto colon = spec.rfind(':');
    if (colon == std::string::npos || !std::filesystem::exists(spec.substr(0, colon))) return nullptr;
    path = spec.substr(0, colon);
    std::int64_t n = 0;
    const char* first = spec.data() + colon + 1;
    const char* last = spec.data() + spec.size();
    const auto [end, ec] = std::from_chars(first, last, n);
    if (ec != std::errc{} || end != last || n < 0)
      throw Error("player '" + spec + "': expected RUN:N with N simulations (0: the raw network)");
    simulations = n;
  }
  auto trained = load_alphazero(path);
  if (trained.game != game.name())
    throw Error("player '" + spec + "' was trained on " + trained.game + ", not " + game.name());
  const auto n = simulations.value_or(trained.options.eval_simulations());
  return alphazero_player(trained.options, std::make_shared<NetworkEvaluator>(trained.model), n, seed,
                          n == 0 ? "network" : fmt::format("alphazero:{}", n));
}

}  // namespace

std::unique_ptr<Player> make_player(const std::string& spec, const Game& game, std::uint64_t seed) {
  const auto expected = "player '" + spec +
                        "': expected random, mcts:N (N simulations), solver, or an AlphaZero run directory "
                        "(RUN or RUN:N)";
  if (spec == "random") return std::make_unique<RandomPlayer>(seed);
  if (spec == "solver") {
    if (game.name() != "connect4" && game.name() != "tic_tac_toe")
      throw Error("player 'solver': perfect play is for tic_tac_toe and connect4, not " + game.name());
    return std::make_unique<PerfectPlayer>(seed);
  }
  if (spec.rfind("mcts:", 0) == 0) {
    int n = 0;
    const char* first = spec.data() + 5;
    const char* last = spec.data() + spec.size();
    const auto [end, ec] = std::from_chars(first, last, n);
    if (ec != std::errc{} || end != last || n < 1) throw Error(expected);
    MctsOptions options;
    options.simulations = n;
    return std::make_unique<MctsPlayer>(spec, options, std::make_shared<RolloutEvaluator>(1, seed + 1), seed);
  }
  if (auto p = run_player(spec, game, seed)) return p;
  throw Error(expected);
}

}  // namespace dojo::games
