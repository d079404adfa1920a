// Offline datasets: the D4RL and Minari fixtures written by python3-h5py (tests/data/offline/
// make_fixtures.py) load with their values, both layouts round-trip bit-identically, and every bad file
// is one dojo::Error naming the file and the key, with nothing half-written.
#include "rl/dataset.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "cli_util.h"
#include "envs/registry.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;
using test::error_of;

const fs::path kData = fs::path(DOJO_TEST_DATA_DIR) / "offline";

void expect_same(const OfflineDataset& a, const OfflineDataset& b) {
  EXPECT_TRUE(torch::equal(a.observations, b.observations));
  EXPECT_TRUE(torch::equal(a.actions, b.actions));
  EXPECT_TRUE(torch::equal(a.rewards, b.rewards));
  EXPECT_TRUE(torch::equal(a.next_observations, b.next_observations));
  EXPECT_TRUE(torch::equal(a.terminals, b.terminals));
  EXPECT_TRUE(torch::equal(a.timeouts, b.timeouts));
}

TEST(OfflineDataset, ReadsD4rlFileWrittenByH5py) {
  const auto d = read_dataset(kData / "d4rl_halfcheetah_tiny.hdf5");
  ASSERT_EQ(d.size(), 25);
  EXPECT_EQ(d.observations.sizes(), (std::vector<std::int64_t>{25, 17}));
  EXPECT_EQ(d.actions.sizes(), (std::vector<std::int64_t>{25, 6}));
  EXPECT_EQ(d.terminals.scalar_type(), torch::kBool);
  EXPECT_FLOAT_EQ(d.observations[3][2].item<float>(), 3 * 0.5f + 2 * 0.01f);
  EXPECT_FLOAT_EQ(d.next_observations[3][2].item<float>(), 3 * 0.5f + 2 * 0.01f + 0.5f);
  EXPECT_FLOAT_EQ(d.rewards[4].item<float>(), 0.0f);
  EXPECT_TRUE(d.terminals[9].item<bool>());
  EXPECT_TRUE(d.timeouts[19].item<bool>());
  EXPECT_EQ(d.terminals.sum().item<int>(), 1);
  EXPECT_EQ(d.timeouts.sum().item<int>(), 1);
  ASSERT_EQ(d.infos.count("qpos"), 1u);
  EXPECT_EQ(d.infos.at("qpos").sizes(), (std::vector<std::int64_t>{25, 9}));
  EXPECT_EQ(d.metadata.at("algorithm"), "SAC");
  EXPECT_EQ(d.env_id(), "HalfCheetah-v4");
  EXPECT_EQ(d.metadata.count("policy/fc0/weight"), 0u);  // arrays are not metadata text

  const auto eps = episodes(d);
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[0].end, 10);
  EXPECT_EQ(eps[1].end, 20);
  EXPECT_FALSE(eps[2].finished);
  const auto s = dataset_stats(d);
  EXPECT_EQ(s.finished, 2);
  // Σ_{i<10} (0.25 i − 1) = 1.25 and Σ_{10≤i<20} (0.25 i − 1) = 26.25.
  EXPECT_NEAR(s.mean_return, (1.25 + 26.25) / 2, 1e-5);
  ASSERT_TRUE(s.normalized.has_value());
  EXPECT_NEAR(*s.normalized, 100.0 * (13.75 + 280.178953) / (12135.0 + 280.178953), 1e-6);
}

