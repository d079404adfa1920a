#include <gtest/gtest.h>

#include <filesystem>

#include "cli_util.h"
#include "core/files.h"

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

  r = test::dojo("games solve connect4 121212 --weak");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("outcome 1 (the side to move wins"), std::string::npos) << r.out;
}

TEST(GamesCli, ArenaPlaysAndNamesBadPlayers) {
  auto r = test::dojo("arena solver random --game tic_tac_toe --games 10 --random-plies 0");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("solver vs random, 10 games"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 0 losses"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Elo difference +"), std::string::npos) << r.out;
  test::expect_bad_input("arena mcts:x random", "player 'mcts:x'");
  test::expect_bad_input("arena random random --game chess", "chess");
  test::expect_bad_input("arena random random --games 0", "--games 0");
  test::expect_bad_input("arena random random --opening 44444445", "move 7 '4'");
  r = test::dojo("arena random random --opening 4453 --random-plies 0 --games 2");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("openings of '4453' and 0 random plies"), std::string::npos) << r.out;
}

TEST(GamesCli, PlayAsksAgainAfterAnIllegalMove) {
  // Typed moves come from a file here: a mistyped one and an occupied cell are refused and asked
  // again, the game goes on.
  const auto moves =
      std::filesystem::temp_directory_path() / ("dojo_play_moves_" + std::to_string(::getpid()));
  core::atomic_write_text(moves, "b2\nzz\nb2\na1\na2\na3\nb1\nb3\nc1\nc2\nc3\n");
  const auto r = test::dojo("play tic_tac_toe --vs solver < " + moves.string());
  std::filesystem::remove(moves);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("'zz'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("move 'b2' is not legal here; legal moves:"), std::string::npos) << r.out;
  // Perfect play never loses.
  EXPECT_EQ(r.out.find("you win"), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.find("a draw") != std::string::npos || r.out.find("you lose") != std::string::npos)
      << r.out;
}

TEST(GamesCli, CountsSolverOptimalMoves) {
  const auto r =
      test::dojo("games optimal solver random --positions 20 --min-ply 20 --max-ply 30 --table-mb 20");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("20 positions after 20-30 random plies"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("solver: a solver-optimal move in 100.0% (20)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("random: a solver-optimal move in "), std::string::npos) << r.out;
  test::expect_bad_input("games optimal random --min-ply 30 --max-ply 20", "plies 30 and 20");
  test::expect_bad_input("games optimal mcts:y", "player 'mcts:y'");
}

TEST(GamesCli, TrainsAlphaZeroAndMatchesTheRun) {
  const auto dir = std::filesystem::temp_directory_path() / ("dojo_cli_az_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string small =
      " --set games_per_iteration=4 --set steps_per_iteration=2 --set eval_games=2 --set eval_every=1"
      " --set ladder=[random] --set blocks=1 --set filters=8 --set actors=2";
  auto r = test::dojo("train alphazero --game tic_tac_toe --steps 2 --out " + dir.string() + small);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("2 iterations, 8 self-play games"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Elo "), std::string::npos) << r.out;
  r = test::dojo("train --resume " + dir.string() + " --steps 1");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("3 iterations, 12 self-play games"), std::string::npos) << r.out;
  r = test::dojo("arena " + dir.string() + " random --game tic_tac_toe --games 2");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("alphazero:50 vs random, 2 games"), std::string::npos) << r.out;
  r = test::dojo("arena " + dir.string() + ":0 random --game tic_tac_toe --games 2");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("network vs random"), std::string::npos) << r.out;
  // A person plays the run in the terminal (moves from a file here; the game goes to its end).
  const auto moves = dir / "moves.txt";
  core::atomic_write_text(moves, "a1\nb1\nc1\na2\nb2\nc2\na3\nb3\nc3\n");
  r = test::dojo("play tic_tac_toe --vs " + dir.string() + " < " + moves.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("tic_tac_toe against alphazero:50"), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.find("you win") != std::string::npos || r.out.find("you lose") != std::string::npos ||
              r.out.find("a draw") != std::string::npos)
      << r.out;

  test::expect_bad_input("arena " + dir.string() + " random --game connect4", "trained on tic_tac_toe");
  test::expect_bad_input("train --resume " + dir.string() + " --set seed=1", "--resume");
  test::expect_bad_input("train alphazero --game chess", "chess");
  test::expect_bad_input("train alphazero", "--game");
  test::expect_bad_input("train alphazero --game connect4 --env CartPole-v1", "--env");
  test::expect_bad_input("train alphazero --game connect4 --set simulatons=3", "simulatons");
  test::expect_bad_input("train alphazero --game connect4 --set actors=0", "actors");
  test::expect_bad_input("train dqn --game connect4", "--game");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dojo::games
