// Cluster mode against an etcd with authentication on: the instance signs in with
// cluster.etcd.username/password (etcd's /v3/auth/authenticate token on every call, the watch
// included) and works; a wrong password leaves it serving but disconnected, with etcd's reason.
#include <gtest/gtest.h>

#include "cluster_fixture.h"
#include "support/http_backend.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

std::string with_credentials(const std::string& yaml, const std::string& password) {
  std::string out = yaml;
  const std::string marker = "prefix: /fulcrum-test";
  out.replace(out.find(marker), marker.size(), marker + ", username: root, password: " + password);
  return out;
}

TEST(ClusterAuth, SignsInWithUserAndPasswordAndSaysWhyWhenRefused) {
  SKIP_WITHOUT_ETCD();
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.ready());
  // etcd's authentication on, with a root user (as `etcdctl user add root; auth enable` does).
  ASSERT_NE(etcd.call("/v3/auth/user/add", R"({"name":"root","password":"s3cret"})").find("header"), std::string::npos);
  ASSERT_NE(etcd.call("/v3/auth/role/add", R"({"name":"root"})").find("header"), std::string::npos);
  ASSERT_NE(etcd.call("/v3/auth/user/grant", R"({"user":"root","role":"root"})").find("header"), std::string::npos);
  ASSERT_NE(etcd.call("/v3/auth/enable", "{}").find("header"), std::string::npos);

  HttpBackend one("one"), two("two");
  FulcrumProcess good(with_credentials(cluster_yaml(etcd.endpoint(), "edge", {one.address(), two.address()}), "s3cret"), 3);
  FulcrumProcess bad(with_credentials(cluster_yaml(etcd.endpoint(), "edge", {one.address(), two.address()}), "wrong"), 3);
  ASSERT_TRUE(eventually([&] { return cluster_view(good.address("admin")).value("connected", false); }, 10s))
      << cluster_view(good.address("admin")).dump();
  // Writes and the watch work through the token.
  const auto reply = admin_call(good.address("admin"), "PATCH", "/api/pools/api/backends/" + one.address(),
                                R"({"weight":9})", kAdminToken);
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_TRUE(eventually([&] { return cluster_view(good.address("admin"))["instances"].size() == 1u; }, 5s));
  // The wrong password: serving, disconnected, etcd's reason shown, writes refused.
  // Until its first sign-in is answered the reason says "not connected yet"; wait for etcd's.
  EXPECT_TRUE(eventually(
      [&] { return cluster_view(bad.address("admin")).value("reason", "").find("authentication failed") != std::string::npos; },
      10s))
      << cluster_view(bad.address("admin")).dump();
  const auto view = cluster_view(bad.address("admin"));
  EXPECT_FALSE(view.value("connected", true));
  EXPECT_NE(view.value("reason", "").find("authentication failed"), std::string::npos) << view.dump();
  EXPECT_EQ(admin_call(bad.address("admin"), "PATCH", "/api/pools/api/backends/" + one.address(), R"({"weight":3})",
                       kAdminToken).status,
            503);
  EXPECT_FALSE(backend_from(bad.address("web"), "127.0.0.1").empty());
}

}  // namespace
}  // namespace fulcrum::test
