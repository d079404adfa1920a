#include "games/game.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/registry.h"
#include "games/connect4.h"
#include "games/go.h"
#include "games/tic_tac_toe.h"

namespace dojo::games {

namespace {

using GameRegistry = core::Registry<std::shared_ptr<const Game>>;

GameRegistry& registry() {
  static GameRegistry r("game", [](GameRegistry& g) {
    g.add("tic_tac_toe", std::make_shared<TicTacToe>());
    g.add("connect4", std::make_shared<Connect4>());
    g.add("go", std::make_shared<Go>(9, 7.5));
  });
  return r;
}

}  // namespace

bool State::is_legal(Action action) const {
  const auto legal = legal_actions();
  return std::binary_search(legal.begin(), legal.end(), action);
}

std::vector<int> Game::symmetry_cells(int s) const {
  const auto shape = observation_shape();
  std::vector<int> out(static_cast<std::size_t>(shape[1] * shape[2]));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int>(i);
  if (s != 0) throw Error(name() + " symmetry " + std::to_string(s) + ": expected 0");
  return out;
}

std::vector<int> Game::symmetry_actions(int s) const {
  std::vector<int> out(static_cast<std::size_t>(num_actions()));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int>(i);
  if (s != 0) throw Error(name() + " symmetry " + std::to_string(s) + ": expected 0");
  return out;
}

std::vector<int> Game::square_symmetry(int s, int n) {
  std::vector<int> out(static_cast<std::size_t>(n * n));
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      int rr = r, cc = c;
      if (s & 4) std::swap(rr, cc);
      if (s & 1) rr = n - 1 - rr;
      if (s & 2) cc = n - 1 - cc;
      out[static_cast<std::size_t>(r * n + c)] = rr * n + cc;
    }
  return out;
}

void Game::apply_symmetry(int s, const float* observation, const float* policy, float* observation_out,
                          float* policy_out) const {
  const auto shape = observation_shape();
  const auto cells = symmetry_cells(s);
  const auto actions = symmetry_actions(s);
  const int plane = shape[1] * shape[2];
  for (int ch = 0; ch < shape[0]; ++ch)
    for (int i = 0; i < plane; ++i)
      observation_out[ch * plane + cells[static_cast<std::size_t>(i)]] = observation[ch * plane + i];
  for (int a = 0; a < num_actions(); ++a) policy_out[actions[static_cast<std::size_t>(a)]] = policy[a];
}

Action State::rollout_action(std::mt19937_64& rng) const {
  const auto legal = legal_actions();
  return legal[std::uniform_int_distribution<std::size_t>(0, legal.size() - 1)(rng)];
}

void State::apply_action(Action action) {
  if (!is_legal(action)) {
    const auto where = " after " + std::to_string(history_.size()) + " moves";
    if (is_terminal()) throw Error("move " + std::to_string(action) + ": the game is over" + where);
    const bool named = action >= 0 && action < game_->num_actions();
    throw Error("move '" + (named ? action_to_string(action) : std::to_string(action)) + "' is not legal" +
                where);
  }
  do_apply_action(action);
  history_.push_back(action);
}

std::shared_ptr<const Game> game(const std::string& name) { return registry().get(name); }

std::vector<std::string> game_names() { return registry().names(); }

std::unique_ptr<State> position(const Game& g, const std::string& moves) {
  auto state = g.new_initial_state();
  std::vector<std::string> tokens;
  std::string token;
  for (const char ch : moves + " ") {
    if (std::isspace(static_cast<unsigned char>(ch)) || ch == ',') {
      if (!token.empty()) tokens.push_back(token), token.clear();
    } else {
      token += ch;
    }
  }
  // Connect Four's protocol writes a game as runs of column digits ("4453").
  if (g.name() == "connect4") {
    std::vector<std::string> digits;
    for (const auto& t : tokens)
      for (const char ch : t) digits.emplace_back(1, ch);
    tokens = std::move(digits);
  }
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const auto action = state->string_to_action(tokens[i]);
    if (!state->is_legal(action))
      throw Error("move " + std::to_string(i + 1) + " '" + tokens[i] + "' of '" + moves +
                  "' is not legal in " + g.name() +
                  (state->is_terminal() ? " (the game is already over)" : ""));
    state->apply_action(action);
  }
  return state;
}

}  // namespace dojo::games
