// TensorBoard event files (events.out.tfevents.<time>.<host>), the format TensorBoard, SB3 and CleanRL
// users read curves from: a sequence of records, each
//
//   uint64 length | uint32 masked CRC-32C of length | Event protobuf | uint32 masked CRC-32C of it
//
// (little endian; TensorFlow's record_writer). The first event holds file_version "brain.Event:2"; each
// scalar is an Event{wall_time, step, Summary{Value{tag, simple_value}}}. The few protobuf fields are
// encoded here by hand; tests check them with Debian's `protoc --decode_raw`.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// CRC-32C (Castagnoli), as TFRecord uses it; crc32c("123456789") == 0xE3069283.
std::uint32_t crc32c(std::string_view data);
// TFRecord's masking: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
std::uint32_t masked_crc32c(std::string_view data);

class EventWriter {
 public:
  // Creates dir if needed and a new events file in it (a resumed run adds a file; TensorBoard reads
  // every file in the folder).
  explicit EventWriter(const std::filesystem::path& dir);
  void scalar(const std::string& tag, std::int64_t step, double value);
  void flush();
  const std::filesystem::path& path() const { return path_; }

 private:
  void write_event(const std::string& event);
  std::filesystem::path path_;
  std::ofstream out_;
};

// The Event protobufs of an events file, after checking each record's two CRCs; throws dojo::Error
// naming the file and the record that is cut short or fails its check.
std::vector<std::string> read_event_records(const std::filesystem::path& file);

}  // namespace dojo::core

DOJO_PUBLIC_END
