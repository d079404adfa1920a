// The seed's example models learn what they should, on budgets small enough for CI (label: slow).
// The full runs and their figures are in docs/nn.md.
#include "examples/examples.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace dojo::examples
