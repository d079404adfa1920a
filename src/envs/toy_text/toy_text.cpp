#include "envs/toy_text/toy_text.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <functional>
#include <numeric>
#include <random>
#include <set>

#include "core/canvas.h"
#include "core/error.h"
#include "core/strings.h"
#include "envs/wrappers.h"

namespace dojo::envs {

namespace {

// Refuses keyword arguments the env does not take, naming the first and the ones it does.
void check_kwargs(const core::Config& kwargs, const std::string& env, const std::vector<std::string>& known) {
  for (const auto& key : kwargs.keys()) {
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw Error(fmt::format("{}: unknown keyword argument '{}': expected one of {}", env, key,
                              core::join(known, ", ")));
  }
}

torch::Tensor state_obs(std::int64_t s) { return torch::scalar_tensor(s, torch::kLong); }

// Draws a grid world's cells as coloured squares (the --record picture; `dojo play` draws it too).
torch::Tensor draw_grid(std::int64_t rows, std::int64_t cols, const std::function<core::Rgb(int, int)>& color,
                        std::int64_t agent_row, std::int64_t agent_col, core::Rgb agent) {
  constexpr int kCell = 32;
  core::Canvas canvas(static_cast<int>(cols) * kCell, static_cast<int>(rows) * kCell, {255, 255, 255});
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const double x0 = c * kCell, y0 = r * kCell, x1 = x0 + kCell - 1, y1 = y0 + kCell - 1;
      canvas.polygon({{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}, color(r, c));
    }
  }
  canvas.circle(
      {(static_cast<double>(agent_col) + 0.5) * kCell, (static_cast<double>(agent_row) + 0.5) * kCell},
      kCell * 0.3, agent);
  return canvas.pixels();
}

}  // namespace

// ---- TabularEnv ----

TabularEnv::TabularEnv(TransitionTable P, std::vector<double> isd, std::int64_t n_actions)
    : P_(std::move(P)),
      isd_(std::move(isd)),
      action_space_(Discrete{n_actions}),
      observation_space_(Discrete{static_cast<std::int64_t>(P_.size())}) {}

std::int64_t TabularEnv::draw(const std::vector<double>& probs) {
  // Gymnasium's categorical_sample: the first index whose cumulative probability exceeds u.
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng());
  double cumulative = 0.0;
  for (std::size_t i = 0; i < probs.size(); ++i) {
    cumulative += probs[i];
    if (cumulative > u) return static_cast<std::int64_t>(i);
  }
  return static_cast<std::int64_t>(probs.size()) - 1;  // rounding left the total a hair under u
}

ResetResult TabularEnv::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  s_ = draw(isd_);
  last_action_.reset();
  Info info{{"prob", 1.0}};
  add_info(info);
  return {state_obs(s_), info};
}

StepResult TabularEnv::step(const torch::Tensor& action) {
  check_action(action);
  const auto a = action.item<std::int64_t>();
  const auto& outcomes = P_[static_cast<std::size_t>(s_)][static_cast<std::size_t>(a)];
  std::vector<double> probs;
  for (const auto& t : outcomes) probs.push_back(t.prob);
  const auto& t = outcomes[static_cast<std::size_t>(draw(probs))];
  s_ = t.next;
  last_action_ = a;
  StepResult r{state_obs(s_), t.reward, t.terminated, false, {{"prob", t.prob}}};
  add_info(r.info);
  return r;
}

const TabularEnv* tabular(const Env& env) {
  const Env* e = &env;
  while (const auto* w = dynamic_cast<const Wrapper*>(e)) e = &const_cast<Wrapper*>(w)->unwrapped();
  return dynamic_cast<const TabularEnv*>(e);
}

std::string render_text(const Env& env) {
  const Env* e = &env;
  while (const auto* w = dynamic_cast<const Wrapper*>(e)) e = &const_cast<Wrapper*>(w)->unwrapped();
  if (const auto* t = dynamic_cast<const TabularEnv*>(e)) return t->render_text();
  if (const auto* b = dynamic_cast<const Blackjack*>(e)) return b->render_text();
  return "";
}

// ---- FrozenLake ----

