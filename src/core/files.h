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

}  // namespace dojo::core

DOJO_PUBLIC_END
