#include "envs/mujoco/locomotion.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/canvas.h"
#include "core/error.h"
#include "core/strings.h"
#include "envs/mujoco/models.h"

namespace dojo::envs::mujoco {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

LocomotionTask hopper_task() {
  LocomotionTask t;
  t.name = "Hopper";
  t.model_name = "hopper";
  t.frame_skip = 4;
  t.healthy_z = {{0.7, kInf}};
  t.healthy_angle = {{-0.2, 0.2}};
  t.healthy_state_bound = 100.0;
  return t;
}

LocomotionTask walker2d_task() {
  LocomotionTask t;
  t.name = "Walker2d";
  t.model_name = "walker2d";
  t.frame_skip = 4;
  t.healthy_z = {{0.8, 2.0}};
  t.healthy_angle = {{-1.0, 1.0}};
  return t;
}

LocomotionTask half_cheetah_task() {
  LocomotionTask t;
  t.name = "HalfCheetah";
  t.model_name = "half_cheetah";
  t.frame_skip = 5;
  t.ctrl_cost_weight = 0.1;
  t.healthy_reward = 0.0;
  t.terminate_when_unhealthy = false;
  t.reset_noise_scale = 0.1;
  t.normal_qvel_noise = true;
  t.qvel_clip = std::nullopt;
  return t;
}

const std::string& builtin_model(const std::string& name) {
  const auto& models = builtin_models();
  const auto it = models.find(name);
  if (it == models.end()) {
    std::vector<std::string> names;
    for (const auto& [n, xml] : models) names.push_back(n);
    throw Error("no built-in MuJoCo model '" + name + "': expected one of " + core::join(names, ", "));
  }
  return it->second;
}

Locomotion::Locomotion(LocomotionTask task, const std::optional<std::filesystem::path>& model_file)
    : task_(std::move(task)),
      sim_(model_file ? Sim::load(*model_file)
                      : Sim::from_xml(task_.model_name, builtin_model(task_.model_name))),
      action_space_(Box(sim_.ctrl_low(), sim_.ctrl_high(), {sim_.nu()})),
      observation_space_(Box(std::vector<double>(static_cast<std::size_t>(sim_.nq() - 1 + sim_.nv()), -kInf),
                             std::vector<double>(static_cast<std::size_t>(sim_.nq() - 1 + sim_.nv()), kInf),
                             {sim_.nq() - 1 + sim_.nv()})) {}

ResetResult Locomotion::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  sim_.reset();
  const double scale = task_.reset_noise_scale;
  std::uniform_real_distribution<double> uniform(-scale, scale);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto qpos = sim_.init_qpos();
  auto qvel = sim_.init_qvel();
  for (double& q : qpos) q += uniform(rng());
  for (double& v : qvel) v += task_.normal_qvel_noise ? scale * normal(rng()) : uniform(rng());
  sim_.set_state(qpos, qvel);
  return {observation(), {}};
}

StepResult Locomotion::step(const torch::Tensor& action) {
  const auto a = box_action(action);
  const double x_before = sim_.qpos()[0];
  sim_.step(a, task_.frame_skip);
  const double x_after = sim_.qpos()[0];
  const double x_velocity = (x_after - x_before) / dt();

  double sum_sq = 0.0;
  for (double v : a) sum_sq += v * v;
  const double ctrl_cost = task_.ctrl_cost_weight * sum_sq;
  const double forward_reward = task_.forward_reward_weight * x_velocity;
  const bool healthy = is_healthy();
  const double healthy_reward = (healthy || task_.terminate_when_unhealthy) ? task_.healthy_reward : 0.0;

  StepResult r;
  r.obs = observation();
  r.reward = forward_reward + healthy_reward - ctrl_cost;
  r.terminated = task_.terminate_when_unhealthy && !healthy;
  r.info = {{"x_position", x_after},
            {"x_velocity", x_velocity},
            {"reward_forward", forward_reward},
            {"reward_ctrl", -ctrl_cost},
            {"reward_survive", healthy_reward}};
  return r;
}

bool Locomotion::is_healthy() const {
  const auto qpos = sim_.qpos();
  const auto qvel = sim_.qvel();
  auto inside = [](double v, const std::pair<double, double>& range) {
    return range.first < v && v < range.second;
  };
  if (task_.healthy_z && !inside(qpos[1], *task_.healthy_z)) return false;
  if (task_.healthy_angle && !inside(qpos[2], *task_.healthy_angle)) return false;
  if (task_.healthy_state_bound) {
    const double b = *task_.healthy_state_bound;
    // Gymnasium's state_vector()[2:]: qpos from the angle on, then every velocity.
    for (std::size_t i = 2; i < qpos.size(); ++i) {
      if (!inside(qpos[i], {-b, b})) return false;
    }
    for (double v : qvel) {
      if (!inside(v, {-b, b})) return false;
    }
  }
  return true;
}

torch::Tensor Locomotion::observation() const {
  const auto qpos = sim_.qpos();
  const auto qvel = sim_.qvel();
  auto obs = torch::empty({static_cast<std::int64_t>(qpos.size() - 1 + qvel.size())}, torch::kFloat32);
  float* p = obs.data_ptr<float>();
  for (std::size_t i = 1; i < qpos.size(); ++i) *p++ = static_cast<float>(qpos[i]);
  for (double v : qvel) {
    *p++ = static_cast<float>(task_.qvel_clip ? std::clamp(v, -*task_.qvel_clip, *task_.qvel_clip) : v);
  }
  return obs;
}

// The side view: 480x480 pixels over 4 m, the torso's x at the centre and the floor 0.5 m above the
// bottom edge. The floor carries a mark every metre, so that running shows as the marks moving.
torch::Tensor Locomotion::render() const {
  constexpr int kSize = 480;
  constexpr double kMetres = 4.0, scale = kSize / kMetres, floor_px = 0.5 * scale;
  const double centre_x = sim_.qpos()[0];
  auto to_px = [&](double x, double z) {
    return core::Point{(x - centre_x) * scale + kSize / 2.0, z * scale + floor_px};
  };
  core::Canvas c(kSize, kSize, {230, 236, 242});
  c.polygon({{0, 0}, {kSize, 0}, {kSize, floor_px}, {0, floor_px}}, {205, 225, 205});
  for (double m = std::floor(centre_x - kMetres); m <= centre_x + kMetres; m += 1.0) {
    c.line(to_px(m, 0.0), to_px(m, -0.15), {120, 140, 120}, 2.0);
  }
  for (const auto& g : sim_.capsules()) {
    const core::Rgb colour = g.body == 0 ? core::Rgb{150, 150, 150} : core::Rgb{204, 153, 102};
    const auto a = to_px(g.x0, g.z0), b = to_px(g.x1, g.z1);
    c.line(a, b, colour, 2 * g.radius * scale);
    c.circle(a, g.radius * scale, colour);
    c.circle(b, g.radius * scale, colour);
  }
  return c.pixels();
}

}  // namespace dojo::envs::mujoco
