// The built-in MJCF models (mujoco/models/*.xml), compiled into the library so that a program finds
// them wherever it is installed: name -> MJCF text.
#pragma once
#include <map>
#include <string>

namespace dojo::envs::mujoco {

const std::map<std::string, std::string>& builtin_models();

}  // namespace dojo::envs::mujoco
