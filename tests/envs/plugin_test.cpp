// Plugins add envs to the one registry the libraries share (the consumer example's Corridor-v0).
#include "core/plugin.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/files.h"
#include "envs/registry.h"
#include "test_util.h"

namespace dojo::core {
namespace {

void expect_error(const std::filesystem::path& path, const std::string& says) {
  try {
    load_plugin(path);
    ADD_FAILURE() << path;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

TEST(Plugin, RegistersItsEnvsOnceAndTheyWorkLikeBuiltIns) {
  EXPECT_THROW(envs::spec("Corridor-v0"), Error);
  const auto path = load_plugin(DOJO_TEST_PLUGIN);
  EXPECT_TRUE(path.is_absolute());
  EXPECT_EQ(load_plugin(DOJO_TEST_PLUGIN), path);  // a second load is a no-op, not a re-registration
  EXPECT_EQ(loaded_plugins(), std::vector<std::filesystem::path>{path});
  auto env = envs::make("Corridor-v0");
  env->reset(0);
  double total = 0;
  for (int t = 0; t < 7; ++t) total += env->step(1).reward;  // seven steps right reach the goal
  EXPECT_EQ(total, 1.0);
  EXPECT_EQ(env->render().size(1), 16 * 8);
}

TEST(Plugin, BadLibrariesAreErrorsNamingThePath) {
  expect_error("/nonexistent/libx.so", "not found");
  const auto text = test::fresh_path("notalib.so");
  atomic_write_text(text, "not an ELF file");
  expect_error(text, "does not load");
  expect_error(DOJO_CORE_LIBRARY, "dojo_plugin_init");  // a library, but not a plugin
  std::filesystem::remove(text);
}

TEST(Plugin, EnvironmentListSplitsOnColons) {
  ::setenv("DOJO_PLUGINS", "a.so::b.so", 1);
  EXPECT_EQ(env_plugins(), (std::vector<std::filesystem::path>{"a.so", "b.so"}));
  ::unsetenv("DOJO_PLUGINS");
  EXPECT_TRUE(env_plugins().empty());
}

}  // namespace
}  // namespace dojo::core
