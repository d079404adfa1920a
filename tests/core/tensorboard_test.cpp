#include "core/tensorboard.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "core/files.h"
#include "test_util.h"

namespace dojo::core {
namespace {

// Outside references, not our own reader: the CRC-32C check value from the CRC catalogue and
// RFC 3720's test vector (32 bytes of zeros).
TEST(Crc32c, MatchesTheStandardCheckValues) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(""), 0u);
  const auto c = crc32c("123456789");
  EXPECT_EQ(masked_crc32c("123456789"), ((c >> 15) | (c << 17)) + 0xa282ead8u);
}

// `protoc --decode_raw` (Debian's protobuf-compiler) on one record's Event bytes.
std::string decode_raw(const std::string& event) {
  const auto file = test::fresh_path("event.bin");
  core::atomic_write_text(file, event);
  const auto out = file.string() + ".txt";
  const int rc = std::system(("protoc --decode_raw < " + file.string() + " > " + out).c_str());
  EXPECT_EQ(rc, 0) << "protoc --decode_raw failed (scripts/setup installs protobuf-compiler)";
  auto text = core::read_text(out);
  std::filesystem::remove(file);
  std::filesystem::remove(out);
  return text;
}

std::string hex32(float v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", std::bit_cast<std::uint32_t>(v));
  return buf;
}

TEST(EventWriter, WritesRecordsThatTensorBoardReads) {
  const auto dir = test::fresh_path("tb");
  std::filesystem::path file;
  {
    EventWriter w(dir);
    file = w.path();
    w.scalar("rollout/episode_return", 500, 21.5);
    w.scalar("eval/mean_return", 1000, -3.25);
  }
  EXPECT_EQ(file.parent_path(), dir);
  EXPECT_EQ(file.filename().string().rfind("events.out.tfevents.", 0), 0u);

  const auto records = read_event_records(file);  // every length and data CRC verified
  ASSERT_EQ(records.size(), 3u);

  const auto version = decode_raw(records[0]);
  EXPECT_NE(version.find("3: \"brain.Event:2\""), std::string::npos) << version;
  EXPECT_NE(version.find("2: 0"), std::string::npos) << version;

  const auto first = decode_raw(records[1]);
  EXPECT_NE(first.find("2: 500"), std::string::npos) << first;  // step
  EXPECT_NE(first.find("1: \"rollout/episode_return\""), std::string::npos) << first;
  EXPECT_NE(first.find("2: " + hex32(21.5f)), std::string::npos) << first;  // simple_value, fixed32
  EXPECT_NE(first.find("5 {"), std::string::npos) << first;                 // the summary field

  const auto second = decode_raw(records[2]);
  EXPECT_NE(second.find("2: 1000"), std::string::npos) << second;
  EXPECT_NE(second.find("2: " + hex32(-3.25f)), std::string::npos) << second;

  // The wall time (field 1, a double) is now, give or take a minute.
  double wall = 0;
  ASSERT_EQ(static_cast<unsigned char>(records[1][0]), 0x09);
  std::memcpy(&wall, records[1].data() + 1, 8);
  EXPECT_NEAR(wall, static_cast<double>(std::time(nullptr)), 60.0);
  std::filesystem::remove_all(dir);
}

TEST(EventWriter, ReaderRejectsACorruptOrCutRecord) {
  const auto dir = test::fresh_path("tb_bad");
  std::filesystem::path file;
  {
    EventWriter w(dir);
    file = w.path();
    w.scalar("x", 1, 1.0);
  }
  auto bytes = core::read_text(file);
  auto flipped = bytes;
  flipped[flipped.size() - 6] ^= 0x01;  // inside the last event's data
  core::atomic_write_text(file, flipped);
  EXPECT_THROW(read_event_records(file), Error);
  core::atomic_write_text(file, bytes.substr(0, bytes.size() - 3));
  EXPECT_THROW(read_event_records(file), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dojo::core
