#include "chem/labels.h"

#include <csv.h>

#include <fstream>
#include <sstream>
#include <unordered_set>

#include "core/error.h"
#include "core/files.h"

namespace dojo::chem {

namespace fs = std::filesystem;

namespace {

// Rows of a CSV file as libcsv parses them (RFC 4180 quoting).
std::vector<std::vector<std::string>> read_rows(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("labels '" + path.string() + "' not found: expected a CSV file");
  struct Rows {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
  } rows;
  csv_parser parser{};
  if (csv_init(&parser, CSV_APPEND_NULL) != 0) throw std::runtime_error("libcsv: cannot initialise");
  const auto on_field = [](void* field, std::size_t len, void* data) {
    static_cast<Rows*>(data)->row.emplace_back(static_cast<const char*>(field), len);
  };
  const auto on_row = [](int, void* data) {
    auto* r = static_cast<Rows*>(data);
    r->rows.push_back(std::move(r->row));
    r->row.clear();
  };
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (csv_parse(&parser, buf.data(), n, on_field, on_row, &rows) != n) {
      const std::string why = csv_strerror(csv_error(&parser));
      csv_free(&parser);
      throw Error("labels '" + path.string() + "' is not valid CSV (" + why + ")");
    }
  }
  csv_fini(&parser, on_field, on_row, &rows);
  csv_free(&parser);
  return std::move(rows.rows);
}

std::string quoted(const std::string& field) {
  if (field.find_first_of(",\"\n\r") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::vector<Label> read_labels(const fs::path& path, bool check_inchi) {
  const auto rows = read_rows(path);
  if (rows.empty()) throw Error("labels '" + path.string() + "' is empty: expected a header image_id,InChI");
  const auto& header = rows[0];
  const auto column = [&](const std::string& name) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    throw Error("labels '" + path.string() + "' has no column '" + name +
                "': expected a header image_id,InChI");
  };
  const auto id_col = column("image_id"), inchi_col = column("InChI");
  std::vector<Label> out;
  std::unordered_set<std::string> seen;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const auto where = "labels '" + path.string() + "' row " + std::to_string(r + 1);
    if (row.size() <= std::max(id_col, inchi_col))
      throw Error(where + " has " + std::to_string(row.size()) + " fields: expected " +
                  std::to_string(header.size()));
    Label l{row[id_col], row[inchi_col]};
    if (l.image_id.empty()) throw Error(where + " has an empty image_id");
    if (!seen.insert(l.image_id).second) throw Error(where + ": image_id '" + l.image_id + "' appears twice");
    if (check_inchi && l.inchi.rfind("InChI=1S/", 0) != 0)
      throw Error(where + ": '" + l.inchi + "' is not a standard InChI (expected InChI=1S/...)");
    out.push_back(std::move(l));
  }
  return out;
}

void write_labels(const fs::path& path, const std::vector<Label>& labels) {
  std::ostringstream out;
  out << "image_id,InChI\n";
  for (const auto& l : labels) out << quoted(l.image_id) << "," << quoted(l.inchi) << "\n";
  core::atomic_write_text(path, out.str());
}

fs::path image_path(const fs::path& root, const std::string& id) {
  if (id.size() < 3) throw Error("image_id '" + id + "': expected at least 3 characters (the folders a/b/c)");
  return root / id.substr(0, 1) / id.substr(1, 1) / id.substr(2, 1) / (id + ".png");
}

}  // namespace dojo::chem
