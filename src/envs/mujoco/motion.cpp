#include "envs/mujoco/motion.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <numbers>
#include <random>

#include "core/error.h"
#include "core/seed.h"

namespace dojo::envs::mujoco {

std::filesystem::path HumanoidMotion::default_model() {
  if (const char* env = std::getenv("DOJO_HUMANOID_MODEL")) return env;
  return "/usr/share/mujoco/model/humanoid/humanoid.xml";
}

namespace {

Sim load_humanoid(const std::filesystem::path& mjcf) {
  if (!std::filesystem::is_regular_file(mjcf))
    throw Error("humanoid model '" + mjcf.string() +
                "' not found (Debian package libmujoco-samples; scripts/setup installs it)");
  return Sim::load(mjcf);
}

}  // namespace

HumanoidMotion::HumanoidMotion(const std::filesystem::path& mjcf, MotionOptions options)
    : sim_(load_humanoid(mjcf)), options_(options) {
  const auto bodies = sim_.body_names();
  names_.assign(bodies.begin() + 1, bodies.end());
  hinges_ = sim_.hinge_joints();
  const auto parents = sim_.body_parents();
  for (std::size_t b = 1; b < parents.size(); ++b) {
    if (parents[b] > 0) bones_.emplace_back(static_cast<std::int64_t>(b) - 1, parents[b] - 1);
  }
  // The root must be free (7 qpos: position, then a unit quaternion) for the turning below.
  if (sim_.nq() != 7 + static_cast<int>(hinges_.size()))
    throw Error("MuJoCo model '" + mjcf.string() + "': expected a free root joint and hinge joints (" +
                std::to_string(sim_.nq()) + " positions for " + std::to_string(hinges_.size()) + " hinges)");
}

torch::Tensor HumanoidMotion::sequence(std::int64_t frames, std::uint64_t seed) {
  if (frames <= 0) throw Error("motion: " + std::to_string(frames) + " frames, expected > 0");
  std::mt19937_64 rng(core::derive_seed(seed, "humanoid-motion"));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  constexpr double kTwoPi = 2 * std::numbers::pi;
  struct Wave {
    std::vector<double> amplitude, frequency, phase;
  };
  std::vector<Wave> waves(hinges_.size());
  for (auto& w : waves) {
    for (int k = 0; k < options_.components; ++k) {
      w.amplitude.push_back(unit(rng));
      w.frequency.push_back(0.1 + (options_.max_frequency - 0.1) * unit(rng));
      w.phase.push_back(kTwoPi * unit(rng));
    }
  }
  const double heading = kTwoPi * unit(rng);
  const double turn = options_.max_turn_rate * (2 * unit(rng) - 1);

  auto out = torch::empty({frames, joints(), 3}, torch::kFloat32);
  auto acc = out.accessor<float, 3>();
  std::vector<double> qpos(sim_.init_qpos());
  for (std::int64_t f = 0; f < frames; ++f) {
    const double t = static_cast<double>(f) / options_.fps;
    // The root stays where the model puts it, turning about z: quaternion (cos θ/2, 0, 0, sin θ/2).
    const double yaw = heading + turn * t;
    qpos[3] = std::cos(yaw / 2);
    qpos[4] = 0;
    qpos[5] = 0;
    qpos[6] = std::sin(yaw / 2);
    for (std::size_t j = 0; j < hinges_.size(); ++j) {
      const auto& h = hinges_[j];
      const auto& w = waves[j];
      double sum = 0, norm = 0;
      for (int k = 0; k < options_.components; ++k) {
        sum += w.amplitude[k] * std::sin(kTwoPi * w.frequency[k] * t + w.phase[k]);
        norm += w.amplitude[k];
      }
      const double low = h.limited ? h.low : -std::numbers::pi / 2,
                   high = h.limited ? h.high : std::numbers::pi / 2;
      qpos[static_cast<std::size_t>(h.qpos_index)] =
          0.5 * (low + high) + 0.5 * (high - low) * options_.range_share * sum / norm;
    }
    std::copy(qpos.begin(), qpos.end(), sim_.qpos().begin());
    const auto p = sim_.body_keypoints();
    for (std::int64_t j = 0; j < joints(); ++j)
      for (int a = 0; a < 3; ++a) acc[f][j][a] = static_cast<float>(p[static_cast<std::size_t>(3 * j + a)]);
  }
  return out;
}

}  // namespace dojo::envs::mujoco