namespace {

enum { kLeft = 0, kDown = 1, kRight = 2, kUp = 3 };

std::vector<std::string> checked_map(std::vector<std::string> desc) {
  if (desc.empty() || desc[0].empty())
    throw Error("FrozenLake map: expected at least one row of S, F, H, G tiles");
  std::int64_t starts = 0, goals = 0;
  for (std::size_t r = 0; r < desc.size(); ++r) {
    if (desc[r].size() != desc[0].size())
      throw Error(fmt::format("FrozenLake map: row {} has {} tiles: expected {}, as row 0", r, desc[r].size(),
                              desc[0].size()));
    for (std::size_t c = 0; c < desc[r].size(); ++c) {
      const char t = desc[r][c];
      if (t != 'S' && t != 'F' && t != 'H' && t != 'G')
        throw Error(fmt::format("FrozenLake map: '{}' at row {}, column {}: expected S, F, H or G", t, r, c));
      starts += t == 'S';
      goals += t == 'G';
    }
  }
  if (starts == 0) throw Error("FrozenLake map: no start tile S: expected at least one");
  if (goals == 0) throw Error("FrozenLake map: no goal tile G: expected at least one");
  return desc;
}

TransitionTable frozen_lake_table(const std::vector<std::string>& desc, bool slippery) {
  const auto rows = static_cast<std::int64_t>(desc.size()), cols = static_cast<std::int64_t>(desc[0].size());
  TransitionTable P(static_cast<std::size_t>(rows * cols), std::vector<std::vector<Transition>>(4));
  const auto move = [&](std::int64_t r, std::int64_t c, int a) {
    if (a == kLeft) c = std::max<std::int64_t>(c - 1, 0);
    if (a == kDown) r = std::min(r + 1, rows - 1);
    if (a == kRight) c = std::min(c + 1, cols - 1);
    if (a == kUp) r = std::max<std::int64_t>(r - 1, 0);
    const char tile = desc[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
    return Transition{0.0, r * cols + c, tile == 'G' ? 1.0 : 0.0, tile == 'G' || tile == 'H'};
  };
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const auto s = static_cast<std::size_t>(r * cols + c);
      const char tile = desc[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
      for (int a = 0; a < 4; ++a) {
        auto& out = P[s][static_cast<std::size_t>(a)];
        if (tile == 'G' || tile == 'H') {
          out.push_back({1.0, static_cast<std::int64_t>(s), 0.0, true});  // absorbing, as Gymnasium's table
        } else if (slippery) {
          for (const int b : {(a + 3) % 4, a, (a + 1) % 4}) {
            auto t = move(r, c, b);
            t.prob = 1.0 / 3.0;
            out.push_back(t);
          }
        } else {
          auto t = move(r, c, a);
          t.prob = 1.0;
          out.push_back(t);
        }
      }
    }
  }
  return P;
}

std::vector<double> start_tiles(const std::vector<std::string>& desc) {
  std::vector<double> isd;
  for (const auto& row : desc)
    for (const char t : row) isd.push_back(t == 'S' ? 1.0 : 0.0);
  const double n = std::accumulate(isd.begin(), isd.end(), 0.0);
  for (auto& p : isd) p /= n;
  return isd;
}

}  // namespace

FrozenLake::FrozenLake(std::vector<std::string> desc, bool is_slippery)
    : TabularEnv(frozen_lake_table(checked_map(desc), is_slippery), start_tiles(desc), 4),
      desc_(std::move(desc)) {}

std::vector<std::string> FrozenLake::map(const std::string& name) {
  if (name == "4x4") return {"SFFF", "FHFH", "FFFH", "HFFG"};
  if (name == "8x8")
    return {"SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF", "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG"};
  throw Error("FrozenLake map_name '" + name + "': expected 4x4 or 8x8");
}

std::unique_ptr<FrozenLake> FrozenLake::from_kwargs(const core::Config& kwargs) {
  check_kwargs(kwargs, "FrozenLake", {"desc", "map_name", "is_slippery"});
  auto desc = map(kwargs.get<std::string>("map_name", "4x4"));
  if (kwargs.has("desc")) desc = kwargs.get<std::vector<std::string>>("desc", {});
  return std::make_unique<FrozenLake>(desc, kwargs.get<bool>("is_slippery", true));
}

std::string FrozenLake::render_text() const {
  const auto cols = static_cast<std::int64_t>(desc_[0].size());
  std::string out;
  if (const auto a = last_action()) {
    static const std::array<const char*, 4> names{"Left", "Down", "Right", "Up"};
    out += fmt::format("  ({})\n", names[static_cast<std::size_t>(*a)]);
  }
  for (std::size_t r = 0; r < desc_.size(); ++r) {
    for (std::size_t c = 0; c < desc_[r].size(); ++c) {
      const bool here = static_cast<std::int64_t>(r) * cols + static_cast<std::int64_t>(c) == state();
      // The agent's tile on a red background, as Gymnasium's ansi rendering highlights it.
      out += here ? fmt::format("\x1b[41m{}\x1b[0m", desc_[r][c]) : std::string(1, desc_[r][c]);
    }
    out += "\n";
  }
  return out;
}

torch::Tensor FrozenLake::render() const {
  const auto cols = static_cast<std::int64_t>(desc_[0].size());
  return draw_grid(static_cast<std::int64_t>(desc_.size()), cols,
                   [&](int r, int c) -> core::Rgb {
                     switch (desc_[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)]) {
                       case 'H':
                         return {30, 60, 110};  // open water
                       case 'G':
                         return {250, 200, 40};  // the gift
                       case 'S':
                         return {200, 230, 250};
                       default:
                         return {225, 240, 250};  // ice
                     }
                   },
                   state() / cols, state() % cols, {200, 40, 40});
}

