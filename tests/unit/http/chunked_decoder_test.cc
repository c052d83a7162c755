// The chunked decoder fed whole, byte by byte and in random slices: the same classification of
// every byte, the same trailers, the same errors.
#include "http/chunked_decoder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace fulcrum::http {
namespace {

const char* part_name(ChunkPart part) {
  switch (part) {
    case ChunkPart::SizeLine: return "S";
    case ChunkPart::Data: return "D";
    case ChunkPart::DataEnd: return "E";
    case ChunkPart::LastChunk: return "L";
    case ChunkPart::Trailer: return "T";
    case ChunkPart::End: return "F";
  }
  return "?";
}

// Drives a decoder the way a session does: keeps unconsumed bytes, appends what arrives, and
// records each span as Kind[bytes] (consecutive data spans merged, since their split depends on
// the reads). Ends with "+rest" (bytes after the body), "need-more" or "error NNN".
std::string run(const std::string& body, std::size_t slice_max, ChunkedLimits limits = {},
                std::vector<std::string>* trailers = nullptr) {
  ChunkedDecoder decoder(limits);
  std::mt19937 random(99);
  std::string out;
  std::string pending;
  std::size_t given = 0;
  char last_kind = 0;
  while (true) {
    std::size_t slice = body.size();
    if (slice_max > 0) slice = std::uniform_int_distribution<std::size_t>(1, slice_max)(random);
    const std::size_t take = std::min(slice, body.size() - given);
    pending += body.substr(given, take);
    given += take;
    std::string_view input = pending;
    ChunkedStep step;
    while (true) {
      step = decoder.step(input);
      if (step.status == ChunkedStatus::NeedMore || step.status == ChunkedStatus::Error) break;
      const char kind = part_name(step.part)[0];
      const std::string bytes(input.substr(0, step.length));
      if (kind == 'D' && last_kind == 'D') {
        out.insert(out.size() - 1, bytes);
      } else {
        out += std::string(1, kind) + "[" + bytes + "]";
      }
      last_kind = kind;
      input.remove_prefix(step.length);
      if (step.status == ChunkedStatus::Done) break;
    }
    pending = std::string(input);
    if (step.status == ChunkedStatus::Error) return out + " error " + std::to_string(step.error.status);
    if (step.status == ChunkedStatus::Done) {
      if (trailers != nullptr) {
        for (const HeaderField field : decoder.trailers()) trailers->push_back(std::string(field.name) + "=" + std::string(field.value));
      }
      return out + " +" + pending + body.substr(given);
    }
    if (given == body.size()) return out + " need-more";
  }
}

// The three feedings agree and give `expected`.
void expect_everywhere(const std::string& body, const std::string& expected, ChunkedLimits limits = {}) {
  EXPECT_EQ(run(body, 0, limits), expected) << "whole";
  EXPECT_EQ(run(body, 1, limits), expected) << "byte by byte";
  EXPECT_EQ(run(body, 7, limits), expected) << "random slices";
}

TEST(ChunkedDecoder, PlainBody) {
  expect_everywhere("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT",
                    "S[5\r\n]D[hello]E[\r\n]S[6\r\n]D[ world]E[\r\n]L[0\r\n]F[\r\n] +NEXT");
}

TEST(ChunkedDecoder, ExtensionsAndTrailersAreKept) {
  const std::string body =
      "a;name=value;flag ; q=\"quoted \\\" ;text\"\r\n0123456789\r\n"
      "00000;last\r\nChecksum: abc \r\nX-T:\r\n\r\n";
  expect_everywhere(body,
                    "S[a;name=value;flag ; q=\"quoted \\\" ;text\"\r\n]D[0123456789]E[\r\n]L[00000;last\r\n]"
                    "T[Checksum: abc \r\n]T[X-T:\r\n]F[\r\n] +");
  std::vector<std::string> trailers;
  run(body, 1, {}, &trailers);
  EXPECT_EQ(trailers, (std::vector<std::string>{"Checksum=abc", "X-T="}));
}

TEST(ChunkedDecoder, UppercaseHexAndLargestSize) {
  EXPECT_EQ(run("A\r\n0123456789\r\n0\r\n\r\n", 1), "S[A\r\n]D[0123456789]E[\r\n]L[0\r\n]F[\r\n] +");
  // 2^63 - 1 is accepted (then the body is simply incomplete).
  EXPECT_EQ(run("7fffffffffffffff\r\nabc", 1), "S[7fffffffffffffff\r\n]D[abc] need-more");
  ChunkedDecoder decoder;
  ASSERT_EQ(decoder.step("7FFFFFFFFFFFFFFF\r\n").part, ChunkPart::SizeLine);
  EXPECT_EQ(decoder.chunk_size(), 0x7fffffffffffffffULL);
}

TEST(ChunkedDecoder, IncompleteBodyNeedsMore) {
  expect_everywhere("5\r\nhel", "S[5\r\n]D[hel] need-more");
  expect_everywhere("5\r\nhello\r\n0\r\nX: y\r\n", "S[5\r\n]D[hello]E[\r\n]L[0\r\n]T[X: y\r\n] need-more");
}

struct BadBody {
  const char* name;
  std::string body;
  int status;
};

class ChunkedErrors : public ::testing::TestWithParam<BadBody> {};

void PrintTo(const BadBody& row, std::ostream* out) { *out << row.name; }

TEST_P(ChunkedErrors, RejectedAtTheSameByteHoweverFed) {
  const BadBody& row = GetParam();
  const std::string whole = run(row.body, 0);
  EXPECT_EQ(whole.substr(whole.rfind(' ') + 1), std::to_string(row.status)) << whole;
  EXPECT_EQ(whole.find("error"), whole.rfind(' ') - 5) << whole;
  EXPECT_EQ(run(row.body, 1), whole);
  EXPECT_EQ(run(row.body, 5), whole);
}

INSTANTIATE_TEST_SUITE_P(
    Chunked, ChunkedErrors,
    ::testing::Values(BadBody{"NotHex", "x\r\n", 400}, BadBody{"EmptySize", "\r\n", 400},
                      BadBody{"NegativeSize", "-5\r\nhello\r\n", 400}, BadBody{"PlusSign", "+5\r\n", 400},
                      BadBody{"HexPrefix", "0x5\r\nhello\r\n", 400},
                      BadBody{"Overflow2Pow63", "8000000000000000\r\n", 400},
                      BadBody{"Overflow2Pow64", "10000000000000000\r\n", 400},
                      BadBody{"SpaceBeforeCrlf", "5 \r\nhello\r\n", 400},
                      BadBody{"BareLfAfterSize", "5\nhello\r\n", 400},
                      BadBody{"BareCrAfterSize", "5\rhello\r\n", 400},
                      BadBody{"DataNotFollowedByCrlf", "5\r\nhelloX\r\n0\r\n\r\n", 400},
                      BadBody{"DataFollowedByBareLf", "5\r\nhello\n0\r\n\r\n", 400},
                      BadBody{"DataTooLong", "3\r\nhello\r\n", 400},
                      BadBody{"ExtensionWithoutName", "5;\r\nhello\r\n", 400},
                      BadBody{"ExtensionBadValue", "5;a=\r\nhello\r\n", 400},
                      BadBody{"ExtensionUnterminatedQuote", "5;a=\"x\r\nhello\r\n", 400},
                      BadBody{"ExtensionTrailingSpace", "5;a=b \r\nhello\r\n", 400},
                      BadBody{"ExtensionControl", "5;a\x01=b\r\nhello\r\n", 400},
                      BadBody{"ExtensionTooLong", "5;a=" + std::string(2000, 'b') + "\r\nhello\r\n", 400},
                      BadBody{"TrailerObsFold", "0\r\nX: a\r\n b\r\n\r\n", 400},
                      BadBody{"TrailerSpaceBeforeColon", "0\r\nX : a\r\n\r\n", 400},
                      BadBody{"TrailerBareLf", "0\r\nX: a\n\r\n", 400},
                      BadBody{"FinalBareLf", "0\r\n\n", 400},
                      BadBody{"TrailerNul", std::string("0\r\nX: \0\r\n\r\n", 11), 400},
                      BadBody{"TooManyTrailers",
                              [] {
                                std::string body = "0\r\n";
                                for (int i = 0; i < 33; ++i) body += "T" + std::to_string(i) + ": v\r\n";
                                return body + "\r\n";
                              }(),
                              431},
                      BadBody{"TrailersTooLarge", "0\r\nX: " + std::string(9000, 'v') + "\r\n\r\n", 431}),
    [](const ::testing::TestParamInfo<BadBody>& info) { return std::string(info.param.name); });

TEST(ChunkedDecoder, SizeLineLimitIsExact) {
  ChunkedLimits limits;
  limits.max_size_line_bytes = 8;
  EXPECT_EQ(run("5;a=bcde\r\nhello\r\n0\r\n\r\n", 1, limits), "S[5;a=bcde\r\n]D[hello]E[\r\n]L[0\r\n]F[\r\n] +");
  EXPECT_EQ(run("5;a=bcdef\r\nhello\r\n0\r\n\r\n", 1, limits), " error 400");
  EXPECT_EQ(run("5;a=bcdef\r\nhello\r\n0\r\n\r\n", 0, limits), " error 400");
}

TEST(ChunkedDecoder, ErrorIsStickyAndResetStartsOver) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.step("z").status, ChunkedStatus::Error);
  EXPECT_EQ(decoder.step("0\r\n\r\n").status, ChunkedStatus::Error);
  decoder.reset();
  EXPECT_EQ(decoder.step("0\r\n\r\n").part, ChunkPart::LastChunk);
  EXPECT_EQ(decoder.step("\r\n").status, ChunkedStatus::Done);
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(decoder.step("more").length, 0u);
}

TEST(ChunkedDecoder, CountsDataBytes) {
  ChunkedDecoder decoder;
  std::string_view input = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  while (!decoder.done()) {
    const ChunkedStep step = decoder.step(input);
    ASSERT_NE(step.status, ChunkedStatus::Error);
    input.remove_prefix(step.length);
  }
  EXPECT_EQ(decoder.data_bytes(), 5u);
  EXPECT_TRUE(input.empty());
}

}  // namespace
}  // namespace fulcrum::http
