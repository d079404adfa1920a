#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// Levenshtein distance (insertions, deletions, substitutions all cost 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidates closest to `word` by case-insensitive edit distance, best first, at most `n`.
std::vector<std::string> closest(std::string_view word, const std::vector<std::string>& candidates,
                                 std::size_t n = 3);

// " (did you mean 'a', 'b'?)" or "" when nothing is close enough to help.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// A count as people write them: "100000", "1e5", "2.5e4" (an integral value); throws dojo::Error
// naming `what` and the text otherwise.
std::int64_t parse_count(const std::string& text, const std::string& what);

// 1234567 -> "1,234,567"
std::string thousands(std::int64_t n);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

}  // namespace dojo::core

DOJO_PUBLIC_END