std::vector<std::string> generate_random_map(std::int64_t size, double p, std::optional<std::uint64_t> seed) {
  if (size < 2) throw Error(fmt::format("generate_random_map size {}: expected >= 2", size));
  if (!(p > 0.0 && p <= 1.0)) throw Error(fmt::format("generate_random_map p {}: expected in (0, 1]", p));
  std::mt19937_64 rng(seed ? *seed : std::random_device{}());
  std::bernoulli_distribution frozen(p);
  const auto n = static_cast<std::size_t>(size);
  while (true) {
    std::vector<std::string> board(n, std::string(n, 'F'));
    for (auto& row : board)
      for (auto& t : row) t = frozen(rng) ? 'F' : 'H';
    board[0][0] = 'S';
    board[n - 1][n - 1] = 'G';
    // Depth-first search from S over non-hole tiles (Gymnasium's is_valid).
    std::vector<std::pair<std::size_t, std::size_t>> frontier{{0, 0}};
    std::set<std::pair<std::size_t, std::size_t>> seen;
    while (!frontier.empty()) {
      const auto [r, c] = frontier.back();
      frontier.pop_back();
      if (!seen.insert({r, c}).second) continue;
      if (board[r][c] == 'G') return board;
      const std::array<std::pair<int, int>, 4> steps{{{1, 0}, {0, 1}, {-1, 0}, {0, -1}}};
      for (const auto& [dr, dc] : steps) {
        const auto nr = static_cast<std::int64_t>(r) + dr, nc = static_cast<std::int64_t>(c) + dc;
        if (nr < 0 || nc < 0 || nr >= size || nc >= size) continue;
        if (board[static_cast<std::size_t>(nr)][static_cast<std::size_t>(nc)] != 'H')
          frontier.emplace_back(static_cast<std::size_t>(nr), static_cast<std::size_t>(nc));
      }
    }
  }
}

// ---- Taxi ----

namespace {

const std::array<std::string, 7> kTaxiMap{"+---------+", "|R: | : :G|", "| : | : : |", "| : : : : |",
                                          "| | : | : |", "|Y| : |B: |", "+---------+"};
constexpr std::array<std::pair<std::int64_t, std::int64_t>, 4> kStands{{{0, 0}, {0, 4}, {4, 0}, {4, 3}}};

std::int64_t stand_at(std::int64_t row, std::int64_t col) {
  for (std::size_t i = 0; i < kStands.size(); ++i)
    if (kStands[i] == std::pair{row, col}) return static_cast<std::int64_t>(i);
  return -1;
}
bool can_go_east(std::int64_t row, std::int64_t col) {
  return kTaxiMap[static_cast<std::size_t>(row + 1)][static_cast<std::size_t>(2 * col + 2)] == ':';
}
bool can_go_west(std::int64_t row, std::int64_t col) {
  return kTaxiMap[static_cast<std::size_t>(row + 1)][static_cast<std::size_t>(2 * col)] == ':';
}

TransitionTable taxi_table() {
  TransitionTable P(500, std::vector<std::vector<Transition>>(6));
  for (std::int64_t s = 0; s < 500; ++s) {
    const auto d = Taxi::decode(s);
    for (std::int64_t a = 0; a < 6; ++a) {
      auto row = d.row, col = d.col, passenger = d.passenger;
      double reward = -1.0;  // every step costs one
      bool terminated = false;
      const auto stand = stand_at(d.row, d.col);
      if (a == 0) row = std::min<std::int64_t>(row + 1, 4);
      if (a == 1) row = std::max<std::int64_t>(row - 1, 0);
      if (a == 2 && can_go_east(d.row, d.col)) col = std::min<std::int64_t>(col + 1, 4);
      if (a == 3 && can_go_west(d.row, d.col)) col = std::max<std::int64_t>(col - 1, 0);
      if (a == 4) {
        if (d.passenger < 4 && stand == d.passenger)
          passenger = 4;
        else
          reward = -10.0;  // no passenger here to pick up
      }
      if (a == 5) {
        if (d.passenger == 4 && stand == d.destination) {
          passenger = d.destination;
          terminated = true;
          reward = 20.0;
        } else if (d.passenger == 4 && stand >= 0) {
          passenger = stand;  // dropped at another stand: allowed, the step's −1 only
        } else {
          reward = -10.0;
        }
      }
      P[static_cast<std::size_t>(s)][static_cast<std::size_t>(a)].push_back(
          {1.0, Taxi::encode(row, col, passenger, d.destination), reward, terminated});
    }
  }
  return P;
}

std::vector<double> taxi_starts() {
  std::vector<double> isd(500, 0.0);
  for (std::int64_t s = 0; s < 500; ++s) {
    const auto d = Taxi::decode(s);
    if (d.passenger < 4 && d.passenger != d.destination) isd[static_cast<std::size_t>(s)] = 1.0 / 300.0;
  }
  return isd;
}

}  // namespace

