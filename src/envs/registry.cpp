#include "envs/registry.h"

#include "core/error.h"
#include "core/registry.h"
#include "envs/box2d/car_racing.h"
#include "envs/classic_control/acrobot.h"
#include "envs/classic_control/cartpole.h"
#include "envs/classic_control/mountain_car.h"
#include "envs/classic_control/pendulum.h"
#include "envs/minatar/minatar.h"
#include "envs/minatar/pixels.h"
#include "envs/mujoco/locomotion.h"
#include "envs/toy_text/toy_text.h"
#include "envs/wrappers.h"

namespace dojo::envs {

namespace {

// ALE's cap on an episode, 108,000 frames (30 minutes of play at 60 Hz; Machado et al. 2018), given
// to every MinAtar and Pixel id: a greedy policy that never loses would otherwise never end an
// episode, and evaluation would hang.
constexpr std::int64_t kArcadeMaxEpisodeFrames = 108'000;

// Built-in ids are registered on first use rather than by static initialisers.
core::Registry<EnvSpec>& registry() {
  static core::Registry<EnvSpec> specs("env id", [](core::Registry<EnvSpec>& r) {
    auto add = [&](EnvSpec e) {
      const auto id = e.id;  // copied: the entry argument is moved from before add() runs
      r.add(id, std::move(e));
    };
    add({"CartPole-v0", [] { return std::make_unique<CartPole>(); }, 200, 195.0});
    add({"CartPole-v1", [] { return std::make_unique<CartPole>(); }, 500, 475.0});
    add({"MountainCar-v0", [] { return std::make_unique<MountainCar>(); }, 200, -110.0});
    // The reward only at the flag (1), 0 elsewhere: random exploration almost never sees it.
    add({"SparseMountainCar-v0", [] { return std::make_unique<MountainCar>(true); }, 200, 1.0});
    add({"MountainCarContinuous-v0", [] { return std::make_unique<MountainCarContinuous>(); }, 999, 90.0});
    add({"Acrobot-v1", [] { return std::make_unique<Acrobot>(); }, 500, -100.0});
    add({"Pendulum-v1", [] { return std::make_unique<Pendulum>(); }, 200, std::nullopt});
    // Toy text (gymnasium/envs/toy_text), v0.29's ids, limits and thresholds.
    add({"FrozenLake-v1", [] { return std::make_unique<FrozenLake>(); }, 100, 0.70,
         [](const core::Config& kw) -> std::unique_ptr<Env> { return FrozenLake::from_kwargs(kw); }});
    add({"FrozenLake8x8-v1", [] { return std::make_unique<FrozenLake>(FrozenLake::map("8x8")); }, 200, 0.85,
         [](const core::Config& kw) -> std::unique_ptr<Env> {
           auto with_map = kw;
           if (!with_map.has("map_name")) with_map.set("map_name", YAML::Node("8x8"));
           return FrozenLake::from_kwargs(with_map);
         }});
    add({"Taxi-v3", [] { return std::make_unique<Taxi>(); }, 200, 8.0});
    add({"CliffWalking-v0", [] { return std::make_unique<CliffWalking>(); }, std::nullopt, std::nullopt});
    // Gymnasium registers Blackjack-v1 with Sutton & Barto's rules on (sab=True); the class's own
    // default is off.
    add({"Blackjack-v1", [] { return std::make_unique<Blackjack>(false, true); }, std::nullopt, std::nullopt,
         [](const core::Config& kw) -> std::unique_ptr<Env> {
           auto with_sab = kw;
           if (!with_sab.has("sab")) with_sab.set("sab", YAML::Node(true));
           return Blackjack::from_kwargs(with_sab);
         }});
    // LPG's meta-training grids (kwargs family, seed; or a whole grid).
    add({"GridWorld-v0", [] { return std::make_unique<GridWorld>(grid_family("tabular", 0)); }, 50,
         std::nullopt,
         [](const core::Config& kw) -> std::unique_ptr<Env> { return GridWorld::from_kwargs(kw); }});
    add({"CarRacing-v2", [] { return std::make_unique<CarRacing>(); }, 1000, 900.0});
    add({"CarRacingDiscrete-v2", [] { return std::make_unique<CarRacing>(false); }, 1000, 900.0});
    // MuJoCo locomotion, Gymnasium's v4 ids, time limits and reward thresholds.
    add({"Hopper-v4", [] { return std::make_unique<mujoco::Locomotion>(mujoco::hopper_task()); }, 1000,
         3800.0});
    add({"Walker2d-v4", [] { return std::make_unique<mujoco::Locomotion>(mujoco::walker2d_task()); }, 1000,
         std::nullopt});
    add({"HalfCheetah-v4", [] { return std::make_unique<mujoco::Locomotion>(mujoco::half_cheetah_task()); },
         1000, 4800.0});
    // MinAtar: -v1 with the game's minimal action set, -v0 with all six actions; Pixel/ draws its frames.
    for (const auto& game : minatar::game_names()) {
      for (const bool minimal : {true, false}) {
        add({"MinAtar/" + game + (minimal ? "-v1" : "-v0"),
             [game, minimal] {
               return std::make_unique<minatar::MinAtarEnv>(minatar::make_game(game), minimal);
             },
             kArcadeMaxEpisodeFrames, std::nullopt});
        add({"Pixel/" + game + (minimal ? "-v1" : "-v0"),
             [game, minimal] {
               return std::make_unique<minatar::PixelEnv>(
                   std::make_unique<minatar::MinAtarEnv>(minatar::make_game(game), minimal));
             },
             kArcadeMaxEpisodeFrames, std::nullopt});
      }
    }
  });
  return specs;
}

}  // namespace

void register_env(EnvSpec spec) {
  if (spec.id.empty() || !spec.entry_point) throw Error("register_env: expected an id and an entry point");
  const auto id = spec.id;
  registry().add(id, std::move(spec));
}

std::vector<std::string> registered_ids() { return registry().names(); }

const EnvSpec& spec(const std::string& id) { return registry().get(id); }

std::unique_ptr<Env> make(const std::string& id, const MakeOptions& options) {
  const auto& s = spec(id);
  const auto kwargs = options.kwargs.keys();
  if (!kwargs.empty() && !s.kwargs_entry_point)
    throw Error("make('" + id + "'): unknown keyword argument '" + kwargs.front() + "': " + id +
                " takes none");
  auto base = kwargs.empty() ? s.entry_point() : s.kwargs_entry_point(options.kwargs);
  base->set_id(id);
  std::unique_ptr<Env> env = std::make_unique<OrderEnforcing>(std::move(base));
  if (auto limit = options.max_episode_steps ? options.max_episode_steps : s.max_episode_steps) {
    env = std::make_unique<TimeLimit>(std::move(env), *limit);
  }
  if (options.record_episode_statistics) env = std::make_unique<RecordEpisodeStatistics>(std::move(env));
  return env;
}

}  // namespace dojo::envs
