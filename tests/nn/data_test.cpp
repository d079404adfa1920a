// Data loaders and the examples' command line.
#include "nn/data.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "core/error.h"
#include "core/image.h"
#include "test_util.h"

namespace dojo::nn::data {
namespace {

TEST(FashionMnist, ReadsDebiansIdxFiles) {
  auto d = load_fashion_mnist();
  EXPECT_EQ(d.train_x.sizes().vec(), (std::vector<std::int64_t>{60000, 28, 28, 1}));
  EXPECT_EQ(d.test_x.sizes().vec(), (std::vector<std::int64_t>{10000, 28, 28, 1}));
  EXPECT_EQ(d.train_y.min().item<std::int64_t>(), 0);
  EXPECT_EQ(d.train_y.max().item<std::int64_t>(), 9);
  EXPECT_EQ(torch::bincount(d.test_y).min().item<std::int64_t>(), 1000);  // 1,000 test images a class
  EXPECT_LE(d.train_x.max().item<float>(), 1.0f);
  EXPECT_EQ(d.train_y[0].item<std::int64_t>(), 9);  // the first training image is an ankle boot
}

TEST(FashionMnist, NotIdxIsAClearError) {
  const auto dir = test::fresh_path("idx");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "x.idx") << "hello";
  EXPECT_THROW(read_idx(dir / "x.idx"), Error);
  EXPECT_THROW(read_idx(dir / "missing.idx"), Error);
  EXPECT_THROW(load_fashion_mnist(dir / "nowhere"), Error);
}

TEST(MovieLens, ReadsBothFormatsAndTheGenerator) {
  const auto dir = test::fresh_path("movielens");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "u.data") << "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\n";
  auto a = load_movielens(dir / "u.data");
  EXPECT_EQ(a.n_users, 2);
  EXPECT_EQ(a.n_items, 3);
  EXPECT_TRUE(a.user.equal(torch::tensor({0, 1, 0}, torch::kLong)));
  EXPECT_TRUE(a.rating.equal(torch::tensor({3.0f, 3.0f, 1.0f})));
  std::ofstream(dir / "ratings.csv")
      << "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n";
  auto b = load_movielens(dir / "ratings.csv");
  EXPECT_EQ(b.n_items, 2);
  EXPECT_FLOAT_EQ(b.rating[0].item<float>(), 2.5f);
  std::ofstream(dir / "bad.data") << "1\tx\n";
  EXPECT_THROW(load_movielens(dir / "bad.data"), Error);

  write_synthetic_movielens(dir / "synth.data", {.users = 50, .items = 40, .ratings = 500, .seed = 1});
  auto s = load_movielens(dir / "synth.data");
  EXPECT_EQ(s.rating.size(0), 500);
  EXPECT_GE(s.rating.min().item<float>(), 1.0f);
  EXPECT_LE(s.rating.max().item<float>(), 5.0f);
}

TEST(ImageFolder, LabelsBySubfolderAndRejectsNonImages) {
  const auto dir = test::fresh_path("images");
  std::filesystem::create_directories(dir / "cats");
  std::filesystem::create_directories(dir / "dogs");
  core::save_image_grid(dir / "cats" / "a.png", torch::zeros({1, 8, 8}), 1, 1, 0);
  core::save_image_grid(dir / "dogs" / "b.png", torch::ones({1, 8, 8}), 1, 1, 0);
  core::save_image_grid(dir / "dogs" / "c.png", torch::ones({1, 8, 8}), 1, 1, 0);
  auto f = load_image_folder(dir, 4, 4, 3);
  EXPECT_EQ(f.class_names, (std::vector<std::string>{"cats", "dogs"}));
  EXPECT_EQ(f.x.sizes().vec(), (std::vector<std::int64_t>{3, 4, 4, 3}));
  EXPECT_TRUE(f.y.equal(torch::tensor({0, 1, 1}, torch::kLong)));
  EXPECT_NEAR(f.x[0].max().item<float>(), 0.0f, 1e-6);
  EXPECT_NEAR(f.x[1].min().item<float>(), 1.0f, 1e-6);
  std::ofstream(dir / "dogs" / "notes.png") << "not an image";
  EXPECT_THROW(load_image_folder(dir, 4, 4, 3), Error);
}

TEST(Augment, FlipAndShiftKeepShapeAndContent) {
  auto img = torch::arange(16, torch::kFloat32).view({1, 4, 4, 1});
  EXPECT_TRUE(random_flip(img, 1.0).equal(img.flip(2)));
  EXPECT_TRUE(random_flip(img, 0.0).equal(img));
  auto shifted = random_shift(img.repeat({8, 1, 1, 1}), 1);
  EXPECT_EQ(shifted.sizes().vec(), (std::vector<std::int64_t>{8, 4, 4, 1}));
  EXPECT_LE(shifted.sum().item<float>(), img.sum().item<float>() * 8);
}

int run(const std::string& args) {
  const auto cmd = std::string(std::getenv("DOJO_BIN")) + " " + args + " > /dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Cli, ExamplesAndZoo) {
  EXPECT_EQ(run("example"), 0);
  EXPECT_EQ(run("example seed-mlpp"), 2);
  EXPECT_EQ(run("zoo summary resnet18"), 0);
  EXPECT_EQ(run("zoo summary resnet19"), 2);
  EXPECT_EQ(run("model summary /nonexistent.dojo"), 2);
  const auto out = test::fresh_path("example_out");
  EXPECT_EQ(run("example seed-mlp --epochs 1 --out " + out.string()), 0);
  EXPECT_TRUE(std::filesystem::exists(out / "summary.json"));
}

}  // namespace
}  // namespace dojo::nn::data
