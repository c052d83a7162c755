// Live pools under load (issue 11 §4): the real binary with admin.token, real backends, wrk over
// keep-alive connections, and pool changes through the admin API while it runs. Adding a backend:
// it gets requests, no client sees an error. Drain and remove: no new request reaches the backend
// once the answer is in (beyond the ones already picked when it came: at most one per client
// connection), while a slow response in flight on it completes with 200. Re-weighting 1 -> 5 moves
// the share. Every wrk run ends with 0 non-2xx answers and 0 socket errors. Requests are counted
// at the backends.
//
// Bounded: each wrk run lasts a few seconds (killed 20 s later at most); every wait is an
// eventually() with a timeout. Assertions are on counts and shares, never on speed, except that a
// share needs a minimum of samples to mean something (checked, and said when missing).
#include <gtest/gtest.h>

#include <thread>

#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/nginx.h"
#include "support/wrk.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "live-pool-token";
constexpr int kWrkConnections = 16;

std::string live_config(const std::vector<std::string>& backends, const std::string& strategy = "round_robin",
                        const std::string& pool_extra = "", int workers = 2) {
  std::string yaml = "workers: " + std::to_string(workers) + "\n";
  yaml += std::string("admin: { listen: 127.0.0.1:0, token: ") + kToken + " }\n";
  yaml += "listeners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n";
  yaml += "pools:\n  app:\n    strategy: " + strategy + "\n" + pool_extra + "    backends:\n";
  for (const auto& address : backends) yaml += "      - address: \"" + address + "\"\n";
  return yaml;
}

bool has_wrk() { return executable_exists(kWrkBinary); }

bool member_listed(const std::string& admin, const std::string& address) {
  const auto members = pool_members(admin, "app", kToken);
  if (!members.is_array()) return false;
  for (const auto& member : members) {
    if (member.value("address", "") == address) return true;
  }
  return false;
}

/// Slow requests (`X-Test: delay=2000`) sent through the proxy until one is in flight at
/// `target` (at most 24, 4 at a time, each on its own connection).
struct SlowRequests {
  std::vector<HttpConnection> connections;
  bool landed = false;
};

SlowRequests slow_request_at(const std::string& front, HttpBackend& target, HttpBackend& other) {
  SlowRequests slow;
  for (int batch = 0; batch < 6 && !slow.landed; ++batch) {
    for (int i = 0; i < 4; ++i) {
      auto connection = HttpConnection::connect(front);
      if (!connection.valid()) continue;
      connection.send(get_request("/slow-" + std::to_string(slow.connections.size()), "X-Test: delay=2000\r\n"));
      slow.connections.push_back(std::move(connection));
    }
    // Each has reached one backend or the other (the delay starts once it has).
    const std::size_t sent = slow.connections.size();
    eventually([&] { return target.heads_containing("/slow-") + other.heads_containing("/slow-") >= sent; }, 3s);
    slow.landed = target.heads_containing("/slow-") > 0;
  }
  return slow;
}

/// Reads every slow answer: all 200, and at least one from `name`.
void expect_slow_answers(SlowRequests& slow, const std::string& name) {
  int from_target = 0;
  for (auto& connection : slow.connections) {
    const auto response = connection.read_response(6s);
    ASSERT_TRUE(response) << "a slow request in flight got no answer";
    EXPECT_EQ(response->status, 200);
    if (response->backend() == name) ++from_target;
  }
  EXPECT_GE(from_target, 1);
}

TEST(LivePool, AnAddedBackendGetsRequestsUnderLoadAndNoClientSeesAnError) {
  ASSERT_TRUE(has_wrk()) << "wrk is not installed (scripts/install-deps.sh)";
  HttpBackend a("a"), c("c");
  FulcrumProcess fulcrum(live_config({a.address()}), 2);
  const std::string admin = fulcrum.address("admin");
  BackgroundWrk wrk("http://" + fulcrum.address("front") + "/", 3, kWrkConnections);
  ASSERT_TRUE(eventually([&] { return a.requests() >= 100; }, 3s)) << "wrk's load did not arrive";

  const AdminReply added = admin_call(admin, "POST", "/api/pools/app/backends",
                                      R"({"address":")" + c.address() + R"(","name":"c3","weight":1})", kToken);
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(added.json.value("address", ""), c.address());
  EXPECT_EQ(added.json.value("name", ""), "c3");
  EXPECT_EQ(added.json.value("admin_state", ""), "ready");
  EXPECT_EQ(added.json.value("source", ""), "api");
  EXPECT_TRUE(added.json.contains("id"));

  ASSERT_TRUE(eventually([&] { return c.requests() > 0; }, 2s)) << "the added backend got no request";
  // From here on, round robin over two: c's share of what both got is about a half.
  const std::uint64_t a0 = a.requests(), c0 = c.requests();
  EXPECT_TRUE(clean_run(wrk));
  const double a_share = static_cast<double>(a.requests() - a0), c_share = static_cast<double>(c.requests() - c0);
  ASSERT_GE(a_share + c_share, 100) << "too few requests after the add to compare shares";
  EXPECT_NEAR(c_share / (a_share + c_share), 0.5, 0.2) << "a=" << a_share << " c=" << c_share;
  EXPECT_EQ(fulcrum.count_log("backend added"), 1u);
}

