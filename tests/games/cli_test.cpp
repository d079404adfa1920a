#include <gtest/gtest.h>

#include "cli_util.h"

namespace dojo::games {
namespace {

TEST(GamesCli, SolvesAndRefusesBadPositions) {
  auto r = test::dojo("games solve connect4 121212 --analyze");
  ASSERT_EQ(r.rc, 0) << r.err;
  // X completes column 1 with its fourth stone: 22 − 4; a column other than 1 or 2 (O's three) lets O
  // do the same.
  EXPECT_NE(r.out.find("score 18 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1: 18  2: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3: -18  4: -18  5: -18  6: -18  7: -18"), std::string::npos) << r.out;
  r = test::dojo("games list");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("connect4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tic_tac_toe"), std::string::npos) << r.out;

  test::expect_bad_input("games solve connect4 44444445", "move 7 '4'");
  test::expect_bad_input("games solve connect4 48", "'8'");
  test::expect_bad_input("games solve connect4 1212121", "already finished");
  test::expect_bad_input("games solve chess 4", "chess");
}

}  // namespace
}  // namespace dojo::games
