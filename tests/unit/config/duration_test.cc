// parse_duration: the accepted syntax and everything it refuses.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <cstdint>
#include <string_view>

#include "config/duration.h"
#include "fulcrum/config.h"

namespace fulcrum {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

struct DurationRow {
  std::string_view text;
  std::optional<Duration> expected;
};

TEST(ParseDuration, AcceptsUnitsAndSumsRefusesTheRest) {
  const DurationRow rows[] = {
      {"500ms", milliseconds(500)},
      {"0ms", milliseconds(0)},
      {"0s", milliseconds(0)},
      {"2s", seconds(2)},
      {"1m", minutes(1)},
      {"1h", hours(1)},
      {"1d", hours(24)},
      {"1m30s", seconds(90)},
      {"1h1m1s1ms", milliseconds(3661001)},
      {"007s", seconds(7)},
      {"9223372036854775807ms", milliseconds(INT64_MAX)},
      {"", std::nullopt},
      {"30", std::nullopt},           // a bare number: units are required
      {"s", std::nullopt},            // a unit without a number
      {"-5s", std::nullopt},          // negative
      {"+5s", std::nullopt},
      {"1.5s", std::nullopt},         // no fractions
      {"5 s", std::nullopt},          // no spaces
      {" 5s", std::nullopt},
      {"5s ", std::nullopt},
      {"5sec", std::nullopt},         // unknown unit
      {"5S", std::nullopt},           // units are lower case
      {"5us", std::nullopt},
      {"1m30", std::nullopt},         // the last part lacks its unit
      {"9223372036854775808ms", std::nullopt},  // one past the largest count
      {"9223372036854775807s", std::nullopt},   // overflows when scaled
      {"106751991167d", milliseconds(9223372036828800000)},  // the most whole days that fit
      {"106751991168d", std::nullopt},
      {"99999999999999999999999h", std::nullopt},
  };
  for (const DurationRow& row : rows) {
    EXPECT_EQ(parse_duration(row.text), row.expected) << "text: '" << row.text << "'";
  }
}

TEST(ParseDurationText, TellsOverflowFromBadSyntax) {
  EXPECT_EQ(config::parse_duration_text("9223372036854775807s").error,
            config::DurationError::kTooLong);
  EXPECT_EQ(config::parse_duration_text("99999999999999999999999h").error,
            config::DurationError::kTooLong);
  EXPECT_EQ(config::parse_duration_text("99999999999999999999999x").error,
            config::DurationError::kSyntax);
  EXPECT_EQ(config::parse_duration_text("30").error, config::DurationError::kSyntax);
}

TEST(FormatDuration, WritesLargestUnitsFirst) {
  EXPECT_EQ(config::format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(config::format_duration(milliseconds(500)), "500ms");
  EXPECT_EQ(config::format_duration(seconds(90)), "1m30s");
  EXPECT_EQ(config::format_duration(hours(24 * 400)), "400d");
  EXPECT_EQ(config::format_duration(milliseconds(90061001)), "1d1h1m1s1ms");
  EXPECT_EQ(config::format_duration(seconds(-5)), "-5s");
  EXPECT_EQ(config::format_duration(milliseconds(INT64_MIN)), "-106751991167d7h12m55s808ms");
  // What format_duration writes, parse_duration reads back.
  for (Duration value : {Duration(1), Duration(seconds(61)), Duration(hours(25)),
                         Duration(INT64_MAX)}) {
    EXPECT_EQ(parse_duration(config::format_duration(value)), value);
  }
}

}  // namespace
}  // namespace fulcrum
