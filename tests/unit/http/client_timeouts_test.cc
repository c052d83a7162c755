#include "http/client_timeouts.h"

#include <gtest/gtest.h>

namespace fulcrum::http {
namespace {

using namespace std::chrono_literals;

ListenerConfig timeouts(Duration header, Duration keepalive, Duration request, Duration body) {
  ListenerConfig config;
  config.header_timeout = header;
  config.keepalive_timeout = keepalive;
  config.request_timeout = request;
  config.body_timeout = body;
  return config;
}

TEST(RequestHeadDeadline, KeepAliveBetweenRequestsHeaderTimeoutOnANewConnection) {
  const auto t0 = core::Clock::now();
  const ListenerConfig config = timeouts(10s, 60s, 0s, 30s);
  // A new connection that has not spoken yet: header_timeout, not keepalive_timeout.
  EXPECT_EQ(request_head_deadline(config, {.started = t0, .idle = true, .bytes_held = false, .served_before = false}),
            t0 + 10s);
  // Idle after a request: keepalive_timeout.
  EXPECT_EQ(request_head_deadline(config, {.started = t0, .idle = true, .bytes_held = false, .served_before = true}),
            t0 + 60s);
  // The next head has begun (in a parser of its own, nothing held): header_timeout again.
  EXPECT_EQ(request_head_deadline(config, {.started = t0, .idle = false, .bytes_held = false, .served_before = true}),
            t0 + 10s);
}

TEST(RequestHeadDeadline, RequestTimeoutCutsInOnlyWhenSoonerAndOnceHeadBytesAreHeld) {
  const auto t0 = core::Clock::now();
  const ListenerConfig sooner = timeouts(10s, 60s, 4s, 30s);
  EXPECT_EQ(request_head_deadline(sooner, {.started = t0, .idle = false, .bytes_held = true, .served_before = false}),
            t0 + 4s);
  // Not before a byte came: the connection waits as long as header_timeout allows.
  EXPECT_EQ(request_head_deadline(sooner, {.started = t0, .idle = true, .bytes_held = false, .served_before = false}),
            t0 + 10s);
  const ListenerConfig later = timeouts(10s, 60s, 20s, 30s);
  EXPECT_EQ(request_head_deadline(later, {.started = t0, .idle = false, .bytes_held = true, .served_before = false}),
            t0 + 10s);
}

TEST(RequestBodyDeadline, TheFirstOfSilenceRateAndRequestTimeout) {
  const auto t0 = core::Clock::now();
  const ListenerConfig no_limit = timeouts(10s, 60s, 0s, 30s);
  EXPECT_EQ(request_body_deadline(no_limit, t0 + 5s, std::nullopt, t0), t0 + 35s);  // silence
  EXPECT_EQ(request_body_deadline(no_limit, t0 + 5s, t0 + 12s, t0), t0 + 12s);      // rate
  const ListenerConfig limited = timeouts(10s, 60s, 8s, 30s);
  EXPECT_EQ(request_body_deadline(limited, t0 + 5s, t0 + 12s, t0), t0 + 8s);        // request_timeout
  EXPECT_EQ(request_body_deadline(limited, t0 + 5s, t0 + 12s, t0 + 10s), t0 + 12s); // counted from the head
}

TEST(RequestBodyTimeoutReason, NamesTheLimitReached) {
  const auto t0 = core::Clock::now();
  const ListenerConfig limited = timeouts(10s, 60s, 8s, 30s);
  EXPECT_EQ(request_body_timeout_reason(limited, t0 + 8s, t0 + 3s, t0), "request not received within request_timeout");
  EXPECT_EQ(request_body_timeout_reason(limited, t0 + 5s, t0 + 3s, t0), "request body slower than body_min_rate");
  EXPECT_EQ(request_body_timeout_reason(limited, t0 + 5s, std::nullopt, t0), "request body stalled");
  EXPECT_EQ(request_body_timeout_reason(limited, t0 + 5s, t0 + 6s, t0), "request body stalled");
  const ListenerConfig no_limit = timeouts(10s, 60s, 0s, 30s);
  EXPECT_EQ(request_body_timeout_reason(no_limit, t0 + 500s, std::nullopt, t0), "request body stalled");
}

}  // namespace
}  // namespace fulcrum::http
