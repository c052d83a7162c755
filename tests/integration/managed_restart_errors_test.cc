// Bad requests to POST /api/pools/{pool}/restart, one table row each: no token, a wrong token, an
// unknown pool, a pool that is not managed, a wrong method, a body, a roll already under way, and
// an admin API without a token (read-only). Each is answered with its status and exact message,
// and changes nothing: the instances keep their processes and no roll begins.
#include <thread>

#include "integration/managed_scaling_helpers.h"
#include "support/http_backend.h"

namespace fulcrum::test::managed {
namespace {

struct BadRestart {
  const char* what;
  std::string method;
  std::string path;
  std::string body;
  std::string token;
  int status;
  std::string error;
  std::string allow = "";
};

std::string two_instances(const std::string& extra_args = "") {
  return "      command: " + server_command(extra_args) + "\n"
         "      ports: " + port_range() + "\n"
         "      instances: 2\n"
         "      ready: { tcp: {}, timeout: 10s }\n";
}

TEST(ManagedRestartErrors, EveryBadRestartIsAnsweredWithItsCodeAndMessageAndChangesNothing) {
  HttpBackend fixed("fixed");
  const std::string static_pool = "  static:\n    backends:\n      - { address: \"" + fixed.address() + "\" }\n";
  FulcrumProcess fulcrum(scaling_config(two_instances(), "http", static_pool), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return pids_in_state(app_instances(admin), "ready").size() == 2; }, 10s))
      << app_instances(admin).dump();
  const auto before = pids_in_state(app_instances(admin), "ready");

  const std::vector<BadRestart> rows = {
      {"no token", "POST", "/api/pools/app/restart", "", "", 401, "a bearer token is required"},
      {"a wrong token", "POST", "/api/pools/app/restart", "", "nope", 401, "a bearer token is required"},
      {"an unknown pool", "POST", "/api/pools/nope/restart", "", kScalingToken, 404, "no pool named 'nope'"},
      {"a pool that is not managed", "POST", "/api/pools/static/restart", "", kScalingToken, 409,
       "pool 'static' is not managed: only a managed pool's instances can be restarted"},
      {"GET", "GET", "/api/pools/app/restart", "", kScalingToken, 405, "method not allowed", "Allow: POST"},
      {"DELETE", "DELETE", "/api/pools/app/restart", "", kScalingToken, 405, "method not allowed", "Allow: POST"},
      {"a body", "POST", "/api/pools/app/restart", R"({"max_parallel": 2})", kScalingToken, 400,
       "a restart takes no body (or {}): the pool's managed.max_parallel says how many at a time"},
      {"a body that is not JSON", "POST", "/api/pools/app/restart", "now", kScalingToken, 400,
       "a restart takes no body (or {}): the pool's managed.max_parallel says how many at a time"},
      {"a path below it", "POST", "/api/pools/app/restart/x", "", kScalingToken, 404, "not found"},
  };
  for (const auto& row : rows) {
    const AdminReply reply = admin_call(admin, row.method, row.path, row.body, row.token);
    EXPECT_EQ(reply.status, row.status) << row.what << ": " << reply.head << reply.body;
    EXPECT_EQ(reply.error(), row.error) << row.what;
    if (!row.allow.empty()) {
      EXPECT_NE(reply.head.find(row.allow), std::string::npos) << row.what << ": " << reply.head;
    }
    // Nothing changed: the same processes, no roll.
    EXPECT_EQ(pids_in_state(app_instances(admin), "ready"), before) << row.what;
    EXPECT_FALSE(app_pool(admin).contains("roll")) << row.what;
    EXPECT_TRUE(events_of(admin, "roll_started").empty()) << row.what;
  }
}

TEST(ManagedRestartErrors, ARollAlreadyUnderWayIsRefusedAndGoesOn) {
  // Each instance takes 600 ms before it listens: a roll of two lasts more than a second.
  FulcrumProcess fulcrum(scaling_config(two_instances("--listen-after-ms, \"600\"")), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return pids_in_state(app_instances(admin), "ready").size() == 2; }, 10s))
      << app_instances(admin).dump();

  const AdminReply first = scaling_call(admin, "POST", "/api/pools/app/restart", "{}");
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(first.json.value("state", ""), "running");
  const AdminReply second = scaling_call(admin, "POST", "/api/pools/app/restart");
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(second.error(), "pool 'app' is already rolling (0 of 2 instances replaced)");

  // The first roll carries on to its end; the refused one began nothing.
  ASSERT_TRUE(eventually([&] { return app_member(admin, "roll").value("state", "") == "done"; }, 15s))
      << app_pool(admin).dump();
  EXPECT_EQ(events_of(admin, "roll_started").size(), 1u);
  EXPECT_EQ(events_of(admin, "roll_done").size(), 1u);
}

TEST(ManagedRestartErrors, WithoutAnAdminTokenTheApiIsReadOnly) {
  FulcrumProcess fulcrum(scaling_config(two_instances(), "http", "", /*token=*/false), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] {
    const AdminReply reply = admin_call(admin, "GET", "/api/pools/app/instances");
    return reply.status == 200 && count_in_state(reply.json, "ready") == 2;
  }, 10s));
  const AdminReply reply = admin_call(admin, "POST", "/api/pools/app/restart");
  EXPECT_EQ(reply.status, 403) << reply.body;
  EXPECT_EQ(reply.error(), "the admin API is read-only: set admin.token in the configuration to allow writes");
  EXPECT_FALSE(admin_call(admin, "GET", "/api/pools/app").json.contains("roll"));
}

}  // namespace
}  // namespace fulcrum::test::managed
