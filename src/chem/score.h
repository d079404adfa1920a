// The BMS competition's metric: the Levenshtein distance between a predicted and the true InChI
// (insertions, deletions and substitutions of characters, each costing 1), averaged over images.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::chem {

// No Debian C++ library computes it; the two-row dynamic programme is a dozen lines.
std::int64_t levenshtein(std::string_view a, std::string_view b);

struct Score {
  double mean_distance = 0;  // the competition's score: lower is better
  double exact = 0;          // fraction of identical strings
  std::int64_t count = 0;
};

// A submission (image_id,InChI) against labels (image_id,InChI), the competition's file format: every
// labelled image must have a prediction. Throws dojo::Error naming the file for a missing column, a
// missing or duplicated image id, or an unreadable file.
Score score_files(const std::filesystem::path& submission, const std::filesystem::path& labels);

}  // namespace dojo::chem

DOJO_PUBLIC_END
