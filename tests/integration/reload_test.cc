// Config reload (issue 12 §1) against the real binary: POST /api/reload and SIGHUP read the file
// again; pools change (strategy, backends) 50 times under wrk -c50 load with no failed request and
// no socket error; backends named by the file keep their identity (id, weight set at run time); a bad file
// or a change this version cannot reload changes nothing and says why (400, `reload_failed`,
// fulcrum_reloads_total{result="failed"}); a file that replaces every backend of a checked pool
// fails no request (its new backends serve before their first check, as at start).
//
// Bounded: each wrk run lasts a few seconds (killed 20 s later at most); every wait is an
// eventually() with a timeout; the reload loop has a fixed count.
#include <gtest/gtest.h>
#include <signal.h>


#include <fstream>
#include <sstream>
#include <thread>

#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/process_figures.h"
#include "support/wrk.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "reload-token";
constexpr int kWrkConnections = 50;

struct Pool {
  std::vector<std::string> backends;
  std::string strategy = "round_robin";
  std::string extra;  // more pool keys, each line indented by 4
};

std::string reload_config(const Pool& pool, const std::string& top = "", int workers = 2) {
  std::string yaml = "workers: " + std::to_string(workers) + "\n" + top;
  yaml += std::string("admin: { listen: 127.0.0.1:0, token: ") + kToken + " }\n";
  yaml += "listeners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n";
  yaml += "pools:\n  app:\n    strategy: " + pool.strategy + "\n" + pool.extra + "    backends:\n";
  for (const auto& backend : pool.backends) yaml += "      - " + backend + "\n";
  return yaml;
}

std::string address_entry(const HttpBackend& backend, const std::string& more = "") {
  return "{ address: \"" + backend.address() + "\"" + more + " }";
}

void rewrite(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
}

AdminReply reload(const std::string& admin) { return admin_call(admin, "POST", "/api/reload", "", kToken); }

nlohmann::json member(const std::string& admin, const std::string& address) {
  const auto members = pool_members(admin, "app", kToken);
  for (const auto& m : members) {
    if (m.value("address", "") == address) return m;
  }
  return nullptr;
}

TEST(Reload, PoolChangesUnderLoadFailNoRequestAndTakeEffect) {
  ASSERT_TRUE(executable_exists(kWrkBinary)) << "wrk is not installed (scripts/install-deps.sh)";
  HttpBackend a("a"), b("b"), c("c");
  const Pool first{{address_entry(a), address_entry(b)}};
  const Pool with_c{{address_entry(a), address_entry(b), address_entry(c)}, "random"};
  const Pool without_b{{address_entry(a), address_entry(c)}, "least_connections", "    retries: 1\n"};
  FulcrumProcess fulcrum(reload_config(first), 2);
  const std::string admin = fulcrum.address("admin");
  const std::string front = fulcrum.address("front");
  const auto a_id = member(admin, a.address()).value("id", 0);
  ASSERT_NE(a_id, 0);

  // A keep-alive client connection opened before any reload, used after each.
  auto held = HttpConnection::connect(front);
  ASSERT_TRUE(held.valid());
  ASSERT_EQ(held.get("/held").value().status, 200);

  BackgroundWrk wrk("http://" + front + "/", 8, kWrkConnections);
  ASSERT_TRUE(eventually([&] { return a.requests() >= 50 && b.requests() >= 50; }, 3s)) << "wrk's load did not arrive";

  constexpr int kReloads = 50;
  for (int i = 0; i < kReloads; ++i) {
    const bool add = i % 2 == 0;
    rewrite(fulcrum.config_path(), reload_config(add ? with_c : without_b));
    const std::uint64_t c_before = c.requests();
    const AdminReply reply = reload(admin);
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_TRUE(reply.json.value("reloaded", false));
    EXPECT_EQ(reply.json.value("generation", 0), 2 + i);
    EXPECT_FALSE(reply.json["changes"].empty()) << reply.body;
    // The backend both configurations name is the same backend all along.
    EXPECT_EQ(member(admin, a.address()).value("id", 0), a_id) << "a lost its identity at reload " << i;
    if (add) {
      EXPECT_TRUE(eventually([&] { return c.requests() > c_before; }, 2s)) << "c got nothing at reload " << i;
    }
    const auto response = held.get("/held-" + std::to_string(i));
    ASSERT_TRUE(response) << "the held connection was closed by reload " << i;
    EXPECT_EQ(response->status, 200);
  }
  ASSERT_FALSE(wrk.done()) << "wrk ended before the reloads did: raise its duration";
  // The last configuration leaves b out: once the requests picked before it are done (at most
  // one per client connection), b gets nothing while a and c go on serving.
  std::this_thread::sleep_for(500ms);
  const std::uint64_t b_settled = b.heads(), a_settled = a.requests();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(b.heads(), b_settled) << "b still gets requests after the file dropped it";
  EXPECT_GT(a.requests(), a_settled) << "no load ran after the last reload: the check above proves nothing";
  EXPECT_TRUE(clean_run(wrk));
  EXPECT_TRUE(eventually([&] { return member(admin, b.address()).is_null(); }, 3s)) << "b never left the pool";
  // (Not the log lines: the logger rate-limits a message repeated this fast.)
  const AdminReply metrics = admin_call(admin, "GET", "/metrics", "", kToken);
  EXPECT_NE(metrics.body.find("fulcrum_reloads_total{result=\"ok\"} " + std::to_string(kReloads) + "\n"),
            std::string::npos);
}

