// Slow: AlphaZero learns tic-tac-toe with its preset through the dojo command, then never loses to
// perfect play (issue 24's acceptance 3; the preset's full run takes ~20 s on one core).
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_util.h"

namespace dojo::games {
namespace {

TEST(AlphaZeroLearning, TicTacToeNeverLosesToPerfectPlay) {
  const auto dir = std::filesystem::temp_directory_path() / ("dojo_az_ttt_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto r = test::dojo("train alphazero --game tic_tac_toe --out " + dir.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  // 100 games as each side; the perfect player picks uniformly among its optimal moves, so games differ.
  r = test::dojo("arena " + dir.string() +
                 " solver --game tic_tac_toe --games 200 --random-plies 0 --seed 3");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(" 0 losses"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dojo::games
