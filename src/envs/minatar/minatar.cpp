#include "envs/minatar/minatar.h"

#include <torch/torch.h>

#include "core/error.h"
#include "core/strings.h"
#include "envs/minatar/games.h"

namespace dojo::envs::minatar {

std::vector<std::string> game_names() {
  return {"Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders"};
}

std::unique_ptr<Game> make_game(const std::string& name) {
  if (name == "Breakout") return make_breakout();
  if (name == "Freeway") return make_freeway();
  if (name == "Asterix") return make_asterix();
  if (name == "SpaceInvaders") return make_space_invaders();
  if (name == "Seaquest") return make_seaquest();
  throw Error("unknown MinAtar game '" + name + "'" + core::did_you_mean(name, game_names()) +
              " (have: " + core::join(game_names(), ", ") + ")");
}

MinAtarEnv::MinAtarEnv(std::unique_ptr<Game> game, bool minimal_actions, double sticky_action_prob)
    : game_(std::move(game)),
      actions_(minimal_actions ? game_->minimal_actions()
                               : std::vector<Action>{kNoop, kLeft, kUp, kRight, kDown, kFire}),
      sticky_(sticky_action_prob),
      action_space_(Discrete{static_cast<std::int64_t>(actions_.size())}),
      observation_space_(
          Box(0.0, 1.0, {kGrid, kGrid, static_cast<std::int64_t>(game_->channels().size())}, torch::kUInt8)) {
  if (!(sticky_ >= 0 && sticky_ <= 1)) {
    throw Error("MinAtar: sticky_action_prob must lie in [0, 1], got " + std::to_string(sticky_));
  }
}

torch::Tensor MinAtarEnv::observation() const {
  const auto grid = game_->state();
  auto obs = torch::empty({kGrid, kGrid, grid.channels()}, torch::kUInt8);
  std::copy(grid.cells().begin(), grid.cells().end(), obs.data_ptr<std::uint8_t>());
  return obs;
}

ResetResult MinAtarEnv::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  game_->reset(rng());
  last_action_ = kNoop;
  score_ = 0.0;
  return {observation(), {}};
}

std::vector<std::string> MinAtarEnv::action_meanings() const {
  static const char* const names[] = {"NOOP", "LEFT", "UP", "RIGHT", "DOWN", "FIRE"};
  std::vector<std::string> out;
  for (auto a : actions_) out.emplace_back(names[a]);
  return out;
}

StepResult MinAtarEnv::step(const torch::Tensor& action) {
  check_action(action);
  auto a = actions_[static_cast<std::size_t>(action.item<std::int64_t>())];
  // Sticky actions (Machado et al. 2018, as MinAtar applies them): the previous action repeats.
  if (std::uniform_real_distribution<double>(0.0, 1.0)(rng()) < sticky_) a = last_action_;
  last_action_ = a;
  StepResult r;
  r.reward = game_->act(a, rng());
  score_ += r.reward;
  r.terminated = game_->terminal();
  r.obs = observation();
  return r;
}

}  // namespace dojo::envs::minatar