TEST(Reload, SighupReadsTheFileAgain) {
  HttpBackend a("a"), c("c");
  FulcrumProcess fulcrum(reload_config({{address_entry(a)}}), 2);
  const std::string front = fulcrum.address("front");
  rewrite(fulcrum.config_path(), reload_config({{address_entry(c)}}));
  fulcrum.process().signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return fulcrum.count_log("configuration reloaded") == 1; }, 3s));
  // a drains out; every new request goes to c.
  auto connection = HttpConnection::connect(front);
  for (int i = 0; i < 10; ++i) {
    const auto response = connection.get("/after-hup");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->backend(), "c");
  }
  const AdminReply metrics = admin_call(fulcrum.address("admin"), "GET", "/metrics", "", kToken);
  EXPECT_NE(metrics.body.find("fulcrum_config_generation 2"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("fulcrum_reloads_total{result=\"ok\"} 1"), std::string::npos) << metrics.body;
}

TEST(Reload, ABadFileChangesNothingAndSaysWhy) {
  HttpBackend a("a"), c("c");
  const std::string events = write_temp_file("reload-events.jsonl", "");
  const std::string top = "events: { file: \"" + events + "\" }\n";
  FulcrumProcess fulcrum(reload_config({{address_entry(a)}}, top), 2);
  const std::string admin = fulcrum.address("admin");
  const std::string front = fulcrum.address("front");

  // Invalid: a weight out of range, on line 8 of the file.
  rewrite(fulcrum.config_path(),
          reload_config({{address_entry(a), address_entry(c), address_entry(c, ", weight: 0")}, "random"}, top));
  AdminReply reply = reload(admin);
  ASSERT_EQ(reply.status, 400) << reply.body;
  ASSERT_TRUE(reply.json["errors"].is_array()) << reply.body;
  ASSERT_FALSE(reply.json["errors"].empty());
  const std::string first = reply.json["errors"][0].get<std::string>();
  EXPECT_EQ(first.rfind(fulcrum.config_path() + ":", 0), 0u) << first;
  EXPECT_NE(first.find("weight"), std::string::npos) << first;

  // Valid, but a new listener's address is taken (backend c holds it): the reload fails as a
  // whole, the pool change with it.
  std::string two_listeners = reload_config({{address_entry(a), address_entry(c)}}, top);
  const std::string marker = "listeners:\n";
  two_listeners.insert(two_listeners.find(marker) + marker.size(),
                       "  - { name: extra, listen: \"" + c.address() + "\", mode: http, pool: app }\n");
  rewrite(fulcrum.config_path(), two_listeners);
  reply = reload(admin);
  ASSERT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("listeners.extra.listen"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("cannot bind"), std::string::npos) << reply.body;

  // Still the first configuration: every request to a, c never named.
  auto connection = HttpConnection::connect(front);
  for (int i = 0; i < 10; ++i) {
    const auto response = connection.get("/after-bad");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->backend(), "a");
  }
  EXPECT_EQ(c.heads(), 0u);
  EXPECT_TRUE(member(admin, c.address()).is_null());
  const AdminReply metrics = admin_call(admin, "GET", "/metrics", "", kToken);
  EXPECT_NE(metrics.body.find("fulcrum_config_generation 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("fulcrum_reloads_total{result=\"failed\"} 2"), std::string::npos) << metrics.body;
  EXPECT_TRUE(eventually(
      [&] {
        std::ifstream in(events);
        std::stringstream text;
        text << in.rdbuf();
        return text.str().find("\"event\":\"reload_failed\"") != std::string::npos;
      },
      3s))
      << "no reload_failed event in the event log";

  // Writes need the token; only POST reloads.
  EXPECT_EQ(admin_call(admin, "POST", "/api/reload").status, 401);
  EXPECT_EQ(admin_call(admin, "GET", "/api/reload", "", kToken).status, 405);
}