TEST(LivePool, AnAddedBackendIsJoiningWithoutTrafficUntilItsFirstCheckPassesUnderLoad) {
  ASSERT_TRUE(has_wrk()) << "wrk is not installed (scripts/install-deps.sh)";
  HttpBackend a("a"), c("c");
  c.set_behaviour(HttpBackend::Behaviour::CloseBeforeAnswer);  // its checks fail, as a request would
  FulcrumProcess fulcrum(
      live_config({a.address()}, "round_robin", "    health: { http: { path: /health }, interval: 200ms, timeout: 150ms }\n"), 2);
  const std::string admin = fulcrum.address("admin");
  BackgroundWrk wrk("http://" + fulcrum.address("front") + "/", 3, kWrkConnections);
  ASSERT_TRUE(eventually([&] { return a.requests() >= 100; }, 3s)) << "wrk's load did not arrive";

  const AdminReply added =
      admin_call(admin, "POST", "/api/pools/app/backends", R"({"address":")" + c.address() + R"(","name":"c3"})", kToken);
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(added.json.value("state", ""), "joining");
  // Checks reach it and fail; no request of wrk's does (a retried one would hide from wrk).
  ASSERT_TRUE(eventually([&] { return c.heads_containing("GET /health ") >= 2; }, 2s));
  EXPECT_EQ(c.heads_containing("GET / "), 0u) << "a joining backend got traffic";
  auto state = [&] {
    const AdminReply backend = admin_call(admin, "GET", "/api/pools/app/backends/c3", "", kToken);
    return backend.json.is_object() ? backend.json.value("state", "") : "";
  };
  EXPECT_EQ(state(), "joining");
  // Its first passing check brings it in.
  c.set_behaviour(HttpBackend::Behaviour::Normal);
  EXPECT_TRUE(eventually([&] { return c.heads_containing("GET / ") > 0; }, 2s)) << "it never joined";
  EXPECT_EQ(state(), "healthy");
  EXPECT_TRUE(clean_run(wrk));
}

// Drain and remove share one scenario: a and b under load, a slow request in flight at b, then
// `change` takes b out; b must get nothing new once the answer is in, the slow one must finish.
void drain_scenario(const std::string& method, const std::string& body, int expected_status) {
  HttpBackend a("a"), b("b");
  FulcrumProcess fulcrum(live_config({a.address(), b.address()}), 2);
  const std::string admin = fulcrum.address("admin");
  const std::string front = fulcrum.address("front");
  BackgroundWrk wrk("http://" + front + "/", 4, kWrkConnections);
  ASSERT_TRUE(eventually([&] { return a.requests() >= 50 && b.requests() >= 50; }, 3s)) << "wrk's load did not arrive";

  SlowRequests slow = slow_request_at(front, b, a);
  ASSERT_TRUE(slow.landed) << "no slow request reached b";

  const AdminReply reply = admin_call(admin, method, "/api/pools/app/backends/" + b.address(), body, kToken);
  const std::uint64_t at_answer = b.heads();
  const auto answered = std::chrono::steady_clock::now();
  ASSERT_EQ(reply.status, expected_status) << reply.body;
  EXPECT_EQ(reply.json.value("address", ""), b.address());
  if (method == "PATCH") {
    EXPECT_EQ(reply.json.value("admin_state", ""), "drain");
  }

  // Requests picked before the snapshot changed may still be on their way: at most one per wrk
  // connection, since wrk does not pipeline (a hard bound: no more requests exist). After that,
  // nothing: b's count stands still while a keeps serving. How many arrived late is recorded.
  std::this_thread::sleep_until(answered + 500ms);
  const std::uint64_t settled = b.heads();
  const std::uint64_t a_settled = a.requests();
  EXPECT_LE(settled - at_answer, static_cast<std::uint64_t>(kWrkConnections));
  ::testing::Test::RecordProperty("requests_after_answer", std::to_string(settled - at_answer));
  // The slow request that was in flight at b finishes, with 200, after the answer.
  if (method == "DELETE") {
    EXPECT_TRUE(member_listed(admin, b.address())) << "removed with a request in flight";
  }
  expect_slow_answers(slow, "b");
  EXPECT_TRUE(clean_run(wrk));
  EXPECT_EQ(b.heads(), settled) << "b got new requests after it was taken out";
  EXPECT_GT(a.requests(), a_settled) << "no load ran after the change: the check above proves nothing";
  if (method == "DELETE") {
    // Nothing in flight any more: b leaves the pool.
    EXPECT_TRUE(eventually([&] { return !member_listed(admin, b.address()); }, 3s));
    EXPECT_EQ(fulcrum.count_log("backend left the pool"), 1u);
  } else {
    EXPECT_TRUE(member_listed(admin, b.address())) << "a drained backend stays a member";
  }
}

