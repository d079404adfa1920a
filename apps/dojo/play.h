// `dojo play ENV`: a human at the keyboard plays an environment in the terminal.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"

namespace dojo::app {

struct PlayOptions {
  std::string env_id;
  std::uint64_t seed = 0;
  double fps = 8.0;  // game steps per second at a terminal
  std::int64_t episodes = 1;
  // Board games (`dojo play connect4`): the opponent (a player spec) and which side the person takes.
  std::string vs = "mcts:1000";
  bool second = false;
  std::string record;               // a folder for one GIF per episode (empty: none)
  std::vector<std::string> kwargs;  // the env's keyword arguments, KEY=VALUE (--kwarg)
};

// --kwarg KEY=VALUE assignments as make()'s keyword arguments (values parsed as YAML).
core::Config env_kwargs(const std::vector<std::string>& assignments);

// At a terminal: the env's rendered frame is drawn with coloured half-blocks and the game ticks at
// `fps`, taking the last key pressed in each tick (none: NOOP). Otherwise (keys piped in): one step
// per key, until q or the end of input. Keys: arrows, WASD or HJKL move; space or f fires; . is NOOP;
// a digit picks that action index; a car's up and down are its gas and brake (CarRacing-v2 is played
// through its 5-action twin, CarRacingDiscrete-v2). With `record`, each episode is written as
// RECORD/episode_NNN.gif. Prints each episode's return. Returns the exit code.
int play(const PlayOptions& options);

// A board game in the terminal: the board drawn after every move, the person's moves typed as the
// game writes them (columns 1-7 in Connect Four, a1…c3 in tic-tac-toe); an illegal or mistyped move
// asks again, q quits. Prints the result. Returns the exit code.  (games.cpp)
int play_board_game(const PlayOptions& options);

}  // namespace dojo::app
