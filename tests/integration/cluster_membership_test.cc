// Three real Fulcrum instances sharing one real etcd (issue 15): a registration through one is
// served by all, renewed through another, leaves all three when its sidecar dies (an expiry
// everywhere) or deregisters (a removal everywhere); an
// operator's drain, weight, addition, removal and pause through one instance hold on the others;
// a second cluster name in the same etcd sees none of it.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "cluster_fixture.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/process.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(ClusterMembership, RegistrationThroughOneIsServedByAllAndLeavesAllWhenItsSidecarDies) {
  SKIP_WITHOUT_ETCD();
  HttpBackend fixed("fixed");
  HttpBackend registered("registered");
  ClusterOfThree cluster({fixed.address()});
  ASSERT_TRUE(cluster.etcd->ready());
  ASSERT_TRUE(cluster.formed()) << cluster_view(cluster.admin(0)).dump();
  // Every instance lists the three, with address, version, configuration generation and last
  // contact; /api/status carries the same for the dashboard, whose page has the panel.
  const auto view = cluster_view(cluster.admin(1));
  EXPECT_EQ(view.value("name", ""), "edge");
  for (const auto& instance : view["instances"]) {
    EXPECT_FALSE(instance.value("address", "").empty()) << instance.dump();
    EXPECT_FALSE(instance.value("version", "").empty()) << instance.dump();
    EXPECT_EQ(instance.value("generation", 0), 1) << instance.dump();
    EXPECT_LT(instance.value("last_contact_ms", 99999), 5000) << instance.dump();
  }
  std::set<std::string> addresses;
  for (const auto& instance : view["instances"]) addresses.insert(instance.value("address", ""));
  EXPECT_TRUE(addresses.contains(cluster.admin(0)) && addresses.contains(cluster.admin(2))) << view.dump();
  const auto status = admin_call(cluster.admin(0), "GET", "/api/status", "", kAdminToken).json;
  EXPECT_EQ(status["cluster"]["instances"].size(), 3u);
  EXPECT_NE(admin_call(cluster.admin(0), "GET", "/", "").body.find("cluster-panel"), std::string::npos);
  // A fourth instance of another cluster in the same etcd and prefix.
  FulcrumProcess other(cluster_yaml(cluster.etcd->endpoint(), "other", {fixed.address()}), 3);

  Process agent(sidecar({cluster.a().address("registration")}, registered.address()));
  // A has it as soon as the sidecar (a process starting) registered; B and C within 1 s of that:
  // applied from the watch, not from a poll.
  ASSERT_TRUE(eventually([&] { return !member_at(cluster.admin(0), registered.address()).is_null(); }, 5s))
      << pool_members(cluster.admin(0), "api", kAdminToken).dump();
  const auto on_a = std::chrono::steady_clock::now();
  for (int i = 1; i < 3; ++i) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(on_a + 1s - std::chrono::steady_clock::now());
    EXPECT_TRUE(eventually([&] { return !member_at(cluster.admin(i), registered.address()).is_null(); },
                           std::max(left, std::chrono::milliseconds(1))))
        << "instance " << i << ": " << pool_members(cluster.admin(i), "api", kAdminToken).dump();
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(member_at(cluster.admin(i), registered.address()).value("source", ""), "registration") << i;
  }
  // Requests through C reach it.
  EXPECT_TRUE(eventually([&] { return backend_from(cluster.c().address("web"), "127.0.0.1") == "registered"; }, 3s));
  // Past its TTL (2 s), renewed by the sidecar through A: still everywhere.
  std::this_thread::sleep_for(2500ms);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(member_at(cluster.admin(i), registered.address()).is_null()) << i;
  // Never seen by the other cluster.
  EXPECT_TRUE(member_at(other.address("admin"), registered.address()).is_null());
  EXPECT_EQ(cluster_view(other.address("admin"))["instances"].size(), 1u);
  EXPECT_EQ(cluster.etcd->dump("/fulcrum-test/other/registrations/"), "");
  EXPECT_NE(cluster.etcd->dump("/fulcrum-test/edge/registrations/"), "");

  // The sidecar dies without deregistering: its etcd lease lapses, and the backend leaves all three.
  agent.signal(SIGKILL);
  agent.wait_exit(5s);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(eventually([&] { return member_at(cluster.admin(i), registered.address()).is_null(); }, 8s))
        << "instance " << i;
  }
  // And every instance calls that an expiry.
  for (int i = 0; i < 3; ++i) {
    const auto events =
        admin_call(cluster.admin(i), "GET", "/api/events/recent?kinds=backend_removed,backend_expired", "", kAdminToken).json;
    std::vector<std::string> kinds;
    for (const auto& event : events) {
      if (event.value("backend", "") == registered.address()) kinds.push_back(event.value("event", ""));
    }
    EXPECT_EQ(kinds, std::vector<std::string>{"backend_expired"}) << "instance " << i << ": " << events.dump();
  }
}

