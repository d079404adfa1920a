#include "chem/score.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>
#include <vector>

#include "chem/labels.h"
#include "core/error.h"

namespace dojo::chem {

std::int64_t levenshtein(std::string_view a, std::string_view b) {
  if (a.size() < b.size()) std::swap(a, b);  // the row follows the shorter string
  std::vector<std::int64_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::int64_t diagonal = row[0];  // d[i-1][j-1]
    row[0] = static_cast<std::int64_t>(i);
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::int64_t up = row[j];  // d[i-1][j]
      row[j] = std::min({up + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

Score score_files(const std::filesystem::path& submission, const std::filesystem::path& labels) {
  // The submission's InChIs are predictions: anything goes, an empty string included.
  const auto predicted = read_labels(submission, /*check_inchi=*/false);
  const auto truth = read_labels(labels);
  std::unordered_map<std::string, const std::string*> by_id;
  for (const auto& p : predicted) by_id[p.image_id] = &p.inchi;
  Score s;
  double distance = 0, exact = 0;
  for (const auto& t : truth) {
    const auto it = by_id.find(t.image_id);
    if (it == by_id.end())
      throw Error("submission '" + submission.string() + "' has no row for image_id '" + t.image_id +
                  "' of '" + labels.string() + "': expected one per labelled image");
    const auto d = levenshtein(*it->second, t.inchi);
    distance += static_cast<double>(d);
    exact += d == 0 ? 1 : 0;
  }
  s.count = static_cast<std::int64_t>(truth.size());
  if (s.count > 0) {
    s.mean_distance = distance / static_cast<double>(s.count);
    s.exact = exact / static_cast<double>(s.count);
  }
  return s;
}

}  // namespace dojo::chem
