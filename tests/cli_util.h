// The dojo command as tests run it (DOJO_BIN, set by CTest): exit code and stderr, and the check that
// bad input gives one `error:` line naming the value, exit code 2.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "core/error.h"
#include "core/files.h"

namespace dojo::test {

// The CLI: bad input gives one `error:` line naming the value, exit code 2, and changes no file.
struct Cli {
  int rc;
  std::string err, out;
};

inline Cli dojo(const std::string& args) {
  const char* bin = std::getenv("DOJO_BIN");
  EXPECT_NE(bin, nullptr) << "DOJO_BIN is set by CTest";
  const auto tmp = std::filesystem::temp_directory_path();
  const auto err_file = tmp / ("dojo_cli_err_" + std::to_string(::getpid()));
  const auto out_file = tmp / ("dojo_cli_out_" + std::to_string(::getpid()));
  const int status = std::system(
      (std::string(bin) + " " + args + " > " + out_file.string() + " 2> " + err_file.string()).c_str());
  return {WEXITSTATUS(status), core::read_text(err_file), core::read_text(out_file)};
}

inline std::map<std::string, std::string> snapshot(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[e.path().string()] = core::read_text(e.path());
  }
  return files;
}

// The message of the dojo::Error that f throws; a test failure when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no dojo::Error";
  return "";
}

inline void expect_bad_input(const std::string& args, const std::string& names) {
  const auto r = dojo(args);
  EXPECT_EQ(r.rc, 2) << args << "\n" << r.err;
  ASSERT_FALSE(r.err.empty()) << args;
  const auto last_line = r.err.substr(r.err.rfind("error:"));
  EXPECT_EQ(last_line.find('\n'), last_line.size() - 1) << "one line: " << last_line;
  EXPECT_NE(last_line.find(names), std::string::npos) << "'" << names << "' in: " << last_line;
}

}  // namespace dojo::test
