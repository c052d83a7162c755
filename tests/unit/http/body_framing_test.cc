// BodyTracker: which bytes belong to the body, for each framing, however they arrive.
#include "http/body_framing.h"

#include <gtest/gtest.h>

#include <string>

namespace fulcrum::http {
namespace {

// Feeds `stream` in slices of `slice` bytes, keeping unconsumed bytes as a session would.
// Returns the body bytes taken and whether the body completed, and puts the rest in `after`.
std::string take_body(BodyTracker& tracker, const std::string& stream, std::size_t slice, std::string& after,
                      HttpError* error = nullptr) {
  std::string body;
  std::string pending;
  std::size_t given = 0;
  while (given < stream.size() && !tracker.complete()) {
    const std::size_t take = std::min(slice, stream.size() - given);
    pending += stream.substr(given, take);
    given += take;
    const BodyProgress progress = tracker.advance(pending);
    if (progress.error) {
      if (error != nullptr) *error = progress.error;
      break;
    }
    body += pending.substr(0, progress.consumed);
    pending.erase(0, progress.consumed);
  }
  after = pending + stream.substr(given);
  return body;
}

TEST(BodyTracker, NoBodyIsCompleteAtOnce) {
  BodyTracker tracker(BodyFraming{BodyKind::None, 0});
  EXPECT_TRUE(tracker.complete());
  const BodyProgress progress = tracker.advance("GET / HTTP/1.1\r\n");
  EXPECT_EQ(progress.consumed, 0u);
  EXPECT_TRUE(progress.complete);
  EXPECT_TRUE(BodyTracker(BodyFraming{BodyKind::ContentLength, 0}).complete());
}

TEST(BodyTracker, ContentLengthStopsAtTheLength) {
  for (std::size_t slice : {1u, 3u, 100u}) {
    BodyTracker tracker(BodyFraming{BodyKind::ContentLength, 5});
    std::string after;
    EXPECT_EQ(take_body(tracker, "helloGET /", slice, after), "hello");
    EXPECT_TRUE(tracker.complete());
    EXPECT_EQ(after, "GET /");
    EXPECT_EQ(tracker.remaining(), 0u);
  }
}

TEST(BodyTracker, ChunkedKeepsFramingAndStopsAfterTrailers) {
  const std::string body = "4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n";
  for (std::size_t slice : {1u, 2u, 5u, 1000u}) {
    BodyTracker tracker(BodyFraming{BodyKind::Chunked, 0});
    std::string after;
    EXPECT_EQ(take_body(tracker, body + "NEXT", slice, after), body) << slice;
    EXPECT_TRUE(tracker.complete());
    EXPECT_EQ(after, "NEXT");
    EXPECT_EQ(tracker.chunked().data_bytes(), 9u);
    EXPECT_EQ(tracker.chunked().trailers().find("t"), "1");
  }
}

TEST(BodyTracker, ChunkedErrorIsReported) {
  BodyTracker tracker(BodyFraming{BodyKind::Chunked, 0});
  std::string after;
  HttpError error;
  take_body(tracker, "4\r\nWikiXX", 1, after, &error);
  EXPECT_EQ(error.status, 400);
  EXPECT_FALSE(tracker.complete());
}

TEST(BodyTracker, UntilCloseTakesEverything) {
  BodyTracker tracker(BodyFraming{BodyKind::UntilClose, 0});
  const BodyProgress progress = tracker.advance("all of it");
  EXPECT_EQ(progress.consumed, 9u);
  EXPECT_FALSE(progress.complete);
}

}  // namespace
}  // namespace fulcrum::http
