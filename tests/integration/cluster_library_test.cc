// A program that embeds the library in cluster mode: its runtime changes (Balancer::add_backend,
// update_backend, remove_backend, set_pool_paused) reach the other instances through etcd, as
// changes through the admin API do; while etcd is away they are refused (503) and change nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "cluster_fixture.h"
#include "fulcrum/balancer.h"
#include "fulcrum/config.h"
#include "support/http_backend.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(ClusterLibrary, ChangesMadeThroughTheLibraryHoldOnTheOtherInstances) {
  SKIP_WITHOUT_ETCD();
  HttpBackend one("one"), two("two");
  auto etcd = std::make_unique<EtcdProcess>();  // (a pointer, as the fixture holds it)
  ASSERT_TRUE(etcd->ready());
  const std::string yaml = cluster_yaml(etcd->endpoint(), "edge", {one.address()});
  FulcrumProcess other(yaml, 3);
  auto loaded = load_config_string(yaml);
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
  Balancer balancer(*loaded.config);
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = other.address("admin");
  ASSERT_TRUE(eventually([&] { return cluster_view(admin)["instances"].size() == 2u; }, 10s)) << cluster_view(admin).dump();

  auto seen = [&](const std::string& address, const std::function<bool(const json&)>& check) {
    return eventually([&] { return check(member_at(admin, address)); }, 3s);
  };
  const auto added = balancer.add_backend("api", {.address = two.address(), .weight = 3, .name = "two"});
  ASSERT_TRUE(added.ok()) << added.error;
  EXPECT_TRUE(seen(two.address(), [](const json& m) { return !m.is_null() && m.value("weight", 0) == 3; }))
      << member_at(admin, two.address()).dump();
  const auto drained = balancer.update_backend("api", one.address(), {.state = "drain"});
  ASSERT_TRUE(drained.ok()) << drained.error;
  EXPECT_TRUE(seen(one.address(), [](const json& m) { return !m.is_null() && m.value("admin_state", "") == "drain"; }));
  ASSERT_EQ(balancer.set_pool_paused("api", true).status, 200);
  EXPECT_TRUE(eventually([&] { return admin_call(admin, "GET", "/api/pools/api", "", kAdminToken).json.value("paused", false); }, 3s));
  ASSERT_EQ(balancer.set_pool_paused("api", false).status, 200);
  const auto removed = balancer.remove_backend("api", two.address());
  ASSERT_TRUE(removed.ok()) << removed.error;
  EXPECT_TRUE(seen(two.address(), [](const json& m) { return m.is_null(); }));
  // Here too, once drained (a removed backend is listed while it drains).
  auto listed_here = [&](const std::string& address) {
    for (const auto& backend : balancer.backends("api")) {
      if (backend.address == address) return true;
    }
    return false;
  };
  EXPECT_TRUE(eventually([&] { return !listed_here(two.address()); }, 5s));

  // etcd away: refused with the reason, nothing changed here or there.
  // (Until the instance has noticed, an unpause it already has changes nothing.)
  etcd->stop();
  ASSERT_TRUE(eventually([&] { return balancer.set_pool_paused("api", false).status == 503; }, 10s));
  const auto refused = balancer.add_backend("api", {.address = two.address(), .weight = 1, .name = "two"});
  EXPECT_EQ(refused.status, 503);
  EXPECT_FALSE(refused.error.empty());
  EXPECT_EQ(balancer.update_backend("api", one.address(), {.weight = 9}).status, 503);
  for (const auto& backend : balancer.backends("api")) {
    if (backend.address == one.address()) {
      EXPECT_NE(backend.weight, 9u);
    }
  }
  EXPECT_FALSE(listed_here(two.address()));
  EXPECT_TRUE(member_at(admin, two.address()).is_null());
  balancer.stop();
}

}  // namespace
}  // namespace fulcrum::test