Taxi::Taxi() : TabularEnv(taxi_table(), taxi_starts(), 6) {}

std::int64_t Taxi::encode(std::int64_t row, std::int64_t col, std::int64_t passenger,
                          std::int64_t destination) {
  return ((row * 5 + col) * 5 + passenger) * 4 + destination;
}

Taxi::Decoded Taxi::decode(std::int64_t s) {
  Decoded d{};
  d.destination = s % 4;
  s /= 4;
  d.passenger = s % 5;
  s /= 5;
  d.col = s % 5;
  d.row = s / 5;
  return d;
}

std::vector<std::uint8_t> Taxi::action_mask(std::int64_t state) {
  const auto d = decode(state);
  const auto stand = stand_at(d.row, d.col);
  return {static_cast<std::uint8_t>(d.row < 4),
          static_cast<std::uint8_t>(d.row > 0),
          static_cast<std::uint8_t>(d.col < 4 && can_go_east(d.row, d.col)),
          static_cast<std::uint8_t>(d.col > 0 && can_go_west(d.row, d.col)),
          static_cast<std::uint8_t>(d.passenger < 4 && stand == d.passenger),
          static_cast<std::uint8_t>(d.passenger == 4 && stand >= 0)};
}

void Taxi::add_info(Info& info) const {
  const auto mask = action_mask(state());
  info["action_mask"] = torch::tensor(std::vector<std::int64_t>(mask.begin(), mask.end())).to(torch::kBool);
}

std::string Taxi::render_text() const {
  const auto d = decode(state());
  auto rows = std::vector<std::string>(kTaxiMap.begin(), kTaxiMap.end());
  std::vector<std::string> cells;
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      const std::string ch(1, rows[r][c]);
      const bool cell = r >= 1 && r <= 5 && c % 2 == 1;
      const auto row = static_cast<std::int64_t>(r) - 1, col = (static_cast<std::int64_t>(c) - 1) / 2;
      if (cell && row == d.row && col == d.col) {
        // The taxi: yellow when empty, green with the passenger aboard (Gymnasium's colours).
        out += fmt::format("\x1b[{}m{}\x1b[0m", d.passenger == 4 ? "42" : "43", ch == " " ? "_" : ch);
      } else if (cell && d.passenger < 4 &&
                 kStands[static_cast<std::size_t>(d.passenger)] == std::pair{row, col}) {
        out += "\x1b[1;34m" + ch + "\x1b[0m";  // the waiting passenger, blue
      } else if (cell && kStands[static_cast<std::size_t>(d.destination)] == std::pair{row, col}) {
        out += "\x1b[35m" + ch + "\x1b[0m";  // the destination, magenta
      } else {
        out += ch;
      }
    }
    out += "\n";
  }
  if (const auto a = last_action()) {
    static const std::array<const char*, 6> names{"South", "North", "East", "West", "Pickup", "Dropoff"};
    out += fmt::format("  ({})\n", names[static_cast<std::size_t>(*a)]);
  }
  return out;
}

torch::Tensor Taxi::render() const {
  const auto d = decode(state());
  auto frame = draw_grid(
      5, 5,
      [&](int r, int c) -> core::Rgb {
        const auto stand = stand_at(r, c);
        if (stand >= 0 && stand == d.destination) return {220, 120, 220};
        if (stand >= 0 && stand == d.passenger) return {120, 160, 250};
        if (stand >= 0) return {200, 200, 200};
        return {240, 240, 240};
      },
      d.row, d.col, d.passenger == 4 ? core::Rgb{40, 170, 60} : core::Rgb{230, 190, 30});
  // Walls: a dark bar on the east side of a cell the taxi cannot leave eastwards.
  for (std::int64_t r = 0; r < 5; ++r)
    for (std::int64_t c = 0; c < 4; ++c)
      if (!can_go_east(r, c))
        frame.slice(0, r * 32, r * 32 + 32).slice(1, c * 32 + 29, c * 32 + 32).fill_(20);
  return frame;
}

// ---- CliffWalking ----

namespace {

constexpr std::int64_t kCliffRows = 4, kCliffCols = 12, kCliffStart = 36;

bool is_cliff(std::int64_t r, std::int64_t c) { return r == kCliffRows - 1 && c >= 1 && c <= kCliffCols - 2; }

TransitionTable cliff_table() {
  TransitionTable P(kCliffRows * kCliffCols, std::vector<std::vector<Transition>>(4));
  const std::array<std::pair<int, int>, 4> deltas{{{-1, 0}, {0, 1}, {1, 0}, {0, -1}}};  // UP RIGHT DOWN LEFT
  for (std::int64_t s = 0; s < kCliffRows * kCliffCols; ++s) {
    for (std::size_t a = 0; a < 4; ++a) {
      const auto r = std::clamp<std::int64_t>(s / kCliffCols + deltas[a].first, 0, kCliffRows - 1);
      const auto c = std::clamp<std::int64_t>(s % kCliffCols + deltas[a].second, 0, kCliffCols - 1);
      if (is_cliff(r, c)) {
        P[static_cast<std::size_t>(s)][a].push_back({1.0, kCliffStart, -100.0, false});  // back to the start
      } else {
        const bool goal = r == kCliffRows - 1 && c == kCliffCols - 1;
        P[static_cast<std::size_t>(s)][a].push_back({1.0, r * kCliffCols + c, -1.0, goal});
      }
    }
  }
  return P;
}

}  // namespace

