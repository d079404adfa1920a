#include <gtest/gtest.h>

#include <cmath>

#include "core/csv.h"
#include "test_util.h"

namespace dojo::core {
namespace {

TEST(CsvLog, ColumnsFollowTheKeysLoggedAndResumeKeepsThem) {
  const auto dir = test::fresh_path("csv_log");
  std::filesystem::create_directories(dir);
  const auto path = dir / "metrics.csv";
  {
    CsvLog log(path, {"step"});
    log.row({{"step", 1}, {"loss", 0.5}});
    log.row({{"step", 2}, {"loss", 0.25}, {"approx_kl", 0.01}});  // a new key widens the file
  }
  auto t = read_csv(path);
  EXPECT_EQ(t.header, (std::vector<std::string>{"step", "loss", "approx_kl"}));
  EXPECT_TRUE(std::isnan(t.column("approx_kl")[0]));
  EXPECT_DOUBLE_EQ(t.column("approx_kl")[1], 0.01);
  {
    CsvLog resumed(path, {"step"}, /*append=*/true);
    resumed.row({{"step", 3}, {"approx_kl", 0.02}});
  }
  t = read_csv(path);
  EXPECT_EQ(t.column("step"), (std::vector<double>{1, 2, 3}));
  EXPECT_TRUE(std::isnan(t.column("loss")[2]));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dojo::core
