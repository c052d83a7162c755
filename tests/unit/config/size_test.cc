// parse_size: the accepted syntax and everything it refuses.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "config/size.h"
#include "fulcrum/config.h"

namespace fulcrum {
namespace {

struct SizeRow {
  std::string_view text;
  std::optional<std::uint64_t> expected;
};

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;
constexpr std::uint64_t kGiB = 1024 * kMiB;

TEST(ParseSize, AcceptsBytesAndBinaryUnitsRefusesTheRest) {
  const SizeRow rows[] = {
      {"0", 0},
      {"512", 512},
      {"007", 7},
      {"32k", 32 * kKiB},
      {"32K", 32 * kKiB},  // either case: K and k cannot mean different things
      {"100m", 100 * kMiB},
      {"100M", 100 * kMiB},
      {"1g", kGiB},
      {"0k", 0},
      {"18446744073709551615", UINT64_MAX},
      {"17179869183g", 17179869183 * kGiB},  // the most whole GiB that fit
      {"", std::nullopt},
      {"k", std::nullopt},               // a unit without a number
      {"-1", std::nullopt},              // negative
      {"+1", std::nullopt},
      {"1.5m", std::nullopt},            // no fractions
      {"32 k", std::nullopt},            // no spaces
      {" 32k", std::nullopt},
      {"32k ", std::nullopt},
      {"32kb", std::nullopt},            // one-letter units only
      {"32KiB", std::nullopt},
      {"1t", std::nullopt},              // k, m and g only
      {"1m512k", std::nullopt},          // no sums, unlike durations
      {"18446744073709551616", std::nullopt},  // one past the largest count
      {"17179869184g", std::nullopt},          // overflows when scaled
  };
  for (const SizeRow& row : rows) {
    EXPECT_EQ(parse_size(row.text), row.expected) << "text: '" << row.text << "'";
  }
}

TEST(ParseSizeText, TellsOverflowFromBadSyntax) {
  EXPECT_EQ(config::parse_size_text("18446744073709551616").error, config::SizeError::kTooLarge);
  EXPECT_EQ(config::parse_size_text("17179869184g").error, config::SizeError::kTooLarge);
  EXPECT_EQ(config::parse_size_text("99999999999999999999x").error, config::SizeError::kSyntax);
  EXPECT_EQ(config::parse_size_text("1.5").error, config::SizeError::kSyntax);
}

TEST(FormatSize, WritesTheLargestUnitThatDivides) {
  EXPECT_EQ(config::format_size(0), "0");
  EXPECT_EQ(config::format_size(512), "512");
  EXPECT_EQ(config::format_size(1500), "1500");
  EXPECT_EQ(config::format_size(32 * kKiB), "32k");
  EXPECT_EQ(config::format_size(1536 * kKiB), "1536k");
  EXPECT_EQ(config::format_size(kMiB), "1m");
  EXPECT_EQ(config::format_size(2048 * kMiB), "2g");
  EXPECT_EQ(config::format_size(std::uint64_t{1} << 50), "1048576g");
  // What format_size writes, parse_size reads back.
  for (std::uint64_t value : {std::uint64_t{1}, 3 * kKiB, 5 * kGiB, std::uint64_t{UINT64_MAX}}) {
    EXPECT_EQ(parse_size(config::format_size(value)), value);
  }
}

}  // namespace
}  // namespace fulcrum