TEST(ClusterMembership, RenewalThroughAnotherInstanceKeepsTheLease) {
  SKIP_WITHOUT_ETCD();
  HttpBackend fixed("fixed");
  ClusterOfThree cluster({fixed.address()});
  ASSERT_TRUE(cluster.etcd->ready());
  ASSERT_TRUE(cluster.formed());
  // Registered at A by hand, renewed at B only.
  auto registration = HttpConnection::connect(cluster.a().address("registration"));
  const std::string body = R"({"pool":"api","address":"127.0.0.1:1","ttl":"2s"})";
  registration.send("POST /register HTTP/1.1\r\nHost: f\r\nAuthorization: Bearer sekrit\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body);
  const auto answer = registration.read_response();
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->status, 201) << answer->body;
  const std::string lease = json::parse(answer->body)["lease"];
  ASSERT_TRUE(eventually([&] { return !member_at(cluster.admin(1), "127.0.0.1:1").is_null(); }, 2s));
  for (int round = 0; round < 6; ++round) {  // 3 s, past the 2 s TTL
    auto renewal = HttpConnection::connect(cluster.b().address("registration"));
    renewal.send("PUT /register/" + lease + " HTTP/1.1\r\nHost: f\r\nAuthorization: Bearer sekrit\r\nContent-Length: 0\r\n\r\n");
    const auto renewed = renewal.read_response();
    ASSERT_TRUE(renewed.has_value());
    EXPECT_EQ(renewed->status, 200) << renewed->body;
    std::this_thread::sleep_for(500ms);
  }
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(member_at(cluster.admin(i), "127.0.0.1:1").is_null()) << i;
  // Drained through B's admin API: held on every instance (a record of its own beside the
  // registration's key).
  const auto drained = admin_call(cluster.admin(1), "PATCH", "/api/pools/api/backends/127.0.0.1:1",
                                  R"({"state":"drain"})", kAdminToken);
  ASSERT_EQ(drained.status, 200) << drained.body;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(eventually([&] { return member_at(cluster.admin(i), "127.0.0.1:1").value("admin_state", "") == "drain"; },
                           2s)) << i;
  }
  // Deregistered through C: gone everywhere.
  auto goodbye = HttpConnection::connect(cluster.c().address("registration"));
  goodbye.send("DELETE /register/" + lease + " HTTP/1.1\r\nHost: f\r\nAuthorization: Bearer sekrit\r\n\r\n");
  const auto gone = goodbye.read_response();
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->status, 200) << gone->body;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(eventually([&] { return member_at(cluster.admin(i), "127.0.0.1:1").is_null(); }, 4s)) << i;
  }
  // Every instance says it was removed, not that it expired: C, where the sidecar said goodbye,
  // and A and B, which only saw its record in etcd marked leaving and then deleted.
  auto ended_as = [&](int i, const std::string& kind) {
    const auto events =
        admin_call(cluster.admin(i), "GET", "/api/events/recent?kinds=backend_removed,backend_expired", "", kAdminToken).json;
    for (const auto& event : events) {
      if (event.value("backend", "") == "127.0.0.1:1" && event.value("event", "") == kind) return true;
    }
    return false;
  };
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(eventually([&] { return ended_as(i, "backend_removed"); }, 3s)) << i;
    EXPECT_FALSE(ended_as(i, "backend_expired")) << i;
  }
  // An instance that starts now reads everything: the drain's record does not bring the
  // deregistered backend back.
  FulcrumProcess late(cluster_yaml(cluster.etcd->endpoint(), "edge", {fixed.address()}), 3);
  ASSERT_TRUE(eventually([&] { return cluster_view(late.address("admin")).value("connected", false); }, 5s));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(member_at(late.address("admin"), "127.0.0.1:1").is_null())
      << pool_members(late.address("admin"), "api", kAdminToken).dump();
}

