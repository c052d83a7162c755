// When etcd goes away, and when an instance dies (issue 15 §2): every instance serves on under
// load with no failed request, keeps its registrations' backends, says `cluster_disconnected`
// (API, metric), refuses writes with 503 and the reason while reads go on, and catches up when
// etcd is back; an instance killed with SIGKILL leaves the others serving, and a sidecar that
// named two instances fails over without its backend ever leaving.
#include <gtest/gtest.h>
#include <signal.h>

#include "cluster_fixture.h"
#include "support/http_backend.h"
#include "support/process.h"
#include "support/wrk.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(ClusterFailure, EtcdStoppedUnderLoadLosesNothingAndCatchesUp) {
  SKIP_WITHOUT_ETCD();
  HttpBackend fixed("fixed"), registered("registered"), later("later");
  ClusterOfThree cluster({fixed.address()});
  ASSERT_TRUE(cluster.etcd->ready());
  ASSERT_TRUE(cluster.formed());
  Process agent(sidecar({cluster.a().address("registration"), cluster.b().address("registration")},
                        registered.address()));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(eventually([&] { return !member_at(cluster.admin(i), registered.address()).is_null(); }, 3s)) << i;
  }

  BackgroundWrk load_a("http://" + cluster.a().address("web") + "/", 6, 4, 1);
  BackgroundWrk load_b("http://" + cluster.b().address("web") + "/", 6, 4, 1);
  std::this_thread::sleep_for(500ms);
  cluster.etcd->stop();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(eventually([&] { return !cluster_view(cluster.admin(i)).value("connected", true); }, 5s)) << i;
  }
  // Said everywhere: the API, the metric.
  const auto view = cluster_view(cluster.admin(0));
  EXPECT_FALSE(view.value("reason", "").empty()) << view.dump();
  const auto metrics = admin_call(cluster.admin(0), "GET", "/metrics", "", kAdminToken);
  EXPECT_EQ(metric_sample(metrics.body, "fulcrum_cluster_connected"), 0);
  EXPECT_GE(metric_sample(metrics.body, "fulcrum_cluster_disconnections_total"), 1);
  // Writes refused with the reason; reads go on.
  const auto refused = admin_call(cluster.admin(1), "PATCH", "/api/pools/api/backends/" + fixed.address(),
                                  R"({"weight":3})", kAdminToken);
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.error().find("etcd"), std::string::npos) << refused.body;
  EXPECT_EQ(admin_call(cluster.admin(1), "GET", "/api/pools", "", kAdminToken).status, 200);
  // Longer than the registration's TTL (2 s) without etcd: its backend stays everywhere.
  std::this_thread::sleep_for(3s);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(member_at(cluster.admin(i), registered.address()).is_null()) << i;

  cluster.etcd->start();
  ASSERT_TRUE(cluster.etcd->ready());
  // A change made through the store itself while the instances reconnect, and one through B.
  EXPECT_TRUE(cluster.etcd->put("/fulcrum-test/edge/backends/api/" + later.address(),
                                json{{"address", later.address()}, {"weight", 2}, {"state", "ready"}}.dump()));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(eventually([&] { return cluster_view(cluster.admin(i)).value("connected", false); }, 10s)) << i;
  }
  const auto changed = admin_call(cluster.admin(1), "PATCH", "/api/pools/api/backends/" + fixed.address(),
                                  R"({"weight":3})", kAdminToken);
  EXPECT_EQ(changed.status, 200) << changed.body;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(eventually([&] { return member_at(cluster.admin(i), fixed.address()).value("weight", 0) == 3; }, 3s)) << i;
    EXPECT_TRUE(eventually([&] { return !member_at(cluster.admin(i), later.address()).is_null(); }, 3s)) << i;
    EXPECT_FALSE(member_at(cluster.admin(i), registered.address()).is_null()) << i;
  }
  EXPECT_TRUE(clean_run(load_a, 100));
  EXPECT_TRUE(clean_run(load_b, 100));
}

TEST(ClusterFailure, AnInstanceKilledLeavesTheOthersServingAndTheSidecarFailsOver) {
  SKIP_WITHOUT_ETCD();
  HttpBackend fixed("fixed"), registered("registered");
  ClusterOfThree cluster({fixed.address()});
  ASSERT_TRUE(cluster.etcd->ready());
  ASSERT_TRUE(cluster.formed());
  Process agent(sidecar({cluster.a().address("registration"), cluster.b().address("registration")},
                        registered.address()));
  for (int i = 1; i < 3; ++i) {
    ASSERT_TRUE(eventually([&] { return !member_at(cluster.admin(i), registered.address()).is_null(); }, 3s)) << i;
  }
  BackgroundWrk load_b("http://" + cluster.b().address("web") + "/", 5, 4, 1);
  BackgroundWrk load_c("http://" + cluster.c().address("web") + "/", 5, 4, 1);
  std::this_thread::sleep_for(300ms);
  cluster.a().process().signal(SIGKILL);
  cluster.a().process().wait_exit(5s);
  // Watched for 4 s, twice the TTL: the sidecar renews through B, and the backend never leaves.
  const auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_FALSE(member_at(cluster.admin(1), registered.address()).is_null());
    ASSERT_FALSE(member_at(cluster.admin(2), registered.address()).is_null());
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(clean_run(load_b, 100));
  EXPECT_TRUE(clean_run(load_c, 100));
  EXPECT_TRUE(eventually([&] { return backend_from(cluster.c().address("web"), "127.0.0.1") != ""; }, 2s));
}

}  // namespace
}  // namespace fulcrum::test
