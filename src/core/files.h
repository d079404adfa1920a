// Files are written atomically: to a temporary name beside the target, then renamed, so a crash or a
// bad input never leaves a half-written file or destroys the previous version.
#pragma once
#include <filesystem>
#include <functional>
#include <string>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// Calls write(tmp_path), then renames tmp_path to `path`. If write throws, the temporary is removed
// and `path` is left as it was.
void atomic_write(const std::filesystem::path& path,
                  const std::function<void(const std::filesystem::path&)>& write);

void atomic_write_text(const std::filesystem::path& path, const std::string& text);

// Reads a whole file; throws dojo::Error naming the path when it cannot be read.
std::string read_text(const std::filesystem::path& path, const std::string& what = "file");

// A folder of dojo's data (`what`: "configs", "models") as the shared library holding `symbol` finds it:
// installed, <prefix>/lib/libdojo_*.so -> <prefix>/share/dojo/<what>; in the build tree,
// build/src/<module>/libdojo_*.so -> build/<what>. Found from the library rather than the program, so
// the dojo command, a user's program and Python's `import dojo` (whose program is python3) all find
// the same files. Empty when neither folder exists.
std::filesystem::path find_data_dir(const void* symbol, const std::string& what);

}  // namespace dojo::core

DOJO_PUBLIC_END
