#include "core/files.h"

#include <dlfcn.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace dojo::core {

namespace fs = std::filesystem;

void atomic_write(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  const fs::path tmp = path.string() + ".tmp" + std::to_string(::getpid());
  try {
    write(tmp);
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

void atomic_write_text(const fs::path& path, const std::string& text) {
  atomic_write(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  });
}

std::string read_text(const fs::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in || fs::is_directory(path)) {
    throw Error("cannot read " + what + " '" + path.string() + "': expected a readable file");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::filesystem::path find_data_dir(const void* symbol, const std::string& what) {
  namespace fs = std::filesystem;
  Dl_info info{};
  if (dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return {};
  std::error_code ec;
  const auto lib = fs::weakly_canonical(fs::path(info.dli_fname), ec).parent_path();
  if (ec) return {};
  for (const auto& dir : {lib / ".." / "share" / "dojo" / what, lib / ".." / ".." / what}) {
    if (fs::is_directory(dir, ec)) return fs::weakly_canonical(dir, ec);
  }
  return {};
}

}  // namespace dojo::core