TEST(LivePool, DrainTakesNoNewRequestOnceAnsweredWhileASlowOneInFlightCompletes) {
  ASSERT_TRUE(has_wrk()) << "wrk is not installed (scripts/install-deps.sh)";
  drain_scenario("PATCH", R"({"state":"drain"})", 200);
}

TEST(LivePool, RemoveTakesNoNewRequestOnceAnsweredWhileASlowOneInFlightCompletes) {
  ASSERT_TRUE(has_wrk()) << "wrk is not installed (scripts/install-deps.sh)";
  drain_scenario("DELETE", "", 202);
}

TEST(LivePool, WeightOneToFiveShiftsTheShareUnderLoad) {
  ASSERT_TRUE(has_wrk()) << "wrk is not installed (scripts/install-deps.sh)";
  HttpBackend a("a"), b("b");
  FulcrumProcess fulcrum(live_config({a.address(), b.address()}, "weighted"), 2);
  const std::string admin = fulcrum.address("admin");
  BackgroundWrk wrk("http://" + fulcrum.address("front") + "/", 4, kWrkConnections);
  ASSERT_TRUE(eventually([&] { return a.requests() >= 50 && b.requests() >= 50; }, 3s)) << "wrk's load did not arrive";

  // The share over one window before the change and one after it.
  auto window = [&](std::chrono::milliseconds length) {
    const std::uint64_t a0 = a.requests(), b0 = b.requests();
    std::this_thread::sleep_for(length);
    return std::pair<double, double>(static_cast<double>(a.requests() - a0), static_cast<double>(b.requests() - b0));
  };
  const auto [a_before, b_before] = window(1000ms);
  const AdminReply reply = admin_call(admin, "PATCH", "/api/pools/app/backends/" + b.address(), R"({"weight":5})", kToken);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json.value("weight", 0), 5);
  std::this_thread::sleep_for(100ms);  // the requests picked before the change are out
  const auto [a_after, b_after] = window(1000ms);
  EXPECT_TRUE(clean_run(wrk));

  ASSERT_GE(a_before + b_before, 100) << "too few requests to compare shares";
  ASSERT_GE(a_after + b_after, 100) << "too few requests to compare shares";
  // 1:1, then 5:1 (smooth weighted round robin keeps the ratio within each worker's cycle).
  EXPECT_NEAR(b_before / (a_before + b_before), 0.5, 0.15) << "a=" << a_before << " b=" << b_before;
  EXPECT_NEAR(b_after / (a_after + b_after), 5.0 / 6.0, 0.1) << "a=" << a_after << " b=" << b_after;
  EXPECT_EQ(fulcrum.count_log("backend weight"), 1u);
}

TEST(LivePool, NginxAddedAndRemovedUnderLoadWithoutAClientError) {
  ASSERT_TRUE(has_wrk() && Nginx::available()) << "wrk or nginx is not installed (scripts/install-deps.sh)";
  HttpBackend a("a");
  Nginx nginx(0, /*access_log=*/true);
  ASSERT_TRUE(nginx.running());
  FulcrumProcess fulcrum(live_config({a.address()}), 2);
  const std::string admin = fulcrum.address("admin");
  BackgroundWrk wrk("http://" + fulcrum.address("front") + "/", 4, kWrkConnections);
  ASSERT_TRUE(eventually([&] { return a.requests() >= 100; }, 3s)) << "wrk's load did not arrive";

  const AdminReply added =
      admin_call(admin, "POST", "/api/pools/app/backends", R"({"address":")" + nginx.address() + R"(","name":"nginx"})", kToken);
  ASSERT_EQ(added.status, 201) << added.body;
  ASSERT_TRUE(eventually([&] { return nginx.requests_logged() >= 50; }, 3s)) << "nginx got no requests";

  const AdminReply removed = admin_call(admin, "DELETE", "/api/pools/app/backends/nginx", "", kToken);
  ASSERT_EQ(removed.status, 202) << removed.body;
  const std::size_t at_answer = nginx.requests_logged();
  std::this_thread::sleep_for(500ms);
  const std::size_t settled = nginx.requests_logged();
  const std::uint64_t a_settled = a.requests();
  EXPECT_LE(settled - at_answer, static_cast<std::size_t>(kWrkConnections));
  RecordProperty("requests_after_answer", std::to_string(settled - at_answer));
  EXPECT_TRUE(clean_run(wrk));
  EXPECT_EQ(nginx.requests_logged(), settled) << "nginx got new requests after its removal was answered";
  EXPECT_GT(a.requests(), a_settled) << "no load ran after the removal: the check above proves nothing";
  EXPECT_TRUE(eventually([&] { return !member_listed(admin, nginx.address()); }, 3s));
}

}  // namespace
}  // namespace fulcrum::test
