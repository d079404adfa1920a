// VideoPose3D (Pavllo et al. 2019) on motion we make: MuJoCo's humanoid moved by smooth random joint
// trajectories (envs/mujoco/motion.h), each sequence filmed by one random camera, its 16 keypoints
// projected with 2-pixel noise (of a 1,000-pixel picture). Dilated temporal convolutions lift a
// window of 2D keypoints to the 3D joints of its middle frame, root-relative in the camera's frame;
// trained on windows with the strided form of the same weights, tested on whole held-out sequences.
// Three models of the same width: receptive field 243 (five layers of width 3), 27 (three), and a
// single-frame model (three layers of width 1). MPJPE and P-MPJPE in millimetres.
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <utility>

#include "core/csv.h"
#include "core/run_dir.h"
#include "core/seed.h"
#include "envs/mujoco/motion.h"
#include "examples/examples.h"
#include "nn/pose.h"

namespace dojo::examples {

namespace {

struct PoseSet {
  std::vector<torch::Tensor> keypoints;  // [T, J, 2] per sequence
  std::vector<torch::Tensor> joints;     // [T, J, 3] per sequence, metres, root-relative, camera frame
  std::vector<torch::Tensor> root;       // [T, 3] per sequence: the root in the camera's frame
};

// Sequences `first` … `first + count − 1`, each with its own camera and keypoint noise.
PoseSet film(envs::mujoco::HumanoidMotion& motion, std::uint64_t first, std::int64_t count,
             std::int64_t frames, std::int64_t root) {
  PoseSet set;
  for (std::int64_t i = 0; i < count; ++i) {
    const auto seed = first + static_cast<std::uint64_t>(i);
    const auto world = motion.sequence(frames, seed);
    std::mt19937_64 rng(core::derive_seed(seed, "camera"));
    const auto camera = nn::pose::random_camera(rng, world.select(1, 0).mean(0));
    const auto in_camera = nn::pose::to_camera(world, camera);
    torch::manual_seed(core::derive_seed(seed, "keypoint-noise"));
    set.keypoints.push_back(nn::pose::project(in_camera, camera) +
                            0.004 * torch::randn({frames, world.size(1), 2}));
    set.joints.push_back(in_camera - in_camera.select(1, root).unsqueeze(1));
    set.root.push_back(in_camera.select(1, root));
  }
  return set;
}

// The paper's schedule: the rate decays by 0.95 an epoch; here every 500 steps.
void decay_rate(torch::optim::Adam& adam, std::int64_t step) {
  if (step % 500 != 0) return;
  for (auto& g : adam.param_groups())
    static_cast<torch::optim::AdamOptions&>(g.options())
        .lr(1e-3 * std::pow(0.95, static_cast<double>(step / 500)));
}

// MPJPE and P-MPJPE (mm) of the model over every frame of the held-out sequences.
std::pair<double, double> held_out_errors(nn::pose::TemporalPoseModel& model, const PoseSet& test) {
  std::vector<torch::Tensor> predicted;
  for (const auto& keypoints : test.keypoints)
    predicted.push_back(nn::pose::predict_sequence(model, keypoints));
  const auto p = torch::cat(predicted), t = torch::cat(test.joints);
  return {1000 * nn::pose::mpjpe(p, t), 1000 * nn::pose::p_mpjpe(p, t)};
}

// One batch of windows of `field` frames from `set`'s sequences `first` … `first + count − 1`: the
// keypoints, and the middle frame's pose, root position and 2D keypoints.
struct Windows {
  torch::Tensor keypoints, pose, root, middle_2d;
};
Windows draw_windows(const PoseSet& set, std::int64_t first, std::int64_t count, std::int64_t field,
                     std::int64_t frames, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int64_t> pick_seq(first, first + count - 1),
      pick_start(0, frames - field);
  std::vector<torch::Tensor> x, y, r, m;
  for (int b = 0; b < 64; ++b) {
    const auto s = static_cast<std::size_t>(pick_seq(rng));
    const auto start = pick_start(rng), middle = start + (field - 1) / 2;
    x.push_back(set.keypoints[s].slice(0, start, start + field));
    y.push_back(set.joints[s][middle]);
    r.push_back(set.root[s][middle]);
    m.push_back(set.keypoints[s][middle]);
  }
  return {torch::stack(x), torch::stack(y), torch::stack(r), torch::stack(m)};
}

// VideoPose3D's semi-supervised training: with few labelled sequences, the unlabelled ones teach
// through back-projection — the predicted pose plus a predicted root trajectory (a second model, its
// loss weighted by 1/depth), projected with the known camera, should land on the input keypoints — and
// the unlabelled poses' mean bone lengths should match the labelled ones'. Against the same models
// trained on the labelled sequences alone for as many steps.
nlohmann::json semi_supervised(const ExampleOptions& o, const envs::mujoco::HumanoidMotion& motion,
                               const PoseSet& train, const PoseSet& test, std::int64_t frames,
                               std::int64_t steps) {
  const auto labelled = std::max<std::int64_t>(2, static_cast<std::int64_t>(train.keypoints.size()) / 8);
  const auto unlabelled = static_cast<std::int64_t>(train.keypoints.size()) - labelled;
  const auto bone_lengths = [&](const torch::Tensor& pose) {  // [B, J, 3] → [bones], the batch mean
    std::vector<torch::Tensor> lengths;
    for (const auto& [child, parent] : motion.bones())
      lengths.push_back((pose.select(1, child) - pose.select(1, parent)).norm(2, -1).mean());
    return torch::stack(lengths);
  };
  nlohmann::json result{{"labelled_sequences", labelled}, {"unlabelled_sequences", unlabelled}};
  for (const bool semi : {false, true}) {
    torch::manual_seed(o.seed);
    const auto options = nn::pose::TemporalPoseOptions()
                             .joints(motion.joints())
                             .filter_widths({3, 3, 3})
                             .channels(o.limit > 0 ? 64 : 256);
    nn::pose::TemporalPoseModel pose(options), trajectory(nn::pose::TemporalPoseOptions(options).outputs(1));
    const auto field = pose->receptive_field();
    std::vector<torch::Tensor> params = pose->parameters();
    for (const auto& p : trajectory->parameters()) params.push_back(p);
    torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-3).amsgrad(true));
    std::mt19937_64 rng(core::derive_seed(o.seed, "videopose-semi"));
    const nn::pose::Camera lens{.rotation = torch::eye(3),
                                .position = torch::zeros({3}),
                                .focal = 2.0};  // every camera's focal length: projection needs no more
    pose->train();
    trajectory->train();
    for (std::int64_t step = 1; step <= steps; ++step) {
      const auto l = draw_windows(train, 0, labelled, field, frames, rng);
      const auto pose_l = pose->forward_window(l.keypoints).squeeze(1);
      const auto root_l = trajectory->forward_window(l.keypoints).squeeze(1).squeeze(1);
      auto loss = (pose_l - l.pose).norm(2, -1).mean() +
                  ((root_l - l.root).norm(2, -1) / l.root.select(1, 2)).mean();  // far roots weigh less
      // The unlabelled terms start once the trajectory model knows roughly how far away people are
      // (a third of the run): before that, depths near zero blow the projection up.
      if (semi && step > steps / 3) {
        const auto u = draw_windows(train, labelled, unlabelled, field, frames, rng);
        const auto pose_u = pose->forward_window(u.keypoints).squeeze(1);
        const auto root_u = trajectory->forward_window(u.keypoints).squeeze(1);
        auto points = pose_u + root_u;
        points = torch::cat({points.slice(-1, 0, 2), points.slice(-1, 2, 3).clamp_min(1.0)}, -1);
        const auto reprojected = nn::pose::project(points, lens);
        loss = loss + (reprojected - u.middle_2d).norm(2, -1).mean() +
               (bone_lengths(pose_u) - bone_lengths(pose_l).detach()).abs().mean();
      }
      adam.zero_grad();
      loss.backward();
      adam.step();
      decay_rate(adam, step);
    }
    const auto [error, aligned] = held_out_errors(pose, test);
    const auto name = semi ? "semi_supervised" : "labelled_only";
    std::cout << fmt::format(
        "receptive field 27 on {} labelled sequences{}: held-out MPJPE {:.1f} mm, P-MPJPE {:.1f} mm\n",
        labelled, semi ? fmt::format(" + {} unlabelled (back-projection)", unlabelled) : "", error, aligned);
    result[name] = {{"mpjpe_mm", error}, {"p_mpjpe_mm", aligned}};
  }
  return result;
}

}  // namespace