CliffWalking::CliffWalking()
    : TabularEnv(
          cliff_table(),
          [] {
            std::vector<double> isd(kCliffRows * kCliffCols, 0.0);
            isd[kCliffStart] = 1.0;
            return isd;
          }(),
          4) {}

std::string CliffWalking::render_text() const {
  std::string out;
  for (std::int64_t r = 0; r < kCliffRows; ++r) {
    for (std::int64_t c = 0; c < kCliffCols; ++c) {
      // Gymnasium's ansi symbols: x the agent, T the goal, C the cliff, o the rest.
      const char* cell = r * kCliffCols + c == state()                  ? " x "
                         : (r == kCliffRows - 1 && c == kCliffCols - 1) ? " T "
                         : is_cliff(r, c)                               ? " C "
                                                                        : " o ";
      out += cell;
    }
    out += "\n";
  }
  return out;
}

torch::Tensor CliffWalking::render() const {
  return draw_grid(kCliffRows, kCliffCols,
                   [](int r, int c) -> core::Rgb {
                     if (is_cliff(r, c)) return {90, 60, 40};
                     if (r == kCliffRows - 1 && c == kCliffCols - 1) return {250, 200, 40};
                     return {150, 210, 120};
                   },
                   state() / kCliffCols, state() % kCliffCols, {40, 40, 200});
}

// ---- Blackjack ----

Blackjack::Blackjack(bool natural, bool sab)
    : natural_(natural),
      sab_(sab),
      action_space_(Discrete{2}),
      observation_space_(MultiDiscrete{{32, 11, 2}}) {}

std::unique_ptr<Blackjack> Blackjack::from_kwargs(const core::Config& kwargs) {
  check_kwargs(kwargs, "Blackjack", {"natural", "sab"});
  return std::make_unique<Blackjack>(kwargs.get<bool>("natural", false), kwargs.get<bool>("sab", false));
}

int Blackjack::draw_card() {
  // 1 = ace, 2-10, and the three face cards count 10: 13 ranks drawn with replacement.
  static constexpr std::array<int, 13> kDeck{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10};
  return kDeck[std::uniform_int_distribution<std::size_t>(0, kDeck.size() - 1)(rng())];
}

bool Blackjack::usable_ace(const std::vector<int>& hand) {
  const int sum = std::accumulate(hand.begin(), hand.end(), 0);
  return std::find(hand.begin(), hand.end(), 1) != hand.end() && sum + 10 <= 21;
}

int Blackjack::sum_hand(const std::vector<int>& hand) {
  return std::accumulate(hand.begin(), hand.end(), 0) + (usable_ace(hand) ? 10 : 0);
}

namespace {
bool is_natural(std::vector<int> hand) {
  std::sort(hand.begin(), hand.end());
  return hand == std::vector<int>{1, 10};
}
int score(const std::vector<int>& hand) {
  const int s = Blackjack::sum_hand(hand);
  return s > 21 ? 0 : s;
}
}  // namespace

torch::Tensor Blackjack::obs() const {
  return torch::tensor({static_cast<std::int64_t>(sum_hand(player_)), static_cast<std::int64_t>(dealer_[0]),
                        static_cast<std::int64_t>(usable_ace(player_))});
}

void Blackjack::set_hands(std::vector<int> player, std::vector<int> dealer) {
  if (player.empty() || dealer.empty()) throw Error("Blackjack hands: expected at least one card each");
  player_ = std::move(player);
  dealer_ = std::move(dealer);
}

ResetResult Blackjack::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  // The dealer's two cards are drawn first, then the player's (Gymnasium's order).
  dealer_ = {draw_card(), draw_card()};
  player_ = {draw_card(), draw_card()};
  return {obs(), {}};
}

StepResult Blackjack::step(const torch::Tensor& action) {
  check_action(action);
  double reward = 0.0;
  bool terminated = false;
  if (action.item<std::int64_t>() == 1) {  // hit
    player_.push_back(draw_card());
    if (sum_hand(player_) > 21) {
      terminated = true;
      reward = -1.0;
    }
  } else {  // stick: the dealer draws to 17
    terminated = true;
    while (sum_hand(dealer_) < 17) dealer_.push_back(draw_card());
    const int p = score(player_), d = score(dealer_);
    reward = p > d ? 1.0 : (p < d ? -1.0 : 0.0);
    if (sab_ && is_natural(player_) && !is_natural(dealer_))
      reward = 1.0;  // Sutton & Barto: a natural wins unless the dealer has one too
    else if (!sab_ && natural_ && is_natural(player_) && reward == 1.0)
      reward = 1.5;
  }
  return {obs(), reward, terminated, false, {}};
}

