// A MuJoCo model and its simulation state (mjModel + mjData), owned together: loading with one-line
// errors, Gymnasium's stepping and reset primitives, the model constants tests compare with the
// originals', and the geoms' poses for drawing. MuJoCo's headers stay out of this interface.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/export.h"

struct mjModel_;
struct mjData_;

DOJO_PUBLIC_BEGIN
namespace dojo::envs::mujoco {

// A capsule (or sphere) as the side camera sees it: its two end points in the x-z plane and its
// radius. Planes are left out (the floor is drawn at z = 0).
struct Capsule {
  double x0, z0, x1, z1, radius;
  int body;  // the body the geom belongs to (0 = world)
};

// A hinge joint: where its angle sits in qpos, and its range in radians (limited joints only).
struct HingeJoint {
  std::string name;
  int qpos_index = 0;
  bool limited = false;
  double low = 0, high = 0;
};

class Sim {
 public:
  // Loads an MJCF file; a missing file or one MuJoCo rejects is a dojo::Error naming the file and
  // MuJoCo's message.
  static Sim load(const std::filesystem::path& file);
  // Loads MJCF text held in memory; `name` is what errors call it.
  static Sim from_xml(const std::string& name, const std::string& xml);
  Sim(Sim&&) noexcept;
  Sim& operator=(Sim&&) noexcept;
  ~Sim();

  int nq() const;
  int nv() const;
  int nu() const;
  double timestep() const;
  std::string integrator() const;  // "Euler", "RK4" or "implicit"
  std::vector<std::string> body_names() const;
  double body_mass(const std::string& body) const;  // a dojo::Error for an unknown name
  std::vector<double> actuator_gears() const;       // each actuator's first gear coefficient
  std::vector<double> ctrl_low() const;
  std::vector<double> ctrl_high() const;

  std::span<double> qpos();
  std::span<double> qvel();
  std::span<const double> qpos() const;
  std::span<const double> qvel() const;
  // The positions and velocities the model was compiled with (Gymnasium's init_qpos, init_qvel).
  const std::vector<double>& init_qpos() const { return init_qpos_; }
  const std::vector<double>& init_qvel() const { return init_qvel_; }

  // mj_resetData: every state variable back to the model's defaults.
  void reset();
  // Gymnasium's set_state: qpos and qvel, then mj_forward.
  void set_state(std::span<const double> qpos, std::span<const double> qvel);
  // Gymnasium's do_simulation: ctrl, mj_step `n_frames` times, then mj_rnePostConstraint (which
  // fills the contact forces the original envs expose).
  void step(std::span<const double> ctrl, int n_frames);

  std::vector<Capsule> capsules() const;

  std::vector<HingeJoint> hinge_joints() const;
  std::vector<int> body_parents() const;  // each body's parent (the world's is 0, itself)
  // Forward kinematics of the current qpos alone (mj_kinematics: no dynamics), then a point per body
  // but the world, x y z in body order (metres): where the body's first joint turns it (a hip, a knee:
  // the joint's anchor), or its origin when it has no joint or a free one.
  std::vector<double> body_keypoints();

 private:
  Sim(mjModel_* model, const std::string& name);
  struct Deleter {
    void operator()(mjModel_* m) const;
    void operator()(mjData_* d) const;
  };
  std::unique_ptr<mjModel_, Deleter> model_;
  std::unique_ptr<mjData_, Deleter> data_;
  std::string name_;
  std::vector<double> init_qpos_, init_qvel_;
};

// MuJoCo's version string ("2.2.2").
std::string version();

}  // namespace dojo::envs::mujoco

DOJO_PUBLIC_END
