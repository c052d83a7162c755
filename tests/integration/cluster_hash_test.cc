// Agreement without shared tables (issue 15): 1,000 client addresses through `source_hash`
// (Maglev over the same backend set) land on the same backend whichever of three instances they
// reach, before and after a backend is removed through one of them; then about 1/N of them move,
// and the same ones on every instance.
#include <gtest/gtest.h>

#include <map>

#include "cluster_fixture.h"
#include "support/http_backend.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr int kClients = 1000;

std::string client_ip(int i) { return "127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1); }

/// The backend each client address reaches through `web` ("" for a failed request).
std::vector<std::string> assignment(const std::string& web) {
  std::vector<std::string> backends;
  backends.reserve(kClients);
  for (int i = 0; i < kClients; ++i) backends.push_back(backend_from(web, client_ip(i)));
  return backends;
}

TEST(ClusterHash, SourceHashAgreesOnEveryInstanceBeforeAndAfterARemoval) {
  SKIP_WITHOUT_ETCD();
  std::vector<std::unique_ptr<HttpBackend>> backends;
  std::vector<std::string> addresses;
  for (int i = 0; i < 5; ++i) {
    backends.push_back(std::make_unique<HttpBackend>("b" + std::to_string(i)));
    addresses.push_back(backends.back()->address());
  }
  ClusterOfThree cluster(addresses, "source_hash");
  ASSERT_TRUE(cluster.etcd->ready());
  ASSERT_TRUE(cluster.formed());

  std::vector<std::vector<std::string>> before;
  for (int i = 0; i < 3; ++i) before.push_back(assignment(cluster.instances[i]->address("web")));
  std::map<std::string, int> spread;
  for (const auto& backend : before[0]) ++spread[backend];
  ASSERT_EQ(spread.count(""), 0u) << "some requests failed";
  EXPECT_EQ(spread.size(), 5u);  // every backend gets clients
  EXPECT_EQ(before[1], before[0]);
  EXPECT_EQ(before[2], before[0]);

  // b2 removed through C: gone from every instance.
  const auto reply = admin_call(cluster.admin(2), "DELETE", "/api/pools/api/backends/" + addresses[2], "", kAdminToken);
  ASSERT_EQ(reply.status, 202) << reply.body;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(eventually([&] { return member_at(cluster.admin(i), addresses[2]).is_null(); }, 5s)) << i;
  }
  std::vector<std::vector<std::string>> after;
  for (int i = 0; i < 3; ++i) after.push_back(assignment(cluster.instances[i]->address("web")));
  EXPECT_EQ(after[1], after[0]);
  EXPECT_EQ(after[2], after[0]);
  int moved = 0;
  for (int client = 0; client < kClients; ++client) {
    ASSERT_NE(after[0][client], "") << "client " << client;
    ASSERT_NE(after[0][client], "b2");
    if (before[0][client] == "b2") {
      EXPECT_NE(after[0][client], before[0][client]);
    }
    if (after[0][client] != before[0][client]) ++moved;
  }
  // Those of b2 (about 1/5) move, and few others: Maglev's minimal disruption.
  EXPECT_GE(moved, spread["b2"]);
  EXPECT_LE(moved, spread["b2"] + kClients / 20) << "moved " << moved << ", b2 had " << spread["b2"];
}

}  // namespace
}  // namespace fulcrum::test
