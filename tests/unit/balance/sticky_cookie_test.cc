#include "balance/sticky_cookie.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "balance/round_robin.h"
#include "test_helpers.h"

namespace fulcrum::balance {
namespace {

using std::chrono::seconds;
using testing::Pool;

TEST(StickyCookieValue, OpaqueStableAndDistinct) {
  const std::string value = sticky_cookie_value("10.0.0.1:80");
  EXPECT_EQ(value.size(), 16u);
  EXPECT_EQ(value.find_first_not_of("0123456789abcdef"), std::string::npos) << value;
  EXPECT_EQ(value.find("10.0"), std::string::npos);
  EXPECT_EQ(value, sticky_cookie_value(std::string("10.0.0.") + "1:80"));
  EXPECT_NE(value, sticky_cookie_value("10.0.0.2:80"));
  EXPECT_NE(value, sticky_cookie_value("10.0.0.1:81"));
  // Pinned: clients hold these values across restarts and across Fulcrum instances, so the
  // seed, the hash and the formatting are part of the contract.
  EXPECT_EQ(value, "9bdead4d185baa6b");
  EXPECT_EQ(sticky_cookie_value("backend.internal:8080"), "c9c0f9f1abed429e");
}

TEST(StickyCookieMap, FindsEachBackendByItsValue) {
  auto pool = Pool::with_weights({1, 1, 0, 1});
  StickyCookieMap map(pool.candidates);
  ASSERT_EQ(map.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(map.value_of(i), sticky_cookie_value(pool.keys[i]));
    EXPECT_EQ(map.find(map.value_of(i)), i);  // weight 0 (drained) included
  }
}

TEST(StickyCookieMap, UnknownAndGarbageValuesFindNothing) {
  auto pool = Pool::with_weights({1, 1});
  StickyCookieMap map(pool.candidates);
  std::string upper(map.value_of(0));
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string value(map.value_of(0));
  const std::vector<std::string> garbage = {
      "",
      sticky_cookie_value("10.0.0.9:80"),  // a backend since removed
      value.substr(0, 15),
      value + "0",
      "zzzzzzzzzzzzzzzz",
      "10.0.0.1:80",
      " " + value.substr(1),
      "0x" + value.substr(2),
      std::string(16, '\0'),
  };
  for (const auto& cookie : garbage) EXPECT_EQ(map.find(cookie), std::nullopt) << "'" << cookie << "'";
  if (upper != value) {
    EXPECT_EQ(map.find(upper), std::nullopt);  // Fulcrum writes lowercase only
  }
}

TEST(StickyCookieMap, EqualKeysShareAValueThatNamesTheFirst) {
  Pool pool;
  pool.keys = {"b:1", "a:1", "a:1"};
  for (const auto& key : pool.keys) pool.candidates.push_back({key, 1});
  StickyCookieMap map(pool.candidates);
  EXPECT_EQ(map.value_of(1), map.value_of(2));
  EXPECT_EQ(map.find(map.value_of(2)), 1u);
  EXPECT_EQ(map.find(map.value_of(0)), 0u);
}

struct CookieCase {
  std::string header;
  std::string name;
  std::optional<std::string> expected;
};

TEST(FindCookie, ParsesCookieHeaders) {
  const std::vector<CookieCase> cases = {
      {"SRV=abc", "SRV", "abc"},
      {"a=1; SRV=abc; b=2", "SRV", "abc"},
      {"a=1;SRV=abc;b=2", "SRV", "abc"},              // no space after ';'
      {"a=1;   SRV=abc  ;b=2", "SRV", "abc"},         // extra spaces
      {"a=1;\tSRV=abc", "SRV", "abc"},                // tab
      {"SRV = abc", "SRV", "abc"},                    // spaces around '='
      {"a=1; SRV=\"abc\"", "SRV", "abc"},             // quoted value, unquoted
      {"SRV=\"", "SRV", "\""},                        // a lone quote is kept
      {"SRV=", "SRV", ""},                            // present, empty
      {"SRV=a=b", "SRV", "a=b"},                      // '=' inside the value
      {"SRV=first; SRV=second", "SRV", "first"},      // the first (most specific path) wins
      {"a=1;; ;SRV=x", "SRV", "x"},                   // empty pairs
      {"flag; SRV=x", "SRV", "x"},                    // a pair without '=' is skipped
      {"SRV", "SRV", std::nullopt},                   // a name without '=' is no cookie
      {"srv=abc", "SRV", std::nullopt},               // names are case-sensitive
      {"XSRV=abc; SRVX=def", "SRV", std::nullopt},    // no prefix or suffix matches
      {"a=SRV=abc", "SRV", std::nullopt},             // the name inside a value is not a name
      {"", "SRV", std::nullopt},
      {"; ;", "SRV", std::nullopt},
      {"a=1", "", std::nullopt},                      // empty name
      {"=abc", "", std::nullopt},
      {"a=1; SRV=abc;", "SRV", "abc"},                // trailing ';'
  };
  for (const auto& c : cases) {
    const auto found = find_cookie(c.header, c.name);
    if (c.expected) {
      ASSERT_TRUE(found.has_value()) << "'" << c.header << "' " << c.name;
      EXPECT_EQ(*found, *c.expected) << "'" << c.header << "' " << c.name;
    } else {
      EXPECT_EQ(found, std::nullopt) << "'" << c.header << "' " << c.name;
    }
  }
}

TEST(SetCookieHeaderValue, NamesValueAndAttributes) {
  EXPECT_EQ(set_cookie_header_value("SRV", "0123456789abcdef"), "SRV=0123456789abcdef; Path=/; HttpOnly; SameSite=Lax");
  // What Fulcrum sets, it finds again.
  const std::string header = set_cookie_header_value("fulcrum_srv", "x1");
  EXPECT_EQ(find_cookie(header.substr(0, header.find(';')), "fulcrum_srv"), "x1");
}

// The HTTP session's sticky rule over time, with backends going down and coming back. The clock
// is injected: "down" is a deactivation deadline compared with `now`, as the engine does.
class StickyScenario : public ::testing::Test {
 protected:
  StickyScenario() : pool(Pool::with_weights({1, 1, 1})), map(pool.candidates), strategy(pool.candidates.size()) {}

