// Constraints on options fields, declared once beside each key in an options struct's visit():
//
//   f("gamma", gamma_, in(0, 1));
//   f("net_arch", net_arch_, layer_sizes());
//   f("loss", loss_, one_of({"huber", "mse"}));
//
// check_options() walks visit() and throws dojo::Error for the first field out of range, naming the
// user's key, the value and what was expected; read_options, write_options and option_keys ignore
// the constraints. A struct's validate() is check_options plus the checks that relate two fields.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

class Constraint {
 public:
  // Throws dojo::Error naming `key` when the value breaks the constraint.
  void check(const std::string& key, double value) const;
  void check(const std::string& key, std::int64_t value) const;
  void check(const std::string& key, bool value) const;
  void check(const std::string& key, const std::string& value) const;
  void check(const std::string& key, const std::vector<std::int64_t>& value) const;

  // Number constraints (for int and double fields); `note` explains a special value, e.g. "0: none".
  static Constraint number(std::function<bool(double)> ok, std::string expected);

  std::function<bool(double)> number_ok;
  std::vector<std::string> choices;  // strings: one of these
  bool sizes = false;                // lists: one or more positive sizes
  std::string expected;
  // strings: throws dojo::Error naming the key when the value is wrong (a device name)
  std::function<void(const std::string& key, const std::string& value)> text_check;
};

Constraint positive();                                          // > 0
Constraint non_negative(const std::string& note = "");          // >= 0
Constraint at_least(double low, const std::string& note = "");  // >= low
Constraint in(double low, double high);                         // in [low, high]
Constraint in_open_closed(double low, double high);             // in (low, high]
Constraint in_closed_open(double low, double high);             // in [low, high)
Constraint one_of(std::vector<std::string> choices);
Constraint layer_sizes();  // [64, 64]: at least one layer, each size positive

// Checks every constrained field of `options` (fields visited without a constraint are free).
template <class Options>
void check_options(const Options& options) {
  auto copy = options;  // visit() hands out mutable references
  copy.visit([]([[maybe_unused]] const char* key, [[maybe_unused]] const auto& value,
                const auto&... constraints) { (constraints.check(key, value), ...); });
}

}  // namespace dojo::core

DOJO_PUBLIC_END
