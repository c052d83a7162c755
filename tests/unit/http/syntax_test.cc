// The word-at-a-time scans give the byte loops' answers: the field-value scan for every byte value
// at each position of words and tails, for bytes that trip the word test without being refused
// (tab, obs-text next to control bytes) and for random text; the field-name comparison against
// equals_ignore_case for every token byte at every position of every name the writers look for.
#include "http/syntax.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace fulcrum::http::syntax {
namespace {

std::size_t reference(std::string_view text, std::size_t from) { return find_first_not_in(text, kFieldValue, from); }

TEST(FieldValueScan, AgreesWithTheByteLoopForEveryByteAtEveryPosition) {
  for (std::size_t length : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 40u}) {
    for (std::size_t at = 0; at < length; ++at) {
      for (unsigned byte = 0; byte < 256; ++byte) {
        std::string text(length, 'a');
        text[at] = static_cast<char>(byte);
        for (std::size_t from : {std::size_t{0}, std::size_t{1}, at}) {
          if (from > length) continue;
          ASSERT_EQ(find_first_not_field_value(text, from), reference(text, from))
              << "length " << length << " byte " << byte << " at " << at << " from " << from;
        }
      }
    }
  }
}

TEST(FieldValueScan, WordsThatLookSuspectButHoldNothingToRefuseAreAccepted) {
  // Tabs, and obs-text beside them: the word test flags these, the byte loop lets them through.
  const std::string value = "a\tb\x80\xff\t\x7e \x21\t\t\t\t\t\t\t\x9f\xa0zzzzzzzz";
  EXPECT_EQ(find_first_not_field_value(value), value.size());
  EXPECT_EQ(find_first_not_field_value(value + '\x7f' + "tail"), value.size());
  EXPECT_EQ(find_first_not_field_value(value + '\0'), value.size());
}

TEST(FieldValueScan, AgreesWithTheByteLoopOnRandomText) {
  std::mt19937_64 random(20261207);
  for (int round = 0; round < 20000; ++round) {
    std::string text(random() % 64, ' ');
    // Mostly printable, sometimes a control byte, a tab, DEL or obs-text.
    for (char& c : text) {
      const auto pick = random() % 100;
      c = static_cast<char>(pick < 90 ? 0x20 + random() % 0x5f : random() % 256);
    }
    const std::size_t from = text.empty() ? 0 : random() % (text.size() + 1);
    ASSERT_EQ(find_first_not_field_value(text, from), reference(text, from)) << round;
  }
}

TEST(FieldName, NameIsAgreesWithEqualsIgnoreCaseForEveryTokenByteAtEveryPosition) {
  const std::string_view names[] = {"te", "host", "cookie", "expect", "upgrade", "trailer", "forwarded",
                                    "connection", "keep-alive", "x-request-id", "content-length",
                                    "x-forwarded-for", "proxy-connection", "x-forwarded-host",
                                    "transfer-encoding", "x-forwarded-proto"};
  for (std::string_view lower : names) {
    std::string upper(lower);
    for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    EXPECT_TRUE(name_is(lower, lower));
    EXPECT_TRUE(name_is(upper, lower)) << upper;
    for (std::string_view other : names) EXPECT_EQ(name_is(other, lower), other == lower) << other << " " << lower;
    for (std::size_t at = 0; at < lower.size(); ++at) {
      for (unsigned byte = 0; byte < 256; ++byte) {
        if (!is_token_char(static_cast<char>(byte))) continue;  // name_is takes parsed names only
        std::string name(at % 2 ? upper : std::string(lower));
        name[at] = static_cast<char>(byte);
        ASSERT_EQ(name_is(name, lower), equals_ignore_case(name, lower)) << lower << " byte " << byte << " at " << at;
      }
    }
    EXPECT_FALSE(name_is(std::string(lower) + "s", lower));
    EXPECT_FALSE(name_is(lower.substr(1), lower));
  }
}

}  // namespace
}  // namespace fulcrum::http::syntax
