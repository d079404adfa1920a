#include "chem/score.h"

#include <unordered_map>
#include <vector>

#include "chem/labels.h"
#include "core/error.h"
#include "core/strings.h"

namespace dojo::chem {

std::int64_t levenshtein(std::string_view a, std::string_view b) {
  return static_cast<std::int64_t>(core::edit_distance(a, b));
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
