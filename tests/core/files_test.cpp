#include "core/files.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/checkpoint.h"
#include "core/error.h"
#include "core/run_dir.h"
#include "test_util.h"

namespace dojo::core {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  const auto p = test::fresh_path(name);
  fs::create_directories(p);
  return p;
}

TEST(Files, AtomicWriteReplacesWholeOrNothing) {
  const auto dir = scratch("atomic");
  atomic_write_text(dir / "a.txt", "first");
  EXPECT_EQ(read_text(dir / "a.txt"), "first");
  EXPECT_THROW(atomic_write(dir / "a.txt",
                            [](const fs::path& tmp) {
                              std::ofstream(tmp) << "half";
                              throw std::runtime_error("crash mid-write");
                            }),
               std::runtime_error);
  EXPECT_EQ(read_text(dir / "a.txt"), "first");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);  // no temp left behind
  EXPECT_THROW(read_text(dir / "missing.txt"), Error);
}

TEST(RunDir, RefusesToOverwriteAndRecognisesRuns) {
  const auto dir = scratch("rundir");
  const auto run = create_run_dir(dir / "r1", "x");
  EXPECT_TRUE(fs::is_directory(run / "checkpoints"));
  atomic_write_text(run / "config.yaml", "a: 1\n");
  EXPECT_NO_THROW(require_run_dir(run));
  EXPECT_THROW(create_run_dir(run, "x"), Error);
  EXPECT_THROW(require_run_dir(dir), Error);
  EXPECT_EQ(read_text(run / "config.yaml"), "a: 1\n");
}

TEST(Checkpoint, RoundTripsModulesTensorsAndScalars) {
  const auto dir = scratch("ckpt");
  torch::manual_seed(0);
  torch::nn::Linear a(3, 2), b(3, 2);
  torch::optim::Adam opt(a->parameters(), 1e-3);
  CheckpointWriter w;
  w.put("net", *a);
  w.put("opt", opt);
  w.put("name", std::string("hello"));
  w.put("count", std::int64_t{42});
  w.put("x", 2.5);
  w.save(dir / "c.ckpt");

  CheckpointReader r(dir / "c.ckpt");
  r.get("net", *b);
  EXPECT_TRUE(torch::equal(a->weight, b->weight));
  EXPECT_EQ(r.get_string("name"), "hello");
  EXPECT_EQ(r.get_int("count"), 42);
  EXPECT_DOUBLE_EQ(r.get_double("x"), 2.5);
  EXPECT_THROW(r.get_int("absent"), Error);
}

TEST(Checkpoint, TruncatedCorruptOrMissingFilesAreErrors) {
  const auto dir = scratch("corrupt");
  torch::nn::Linear a(3, 2);
  CheckpointWriter w;
  w.put("net", *a);
  w.save(dir / "good.ckpt");
  const auto bytes = read_text(dir / "good.ckpt");
  atomic_write_text(dir / "truncated.ckpt", bytes.substr(0, bytes.size() / 2));
  atomic_write_text(dir / "garbage.ckpt", "this is not a checkpoint");
  EXPECT_THROW(CheckpointReader(dir / "truncated.ckpt"), Error);
  EXPECT_THROW(CheckpointReader(dir / "garbage.ckpt"), Error);
  EXPECT_THROW(CheckpointReader(dir / "missing.ckpt"), Error);
  torch::nn::Linear wrong(5, 2);
  CheckpointReader r(dir / "good.ckpt");
  EXPECT_THROW(r.get("net", *wrong), Error);
}

TEST(Checkpoint, PartsSaveAndLoadTheSameList) {
  const auto dir = scratch("parts");
  torch::manual_seed(0);
  torch::nn::Linear a(3, 2), b(3, 2);
  torch::optim::Adam opt_a(a->parameters(), 1e-3), opt_b(b->parameters(), 1e-3);
  auto t_a = torch::full({2}, 1.5), t_b = torch::zeros({2});
  std::int64_t n_a = 7, n_b = 0;
  bool f_a = true, f_b = false;
  CheckpointParts saved;
  saved.add("net", *a).add("opt", opt_a).add("t", t_a).add("n", n_a).add("fitted", f_a);
  CheckpointWriter w;
  saved.save(w);
  w.save(dir / "p.ckpt");

  CheckpointReader r(dir / "p.ckpt");
  CheckpointParts loaded;
  loaded.add("net", *b).add("opt", opt_b).add("t", t_b).add("n", n_b).add("fitted", f_b);
  loaded.load(r);
  EXPECT_TRUE(torch::equal(a->weight, b->weight));
  EXPECT_TRUE(torch::equal(t_b, torch::full({2}, 1.5)));
  EXPECT_EQ(n_b, 7);
  EXPECT_TRUE(f_b);

  // A tensor of another shape is an error naming its key.
  auto wrong = torch::zeros({3});
  CheckpointParts bad;
  bad.add("t", wrong);
  try {
    bad.load(r);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint's t has shape [2]: expected [3]"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace dojo::core
