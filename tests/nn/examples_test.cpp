// The seed's example models learn what they should, on budgets small enough for CI (label: slow).
// The full runs and their figures are in docs/nn.md.
#include "examples/examples.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace dojo::examples {
namespace {

ExampleOptions quiet(std::int64_t epochs, std::int64_t limit = 0) {
  ExampleOptions o;
  o.epochs = epochs;
  o.limit = limit;
  o.verbose = 0;
  o.n_threads = 1;  // ctest runs two tests at once on two cores: more threads only oversubscribe
  return o;
}

TEST(Examples, FashionCnnPassesEightyFivePercentOnASubset) {
  auto r = run("fashion-cnn", quiet(2, 12000));
  EXPECT_GE(r["test_accuracy"].get<double>(), 0.85);
}

TEST(Examples, LstmAdditionAnswersHeldOutQuestions) {
  auto r = run("lstm-addition", quiet(40));
  EXPECT_GE(r["held_out_exact"].get<double>(), 0.90);
}

TEST(Examples, RecommenderBeatsTheGlobalMeanByTwentyPercent) {
  auto r = run("recommender", quiet(20));
  EXPECT_GE(r["improvement"].get<double>(), 0.20);
}

TEST(Examples, TransferredFeaturesBeatARandomBase) {
  auto r = run("transfer", quiet(1, 6000));
  EXPECT_GT(r["transferred_accuracy"].get<double>(), r["random_base_accuracy"].get<double>());
}

TEST(Examples, VaeLearnsFashionMnist) {
  auto r = run("vae", quiet(2, 20000));
  EXPECT_LE(r["test_loss"].get<double>(), 275.0);
}

// Both M2 examples (M1+M2 and M2 on the pixels) train their classifier from 100 labels and write
// their grids; the full runs' gains are in docs/prob.md.
TEST(Examples, M2TrainsItsClassifierAndWritesItsFiles) {
  for (const std::string name : {"m2", "m2-pixels"}) {
    auto o = quiet(1, 3000);
    o.out = std::filesystem::temp_directory_path() / ("dojo-" + name + "-" + std::to_string(::getpid()));
    auto r = run(name, o);
    EXPECT_EQ(r["labels"].get<int>(), 100) << name;
    EXPECT_GE(r["baseline_test_accuracy"].get<double>(), 0.6) << name;
    EXPECT_GE(r["test_accuracy"].get<double>(), 0.6) << name;
    EXPECT_EQ(r.contains("m1_baseline_test_accuracy"), name == "m2") << name;
    for (const char* f : {"metrics.csv", "reconstruction_01.png", "sample_01.png", "summary.json"}) {
      EXPECT_TRUE(std::filesystem::exists(o.out / f)) << name << " " << f;
    }
    std::filesystem::remove_all(o.out);
  }
}

TEST(Examples, GanSamplesSpreadOverSeveralClasses) {
  auto o = quiet(3, 30000);
  o.out = std::filesystem::temp_directory_path() / ("dojo-gan-" + std::to_string(::getpid()));
  auto r = run("gan", o);
  EXPECT_GE(r["judge_test_accuracy"].get<double>(), 0.85);
  int covered = 0;
  for (double share : r["class_shares"]) covered += share >= 0.01;
  EXPECT_GE(covered, 6) << r["class_shares"].dump();
  EXPECT_TRUE(std::filesystem::exists(o.out / "sample_03.png"));
  std::filesystem::remove_all(o.out);
}

TEST(Examples, SequentialLatentModelsTrainAndDrawTheirPictures) {
  struct Case {
    std::string name;
    std::int64_t limit;
    std::vector<std::string> files;
  };
  for (const auto& c : {Case{"draw", 3000, {"samples.png", "canvas_steps.png", "metrics.csv"}},
                        Case{"tdvae", 2000, {"rollouts.png", "metrics.csv"}},
                        Case{"gqn", 96, {"views.png", "metrics.csv"}}}) {
    auto o = quiet(1, c.limit);
    o.out = std::filesystem::temp_directory_path() / ("dojo-" + c.name + "-" + std::to_string(::getpid()));
    auto r = run(c.name, o);
    for (const auto& f : c.files) EXPECT_TRUE(std::filesystem::exists(o.out / f)) << c.name << " " << f;
    EXPECT_NE(r["loss"].get<std::string>().find("sum_(t=1.."), std::string::npos) << c.name;
    if (c.name == "draw") {
      // An untrained canvas scores about 784 · log 2 ≈ 543 nats; one small epoch is far below it.
      EXPECT_LT(r["test_negative_elbo"].get<double>(), 400.0);
    } else if (c.name == "tdvae") {
      EXPECT_GE(r["direction_kept_jumpy"].get<double>(), 0.0);
      EXPECT_LE(r["direction_kept_jumpy"].get<double>(), 1.0);
      EXPECT_EQ(r["test_sequences"].get<int>(), 1000);
    } else {
      EXPECT_EQ(r["test_queries"].get<int>(), 1000);
      EXPECT_EQ(r["scenes_seen"].get<int>(), 96);
      // The same command with more epochs goes on from the checkpoint.
      o.epochs = 2;
      auto more = run(c.name, o);
      EXPECT_EQ(more["scenes_seen"].get<int>(), 192);
      std::ifstream csv(o.out / "metrics.csv");
      std::string line;
      std::vector<std::string> lines;
      while (std::getline(csv, line)) lines.push_back(line);
      ASSERT_EQ(lines.size(), 3u);  // the header, epoch 1, epoch 2
      EXPECT_EQ(lines[2].substr(0, 2), "2,");
      EXPECT_GT(r["mse_dataset_mean"].get<double>(), 0.0);
    }
    std::filesystem::remove_all(o.out);
  }
}

TEST(Examples, RbmAndDbnLearnFashionMnist) {
  auto o = quiet(1, 10000);
  o.out = std::filesystem::temp_directory_path() / ("dojo-rbm-" + std::to_string(::getpid()));
  auto r = run("rbm", o);
  const double floor = r["independent_pixels_test_log_likelihood"].get<double>();
  for (const auto* method : {"cd1", "pcd"}) {
    // One epoch on 10,000 images is already ~80 nats (CD-1) and ~100 (PCD) above independent pixels.
    EXPECT_GT(r[method]["test_log_likelihood"].get<double>(), floor + 50) << method;
    EXPECT_LE(r[method]["log_z_low"].get<double>(), r[method]["log_z"].get<double>()) << method;
    for (const auto* f : {"-filters.png", "-samples.png", "-metrics.csv"})
      EXPECT_TRUE(std::filesystem::exists(o.out / (std::string(method) + f))) << method << f;
  }
  std::filesystem::remove_all(o.out);

  o.out = std::filesystem::temp_directory_path() / ("dojo-dbn-" + std::to_string(::getpid()));
  r = run("dbn", o);
  for (const auto* key : {"pretrained_test_accuracy", "random_init_test_accuracy"}) {
    ASSERT_EQ(r[key].size(), 3u) << key;
    for (const auto& acc : r[key]) EXPECT_GT(acc.get<double>(), 0.7) << key;
  }
  for (const auto* f : {"filters.png", "samples.png", "pretraining.csv"})
    EXPECT_TRUE(std::filesystem::exists(o.out / f)) << f;
  std::filesystem::remove_all(o.out);
}

TEST(Examples, VideoPoseLiftsKeypointsBetterWithTime) {
  auto o = quiet(1, 16);
  o.out = std::filesystem::temp_directory_path() / ("dojo-videopose-" + std::to_string(::getpid()));
  auto r = run("videopose", o);
  EXPECT_EQ(r["rf27"]["receptive_field"].get<int>(), 27);
  EXPECT_EQ(r["rf243"]["receptive_field"].get<int>(), 243);
  for (const auto* m : {"single-frame", "rf27", "rf243"}) {
    EXPECT_LT(r[m]["mpjpe_mm"].get<double>(), 150.0) << m;  // an untrained model is ~400 mm off
    EXPECT_LE(r[m]["p_mpjpe_mm"].get<double>(), r[m]["mpjpe_mm"].get<double>()) << m;
  }
  // 1,000 steps on 16 sequences: 27 frames of context already beat one (93 vs 102 mm here).
  EXPECT_LT(r["rf27"]["mpjpe_mm"].get<double>(), r["single-frame"]["mpjpe_mm"].get<double>());
  EXPECT_TRUE(std::filesystem::exists(o.out / "metrics.csv"));
  std::filesystem::remove_all(o.out);
}

}  // namespace
}  // namespace dojo::examples
