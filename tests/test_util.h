// Helpers shared by the test programs.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

namespace dojo::test {

// A path under the temp directory, unique to this process and removed if it existed (not created).
inline std::filesystem::path fresh_path(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("dojo_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p;
}

}  // namespace dojo::test
