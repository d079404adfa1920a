// Append-only CSV metrics (metrics.csv, eval.csv): a header once, then one flushed row per event, so a
// run that stops early still leaves every row written so far.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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

// Reads a numeric CSV with a header line: returns column name -> values.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
  std::vector<double> column(const std::string& name) const;
};
CsvTable read_csv(const std::filesystem::path& path);

}  // namespace dojo::core
