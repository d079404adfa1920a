#include "core/config.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/strings.h"

namespace dojo::core {
namespace {

struct Opts {
  double lr = 1e-3;
  std::int64_t steps = 10;
  bool flag = false;
  std::string name = "adam";
  std::vector<std::int64_t> arch{64, 64};
  template <class F>
  void visit(F&& f) {
    f("learning_rate", lr);
    f("n_timesteps", steps);
    f("double_q", flag);
    f("optimizer", name);
    f("net_arch", arch);
  }
};

TEST(Config, ParsesYamlAndReadsTypedOptions) {
  auto c = Config::parse(
      "learning_rate: 2.3e-3\nn_timesteps: !!float 5e4\ndouble_q: true\nnet_arch: [256, 256]\n", "t");
  Opts o;
  read_options(c, o);
  EXPECT_DOUBLE_EQ(o.lr, 2.3e-3);
  EXPECT_EQ(o.steps, 50000);  // RL-Zoo's float step counts are accepted when integral
  EXPECT_TRUE(o.flag);
  EXPECT_EQ(o.name, "adam");  // absent keys keep their defaults
  EXPECT_EQ(o.arch, (std::vector<std::int64_t>{256, 256}));
}

TEST(Config, SetOverridesParseValuesAsYaml) {
  Config c;
  c.set("net_arch=[32, 16]");
  c.set("learning_rate=1e-4");
  c.set("optimizer=rmsprop");
  Opts o;
  read_options(c, o);
  EXPECT_EQ(o.arch, (std::vector<std::int64_t>{32, 16}));
  EXPECT_DOUBLE_EQ(o.lr, 1e-4);
  EXPECT_EQ(o.name, "rmsprop");
  EXPECT_THROW(c.set("no_equals_sign"), Error);
  EXPECT_THROW(c.set("=3"), Error);
}

TEST(Config, TypeErrorsNameKeyValueAndExpectation) {
  Config c;
  c.set("learning_rate=abc");
  Opts o;
  try {
    read_options(c, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "config key 'learning_rate': expected a number, got 'abc'");
  }
  Config c2;
  c2.set("n_timesteps=12.5");
  EXPECT_THROW(read_options(c2, o), Error);
  Config c3;
  c3.set("net_arch=64");
  EXPECT_THROW(read_options(c3, o), Error);
  Config c4;
  c4.set("double_q=maybe");
  EXPECT_THROW(read_options(c4, o), Error);
}

TEST(Config, UnknownKeysAreRejectedWithSuggestions) {
  Config c;
  c.set("learnin_rate=3");
  try {
    check_keys(c, option_keys<Opts>());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unknown config key 'learnin_rate'"), std::string::npos);
    EXPECT_NE(msg.find("did you mean 'learning_rate'"), std::string::npos);
  }
}

TEST(Config, WriteOptionsRoundTripsThroughYamlText) {
  Opts o;
  o.lr = 0.5;
  o.arch = {7};
  Config c;
  write_options(o, c);
  auto back = Config::parse(c.dump(), "dump");
  Opts o2;
  read_options(back, o2);
  EXPECT_DOUBLE_EQ(o2.lr, 0.5);
  EXPECT_EQ(o2.arch, std::vector<std::int64_t>{7});
  EXPECT_EQ(back.keys().size(), 5u);
}

TEST(Config, BadFilesAreErrors) {
  EXPECT_THROW(Config::load("/nonexistent/file.yaml"), Error);
  EXPECT_THROW(Config::parse("[1, 2]", "list"), Error);
  EXPECT_THROW(Config::parse("a: [1, 2", "broken"), Error);
}

TEST(Strings, EditDistanceAndClosest) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
  const auto near = closest("cartpole-v1", {"CartPole-v1", "CartPole-v0", "Acrobot-v1"});
  ASSERT_GE(near.size(), 1u);
  EXPECT_EQ(near[0], "CartPole-v1");
  EXPECT_EQ(did_you_mean("zzzzzzzz", {"CartPole-v1"}), "");
}

}  // namespace
}  // namespace dojo::core

namespace dojo::core {
namespace {
TEST(Strings, ThousandsSeparators) {
  EXPECT_EQ(thousands(0), "0");
  EXPECT_EQ(thousands(999), "999");
  EXPECT_EQ(thousands(16362), "16,362");
  EXPECT_EQ(thousands(138357544), "138,357,544");
  EXPECT_EQ(thousands(-1234), "-1,234");
}
}  // namespace
}  // namespace dojo::core

namespace dojo::core {
namespace {

struct G {
  double gamma = 0.99, lr = 2.3e-3, tiny = 1e-5, third = 1.0 / 3.0;
  template <class F>
  void visit(F&& f) {
    f("gamma", gamma), f("learning_rate", lr), f("eps", tiny), f("third", third);
  }
};

TEST(Config, WritesDoublesInTheirShortestRoundTrippingForm) {
  const auto text = options_yaml(G{});
  EXPECT_NE(text.find("gamma: 0.99\n"), std::string::npos) << text;  // not 0.98999999999999999
  EXPECT_NE(text.find("learning_rate: 0.0023\n"), std::string::npos) << text;
  G back;
  read_options(Config::parse(text, "dump"), back);
  EXPECT_EQ(back.gamma, 0.99);
  EXPECT_EQ(back.lr, 2.3e-3);
  EXPECT_EQ(back.tiny, 1e-5);
  EXPECT_EQ(back.third, 1.0 / 3.0);  // exactly, after the round trip
}

TEST(Config, ReadsListsOfStringsAndSections) {
  const auto c = Config::parse("plugins: [a.so, b.so]\nCartPole-v1:\n  n_envs: 8\nx: 1\n", "t");
  EXPECT_EQ(c.get<std::vector<std::string>>("plugins", {}), (std::vector<std::string>{"a.so", "b.so"}));
  EXPECT_TRUE(c.is_section("CartPole-v1"));
  EXPECT_FALSE(c.is_section("x"));
  EXPECT_EQ(c.section("CartPole-v1").get<std::int64_t>("n_envs", 0), 8);
  EXPECT_THROW(c.section("x"), Error);
  EXPECT_EQ(c.text("plugins"), "[a.so, b.so]");
  std::vector<std::string> v;
  EXPECT_THROW(Config::parse("plugins: a.so", "t").read("plugins", v), Error);
  const auto w = Config::parse("weights: [1, 0.5]\nbad: [1, x]", "t");
  EXPECT_EQ(w.get<std::vector<double>>("weights", {}), (std::vector<double>{1.0, 0.5}));
  std::vector<double> d;
  try {
    w.read("bad", d);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a list of numbers like [1, 0.5]"), std::string::npos) << e.what();
  }
}

TEST(Strings, CountsAcceptScientificNotation) {
  EXPECT_EQ(parse_count("100000", "--steps"), 100000);
  EXPECT_EQ(parse_count("1e5", "--steps"), 100000);
  EXPECT_EQ(parse_count("2.5e4", "--steps"), 25000);
  for (const char* bad : {"1.5", "abc", "1e5x", "", "1e30"}) {
    try {
      parse_count(bad, "--steps");
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--steps '" + std::string(bad) + "'"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace dojo::core
