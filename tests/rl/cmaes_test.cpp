#include "rl/cmaes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/checkpoint.h"
#include "core/error.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

TEST(CmaEs, TutorialDefaults) {
  CmaEs es(std::vector<double>(10, 1.0), 0.5);
  EXPECT_EQ(es.population(), 10);  // 4 + ⌊3 ln 10⌋
  const auto& xs = es.ask();
  ASSERT_EQ(xs.size(), 10u);
  EXPECT_EQ(xs[0].size(), 10u);
  EXPECT_EQ(&es.ask(), &xs);  // asked twice, the same generation
  // Candidates spread around the mean by σ.
  double spread = 0;
  for (const auto& x : xs)
    for (const double v : x) spread += (v - 1.0) * (v - 1.0);
  EXPECT_NEAR(std::sqrt(spread / 100), 0.5, 0.2);
}

TEST(CmaEs, SolvesTheSphereAndRosenbrock) {
  CmaMinimizeOptions o;
  o.target = 1e-8;
  o.cma.seed = 3;
  const auto s = cma_minimize(sphere, std::vector<double>(10, 3.0), 2.0, o);
  EXPECT_EQ(s.stop, "target");
  EXPECT_LE(s.f, 1e-8);
  EXPECT_LT(s.evaluations, 3000);  // the tutorial's CMA-ES needs ~1,600 here
  const auto r = cma_minimize(rosenbrock, std::vector<double>(10, 0.0), 0.5, o);
  EXPECT_EQ(r.stop, "target");
  EXPECT_LT(r.evaluations, 12000);
  for (const double v : r.x) EXPECT_NEAR(v, 1.0, 1e-3);
}

TEST(CmaEs, SameSeedSameRunOnAnyThreadCount) {
  CmaMinimizeOptions o;
  o.target = 1e-6;
  o.cma.seed = 7;
  const auto a = cma_minimize(rosenbrock, std::vector<double>(5, 0.0), 0.5, o);
  o.threads = 3;
  const auto b = cma_minimize(rosenbrock, std::vector<double>(5, 0.0), 0.5, o);
  EXPECT_EQ(a.evaluations, b.evaluations);
  EXPECT_EQ(a.x, b.x);
  o.cma.seed = 8;
  EXPECT_NE(cma_minimize(rosenbrock, std::vector<double>(5, 0.0), 0.5, o).x, a.x);
}

TEST(CmaEs, RestartsWithALargerPopulationOnRastrigin) {
  CmaMinimizeOptions o;
  o.target = 1e-8;
  o.restarts = 6;
  o.cma.seed = 1;
  std::vector<double> x0(5, 3.0);
  const auto r = cma_minimize(rastrigin, x0, 2.0, o);
  EXPECT_GE(r.restarts, 1);  // one start with λ = 8 ends in a local minimum first
  EXPECT_EQ(r.stop, "target") << r.f;
}

TEST(CmaEs, StopsWhenConverged) {
  CmaEsOptions o;
  o.tol_fun = 1e-9;
  CmaEs es(std::vector<double>(3, 1.0), 1.0, o);
  std::string why;
  for (int g = 0; g < 2000 && why.empty(); ++g) {
    std::vector<double> f;
    for (const auto& x : es.ask()) f.push_back(sphere(x));
    es.tell(f);
    why = es.should_stop();
  }
  EXPECT_TRUE(why == "tol_fun" || why == "tol_x") << why;
  EXPECT_LT(es.best_fitness(), 1e-8);
}

TEST(CmaEs, RefusesBadInput) {
  EXPECT_THROW(CmaEs({}, 1.0), Error);
  EXPECT_THROW(CmaEs({1.0}, 0.0), Error);
  CmaEs es({1.0, 2.0}, 1.0);
  es.ask();
  EXPECT_THROW(es.tell({1.0}), Error);
  EXPECT_THROW(es.tell(std::vector<double>(static_cast<std::size_t>(es.population()), std::nan(""))), Error);
}

TEST(CmaEs, ASavedSearchContinuesExactly) {
  const auto run = [](CmaEs& es, int generations) {
    for (int g = 0; g < generations; ++g) {
      std::vector<double> f;
      for (const auto& x : es.ask()) f.push_back(rosenbrock(x));
      es.tell(f);
    }
  };
  CmaEs a(std::vector<double>(6, 0.0), 0.3, {.seed = 5});
  run(a, 7);
  a.ask();  // saved between ask and tell: the same candidates come back
  const auto path = test::fresh_path("cmaes.ckpt");
  {
    core::CheckpointWriter w;
    a.save(w, "es_");
    w.save(path);
  }
  CmaEs b(std::vector<double>(6, 0.0), 0.3, {.seed = 99});
  core::CheckpointReader r(path);
  b.load(r, "es_");
  EXPECT_EQ(a.ask(), b.ask());
  run(a, 5);
  run(b, 5);
  EXPECT_EQ(a.mean(), b.mean());
  EXPECT_EQ(a.sigma(), b.sigma());
  EXPECT_EQ(a.generation(), 12);
  CmaEs other(std::vector<double>(5, 0.0), 0.3);
  core::CheckpointReader r2(path);
  EXPECT_THROW(other.load(r2, "es_"), Error);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace dojo::rl