TEST(ClusterMembership, OperatorChangesThroughBHoldOnAAndC) {
  SKIP_WITHOUT_ETCD();
  HttpBackend one("one"), two("two");
  ClusterOfThree cluster({one.address(), two.address()});
  ASSERT_TRUE(cluster.etcd->ready());
  ASSERT_TRUE(cluster.formed());
  const std::string b = cluster.admin(1);
  auto on_all = [&](const std::string& address, const std::function<bool(const json&)>& check) {
    for (int i = 0; i < 3; ++i) {
      if (!eventually([&] { return check(member_at(cluster.admin(i), address)); }, 2s)) {
        ADD_FAILURE() << "instance " << i << ": " << member_at(cluster.admin(i), address).dump();
      }
    }
  };

  // Drain.
  auto reply = admin_call(b, "PATCH", "/api/pools/api/backends/" + one.address(), R"({"state":"drain"})", kAdminToken);
  ASSERT_EQ(reply.status, 200) << reply.body;
  on_all(one.address(), [](const json& m) { return !m.is_null() && m.value("admin_state", "") == "drain"; });
  // Drained on A: every request through A goes to `two`.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(backend_from(cluster.a().address("web"), "127.0.0.1"), "two");
  // Weight.
  reply = admin_call(b, "PATCH", "/api/pools/api/backends/" + two.address(), R"({"weight":7})", kAdminToken);
  ASSERT_EQ(reply.status, 200) << reply.body;
  on_all(two.address(), [](const json& m) { return !m.is_null() && m.value("weight", 0) == 7; });
  // Back to ready.
  reply = admin_call(b, "PATCH", "/api/pools/api/backends/" + one.address(), R"({"state":"ready"})", kAdminToken);
  ASSERT_EQ(reply.status, 200) << reply.body;
  on_all(one.address(), [](const json& m) { return !m.is_null() && m.value("admin_state", "") == "ready"; });
  // Add and remove.
  HttpBackend three("three");
  reply = admin_call(b, "POST", "/api/pools/api/backends", json{{"address", three.address()}}.dump(), kAdminToken);
  ASSERT_EQ(reply.status, 201) << reply.body;
  on_all(three.address(), [](const json& m) { return !m.is_null(); });
  reply = admin_call(b, "DELETE", "/api/pools/api/backends/" + one.address(), "", kAdminToken);
  ASSERT_EQ(reply.status, 202) << reply.body;
  on_all(one.address(), [](const json& m) { return m.is_null(); });
  // Pause, seen in each instance's pool document.
  reply = admin_call(b, "PATCH", "/api/pools/api", R"({"paused":true})", kAdminToken);
  ASSERT_EQ(reply.status, 200) << reply.body;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(eventually([&] {
      return admin_call(cluster.admin(i), "GET", "/api/pools/api", "", kAdminToken).json.value("paused", false);
    }, 2s)) << i;
  }
  // A fourth instance started now learns everything from etcd.
  FulcrumProcess late(cluster_yaml(cluster.etcd->endpoint(), "edge", {one.address(), two.address()}), 3);
  EXPECT_TRUE(eventually([&] { return member_at(late.address("admin"), one.address()).is_null(); }, 3s));
  EXPECT_EQ(member_at(late.address("admin"), two.address()).value("weight", 0), 7);
  EXPECT_FALSE(member_at(late.address("admin"), three.address()).is_null());
  EXPECT_TRUE(eventually([&] { return cluster_view(b)["instances"].size() == 4u; }, 3s));
  // Stopped cleanly, it leaves the list at once (its lease revoked), not 10 s later.
  late.process().signal(SIGTERM);
  EXPECT_EQ(late.process().wait_exit(10s), 0);
  EXPECT_TRUE(eventually([&] { return cluster_view(b)["instances"].size() == 3u; }, 3s)) << cluster_view(b).dump();
}


