#include "core/options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/error.h"

namespace dojo::core {

namespace {

std::string join_choices(const std::vector<std::string>& c) {
  std::string s;
  for (std::size_t i = 0; i < c.size(); ++i) s += (i == 0 ? "" : i + 1 == c.size() ? " or " : ", ") + c[i];
  return s;
}

std::string with_note(std::string expected, const std::string& note) {
  return note.empty() ? expected : expected + " (" + note + ")";
}

}  // namespace

void Constraint::check(const std::string& key, double value) const {
  if (number_ok && !number_ok(value))
    throw Error(fmt::format("{} = {:g}: expected {}", key, value, expected));
}

void Constraint::check(const std::string& key, std::int64_t value) const {
  if (number_ok && !number_ok(static_cast<double>(value)))
    throw Error(fmt::format("{} = {}: expected {}", key, value, expected));
}

void Constraint::check(const std::string&, bool) const {}

void Constraint::check(const std::string& key, const std::string& value) const {
  if (!choices.empty() && std::find(choices.begin(), choices.end(), value) == choices.end())
    throw Error(key + " = '" + value + "': expected " + join_choices(choices));
  if (text_check) text_check(key, value);
}

void Constraint::check(const std::string& key, const std::vector<std::int64_t>& value) const {
  if (!sizes) return;
  const bool ok =
      !value.empty() && std::all_of(value.begin(), value.end(), [](std::int64_t v) { return v > 0; });
  if (!ok)
    throw Error(fmt::format("{} = [{}]: expected one or more positive layer sizes, e.g. [64, 64]", key,
                            fmt::join(value, ", ")));
}

Constraint Constraint::number(std::function<bool(double)> ok, std::string expected) {
  Constraint c;
  c.number_ok = std::move(ok);
  c.expected = std::move(expected);
  return c;
}

Constraint positive() {
  return Constraint::number([](double v) { return v > 0; }, "> 0");
}

Constraint non_negative(const std::string& note) {
  return Constraint::number([](double v) { return v >= 0; }, with_note(">= 0", note));
}

Constraint at_least(double low, const std::string& note) {
  return Constraint::number([low](double v) { return v >= low; },
                            with_note(fmt::format(">= {:g}", low), note));
}

Constraint in(double low, double high) {
  return Constraint::number([=](double v) { return v >= low && v <= high; },
                            fmt::format("in [{:g}, {:g}]", low, high));
}

Constraint in_open_closed(double low, double high) {
  return Constraint::number([=](double v) { return v > low && v <= high; },
                            fmt::format("in ({:g}, {:g}]", low, high));
}

Constraint in_closed_open(double low, double high) {
  return Constraint::number([=](double v) { return v >= low && v < high; },
                            fmt::format("in [{:g}, {:g})", low, high));
}

Constraint one_of(std::vector<std::string> choices) {
  Constraint c;
  c.choices = std::move(choices);
  c.expected = join_choices(c.choices);
  return c;
}

Constraint layer_sizes() {
  Constraint c;
  c.sizes = true;
  c.expected = "one or more positive layer sizes";
  return c;
}

}  // namespace dojo::core
