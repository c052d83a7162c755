// Reading the admin API's and the registration listener's answers: the error text a person sees,
// and leases.
#include "client/api_answer.h"

#include <gtest/gtest.h>

namespace fulcrum::client {
namespace {

TEST(FailureText, ServerErrorTextWithStatus) {
  EXPECT_EQ(failure_text({.status = 404, .body = R"({"error":"unknown pool 'x'"})"}), "unknown pool 'x' (HTTP 404)");
  EXPECT_EQ(failure_text({.status = 409, .body = "{\"error\": \"address already in pool\"}\n"}),
            "address already in pool (HTTP 409)");
}

TEST(FailureText, NonJsonBodyIsShownCutAndEmptyBodyGivesTheStatus) {
  EXPECT_EQ(failure_text({.status = 502, .body = "Bad Gateway\r\n"}), "Bad Gateway (HTTP 502)");
  EXPECT_EQ(failure_text({.status = 500, .body = ""}), "HTTP 500");
  EXPECT_EQ(failure_text({.status = 500, .body = std::string(1000, 'x')}), std::string(200, 'x') + " (HTTP 500)");
  EXPECT_EQ(failure_text({.status = 400, .body = R"({"error": 5})"}), R"({"error": 5} (HTTP 400))");
}

TEST(FailureText, NoAnswerGivesTheTransportError) {
  EXPECT_EQ(failure_text({.status = 0, .error = "Connection refused"}), "Connection refused");
  EXPECT_EQ(failure_text({}), "no answer");
}

TEST(ParseLeaseAnswer, LeaseAndTtl) {
  auto answer = parse_lease_answer(R"({"lease":"abc","ttl_ms":10000})");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->lease, "abc");
  EXPECT_EQ(answer->ttl, std::chrono::milliseconds(10000));

  answer = parse_lease_answer(R"({"lease":"abc"})");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->ttl, std::chrono::milliseconds(0));
  answer = parse_lease_answer(R"({"lease":"abc","ttl_ms":-5})");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->ttl, std::chrono::milliseconds(0));
}

TEST(ParseLeaseAnswer, RefusesWhatHoldsNoLease) {
  EXPECT_FALSE(parse_lease_answer(""));
  EXPECT_FALSE(parse_lease_answer("not json"));
  EXPECT_FALSE(parse_lease_answer("[]"));
  EXPECT_FALSE(parse_lease_answer(R"({"ttl_ms":10000})"));
  EXPECT_FALSE(parse_lease_answer(R"({"lease":""})"));
  EXPECT_FALSE(parse_lease_answer(R"({"lease":7})"));
}

}  // namespace
}  // namespace fulcrum::client
