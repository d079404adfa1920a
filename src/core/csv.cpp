#include "core/csv.h"

#include <fmt/format.h>

#include <sstream>

#include "core/error.h"
#include "core/files.h"

namespace dojo::core {

CsvWriter::CsvWriter(const std::filesystem::path& path, std::vector<std::string> header, bool append)
    : columns_(header.size()) {
  const bool fresh = !append || !std::filesystem::exists(path) || std::filesystem::file_size(path) == 0;
  out_.open(path, append ? std::ios::app : std::ios::trunc);
  if (!out_) throw std::runtime_error("cannot open " + path.string() + " for writing");
  if (fresh) {
    for (std::size_t i = 0; i < header.size(); ++i) out_ << (i ? "," : "") << header[i];
    out_ << "\n" << std::flush;
  }
}

void CsvWriter::row(const std::vector<double>& values) {
  if (values.size() != columns_) {
    throw std::logic_error(fmt::format("csv row has {} values, header has {}", values.size(), columns_));
  }
  for (std::size_t i = 0; i < values.size(); ++i) out_ << (i ? "," : "") << fmt::format("{:.10g}", values[i]);
  out_ << "\n" << std::flush;
}

std::vector<double> CsvTable::column(const std::string& name) const {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) throw Error("csv has no column '" + name + "'");
  const auto i = static_cast<std::size_t>(it - header.begin());
  std::vector<double> out;
  for (const auto& r : rows) out.push_back(r.at(i));
  return out;
}

CsvTable read_csv(const std::filesystem::path& path) {
  std::istringstream in(read_text(path, "csv file"));
  CsvTable t;
  std::string line;
  auto split = [](const std::string& l) {
    std::vector<std::string> cells;
    std::stringstream ss(l);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    return cells;
  };
  if (std::getline(in, line)) t.header = split(line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> r;
    for (const auto& c : split(line)) {
      try {
        r.push_back(std::stod(c));
      } catch (const std::exception&) {
        throw Error("csv '" + path.string() + "': expected numbers, got '" + c + "'");
      }
    }
    t.rows.push_back(std::move(r));
  }
  return t;
}

}  // namespace dojo::core