TEST(OfflineDataset, ReadsMinariDatasetWrittenByH5py) {
  const auto d = read_dataset(kData / "minari_pendulum_tiny");
  ASSERT_EQ(d.size(), 7);
  EXPECT_EQ(d.env_id(), "Pendulum-v1");
  EXPECT_EQ(d.metadata.at("minari_version"), "0.5.3");
  EXPECT_TRUE(torch::allclose(d.observations[0], torch::tensor({0.0f, 0.1f, 0.2f})));
  EXPECT_TRUE(torch::allclose(d.next_observations[3], torch::tensor({4.0f, 4.1f, 4.2f})));
  EXPECT_TRUE(torch::allclose(d.observations[4], torch::tensor({10.0f, 10.1f, 10.2f})));
  EXPECT_FLOAT_EQ(d.rewards[5].item<float>(), -2.0f);  // episode 1, step 1: −1 − 1
  EXPECT_TRUE(d.timeouts[3].item<bool>());
  EXPECT_TRUE(d.terminals[6].item<bool>());
  EXPECT_EQ((d.terminals | d.timeouts).sum().item<int>(), 2);
  // The same folder named by its data/ or its metadata.json.
  EXPECT_EQ(read_dataset(kData / "minari_pendulum_tiny" / "data" / "metadata.json").size(), 7);
}

TEST(OfflineDataset, BothLayoutsRoundTripBitIdentically) {
  auto d = read_dataset(kData / "d4rl_halfcheetah_tiny.hdf5");
  const auto dir = test::fresh_path("dataset_roundtrip");
  fs::create_directories(dir);
  write_dataset(d, dir / "copy.hdf5");
  const auto back = read_dataset(dir / "copy.hdf5");
  expect_same(d, back);
  EXPECT_TRUE(torch::equal(d.infos.at("qpos"), back.infos.at("qpos")));
  EXPECT_EQ(back.metadata.at("algorithm"), "SAC");

  write_dataset(d, dir / "minari");
  const auto m = read_dataset(dir / "minari");
  expect_same(d, m);
  EXPECT_EQ(m.env_id(), "HalfCheetah-v4");
  EXPECT_TRUE(fs::exists(dir / "minari" / "data" / "metadata.json"));

  // Rows out of episode order (s' is not the next row's s) still round-trip through Minari's episodes.
  const auto perm = torch::randperm(d.size(), torch::TensorOptions().dtype(torch::kInt64));
  for (auto* t : {&d.observations, &d.actions, &d.rewards, &d.next_observations, &d.terminals, &d.timeouts})
    *t = t->index_select(0, perm);
  d.infos.clear();
  write_dataset(d, dir / "shuffled");
  expect_same(d, read_dataset(dir / "shuffled"));
  // Writing over an existing dataset replaces it whole.
  write_dataset(read_dataset(kData / "minari_pendulum_tiny"), dir / "shuffled");
  EXPECT_EQ(read_dataset(dir / "shuffled").size(), 7);
}

TEST(OfflineDataset, BadFilesAreOneErrorNamingFileAndKey) {
  const auto bad = kData / "bad";
  auto msg = error_of([&] { read_dataset(bad / "not_hdf5.hdf5"); });
  EXPECT_NE(msg.find("not_hdf5.hdf5: not an HDF5 file"), std::string::npos) << msg;
  msg = error_of([&] { read_dataset(bad / "no_rewards.hdf5"); });
  EXPECT_NE(msg.find("'rewards' is missing"), std::string::npos) << msg;
  msg = error_of([&] { read_dataset(bad / "short_actions.hdf5"); });
  EXPECT_NE(msg.find("'actions' has 24 rows: expected 25"), std::string::npos) << msg;
  msg = error_of([&] { read_dataset(bad / "nan_observations.hdf5"); });
  EXPECT_NE(msg.find("'observations' holds a NaN or infinity at row 7"), std::string::npos) << msg;
  msg = error_of([&] { read_dataset(bad / "missing.hdf5"); });
  EXPECT_NE(msg.find("missing.hdf5: no such file"), std::string::npos) << msg;
  for (const auto& m : {msg}) EXPECT_EQ(m.find('\n'), std::string::npos);

  // Shapes that do not fit the env, and data from another env.
  const auto hopper = envs::make("Hopper-v4");
  EXPECT_NO_THROW(
      check_dataset_fits(dataset_shape(bad / "hopper_shapes.hdf5"), bad / "hopper_shapes.hdf5", *hopper));
  const auto cheetah = envs::make("HalfCheetah-v4");
  msg = error_of([&] {
    check_dataset_fits(dataset_shape(bad / "hopper_shapes.hdf5"), bad / "hopper_shapes.hdf5", *cheetah);
  });
  EXPECT_NE(msg.find("observations of shape (11) do not fit HalfCheetah-v4"), std::string::npos) << msg;
  const auto pendulum = envs::make("Pendulum-v1");
  msg = error_of([&] {
    check_dataset_fits(dataset_shape(kData / "d4rl_halfcheetah_tiny.hdf5"),
                       kData / "d4rl_halfcheetah_tiny.hdf5", *pendulum);
  });
  EXPECT_NE(msg.find("observations of shape (17) do not fit Pendulum-v1"), std::string::npos) << msg;
}

