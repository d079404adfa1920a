#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/csv.h"
#include "core/files.h"
#include "core/plot.h"
#include "core/progress.h"

namespace dojo::core {
namespace {

namespace fs = std::filesystem;

TEST(ProgressBar, PlainLinesEveryTenthWhenNotATerminal) {
  std::ostringstream out;
  ProgressBar bar(1000, "steps", out, /*terminal=*/false);
  for (int i = 1; i <= 1000; ++i) bar.update(i, "return 1.0");
  bar.finish();
  std::istringstream lines(out.str());
  int n = 0;
  std::string line, last;
  while (std::getline(lines, line)) ++n, last = line;
  EXPECT_EQ(n, 10);  // 9 periodic lines (10%..90%) and the final one
  EXPECT_NE(last.find("1000/1000"), std::string::npos);
  EXPECT_NE(last.find("100%"), std::string::npos);
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
}

TEST(ProgressBar, TerminalRedrawsInPlaceWithRateAndEta) {
  std::ostringstream out;
  ProgressBar bar(100, "steps", out, /*terminal=*/true);
  bar.update(50);
  EXPECT_NE(out.str().find('\r'), std::string::npos);
  EXPECT_NE(out.str().find("ETA"), std::string::npos);
  EXPECT_NE(out.str().find("steps/s"), std::string::npos);
  EXPECT_EQ(ProgressBar::format_duration(65), "1m05s");
  std::ostringstream early;
  ProgressBar stopped(100, "steps", early, /*terminal=*/false);
  stopped.update(40);
  stopped.finish();
  EXPECT_NE(early.str().find("40/100"), std::string::npos);  // a run stopped early ends where it stopped
  EXPECT_EQ(early.str().find("100/100"), std::string::npos);
  EXPECT_EQ(ProgressBar::format_duration(3720), "1h02m");
}

TEST(Csv, WritesAppendsAndReadsBack) {
  const auto path = fs::temp_directory_path() / ("dojo_csv_" + std::to_string(::getpid()) + ".csv");
  fs::remove(path);
  {
    CsvWriter w(path, {"step", "value"});
    w.row({1, 0.5});
  }
  {
    CsvWriter w(path, {"step", "value"}, /*append=*/true);
    w.row({2, 1.5});
    EXPECT_THROW(w.row({1}), std::logic_error);
  }
  const auto t = read_csv(path);
  EXPECT_EQ(t.header, (std::vector<std::string>{"step", "value"}));
  EXPECT_EQ(t.column("value"), (std::vector<double>{0.5, 1.5}));
}

TEST(Plot, WritesAPngOfTheRequestedSize) {
  const auto path = fs::temp_directory_path() / ("dojo_plot_" + std::to_string(::getpid()) + ".png");
  line_plot(path, {{"a", {0, 1, 2}, {0, 1, 4}}}, {"title", "x", "y", 320, 200});
  const auto bytes = read_text(path);
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned char>(bytes[at]) << 24) | (static_cast<unsigned char>(bytes[at + 1]) << 16) |
           (static_cast<unsigned char>(bytes[at + 2]) << 8) | static_cast<unsigned char>(bytes[at + 3]);
  };
  EXPECT_EQ(be32(16), 320);
  EXPECT_EQ(be32(20), 200);
}

TEST(Plot, NiceTicksCoverTheRange) {
  EXPECT_EQ(nice_ticks(0, 50000, 5), (std::vector<double>{0, 10000, 20000, 30000, 40000, 50000}));
  EXPECT_EQ(nice_ticks(-1, 1, 4), (std::vector<double>{-1, -0.5, 0, 0.5, 1}));
}

}  // namespace
}  // namespace dojo::core
