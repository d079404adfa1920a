// Human motion without motion capture, for 3D pose lifting (VideoPose3D's setting): MuJoCo's humanoid
// (Debian's libmujoco-samples) posed by smooth random joint trajectories — each hinge joint a sum of
// sinusoids of random frequency and phase, held inside its range — with the body turning slowly about
// the vertical, and a keypoint per body from MuJoCo's forward kinematics (the anchor of the joint
// that turns it: hips, knees, ankles, shoulders, elbows; head, hands and torso at their origins). A
// sequence depends only on its seed.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/export.h"
#include "envs/mujoco/sim.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs::mujoco {

struct MotionOptions {
  double fps = 50;             // frames per second
  double max_frequency = 1.0;  // Hz, the fastest joint oscillation (a few steps a second)
  int components = 3;          // sinusoids per joint
  double range_share = 0.8;    // of each joint's range the motion may use
  double max_turn_rate = 0.5;  // rad/s about the vertical
};

class HumanoidMotion {
 public:
  // Debian's humanoid: /usr/share/mujoco/model/humanoid/humanoid.xml ($DOJO_HUMANOID_MODEL overrides).
  static std::filesystem::path default_model();
  // Throws dojo::Error naming the file when it is missing or MuJoCo rejects it, or when it has no
  // free root joint.
  explicit HumanoidMotion(const std::filesystem::path& mjcf = default_model(), MotionOptions options = {});

  const std::vector<std::string>& joint_names() const { return names_; }  // the bodies, world left out
  std::int64_t joints() const { return static_cast<std::int64_t>(names_.size()); }
  // The skeleton's bones: (joint, its parent joint) for every joint but the root body's.
  const std::vector<std::pair<std::int64_t, std::int64_t>>& bones() const { return bones_; }
  // [frames, joints, 3] world positions in metres (z up).
  torch::Tensor sequence(std::int64_t frames, std::uint64_t seed);

 private:
  Sim sim_;
  MotionOptions options_;
  std::vector<std::string> names_;
  std::vector<HingeJoint> hinges_;
  std::vector<std::pair<std::int64_t, std::int64_t>> bones_;
};

}  // namespace dojo::envs::mujoco

DOJO_PUBLIC_END