nlohmann::json videopose(const ExampleOptions& o) {
  envs::mujoco::HumanoidMotion motion;
  const auto& names = motion.joint_names();
  const auto root =
      static_cast<std::int64_t>(std::find(names.begin(), names.end(), "pelvis") - names.begin());
  const std::int64_t frames = 500;
  const std::int64_t train_count = o.limit > 0 ? o.limit : 128, test_count = o.limit > 0 ? 8 : 32;
  const auto train = film(motion, 0, train_count, frames, root);
  const auto test = film(motion, 1'000'000, test_count, frames, root);  // held-out motions and cameras
  const auto steps = (o.epochs > 0 ? o.epochs : 3) * 1000;
  const auto out = o.out.empty() ? core::create_run_dir({}, "videopose") : o.out;
  core::CsvWriter csv(out / "metrics.csv", {"receptive_field", "step", "train_mpjpe_mm"});
  std::cout << fmt::format(
      "{} training and {} held-out sequences of {} frames (50 fps), {} joints; {} steps\n", train_count,
      test_count, frames, motion.joints(), steps);

  nlohmann::json result{{"train_sequences", train_count}, {"test_sequences", test_count}, {"steps", steps}};
  const std::vector<std::pair<std::string, std::vector<std::int64_t>>> models = {
      {"single-frame", {1, 1, 1}}, {"rf27", {3, 3, 3}}, {"rf243", {3, 3, 3, 3, 3}}};
  for (const auto& [name, widths] : models) {
    torch::manual_seed(o.seed);
    nn::pose::TemporalPoseModel model(nn::pose::TemporalPoseOptions()
                                          .joints(motion.joints())
                                          .filter_widths(widths)
                                          .channels(o.limit > 0 ? 64 : 256));
    const auto field = model->receptive_field();
    torch::optim::Adam adam(model->parameters(),
                            torch::optim::AdamOptions(1e-3).amsgrad(true));  // as the paper
    std::mt19937_64 rng(core::derive_seed(o.seed, "videopose-windows"));
    std::uniform_int_distribution<std::int64_t> pick_seq(0, train_count - 1), pick_start(0, frames - field);
    const auto t0 = std::chrono::steady_clock::now();
    double running = 0;
    model->train();
    for (std::int64_t step = 1; step <= steps; ++step) {
      // Windows of exactly one receptive field; the target is the middle frame's pose.
      std::vector<torch::Tensor> x, y;
      for (int b = 0; b < 64; ++b) {
        const auto s = static_cast<std::size_t>(pick_seq(rng));
        const auto start = pick_start(rng);
        x.push_back(train.keypoints[s].slice(0, start, start + field));
        y.push_back(train.joints[s][start + (field - 1) / 2]);
      }
      const auto predicted = model->forward_window(torch::stack(x)).squeeze(1);
      const auto loss = (predicted - torch::stack(y)).norm(2, -1).mean();  // MPJPE, the paper's loss
      adam.zero_grad();
      loss.backward();
      adam.step();
      running += loss.item<double>();
      if (step % 250 == 0) {
        csv.row({static_cast<double>(field), static_cast<double>(step), 1000 * running / 250});
        if (o.verbose > 0)
          std::cout << fmt::format("{} step {}: train MPJPE {:.1f} mm\n", name, step, 1000 * running / 250)
                    << std::flush;
        running = 0;
      }
      decay_rate(adam, step);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto [error, aligned] = held_out_errors(model, test);
    std::int64_t parameters = 0;
    for (const auto& w : model->parameters()) parameters += w.numel();
    std::cout << fmt::format(
        "{} (receptive field {}, {} parameters): held-out MPJPE {:.1f} mm, P-MPJPE {:.1f} mm ({:.0f} s)\n",
        name, field, parameters, error, aligned, seconds);
    result[name] = {{"receptive_field", field},
                    {"mpjpe_mm", error},
                    {"p_mpjpe_mm", aligned},
                    {"train_seconds", seconds},
                    {"parameters", parameters}};
  }
  result["semi_supervised"] = semi_supervised(o, motion, train, test, frames, steps);
  return result;
}

}  // namespace dojo::examples
