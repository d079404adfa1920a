#include "core/plugin.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "core/error.h"

namespace dojo::core {

namespace {
std::mutex mutex;
std::vector<std::filesystem::path>& loaded() {
  static std::vector<std::filesystem::path> paths;
  return paths;
}
}  // namespace

std::filesystem::path load_plugin(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error("plugin '" + path.string() + "' not found: expected a shared library (.so) file");
  const auto absolute = std::filesystem::canonical(path);
  std::lock_guard lock(mutex);
  auto& paths = loaded();
  if (std::find(paths.begin(), paths.end(), absolute) != paths.end()) return absolute;
  // RTLD_GLOBAL: what the plugin defines may be needed by libraries loaded after it.
  void* handle = dlopen(absolute.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (handle == nullptr) {
    throw Error("plugin '" + path.string() + "' does not load: " + dlerror() +
                " (expected a shared library built against this dojo)");
  }
  auto* init = reinterpret_cast<void (*)()>(dlsym(handle, "dojo_plugin_init"));
  if (init == nullptr) {
    dlclose(handle);
    throw Error(
        "plugin '" + path.string() +
        "' defines no dojo_plugin_init: expected a DOJO_PLUGIN_INIT { ... } function (core/plugin.h)");
  }
  init();  // the library stays loaded for the life of the process: its envs live in the registry
  paths.push_back(absolute);
  return absolute;
}

std::vector<std::filesystem::path> env_plugins() {
  std::vector<std::filesystem::path> paths;
  const char* list = std::getenv("DOJO_PLUGINS");
  if (list == nullptr) return paths;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ':');) {
    if (!item.empty()) paths.emplace_back(item);
  }
  return paths;
}

std::vector<std::filesystem::path> loaded_plugins() {
  std::lock_guard lock(mutex);
  return loaded();
}

}  // namespace dojo::core