// A burst of registrations at A (backends starting together) queues two etcd round trips each;
// an operator's drain made after it goes first (it is not held back for the whole burst), while
// a weight change of the burst's last backend waits for that backend's own registration (applied
// before it, it would find nothing to change on B and be lost).
TEST(ClusterMembership, AChangeGoesBeforeARegistrationBurstButNotBeforeItsOwnBackendsRegistration) {
  SKIP_WITHOUT_ETCD();
  HttpBackend fixed("fixed");
  ClusterOfThree cluster({fixed.address()});
  ASSERT_TRUE(cluster.etcd->ready());
  ASSERT_TRUE(cluster.formed());
  constexpr int kBurst = 300;
  // Pipelined on one connection, as fast as A answers them.
  auto registration = HttpConnection::connect(cluster.a().address("registration"));
  std::string burst;
  for (int i = 0; i < kBurst; ++i) {
    const std::string body = R"({"pool":"api","address":"127.0.0.1:)" + std::to_string(20000 + i) + R"(","ttl":"30s"})";
    burst += "POST /register HTTP/1.1\r\nHost: f\r\nAuthorization: Bearer sekrit\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  registration.send(burst);
  for (int i = 0; i < kBurst; ++i) {
    const auto answer = registration.read_response();
    ASSERT_TRUE(answer.has_value()) << i;
    ASSERT_EQ(answer->status, 201) << answer->body;
  }
  const std::string last = "127.0.0.1:" + std::to_string(20000 + kBurst - 1);
  ASSERT_EQ(admin_call(cluster.admin(0), "PATCH", "/api/pools/api/backends/" + last, R"({"weight":7})", kAdminToken).status,
            200);
  ASSERT_EQ(admin_call(cluster.admin(0), "PATCH", "/api/pools/api/backends/" + fixed.address(), R"({"state":"drain"})",
                       kAdminToken).status,
            200);
  // On B: the drain shows while most of the burst is still on its way.
  std::size_t registered_when_drained = 0;
  ASSERT_TRUE(eventually(
      [&] {
        const auto members = pool_members(cluster.admin(1), "api", kAdminToken);
        for (const auto& member : members) {
          if (member.value("address", "") != fixed.address()) continue;
          if (member.value("admin_state", "") != "drain") return false;
          registered_when_drained = members.size() - 1;
          return true;
        }
        return false;
      },
      10s));
  EXPECT_LT(registered_when_drained, static_cast<std::size_t>(kBurst)) << "the drain waited for the whole burst";
  // The whole burst arrives, and the weight change after its backend, not lost.
  EXPECT_TRUE(eventually([&] { return pool_members(cluster.admin(1), "api", kAdminToken).size() == kBurst + 1u; }, 20s));
  EXPECT_TRUE(eventually([&] { return member_at(cluster.admin(1), last).value("weight", 0) == 7; }, 5s))
      << member_at(cluster.admin(1), last).dump();
  EXPECT_EQ(member_at(cluster.admin(2), last).value("weight", 0), 7);
}

}  // namespace
}  // namespace fulcrum::test
