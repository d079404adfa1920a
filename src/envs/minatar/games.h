// Internal to envs/minatar: one factory per game.
#pragma once
#include <memory>

#include "core/export.h"
#include "envs/minatar/minatar.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs::minatar {

std::unique_ptr<Game> make_breakout();
std::unique_ptr<Game> make_freeway();
std::unique_ptr<Game> make_asterix();
std::unique_ptr<Game> make_space_invaders();
std::unique_ptr<Game> make_seaquest();

}  // namespace dojo::envs::minatar

DOJO_PUBLIC_END
