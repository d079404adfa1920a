// Append-only CSV metrics (metrics.csv, eval.csv): a header once, then one flushed row per event, so a
// run that stops early still leaves every row written so far.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

class CsvWriter {
 public:
  CsvWriter() = default;
  // append=true keeps existing rows (a resumed run) and writes the header only to a new file.
  CsvWriter(const std::filesystem::path& path, std::vector<std::string> header, bool append = false);
  void row(const std::vector<double>& values);

 private:
  std::ofstream out_;
  std::size_t columns_ = 0;
};

// A CSV whose columns follow what is logged: rows are (key, value) pairs; the header is the union of
// keys seen, in first-seen order. A row with a new key rewrites the file once with the wider header
// (earlier rows get "nan" there), atomically, so metrics.csv holds every value an agent records.
class CsvLog {
 public:
  CsvLog() = default;
  // append=true continues an existing file (a resumed run) with its columns.
  CsvLog(const std::filesystem::path& path, std::vector<std::string> leading_columns, bool append = false);
  void row(const std::vector<std::pair<std::string, double>>& values);
  const std::vector<std::string>& header() const { return header_; }

 private:
  void widen(const std::vector<std::string>& added);
  std::filesystem::path path_;
  std::vector<std::string> header_;
  std::ofstream out_;
};

// Reads a numeric CSV with a header line: returns column name -> values.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
  std::vector<double> column(const std::string& name) const;
};
CsvTable read_csv(const std::filesystem::path& path);

// Keeps the header and the rows whose first column is at most `max_first` (a resumed run drops what
// was logged after its last checkpoint); rewritten atomically, nothing when the file is missing.
void truncate_csv(const std::filesystem::path& path, double max_first);

}  // namespace dojo::core

DOJO_PUBLIC_END