TEST(Reload, BackendsTheFileKeepsKeepWhatWasChangedAtRunTime) {
  HttpBackend a("a"), b("b"), c("c");
  FulcrumProcess fulcrum(reload_config({{address_entry(a), address_entry(b)}}), 2);
  const std::string admin = fulcrum.address("admin");
  const auto a_before = member(admin, a.address());
  ASSERT_EQ(admin_call(admin, "PATCH", "/api/pools/app/backends/" + a.address(), R"({"weight":5})", kToken).status, 200);
  ASSERT_EQ(admin_call(admin, "POST", "/api/pools/app/backends", R"({"address":")" + c.address() + R"("})", kToken).status,
            201);

  // b's weight changes in the file; a's does not (its run-time weight stays); workers changes
  // (not applied: reported).
  rewrite(fulcrum.config_path(),
          reload_config({{address_entry(a), address_entry(b, ", weight: 3")}, "weighted"}, "", /*workers=*/3));
  const AdminReply reply = reload(admin);
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_TRUE(reply.json["restart_required"].is_array()) << reply.body;
  EXPECT_NE(reply.json["restart_required"].dump().find("workers"), std::string::npos) << reply.body;
  const auto a_after = member(admin, a.address());
  EXPECT_EQ(a_after.value("id", 0), a_before.value("id", 0));
  EXPECT_EQ(a_after.value("weight", 0), 5);
  EXPECT_EQ(member(admin, b.address()).value("weight", 0), 3);
  EXPECT_EQ(member(admin, c.address()).value("source", ""), "api") << "a backend added through the API left";
}

// The health monitor follows the pool's new checks: checks only a passes keep b out; a reload
// that turns checks off brings b back (no stale verdict keeps it down), one that turns them on
// again takes it out again, without a restart.
TEST(Reload, TheHealthMonitorFollowsThePoolsNewChecks) {
  HttpBackend a("a"), b("b");
  const std::string checks =
      "    health: { http: { path: /health, body_contains: \"backend=a\" }, interval: 100ms, timeout: 80ms, "
      "rise: 1, fall: 1 }\n";
  const Pool checked{{address_entry(a), address_entry(b)}, "round_robin", checks};
  const Pool unchecked{{address_entry(a), address_entry(b)}};
  FulcrumProcess fulcrum(reload_config(checked), 2);
  const std::string admin = fulcrum.address("admin");
  const std::string front = fulcrum.address("front");
  auto state_of_b = [&] {
    const AdminReply backend = admin_call(admin, "GET", "/api/pools/app/backends/" + b.address(), "", kToken);
    return backend.json.is_object() ? backend.json.value("state", "") : "";
  };
  ASSERT_TRUE(eventually([&] { return state_of_b() == "unhealthy"; }, 3s)) << state_of_b();

  auto answers_from_b = [&](int requests) {
    int from_b = 0;
    auto connection = HttpConnection::connect(front);
    for (int i = 0; i < requests; ++i) {
      const auto response = connection.get("/which");
      if (response && response->backend() == "b") ++from_b;
    }
    return from_b;
  };
  EXPECT_EQ(answers_from_b(10), 0);

  rewrite(fulcrum.config_path(), reload_config(unchecked));
  ASSERT_EQ(reload(admin).status, 200);
  EXPECT_TRUE(eventually([&] { return state_of_b() == "healthy"; }, 3s)) << state_of_b();
  EXPECT_GT(answers_from_b(10), 0) << "b stayed out after its checks were turned off";

  rewrite(fulcrum.config_path(), reload_config(checked));
  ASSERT_EQ(reload(admin).status, 200);
  ASSERT_TRUE(eventually([&] { return state_of_b() == "unhealthy"; }, 3s)) << state_of_b();
  EXPECT_EQ(answers_from_b(10), 0);
}

