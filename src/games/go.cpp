#include "games/go.h"

#include <algorithm>
#include <bitset>
#include <cctype>
#include <random>

#include "core/error.h"

namespace dojo::games {

namespace {
// Column letters as on a Go board: I is left out (it reads as J or 1).
constexpr char kColumns[] = "ABCDEFGHJKLMNOPQRST";
}  // namespace

Go::Go(int size, double komi) : size_(size), komi_(komi) {
  if (size < 2 || size > kMaxSize) throw Error("Go board size " + std::to_string(size) + ": expected 2-19");
  std::mt19937_64 rng(0x60 + static_cast<unsigned>(size));
  zobrist_.resize(static_cast<std::size_t>(2 * size * size));
  for (auto& z : zobrist_) z = rng();
}

std::uint64_t Go::zobrist(int point, int colour) const {
  return zobrist_[static_cast<std::size_t>(2 * point + colour - 1)];
}

std::vector<int> Go::symmetry_cells(int s) const {
  if (s < 0 || s >= 8) throw Error(name() + " symmetry " + std::to_string(s) + ": expected 0-7");
  return square_symmetry(s, size_);
}

std::vector<int> Go::symmetry_actions(int s) const {
  auto out = symmetry_cells(s);
  out.push_back(pass_action());
  return out;
}

std::unique_ptr<State> Go::new_initial_state() const { return std::make_unique<GoState>(shared_from_this()); }

GoState::GoState(std::shared_ptr<const Game> game)
    : State(std::move(game)), go_(dynamic_cast<const Go*>(&this->game())), n_(go_->size()) {
  seen_.push_back(hash_);
}

template <typename F>
void GoState::for_neighbours(int point, F&& f) const {
  const int r = point / n_, c = point % n_;
  if (r > 0) f(point - n_);
  if (r + 1 < n_) f(point + n_);
  if (c > 0) f(point - 1);
  if (c + 1 < n_) f(point + 1);
}

int GoState::group(int point, std::vector<int>& stones) const {
  const int colour = at(point);
  std::bitset<Go::kMaxSize * Go::kMaxSize> visited, liberties;
  stones.assign(1, point);
  visited.set(static_cast<std::size_t>(point));
  for (std::size_t k = 0; k < stones.size(); ++k)
    for_neighbours(stones[k], [&](int q) {
      if (at(q) == 0) {
        liberties.set(static_cast<std::size_t>(q));
      } else if (at(q) == colour && !visited.test(static_cast<std::size_t>(q))) {
        visited.set(static_cast<std::size_t>(q));
        stones.push_back(q);
      }
    });
  return static_cast<int>(liberties.count());
}

bool GoState::try_play(int point, std::vector<int>* captured) const {
  if (at(point) != 0) return false;
  const int me = to_move_ + 1, them = 2 - to_move_;
  std::vector<int> taken, stones;
  bool breathes = false;
  for_neighbours(point, [&](int q) {
    if (at(q) == 0) {
      breathes = true;
    } else if (at(q) == them) {
      // An opponent group whose last liberty is this point is captured.
      if (std::find(taken.begin(), taken.end(), q) == taken.end() && group(q, stones) == 1)
        taken.insert(taken.end(), stones.begin(), stones.end());
    } else if (group(q, stones) > 1) {
      breathes = true;  // joins a group that keeps another liberty
    }
  });
  if (!breathes && taken.empty()) return false;  // suicide
  // Positional superko: the board after the move must be new in this game.
  auto h = hash_ ^ go_->zobrist(point, me);
  for (const int s : taken) h ^= go_->zobrist(s, them);
  if (std::find(seen_.begin(), seen_.end(), h) != seen_.end()) return false;
  if (captured) *captured = std::move(taken);
  return true;
}

int GoState::current_player() const { return is_terminal() ? kTerminalPlayer : to_move_; }

bool GoState::is_terminal() const { return passes_ >= 2 || moves_ >= go_->max_game_length(); }

bool GoState::is_legal(Action action) const {
  if (is_terminal() || action < 0 || action > go_->pass_action()) return false;
  return action == go_->pass_action() || try_play(action, nullptr);
}

std::vector<Action> GoState::legal_actions() const {
  std::vector<Action> out;
  if (is_terminal()) return out;
  for (int p = 0; p < n_ * n_; ++p)
    if (try_play(p, nullptr)) out.push_back(p);
  out.push_back(go_->pass_action());
  return out;
}

Action GoState::rollout_action(std::mt19937_64& rng) const {
  std::array<int, Go::kMaxSize * Go::kMaxSize> empty{};
  int count = 0;
  for (int p = 0; p < n_ * n_; ++p)
    if (at(p) == 0) empty[static_cast<std::size_t>(count++)] = p;
  const int me = to_move_ + 1;
  while (count > 0) {
    // Draw without replacement: swap the drawn point to the end of the untried ones.
    const auto k = std::uniform_int_distribution<int>(0, count - 1)(rng);
    const int p = empty[static_cast<std::size_t>(k)];
    empty[static_cast<std::size_t>(k)] = empty[static_cast<std::size_t>(--count)];
    bool eye = true;
    for_neighbours(p, [&](int q) { eye = eye && at(q) == me; });
    if (!eye && try_play(p, nullptr)) return p;
  }
  return go_->pass_action();
}

void GoState::do_apply_action(Action action) {
  ++moves_;
  if (action == go_->pass_action()) {
    ++passes_;
  } else {
    std::vector<int> captured;
    try_play(action, &captured);
    const int me = to_move_ + 1, them = 2 - to_move_;
    board_[static_cast<std::size_t>(action)] = static_cast<std::int8_t>(me);
    hash_ ^= go_->zobrist(action, me);
    for (const int s : captured) {
      board_[static_cast<std::size_t>(s)] = 0;
      hash_ ^= go_->zobrist(s, them);
    }
    seen_.push_back(hash_);
    passes_ = 0;
  }
  to_move_ ^= 1;
}

double GoState::score() const {
  // Area: each colour's stones, and each empty region that touches stones of that colour only.
  double area[3] = {0, 0, 0};
  std::bitset<Go::kMaxSize * Go::kMaxSize> visited;
  for (int p = 0; p < n_ * n_; ++p) {
    if (at(p) != 0) {
      area[at(p)] += 1;
      continue;
    }
    if (visited.test(static_cast<std::size_t>(p))) continue;
    std::vector<int> region{p};
    visited.set(static_cast<std::size_t>(p));
    bool touches[3] = {false, false, false};
    for (std::size_t k = 0; k < region.size(); ++k)
      for_neighbours(region[k], [&](int q) {
        if (at(q) != 0) {
          touches[at(q)] = true;
        } else if (!visited.test(static_cast<std::size_t>(q))) {
          visited.set(static_cast<std::size_t>(q));
          region.push_back(q);
        }
      });
    if (touches[1] != touches[2]) area[touches[1] ? 1 : 2] += static_cast<double>(region.size());
  }
  return area[1] - area[2] - go_->komi();
}

std::array<double, 2> GoState::returns() const {
  if (!is_terminal()) return {0.0, 0.0};
  const double s = score();
  return winner_returns(s > 0 ? 0 : s < 0 ? 1 : -1);
}

void GoState::observation(float* out) const {
  const int points = n_ * n_;
  const int me = to_move_ + 1;
  for (int p = 0; p < points; ++p) {
    out[p] = at(p) == me ? 1.0f : 0.0f;
    out[points + p] = at(p) != 0 && at(p) != me ? 1.0f : 0.0f;
    out[2 * points + p] = to_move_ == 0 ? 1.0f : 0.0f;
  }
}

std::unique_ptr<State> GoState::clone() const { return std::make_unique<GoState>(*this); }

std::string GoState::action_to_string(Action action) const {
  if (action == go_->pass_action()) return "pass";
  if (action < 0 || action > go_->pass_action())
    throw Error("Go action " + std::to_string(action) + ": expected 0-" + std::to_string(go_->pass_action()));
  return std::string(1, kColumns[action % n_]) + std::to_string(n_ - action / n_);
}

Action GoState::string_to_action(const std::string& text) const {
  std::string t = text;
  for (auto& ch : t) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (t == "PASS") return go_->pass_action();
  const auto* col = std::find(kColumns, kColumns + n_, t.empty() ? '?' : t[0]);
  int row = 0;
  bool digits = t.size() >= 2 && t.size() <= 3;
  for (std::size_t i = 1; i < t.size() && digits; ++i) {
    digits = std::isdigit(static_cast<unsigned char>(t[i])) != 0;
    row = row * 10 + (t[i] - '0');
  }
  if (col == kColumns + n_ || !digits || row < 1 || row > n_)
    throw Error("Go move '" + text + "': expected a column " + std::string(1, kColumns[0]) + "-" +
                std::string(1, kColumns[n_ - 1]) + " (no I) and a row 1-" + std::to_string(n_) + ", or pass");
  return (n_ - row) * n_ + static_cast<int>(col - kColumns);
}

std::string GoState::to_string() const {
  std::string s;
  for (int r = 0; r < n_; ++r) {
    const auto label = std::to_string(n_ - r);
    s += std::string(label.size() < 2 ? 1 : 0, ' ') + label + " ";
    for (int c = 0; c < n_; ++c) s += ".XO"[at(r * n_ + c)];
    s += "\n";
  }
  return s + "   " + std::string(kColumns, kColumns + n_) + "\n";
}

}  // namespace dojo::games
