#include "core/run_dir.h"

#include <ctime>

#include "core/error.h"

namespace dojo::core {

namespace fs = std::filesystem;

fs::path create_run_dir(const fs::path& out, const std::string& name) {
  fs::path dir = out;
  if (dir.empty()) {
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    dir = fs::path("runs") / (name + "-" + stamp);
    for (int i = 2; fs::exists(dir); ++i)
      dir = fs::path("runs") / (name + "-" + stamp + "-" + std::to_string(i));
  } else if (fs::exists(dir) && !(fs::is_directory(dir) && fs::is_empty(dir))) {
    throw Error("--out '" + dir.string() + "' already exists: expected a new or empty directory " +
                "(use --resume to continue a run)");
  }
  std::error_code ec;
  fs::create_directories(dir / "checkpoints", ec);
  if (ec) {
    throw Error("cannot create run directory '" + dir.string() + "' (" + ec.message() +
                "): expected a path where a folder can be made");
  }
  return dir;
}

void require_run_dir(const fs::path& dir) {
  if (!fs::is_directory(dir) || !fs::exists(dir / "config.yaml") || !fs::is_directory(dir / "checkpoints")) {
    throw Error("'" + dir.string() +
                "' is not a run directory: expected config.yaml and checkpoints/ inside");
  }
}

}  // namespace dojo::core
