#include "envs/mujoco/sim.h"

#include <fmt/format.h>
#include <mujoco/mujoco.h>

#include <array>
#include <cstring>

#include "core/error.h"
#include "core/files.h"

namespace dojo::envs::mujoco {

namespace {

// MuJoCo's fatal errors would otherwise print and exit the process: they become exceptions, as in
// MuJoCo's own Python bindings. Its warnings (an unstable simulation it resets) stay counted in mjData.
void throw_on_error(const char* message) { throw Error(std::string("MuJoCo: ") + message); }

void install_error_handler() {
  static const bool installed = [] {
    mju_user_error = throw_on_error;
    return true;
  }();
  (void)installed;
}

mjModel* compile(const std::string& name, const std::string& xml) {
  install_error_handler();
  // mjVFS holds 2000 file names inline (~2 MB): on the heap, not the stack.
  auto vfs = std::make_unique<mjVFS>();
  mj_defaultVFS(vfs.get());
  const std::string file = "model.xml";
  if (mj_makeEmptyFileVFS(vfs.get(), file.c_str(), static_cast<int>(xml.size())) != 0) {
    throw Error("MuJoCo model '" + name + "': could not hold it in memory");
  }
  std::memcpy(vfs->filedata[vfs->nfile - 1], xml.data(), xml.size());
  std::array<char, 1000> error{};
  mjModel* m = mj_loadXML(file.c_str(), vfs.get(), error.data(), static_cast<int>(error.size()));
  mj_deleteVFS(vfs.get());
  if (!m) {
    std::string message(error.data());
    for (char& c : message) {
      if (c == '\n') c = ' ';
    }
    throw Error("MuJoCo model '" + name + "' does not load: " + message);
  }
  return m;
}

}  // namespace

void Sim::Deleter::operator()(mjModel_* m) const { mj_deleteModel(m); }
void Sim::Deleter::operator()(mjData_* d) const { mj_deleteData(d); }

Sim::Sim(mjModel_* model, const std::string& name) : model_(model), name_(name) {
  data_.reset(mj_makeData(model_.get()));
  if (!data_) throw Error("MuJoCo model '" + name + "': could not allocate its data");
  init_qpos_.assign(data_->qpos, data_->qpos + model_->nq);
  init_qvel_.assign(data_->qvel, data_->qvel + model_->nv);
}

Sim Sim::load(const std::filesystem::path& file) {
  // Read here rather than by MuJoCo: a missing file gets dojo's message, and the text goes through
  // the same path as an embedded model. (Models that include other files are not supported.)
  return Sim(compile(file.string(), core::read_text(file)), file.string());
}

Sim Sim::from_xml(const std::string& name, const std::string& xml) { return Sim(compile(name, xml), name); }

Sim::Sim(Sim&&) noexcept = default;
Sim& Sim::operator=(Sim&&) noexcept = default;
Sim::~Sim() = default;

int Sim::nq() const { return model_->nq; }
int Sim::nv() const { return model_->nv; }
int Sim::nu() const { return model_->nu; }
double Sim::timestep() const { return model_->opt.timestep; }

std::string Sim::integrator() const {
  switch (model_->opt.integrator) {
    case mjINT_EULER:
      return "Euler";
    case mjINT_RK4:
      return "RK4";
    default:
      return "implicit";
  }
}

std::vector<std::string> Sim::body_names() const {
  std::vector<std::string> names;
  for (int b = 0; b < model_->nbody; ++b) names.emplace_back(mj_id2name(model_.get(), mjOBJ_BODY, b));
  return names;
}

double Sim::body_mass(const std::string& body) const {
  const int id = mj_name2id(model_.get(), mjOBJ_BODY, body.c_str());
  if (id < 0) throw Error("MuJoCo model '" + name_ + "' has no body '" + body + "'");
  return model_->body_mass[id];
}

std::vector<double> Sim::actuator_gears() const {
  std::vector<double> gears;
  for (int a = 0; a < model_->nu; ++a) gears.push_back(model_->actuator_gear[6 * a]);
  return gears;
}

std::vector<double> Sim::ctrl_low() const {
  std::vector<double> low;
  for (int a = 0; a < model_->nu; ++a) low.push_back(model_->actuator_ctrlrange[2 * a]);
  return low;
}

std::vector<double> Sim::ctrl_high() const {
  std::vector<double> high;
  for (int a = 0; a < model_->nu; ++a) high.push_back(model_->actuator_ctrlrange[2 * a + 1]);
  return high;
}

std::span<double> Sim::qpos() { return {data_->qpos, static_cast<std::size_t>(model_->nq)}; }
std::span<double> Sim::qvel() { return {data_->qvel, static_cast<std::size_t>(model_->nv)}; }
std::span<const double> Sim::qpos() const { return {data_->qpos, static_cast<std::size_t>(model_->nq)}; }
std::span<const double> Sim::qvel() const { return {data_->qvel, static_cast<std::size_t>(model_->nv)}; }

void Sim::reset() { mj_resetData(model_.get(), data_.get()); }

void Sim::set_state(std::span<const double> qpos, std::span<const double> qvel) {
  if (qpos.size() != static_cast<std::size_t>(model_->nq) ||
      qvel.size() != static_cast<std::size_t>(model_->nv)) {
    throw Error(
        fmt::format("MuJoCo model '{}': a state of {} positions and {} velocities, expected {} and {}", name_,
                    qpos.size(), qvel.size(), model_->nq, model_->nv));
  }
  std::copy(qpos.begin(), qpos.end(), data_->qpos);
  std::copy(qvel.begin(), qvel.end(), data_->qvel);
  mj_forward(model_.get(), data_.get());
}

void Sim::step(std::span<const double> ctrl, int n_frames) {
  std::copy(ctrl.begin(), ctrl.end(), data_->ctrl);
  for (int i = 0; i < n_frames; ++i) mj_step(model_.get(), data_.get());
  mj_rnePostConstraint(model_.get(), data_.get());
}

std::vector<Capsule> Sim::capsules() const {
  std::vector<Capsule> out;
  for (int g = 0; g < model_->ngeom; ++g) {
    const int type = model_->geom_type[g];
    if (type != mjGEOM_CAPSULE && type != mjGEOM_SPHERE) continue;
    const double* p = data_->geom_xpos + 3 * g;
    const double* R = data_->geom_xmat + 9 * g;  // row-major: the geom's z axis is column 2
    const double half = type == mjGEOM_CAPSULE ? model_->geom_size[3 * g + 1] : 0.0;
    out.push_back({p[0] - half * R[2], p[2] - half * R[8], p[0] + half * R[2], p[2] + half * R[8],
                   model_->geom_size[3 * g], model_->geom_bodyid[g]});
  }
  return out;
}

std::vector<HingeJoint> Sim::hinge_joints() const {
  std::vector<HingeJoint> joints;
  for (int j = 0; j < model_->njnt; ++j) {
    if (model_->jnt_type[j] != mjJNT_HINGE) continue;
    joints.push_back({mj_id2name(model_.get(), mjOBJ_JOINT, j), model_->jnt_qposadr[j],
                      model_->jnt_limited[j] != 0, model_->jnt_range[2 * j], model_->jnt_range[2 * j + 1]});
  }
  return joints;
}

std::vector<int> Sim::body_parents() const {
  return {model_->body_parentid, model_->body_parentid + model_->nbody};
}

std::vector<double> Sim::body_keypoints() {
  mj_kinematics(model_.get(), data_.get());
  std::vector<double> points;
  for (int b = 1; b < model_->nbody; ++b) {
    const int j = model_->body_jntadr[b];
    const double* p =
        j >= 0 && model_->jnt_type[j] == mjJNT_HINGE ? data_->xanchor + 3 * j : data_->xpos + 3 * b;
    points.insert(points.end(), p, p + 3);
  }
  return points;
}

std::string version() { return mj_versionString(); }

}  // namespace dojo::envs::mujoco