TEST(OfflineDataset, FailedWritesLeaveNothingBehind) {
  const auto dir = test::fresh_path("dataset_failed_write");
  fs::create_directories(dir);
  const auto good = read_dataset(kData / "d4rl_halfcheetah_tiny.hdf5");
  write_dataset(good, dir / "kept.hdf5");
  write_dataset(good, dir / "kept");
  const auto before = test::snapshot(dir);
  auto broken = good;
  broken.rewards = broken.rewards.clone();
  broken.rewards[3] = NAN;
  EXPECT_NE(error_of([&] { write_dataset(broken, dir / "kept.hdf5"); }).find("'rewards' holds a NaN"),
            std::string::npos);
  EXPECT_NE(error_of([&] { write_dataset(broken, dir / "kept"); }).find("'rewards' holds a NaN"),
            std::string::npos);
  EXPECT_EQ(test::snapshot(dir), before);
}

TEST(OfflineDataset, NormalisedScoreUsesD4rlReferences) {
  EXPECT_NEAR(*normalized_score("HalfCheetah-v4", -280.178953), 0.0, 1e-9);
  EXPECT_NEAR(*normalized_score("HalfCheetah-v4", 12135.0), 100.0, 1e-9);
  EXPECT_NEAR(*normalized_score("Hopper-v4", (3234.3 - 20.272305) / 2), 50.0, 1e-9);
  EXPECT_NEAR(*normalized_score("Walker2d-v4", 1.629008), 0.0, 1e-9);
  EXPECT_FALSE(normalized_score("Pendulum-v1", 0.0).has_value());
}

TEST(OfflineDataset, SamplerRescalesActionsAndBootstrapsThroughTimeouts) {
  const auto d = read_dataset(kData / "minari_pendulum_tiny");
  const envs::Box box(-2.0, 2.0, {1});
  const TransitionSampler sampler(d, box);
  // Actions −1.0, −0.5, 0.0, 0.5 in [−2, 2] are −0.5, −0.25, 0, 0.25 in [−1, 1].
  EXPECT_TRUE(torch::allclose(sampler.unit_actions().slice(0, 0, 4).squeeze(1),
                              torch::tensor({-0.5f, -0.25f, 0.0f, 0.25f})));
  std::mt19937_64 rng(3);
  const auto b = sampler.sample(512, rng);
  EXPECT_EQ(b.obs.sizes(), (std::vector<std::int64_t>{512, 3}));
  // Only the terminal row (6) stops bootstrapping; the timeout row (3) does not.
  const auto is_terminal_row = (b.obs.select(1, 0) == 12.0f);
  EXPECT_TRUE(torch::equal(b.terminated.to(torch::kBool), is_terminal_row));
  EXPECT_GT(is_terminal_row.sum().item<int>(), 0);
}

TEST(OfflineDataset, CliInfoAndBadFiles) {
  const auto r = test::dojo("dataset info " + (kData / "d4rl_halfcheetah_tiny.hdf5").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("transitions 25"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("episodes 3 (2 finished: 1 terminal, 1 timeout)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("normalised score"), std::string::npos) << r.out;
  test::expect_bad_input("dataset info " + (kData / "bad" / "no_rewards.hdf5").string(), "'rewards'");
  test::expect_bad_input("dataset info " + (kData / "bad" / "not_hdf5.hdf5").string(), "not_hdf5.hdf5");
}

}  // namespace
}  // namespace dojo::rl