  BackendSet excluded_at(TimePoint now) const {
    BackendSet excluded(3);
    for (std::size_t i = 0; i < 3; ++i) {
      if (now < down_until[i]) excluded.insert(i);
    }
    return excluded;
  }
  StickyDecision request(std::optional<std::string_view> cookie, TimePoint now) {
    return decide_sticky(map, cookie, excluded_at(now), strategy, PickContext{});
  }

  Pool pool;
  StickyCookieMap map;
  RoundRobin strategy;  // a, b, c, a, ...: predictable picks
  TimePoint down_until[3] = {};
  const TimePoint t0 = TimePoint{} + std::chrono::hours(1000);
};

TEST_F(StickyScenario, HonouredWhileUpReassignedWhenDown) {
  // A first request has no cookie: balanced (round robin gives a) and the cookie set to a's.
  auto first = request(std::nullopt, t0);
  ASSERT_EQ(first.backend, 0u);
  EXPECT_FALSE(first.honoured);
  ASSERT_TRUE(first.set_cookie.has_value());
  EXPECT_EQ(*first.set_cookie, map.value_of(0));
  const std::string cookie_a(*first.set_cookie);

  // The client comes back with it: honoured, nothing set, the strategy not consulted.
  for (int i = 1; i <= 5; ++i) {
    auto again = request(cookie_a, t0 + seconds(i));
    EXPECT_EQ(again.backend, 0u);
    EXPECT_TRUE(again.honoured);
    EXPECT_EQ(again.set_cookie, std::nullopt);
  }

  // a fails at t0 + 10 s and is deactivated for 30 s: the request is re-balanced (round robin's
  // next is b) and the cookie re-assigned to b.
  down_until[0] = t0 + seconds(40);
  auto moved = request(cookie_a, t0 + seconds(10));
  ASSERT_EQ(moved.backend, 1u);
  EXPECT_FALSE(moved.honoured);
  ASSERT_TRUE(moved.set_cookie.has_value());
  EXPECT_EQ(*moved.set_cookie, map.value_of(1));
  const std::string cookie_b(*moved.set_cookie);

  // The client now holds b's cookie and stays on b, also after a is back (no flapping home).
  EXPECT_EQ(request(cookie_b, t0 + seconds(20)).backend, 1u);
  auto after = request(cookie_b, t0 + seconds(41));
  EXPECT_EQ(after.backend, 1u);
  EXPECT_TRUE(after.honoured);
  // A client still holding a's cookie is honoured again once a is up.
  auto old_client = request(cookie_a, t0 + seconds(41));
  EXPECT_EQ(old_client.backend, 0u);
  EXPECT_TRUE(old_client.honoured);
  EXPECT_EQ(old_client.set_cookie, std::nullopt);
}

TEST_F(StickyScenario, UnknownOrGarbageCookiesAreReassigned) {
  for (std::string_view cookie : {std::string_view("garbage"), std::string_view(""),
                                  std::string_view("ffffffffffffffff")}) {
    auto decision = request(cookie, t0);
    ASSERT_TRUE(decision.backend.has_value()) << cookie;
    EXPECT_FALSE(decision.honoured);
    ASSERT_TRUE(decision.set_cookie.has_value());
    EXPECT_EQ(*decision.set_cookie, map.value_of(*decision.backend));
  }
}

TEST_F(StickyScenario, FailoverWithinARequestReassigns) {
  const std::string cookie_c(map.value_of(2));
  BackendSet tried(3);
  auto first = decide_sticky(map, cookie_c, tried, strategy, PickContext{});
  ASSERT_EQ(first.backend, 2u);
  EXPECT_TRUE(first.honoured);
  tried.insert(2);  // the connect to c failed: the session retries with c excluded
  auto retry = decide_sticky(map, cookie_c, tried, strategy, PickContext{});
  ASSERT_TRUE(retry.backend.has_value());
  EXPECT_NE(retry.backend, 2u);
  EXPECT_FALSE(retry.honoured);
  ASSERT_TRUE(retry.set_cookie.has_value());
  EXPECT_EQ(*retry.set_cookie, map.value_of(*retry.backend));
}

TEST_F(StickyScenario, EverythingDownGivesNoBackendAndNoCookie) {
  for (auto& until : down_until) until = t0 + seconds(5);
  auto decision = request(std::string(map.value_of(1)), t0);
  EXPECT_EQ(decision.backend, std::nullopt);
  EXPECT_FALSE(decision.honoured);
  EXPECT_EQ(decision.set_cookie, std::nullopt);
}

TEST_F(StickyScenario, ABalancedPickEqualToTheCookieSetsNothing) {
  // Two backends with the same address share a cookie value. The cookie names index 0, which is
  // excluded; the pick lands on 1, whose value the client already holds: nothing to set.
  Pool twins;
  twins.keys = {"10.0.0.7:80", "10.0.0.7:80"};
  for (const auto& key : twins.keys) twins.candidates.push_back({key, 1});
  StickyCookieMap twin_map(twins.candidates);
  RoundRobin twin_strategy(2);
  BackendSet excluded(2);
  excluded.insert(0);
  auto decision = decide_sticky(twin_map, twin_map.value_of(0), excluded, twin_strategy, PickContext{});
  EXPECT_EQ(decision.backend, 1u);
  EXPECT_EQ(decision.set_cookie, std::nullopt);
}

}  // namespace
}  // namespace fulcrum::balance
