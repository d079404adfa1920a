// The precompiled header shared by every dojo target (see CMakeLists.txt). Only large, stable
// third-party headers belong here.
#pragma once
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>