std::string Blackjack::render_text() const {
  return fmt::format("Player: {} ({}){}  Dealer shows: {}\n", fmt::join(player_, " "), sum_hand(player_),
                     usable_ace(player_) ? ", usable ace" : "", dealer_.empty() ? 0 : dealer_[0]);
}

torch::Tensor Blackjack::render() const {
  // A green table with the player's cards (bottom) and the dealer's shown card (top) as white cards
  // whose height of red marks counts their value.
  core::Canvas canvas(320, 200, {30, 110, 60});
  const auto card = [&](double x, double y, int value) {
    canvas.polygon({{x, y}, {x + 36, y}, {x + 36, y + 56}, {x, y + 56}}, {250, 250, 250});
    for (int i = 0; i < value; ++i)
      canvas.circle({x + 9 + 18 * (i % 2), y + 6 + 5 * (i / 2)}, 2.0, {200, 30, 30});
  };
  if (!dealer_.empty()) card(20, 20, dealer_[0]);
  for (std::size_t i = 0; i < player_.size(); ++i) card(20 + 44 * static_cast<double>(i), 120, player_[i]);
  return canvas.pixels();
}

}  // namespace dojo::envs

// ---- GridWorld (LPG's grid families) ----

namespace dojo::envs {

namespace {

constexpr std::array<std::array<int, 2>, 4> kGridMoves{
    {{-1, 0}, {0, 1}, {1, 0}, {0, -1}}};  // UP RIGHT DOWN LEFT

void check_grid(const GridSpec& g) {
  if (g.map.empty() || g.map[0].empty())
    throw Error("GridWorld map: expected at least one row of '#', '.', 'S'");
  bool start = false;
  for (std::size_t r = 0; r < g.map.size(); ++r) {
    if (g.map[r].size() != g.map[0].size())
      throw Error(fmt::format("GridWorld map: row {} has {} cells: expected {}, as row 0", r, g.map[r].size(),
                              g.map[0].size()));
    for (std::size_t c = 0; c < g.map[r].size(); ++c) {
      const char t = g.map[r][c];
      if (t != '#' && t != '.' && t != 'S')
        throw Error(
            fmt::format("GridWorld map: '{}' at row {}, column {}: expected '#', '.' or 'S'", t, r, c));
      start = start || t == 'S';
    }
  }
  if (!start) throw Error("GridWorld map: no start cell S: expected at least one");
  if (g.objects.empty() || g.objects.size() > 4)
    throw Error(fmt::format("GridWorld: {} objects: expected 1 to 4", g.objects.size()));
  for (const auto& o : g.objects) {
    if (o.row < 0 || o.col < 0 || o.row >= static_cast<std::int64_t>(g.map.size()) ||
        o.col >= static_cast<std::int64_t>(g.map[0].size()) ||
        g.map[static_cast<std::size_t>(o.row)][static_cast<std::size_t>(o.col)] != '.')
      throw Error(
          fmt::format("GridWorld: object at ({}, {}): expected a floor cell '.' of the map", o.row, o.col));
    if (o.terminate_prob < 0 || o.terminate_prob > 1 || o.respawn_prob < 0 || o.respawn_prob > 1)
      throw Error(fmt::format(
          "GridWorld: object at ({}, {}): terminate_prob and respawn_prob must be in [0, 1]", o.row, o.col));
  }
  if (g.slip < 0 || g.slip > 1)
    throw Error(fmt::format("GridWorld: slip {}: expected a value in [0, 1]", g.slip));
}

// P[s][a] of a grid: every (direction, termination, respawns) outcome with its probability.
TransitionTable grid_table(const GridSpec& g) {
  const auto rows = static_cast<std::int64_t>(g.map.size()),
             cols = static_cast<std::int64_t>(g.map[0].size());
  const auto n = static_cast<int>(g.objects.size());
  const std::int64_t masks = std::int64_t{1} << n;
  const auto wall = [&](std::int64_t r, std::int64_t c) {
    return r < 0 || c < 0 || r >= rows || c >= cols ||
           g.map[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] == '#';
  };
  TransitionTable P(static_cast<std::size_t>(rows * cols * masks), std::vector<std::vector<Transition>>(4));
  for (std::int64_t cell = 0; cell < rows * cols; ++cell) {
    for (std::int64_t mask = 0; mask < masks; ++mask) {
      for (int a = 0; a < 4; ++a) {
        auto& outcomes = P[static_cast<std::size_t>(cell * masks + mask)][static_cast<std::size_t>(a)];
        for (int d = 0; d < 4; ++d) {
          const double p_dir = (d == a ? 1.0 - g.slip : 0.0) + g.slip / 4.0;
          if (p_dir <= 0) continue;
          std::int64_t r = cell / cols + kGridMoves[static_cast<std::size_t>(d)][0];
          std::int64_t c = cell % cols + kGridMoves[static_cast<std::size_t>(d)][1];
          if (wall(r, c)) r = cell / cols, c = cell % cols;
          const std::int64_t next_cell = r * cols + c;
          double reward = 0.0, p_end = 0.0;
          std::int64_t after = mask;
          int taken = -1;
          for (int i = 0; i < n; ++i) {
            const auto& o = g.objects[static_cast<std::size_t>(i)];
            if ((mask >> i & 1) && o.row == r && o.col == c) {
              reward = o.reward, p_end = o.terminate_prob, taken = i;
              after &= ~(std::int64_t{1} << i);
            }
          }
          if (p_end > 0) outcomes.push_back({p_dir * p_end, next_cell * masks + after, reward, true});
          if (p_end >= 1) continue;
          // Absent objects (not the one just taken) come back independently.
          std::vector<int> absent;
          for (int i = 0; i < n; ++i)
            if (!(after >> i & 1) && i != taken && g.objects[static_cast<std::size_t>(i)].respawn_prob > 0)
              absent.push_back(i);
          for (std::int64_t subset = 0; subset < (std::int64_t{1} << absent.size()); ++subset) {
            double p = p_dir * (1.0 - p_end);
            std::int64_t next_mask = after;
            for (std::size_t j = 0; j < absent.size(); ++j) {
              const double rho = g.objects[static_cast<std::size_t>(absent[j])].respawn_prob;
              const bool back = subset >> j & 1;
              p *= back ? rho : 1.0 - rho;
              if (back) next_mask |= std::int64_t{1} << absent[j];
            }
            if (p > 0) outcomes.push_back({p, next_cell * masks + next_mask, reward, false});
          }
        }
      }
    }
  }
  return P;
}

std::vector<double> grid_starts(const GridSpec& g) {
  const auto masks = std::int64_t{1} << g.objects.size();
  const auto cols = static_cast<std::int64_t>(g.map[0].size());
  std::vector<double> isd(g.map.size() * static_cast<std::size_t>(cols * masks), 0.0);
  double count = 0;
  for (std::size_t r = 0; r < g.map.size(); ++r)
    for (std::size_t c = 0; c < g.map[r].size(); ++c) count += g.map[r][c] == 'S';
  for (std::size_t r = 0; r < g.map.size(); ++r)
    for (std::size_t c = 0; c < g.map[r].size(); ++c)
      if (g.map[r][c] == 'S')
        isd[static_cast<std::size_t>(
            (static_cast<std::int64_t>(r) * cols + static_cast<std::int64_t>(c)) * masks + masks - 1)] =
            1.0 / count;
  return isd;
}

// Every floor cell reachable from the first start (walls must not cut the grid).
bool grid_connected(const std::vector<std::string>& map) {
  const auto rows = static_cast<int>(map.size()), cols = static_cast<int>(map[0].size());
  std::vector<int> seen(static_cast<std::size_t>(rows * cols), 0), stack;
  int open = 0;
  for (int i = 0; i < rows * cols; ++i) {
    if (map[static_cast<std::size_t>(i / cols)][static_cast<std::size_t>(i % cols)] == '#') continue;
    ++open;
    if (stack.empty() && seen[static_cast<std::size_t>(i)] == 0)
      stack.push_back(i), seen[static_cast<std::size_t>(i)] = 1;
  }
  int reached = 0;
  while (!stack.empty()) {
    const int i = stack.back();
    stack.pop_back();
    ++reached;
    for (const auto& m : kGridMoves) {
      const int r = i / cols + m[0], c = i % cols + m[1];
      if (r < 0 || c < 0 || r >= rows || c >= cols) continue;
      const auto j = static_cast<std::size_t>(r * cols + c);
      if (map[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] == '#' || seen[j]) continue;
      seen[j] = 1;
      stack.push_back(r * cols + c);
    }
  }
  return reached == open;
}

}  // namespace

GridSpec grid_family(const std::string& family, std::uint64_t seed) {
  if (family != "tabular" && family != "random")
    throw Error(fmt::format("GridWorld family '{}': expected tabular or random", family));
  const bool random = family == "random";
  // Another stream per family: seed 3 of "tabular" and of "random" are unrelated grids.
  std::mt19937_64 rng(seed * 2 + (random ? 1 : 0));
  const auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  const auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  const int size = 4 + static_cast<int>(pick(3));
  GridSpec g;
  do {
    g.map.assign(static_cast<std::size_t>(size), std::string(static_cast<std::size_t>(size), '.'));
    for (auto& row : g.map)
      for (auto& cell : row)
        if (uniform(0, 1) < 0.12) cell = '#';
  } while (!grid_connected(g.map) ||
           std::count(g.map.begin(), g.map.end(), std::string(static_cast<std::size_t>(size), '#')) == size);
  std::vector<std::array<std::int64_t, 2>> floor;
  for (int r = 0; r < size; ++r)
    for (int c = 0; c < size; ++c)
      if (g.map[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] == '.') floor.push_back({r, c});
  std::shuffle(floor.begin(), floor.end(), rng);
  const std::size_t n = 1 + pick(3);
  static const std::array<double, 5> rewards{1.0, 1.0, 0.5, -0.5, -1.0};
  static const std::array<double, 3> ends{0.0, 0.5, 1.0};
  static const std::array<double, 4> respawns{0.0, 0.05, 0.2, 1.0};
  for (std::size_t i = 0; i < n; ++i) {
    GridObject o{floor[i][0], floor[i][1], 0, 0, 0};
    // The first object is always worth reaching, so no grid is best left alone.
    o.reward = random ? (i == 0 ? uniform(0.2, 1.0) : uniform(-1.0, 1.0)) : (i == 0 ? 1.0 : rewards[pick(5)]);
    o.terminate_prob = random ? (uniform(0, 1) < 0.5 ? 1.0 : 0.0) : ends[pick(3)];
    o.respawn_prob = o.terminate_prob >= 1 ? 0.0 : respawns[1 + pick(3)];
    g.objects.push_back(o);
  }
  if (random) {
    g.slip = uniform(0.0, 0.3);
    for (std::size_t i = n; i < floor.size(); ++i)
      g.map[static_cast<std::size_t>(floor[i][0])][static_cast<std::size_t>(floor[i][1])] = 'S';
  } else {
    g.map[static_cast<std::size_t>(floor[n][0])][static_cast<std::size_t>(floor[n][1])] = 'S';
  }
  return g;
}

GridWorld::GridWorld(GridSpec spec)
    : TabularEnv((check_grid(spec), grid_table(spec)), grid_starts(spec), 4), spec_(std::move(spec)) {}

std::unique_ptr<GridWorld> GridWorld::from_kwargs(const core::Config& kwargs) {
  check_kwargs(kwargs, "GridWorld", {"family", "seed", "map", "objects", "slip"});
  if (!kwargs.has("map"))
    return std::make_unique<GridWorld>(
        grid_family(kwargs.get<std::string>("family", "tabular"),
                    static_cast<std::uint64_t>(kwargs.get<std::int64_t>("seed", 0))));
  GridSpec g;
  g.map = kwargs.get<std::vector<std::string>>("map", {});
  g.slip = kwargs.get<double>("slip", 0.0);
  for (const auto& o : kwargs.node()["objects"]) {
    g.objects.push_back({o["row"].as<std::int64_t>(), o["col"].as<std::int64_t>(),
                         o["reward"].as<double>(1.0), o["terminate_prob"].as<double>(1.0),
                         o["respawn_prob"].as<double>(0.0)});
  }
  return std::make_unique<GridWorld>(std::move(g));
}

std::string GridWorld::render_text() const {
  const auto masks = std::int64_t{1} << spec_.objects.size();
  const auto cols = static_cast<std::int64_t>(spec_.map[0].size());
  const std::int64_t cell = state() / masks, mask = state() % masks;
  auto rows = spec_.map;
  for (auto& row : rows) std::replace(row.begin(), row.end(), 'S', '.');
  for (std::size_t i = 0; i < spec_.objects.size(); ++i)
    if (mask >> i & 1)
      rows[static_cast<std::size_t>(spec_.objects[i].row)][static_cast<std::size_t>(spec_.objects[i].col)] =
          static_cast<char>('a' + i);
  rows[static_cast<std::size_t>(cell / cols)][static_cast<std::size_t>(cell % cols)] = '@';
  std::string out;
  for (const auto& row : rows) out += row + "\n";
  return out;
}

torch::Tensor GridWorld::render() const {
  const auto masks = std::int64_t{1} << spec_.objects.size();
  const auto cols = static_cast<std::int64_t>(spec_.map[0].size());
  const std::int64_t cell = state() / masks, mask = state() % masks;
  return draw_grid(static_cast<std::int64_t>(spec_.map.size()), cols,
                   [&](int r, int c) -> core::Rgb {
                     if (spec_.map[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] == '#')
                       return {80, 80, 80};
                     for (std::size_t i = 0; i < spec_.objects.size(); ++i) {
                       const auto& o = spec_.objects[i];
                       if ((mask >> i & 1) && o.row == r && o.col == c)
                         return o.reward >= 0 ? core::Rgb{250, 200, 40} : core::Rgb{200, 60, 60};
                     }
                     return {220, 220, 220};
                   },
                   cell / cols, cell % cols, {40, 40, 200});
}

}  // namespace dojo::envs