TEST(Reload, ANewFileWithNoBackendOfTheOldOneFailsNoRequestInACheckedPool) {
  // The checks pass for a only, 10 s apart: b and c, new, would stay `joining` for the whole test
  // if they had to wait for a check to pass.
  HttpBackend a("a"), b("b"), c("c");
  const std::string checks =
      "    health: { http: { path: /health, body_contains: \"backend=a\" }, interval: 10s, timeout: 1s, fall: 3 }\n";
  FulcrumProcess fulcrum(reload_config({{address_entry(a)}, "round_robin", checks}), 2);
  const std::string admin = fulcrum.address("admin");
  auto connection = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(connection.valid());
  ASSERT_EQ(connection.get("/before").value().backend(), "a");

  // Every backend replaced: b serves at once, as a backend at start does, until its checks fail.
  rewrite(fulcrum.config_path(), reload_config({{address_entry(b)}, "round_robin", checks}));
  ASSERT_EQ(reload(admin).status, 200);
  for (int i = 0; i < 10; ++i) {
    const auto response = connection.get("/replaced-" + std::to_string(i));
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->status, 200) << "request " << i << " after the reload that replaced every backend";
    EXPECT_EQ(response->backend(), "b");
  }

  // With a member left that serves (b), a newcomer waits for its first check as before.
  rewrite(fulcrum.config_path(), reload_config({{address_entry(b), address_entry(c)}, "round_robin", checks}));
  ASSERT_EQ(reload(admin).status, 200);
  const AdminReply c_now = admin_call(admin, "GET", "/api/pools/app/backends/" + c.address(), "", kToken);
  EXPECT_EQ(c_now.json.is_object() ? c_now.json.value("state", "") : "", "joining") << c_now.body;
  for (int i = 0; i < 10; ++i) {
    const auto response = connection.get("/joined-" + std::to_string(i));
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->backend(), "b") << "c took traffic before a check passed";
  }
}

// Under AddressSanitizer freed memory waits in a quarantine (256 MiB) before reuse, so RSS grows
// with every allocation whether or not anything leaks; LeakSanitizer covers leaks there instead
// (kSanitized: support/process_figures.h).

// 1,000 reloads, alternating between two files that add and remove a backend and change the
// strategy: descriptors come back to no more than they were, memory to within 1 MiB (a leak of a
// Backend, a snapshot or a config per reload, a kilobyte or more, would show; 8 KiB is typical).
TEST(Reload, AThousandReloadsLeaveDescriptorsAndMemoryWhereTheyWere) {
  HttpBackend a("a"), b("b");
  const Pool both{{address_entry(a), address_entry(b)}, "random"};
  const Pool one{{address_entry(a)}, "least_connections"};
  FulcrumProcess fulcrum(reload_config(both), 2);
  const std::string admin = fulcrum.address("admin");
  const pid_t pid = fulcrum.process().pid();
  const auto started = std::chrono::steady_clock::now();
  auto reload_times = [&](int count) {
    for (int i = 0; i < count; ++i) {
      rewrite(fulcrum.config_path(), reload_config(i % 2 == 0 ? one : both));
      const AdminReply reply = reload(admin);
      if (reply.status != 200) {
        return ::testing::AssertionFailure() << "reload " << i << ": " << reply.status << " " << reply.body << reply.failure;
      }
      if (std::chrono::steady_clock::now() - started > 60s) return ::testing::AssertionFailure() << "out of time at " << i;
    }
    return ::testing::AssertionSuccess();
  };
  // Warm up (allocator pools, the admin connection machinery), then measure.
  ASSERT_TRUE(reload_times(50));
  ASSERT_TRUE(eventually([&] { return !member(admin, b.address()).is_null(); }, 2s));
  const int fds_before = open_descriptors(pid);
  const std::size_t rss_before = resident_bytes(pid);
  ASSERT_GT(fds_before, 0);
  ASSERT_GT(rss_before, 0u);
  ASSERT_TRUE(reload_times(1000));
  // No more than before: the count before may include a connection on its way out (an admin
  // connection the client just closed), so it may also come back lower.
  EXPECT_TRUE(eventually([&] { return open_descriptors(pid) <= fds_before; }, 3s))
      << open_descriptors(pid) << " descriptors, " << fds_before << " before";
  const std::size_t rss_after = resident_bytes(pid);
  if (!kSanitized) {
    EXPECT_LE(rss_after, rss_before + (1u << 20)) << "RSS " << rss_before << " -> " << rss_after;
  }
  RecordProperty("rss_growth_bytes", std::to_string(static_cast<long long>(rss_after) - static_cast<long long>(rss_before)));
  const AdminReply metrics = admin_call(admin, "GET", "/metrics", "", kToken);
  EXPECT_NE(metrics.body.find("fulcrum_config_generation 1051"), std::string::npos);
}

}  // namespace
}  // namespace fulcrum::test
