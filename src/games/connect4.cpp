#include "games/connect4.h"

#include "core/error.h"

namespace dojo::games {

bool Connect4Board::aligned(std::uint64_t s) {
  // Shifts by 1 (up a column), H+1 (across), H (one diagonal) and H+2 (the other).
  for (const int d : {1, kHeight + 1, kHeight, kHeight + 2}) {
    const std::uint64_t pairs = s & (s >> d);
    if (pairs & (pairs >> (2 * d))) return true;
  }
  return false;
}

std::uint64_t Connect4Board::completing_cells(std::uint64_t s, std::uint64_t occupied) {
  // Up a column only three below can complete one.
  std::uint64_t r = (s << 1) & (s << 2) & (s << 3);
  for (const int d : {kHeight + 1, kHeight, kHeight + 2}) {
    // The cell on either end of three in a row, or in the gap of two-and-one.
    std::uint64_t p = (s << d) & (s << 2 * d);
    r |= p & (s << 3 * d);
    r |= p & (s >> d);
    p = (s >> d) & (s >> 2 * d);
    r |= p & (s << d);
    r |= p & (s >> 3 * d);
  }
  return r & (kBoardMask ^ occupied);
}

std::uint64_t Connect4Board::non_losing_moves() const {
  auto moves = possible();
  const auto threats = opponent_winning_cells();
  const auto forced = moves & threats;
  if (forced) {
    if (forced & (forced - 1)) return 0;  // two immediate threats: every move loses
    moves = forced;
  }
  return moves & ~(threats >> 1);
}

std::unique_ptr<State> Connect4::new_initial_state() const {
  return std::make_unique<Connect4State>(shared_from_this());
}

Connect4State::Connect4State(std::shared_ptr<const Game> game) : State(std::move(game)) {}

int Connect4State::current_player() const { return is_terminal() ? kTerminalPlayer : board_.moves() % 2; }

bool Connect4State::is_legal(Action action) const {
  return !is_terminal() && action >= 0 && action < Connect4Board::kWidth && board_.can_play(action);
}

std::vector<Action> Connect4State::legal_actions() const {
  std::vector<Action> out;
  for (int c = 0; c < Connect4Board::kWidth; ++c)
    if (is_legal(c)) out.push_back(c);
  return out;
}

bool Connect4State::is_terminal() const {
  return winner_ >= 0 || board_.moves() == Connect4Board::kWidth * Connect4Board::kHeight;
}

std::array<double, 2> Connect4State::returns() const { return winner_returns(winner_); }

void Connect4State::observation(float* out) const {
  constexpr int W = Connect4Board::kWidth, H = Connect4Board::kHeight;
  const auto mine = board_.mover_stones(), theirs = board_.mover_stones() ^ board_.occupied();
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c) {
      const auto bit = std::uint64_t{1} << (c * (H + 1) + (H - 1 - r));
      out[r * W + c] = (mine & bit) ? 1.0f : 0.0f;
      out[H * W + r * W + c] = (theirs & bit) ? 1.0f : 0.0f;
    }
}

std::unique_ptr<State> Connect4State::clone() const { return std::make_unique<Connect4State>(*this); }

std::string Connect4State::action_to_string(Action action) const {
  if (action < 0 || action >= Connect4Board::kWidth)
    throw Error("Connect Four action " + std::to_string(action) + ": expected a column 0-6");
  return std::to_string(action + 1);
}

Action Connect4State::string_to_action(const std::string& text) const {
  if (text.size() != 1 || text[0] < '1' || text[0] > '7')
    throw Error("Connect Four move '" + text + "': expected a column 1-7");
  return text[0] - '1';
}

std::string Connect4State::to_string() const {
  constexpr int W = Connect4Board::kWidth, H = Connect4Board::kHeight;
  // X moved first: its stones are the mover's when an even number of moves has been played.
  const bool x_to_move = board_.moves() % 2 == 0;
  const auto mine = board_.mover_stones(), all = board_.occupied();
  std::string s;
  for (int r = H - 1; r >= 0; --r) {
    for (int c = 0; c < W; ++c) {
      const auto bit = std::uint64_t{1} << (c * (H + 1) + r);
      s += !(all & bit) ? '.' : ((mine & bit) != 0) == x_to_move ? 'X' : 'O';
    }
    s += "\n";
  }
  return s + "1234567\n";
}

std::vector<int> Connect4::symmetry_cells(int s) const {
  constexpr int W = Connect4Board::kWidth, H = Connect4Board::kHeight;
  const auto columns = symmetry_actions(s);
  std::vector<int> out(W * H);
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c)
      out[static_cast<std::size_t>(r * W + c)] = r * W + columns[static_cast<std::size_t>(c)];
  return out;
}

std::vector<int> Connect4::symmetry_actions(int s) const {
  if (s < 0 || s >= 2) throw Error("connect4 symmetry " + std::to_string(s) + ": expected 0 or 1");
  std::vector<int> out(Connect4Board::kWidth);
  for (int c = 0; c < Connect4Board::kWidth; ++c)
    out[static_cast<std::size_t>(c)] = s ? Connect4Board::kWidth - 1 - c : c;
  return out;
}

void Connect4State::do_apply_action(Action action) {
  const bool wins = board_.is_winning_move(action);
  const int mover = board_.moves() % 2;
  board_.play(action);
  if (wins) winner_ = mover;
}

}  // namespace dojo::games
