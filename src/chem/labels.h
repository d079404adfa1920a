// The BMS competition's label and submission files: a header naming the columns image_id and InChI,
// then one row per image, InChI quoted (it holds commas). The same reader takes the competition's
// train_labels.csv, a submission, and the sets `dojo mol make-dataset` writes.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::chem {

struct Label {
  std::string image_id, inchi;
};

// Throws dojo::Error naming the file for a missing file or column, a row with too few fields, an empty
// or duplicated image id, or (when `check_inchi`) a value that does not start with "InChI=1S/".
std::vector<Label> read_labels(const std::filesystem::path& csv, bool check_inchi = true);
// Written atomically: a failure leaves an existing file as it was.
void write_labels(const std::filesystem::path& csv, const std::vector<Label>& labels);

// Where the competition keeps an image: train/a/b/c/abc123.png under `root` for id "abc123".
std::filesystem::path image_path(const std::filesystem::path& root, const std::string& image_id);

}  // namespace dojo::chem

DOJO_PUBLIC_END
