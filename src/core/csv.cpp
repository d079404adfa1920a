#include "core/csv.h"

#include <fmt/format.h>

#include <algorithm>
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

namespace {
std::string join_cells(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + cells[i];
  return line;
}
}  // namespace

CsvLog::CsvLog(const std::filesystem::path& path, std::vector<std::string> leading, bool append)
    : path_(path), header_(std::move(leading)) {
  const bool resume = append && std::filesystem::exists(path) && std::filesystem::file_size(path) > 0;
  if (resume) {
    std::istringstream in(read_text(path, "csv file"));
    std::string line;
    std::getline(in, line);
    std::vector<std::string> existing;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) existing.push_back(cell);
    std::vector<std::string> added;
    for (const auto& c : header_) {
      if (std::find(existing.begin(), existing.end(), c) == existing.end()) added.push_back(c);
    }
    header_ = existing;
    if (!added.empty()) widen(added);
  } else {
    atomic_write_text(path, join_cells(header_) + "\n");
  }
  out_.open(path, std::ios::app);
  if (!out_) throw std::runtime_error("cannot open " + path.string() + " for writing");
}

void CsvLog::widen(const std::vector<std::string>& added) {
  if (out_.is_open()) out_.close();
  std::string padding;
  for (std::size_t i = 0; i < added.size(); ++i) padding += ",nan";
  std::istringstream in(std::filesystem::exists(path_) ? read_text(path_, "csv file") : std::string());
  std::string line, text;
  header_.insert(header_.end(), added.begin(), added.end());
  text = join_cells(header_) + "\n";
  std::getline(in, line);  // the old header
  while (std::getline(in, line)) {
    if (!line.empty()) text += line + padding + "\n";
  }
  atomic_write_text(path_, text);
  out_.open(path_, std::ios::app);
  if (!out_) throw std::runtime_error("cannot open " + path_.string() + " for writing");
}

void CsvLog::row(const std::vector<std::pair<std::string, double>>& values) {
  std::vector<std::string> added;
  for (const auto& [k, v] : values) {
    if (std::find(header_.begin(), header_.end(), k) == header_.end() &&
        std::find(added.begin(), added.end(), k) == added.end())
      added.push_back(k);
  }
  if (!added.empty()) widen(added);
  std::vector<std::string> cells(header_.size(), "nan");
  for (const auto& [k, v] : values) {
    const auto i = static_cast<std::size_t>(std::find(header_.begin(), header_.end(), k) - header_.begin());
    cells[i] = fmt::format("{:.10g}", v);
  }
  out_ << join_cells(cells) << "\n" << std::flush;
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

void truncate_csv(const std::filesystem::path& path, double max_first) {
  if (!std::filesystem::exists(path)) return;
  std::istringstream in(read_text(path, "csv file"));
  std::string line, out;
  if (std::getline(in, line)) out += line + "\n";
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (std::stod(line.substr(0, line.find(','))) <= max_first) out += line + "\n";
  }
  atomic_write_text(path, out);
}

}  // namespace dojo::core
