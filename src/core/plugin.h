// Plugins: shared libraries that add to dojo's registries (envs today) when loaded, so the command can
// train, evaluate, resume and record runs on envs it was not built with:
//
//   // corridor.cpp, built as libcorridor.so against the installed dojo (find_package(dojo))
//   DOJO_PLUGIN_INIT { dojo::envs::register_env({.id = "Corridor-v0", ...}); }
//
//   dojo train dqn --plugin ./libcorridor.so --env Corridor-v0     (or DOJO_PLUGINS=a.so:b.so)
//
// A run records the plugins it was trained with (config key `plugins`), and `dojo eval`/`--resume`
// load them again. dojo's libraries are shared, so a plugin registers into the one registry the
// command reads.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/export.h"

// The function a plugin defines; dojo calls it once, right after loading the library.
#define DOJO_PLUGIN_INIT extern "C" __attribute__((visibility("default"))) void dojo_plugin_init()

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// Loads the library (once per absolute path) and calls its dojo_plugin_init. Throws dojo::Error naming
// the path when it does not exist, does not load, or defines no dojo_plugin_init. Returns the absolute
// path it loaded.
std::filesystem::path load_plugin(const std::filesystem::path& path);
// The paths of $DOJO_PLUGINS (separated by ':'), empty entries skipped.
std::vector<std::filesystem::path> env_plugins();
// Absolute paths of the plugins loaded so far, in load order.
std::vector<std::filesystem::path> loaded_plugins();

}  // namespace dojo::core

DOJO_PUBLIC_END
