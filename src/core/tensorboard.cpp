#include "core/tensorboard.h"

#include <unistd.h>

#include <array>
#include <bit>
#include <chrono>
#include <cstring>

#include "core/error.h"
#include "core/files.h"

namespace dojo::core {

namespace {

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected 0x1EDC6F41
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = make_crc_table();

// Protobuf wire format: varints, and fields as (number << 3 | wire type).
void varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
template <class T>
void little_endian(std::string& out, T v) {
  static_assert(std::endian::native == std::endian::little, "event files are little endian");
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}
void field_bytes(std::string& out, int number, std::string_view bytes) {
  varint(out, static_cast<std::uint64_t>(number << 3 | 2));
  varint(out, bytes.size());
  out.append(bytes);
}

double wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Event{wall_time = 1 (double), step = 2 (int64), file_version = 3 (string) | summary = 5 (Summary)}
std::string event(std::int64_t step, int field, std::string_view payload) {
  std::string e;
  varint(e, 1 << 3 | 1);
  little_endian(e, wall_time());
  varint(e, 2 << 3 | 0);
  varint(e, static_cast<std::uint64_t>(step));
  field_bytes(e, field, payload);
  return e;
}

}  // namespace

std::uint32_t crc32c(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::uint32_t masked_crc32c(std::string_view data) {
  const std::uint32_t c = crc32c(data);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

EventWriter::EventWriter(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  const auto seconds = static_cast<std::int64_t>(wall_time());
  path_ = dir / ("events.out.tfevents." + std::to_string(seconds) + "." + host);
  for (int n = 1; std::filesystem::exists(path_); ++n) {  // two writers in one second: a new name
    path_ = dir / ("events.out.tfevents." + std::to_string(seconds) + "." + host + "." + std::to_string(n));
  }
  out_.open(path_, std::ios::binary);
  if (!out_)
    throw Error("cannot write TensorBoard file '" + path_.string() + "': expected a writable folder");
  write_event(event(0, 3, "brain.Event:2"));
  flush();
}

void EventWriter::scalar(const std::string& tag, std::int64_t step, double value) {
  std::string v;  // Summary.Value{tag = 1, simple_value = 2 (float)}
  field_bytes(v, 1, tag);
  varint(v, 2 << 3 | 5);
  little_endian(v, static_cast<float>(value));
  std::string summary;  // Summary{repeated Value value = 1}
  field_bytes(summary, 1, v);
  write_event(event(step, 5, summary));
}

void EventWriter::write_event(const std::string& e) {
  std::string header;
  little_endian(header, static_cast<std::uint64_t>(e.size()));
  std::string record = header;
  little_endian(record, masked_crc32c(header));
  record += e;
  little_endian(record, masked_crc32c(e));
  out_.write(record.data(), static_cast<std::streamsize>(record.size()));
}

void EventWriter::flush() { out_.flush(); }

std::vector<std::string> read_event_records(const std::filesystem::path& file) {
  const auto bytes = read_text(file, "TensorBoard events file");
  std::vector<std::string> events;
  std::size_t at = 0;
  auto u32 = [&](std::size_t i) {
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + i, 4);
    return v;
  };
  while (at < bytes.size()) {
    const auto where = file.string() + " record " + std::to_string(events.size());
    if (bytes.size() - at < 12) throw Error(where + " is cut short: expected a 12-byte header");
    std::uint64_t length;
    std::memcpy(&length, bytes.data() + at, 8);
    if (u32(at + 8) != masked_crc32c({bytes.data() + at, 8}))
      throw Error(where + ": the length's CRC does not match");
    if (bytes.size() - at - 12 < length + 4)
      throw Error(where + " is cut short: expected " + std::to_string(length) + " bytes");
    const std::string_view data(bytes.data() + at + 12, length);
    if (u32(at + 12 + length) != masked_crc32c(data)) throw Error(where + ": the data's CRC does not match");
    events.emplace_back(data);
    at += 12 + length + 4;
  }
  return events;
}

}  // namespace dojo::core
