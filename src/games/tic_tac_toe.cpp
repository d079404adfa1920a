#include "games/tic_tac_toe.h"

#include "core/error.h"

namespace dojo::games {

namespace {
constexpr std::array<std::array<int, 3>, 8> kLines{
    {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}}};
}  // namespace

std::unique_ptr<State> TicTacToe::new_initial_state() const {
  return std::make_unique<TicTacToeState>(shared_from_this());
}

std::vector<int> TicTacToe::symmetry_cells(int s) const {
  if (s < 0 || s >= 8) throw Error("tic_tac_toe symmetry " + std::to_string(s) + ": expected 0-7");
  return square_symmetry(s, 3);
}

TicTacToeState::TicTacToeState(std::shared_ptr<const Game> game) : State(std::move(game)) {}

int TicTacToeState::current_player() const { return is_terminal() ? kTerminalPlayer : moves_ % 2; }

std::vector<Action> TicTacToeState::legal_actions() const {
  std::vector<Action> out;
  if (is_terminal()) return out;
  for (int i = 0; i < 9; ++i)
    if (cells_[static_cast<std::size_t>(i)] == 0) out.push_back(i);
  return out;
}

bool TicTacToeState::is_terminal() const { return winner_ >= 0 || moves_ == 9; }

std::array<double, 2> TicTacToeState::returns() const { return winner_returns(winner_); }

void TicTacToeState::observation(float* out) const {
  const int me = moves_ % 2 + 1;
  for (int i = 0; i < 9; ++i) {
    const int c = cells_[static_cast<std::size_t>(i)];
    out[i] = c == me ? 1.0f : 0.0f;
    out[9 + i] = c != 0 && c != me ? 1.0f : 0.0f;
  }
}

std::unique_ptr<State> TicTacToeState::clone() const { return std::make_unique<TicTacToeState>(*this); }

std::string TicTacToeState::action_to_string(Action action) const {
  if (action < 0 || action >= 9)
    throw Error("tic-tac-toe action " + std::to_string(action) + ": expected 0-8");
  return std::string(1, static_cast<char>('a' + action % 3)) + std::to_string(3 - action / 3);
}

Action TicTacToeState::string_to_action(const std::string& text) const {
  if (text.size() != 2 || text[0] < 'a' || text[0] > 'c' || text[1] < '1' || text[1] > '3')
    throw Error("tic-tac-toe move '" + text + "': expected a column a-c and a row 1-3, e.g. b2");
  return (3 - (text[1] - '0')) * 3 + (text[0] - 'a');
}

std::string TicTacToeState::to_string() const {
  std::string s;
  for (int r = 0; r < 3; ++r) {
    s += std::to_string(3 - r) + " ";
    for (int c = 0; c < 3; ++c) s += ".XO"[cells_[static_cast<std::size_t>(r * 3 + c)]];
    s += "\n";
  }
  return s + "  abc\n";
}

void TicTacToeState::do_apply_action(Action action) {
  const int mark = moves_ % 2 + 1;
  cells_[static_cast<std::size_t>(action)] = mark;
  ++moves_;
  for (const auto& line : kLines)
    if (cells_[static_cast<std::size_t>(line[0])] == mark &&
        cells_[static_cast<std::size_t>(line[1])] == mark &&
        cells_[static_cast<std::size_t>(line[2])] == mark)
      winner_ = mark - 1;
}

}  // namespace dojo::games
