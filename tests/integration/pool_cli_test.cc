// `fulcrum pool pause|resume|show` as the real binary against a running Fulcrum's admin API:
// pause holds new requests in the pool's queue, resume releases them, show prints the pool;
// the server's refusals (unknown pool, wrong token) are printed on stderr with exit 1 and change
// nothing; bad usage exits 2 before anything is sent.
#include <gtest/gtest.h>

#include <future>

#include <nlohmann/json.hpp>

#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/http_command.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "cli-secret";

std::string cli_config(const std::string& backend) {
  return "workers: 2\n"
         "admin: { listen: 127.0.0.1:0, token: " + std::string(kToken) + " }\n"
         "listeners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: api }\n"
         "pools:\n  api:\n    queue: { size: 10, timeout: 20s }\n    backends: [\"" + backend + "\"]\n";
}

CommandResult pool_command(const std::string& admin, const std::string& action, const std::string& pool,
                           const std::string& token = kToken) {
  return run_command({fulcrum_binary(), "pool", action, "--admin", "http://" + admin, "--token", token, pool}, 10s);
}

bool pool_paused(const std::string& admin) {
  return admin_call(admin, "GET", "/api/pools/api", "", kToken).json.value("paused", false);
}

TEST(PoolCli, PauseHoldsRequestsResumeReleasesThemShowPrintsThePool) {
  HttpBackend backend("b");
  FulcrumProcess fulcrum(cli_config(backend.address()), 2);
  const std::string front = fulcrum.address("front");
  const std::string admin = fulcrum.address("admin");

  const auto paused = pool_command(admin, "pause", "api");
  ASSERT_EQ(paused.exit_code, 0) << paused.err;
  EXPECT_EQ(paused.err, "");
  EXPECT_EQ(nlohmann::json::parse(paused.out)["paused"], true);
  EXPECT_TRUE(pool_paused(admin));

  auto waiting = std::async(std::launch::async, [&] {
    auto connection = HttpConnection::connect(front);
    connection.send("GET /held HTTP/1.1\r\nHost: test\r\n\r\n");
    return connection.read_response(15s);
  });
  ASSERT_TRUE(eventually([&] {
    const auto shown = pool_command(admin, "show", "api");
    return shown.exit_code == 0 && nlohmann::json::parse(shown.out)["queue"]["depth"] == 1;
  }, 5s)) << "`fulcrum pool show` does not show the waiting request";
  EXPECT_EQ(backend.heads(), 0u);

  const auto resumed = pool_command(admin, "resume", "api");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(nlohmann::json::parse(resumed.out)["paused"], false);
  const auto answer = waiting.get();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(backend.heads(), 1u);
  EXPECT_FALSE(pool_paused(admin));
}

TEST(PoolCli, ServerRefusalsExit1AndBadUsageExit2ChangingNothing) {
  HttpBackend backend("b");
  FulcrumProcess fulcrum(cli_config(backend.address()), 2);
  const std::string admin = fulcrum.address("admin");

  const auto unknown = pool_command(admin, "pause", "nope");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.out, "");
  EXPECT_EQ(unknown.err.rfind("fulcrum pool pause: ", 0), 0u) << unknown.err;
  EXPECT_NE(unknown.err.find("no pool named 'nope'"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("(HTTP 404)"), std::string::npos) << unknown.err;

  const auto wrong_token = pool_command(admin, "pause", "api", "wrong");
  EXPECT_EQ(wrong_token.exit_code, 1);
  EXPECT_NE(wrong_token.err.find("(HTTP 401)"), std::string::npos) << wrong_token.err;
  EXPECT_FALSE(pool_paused(admin)) << "a refused pause paused the pool";

  const auto unknown_show = pool_command(admin, "show", "nope");
  EXPECT_EQ(unknown_show.exit_code, 1);
  EXPECT_NE(unknown_show.err.find("(HTTP 404)"), std::string::npos) << unknown_show.err;

  const auto bad_url = pool_command("", "pause", "api");  // --admin http:// with no host
  EXPECT_EQ(bad_url.exit_code, 2) << bad_url.err;
  const auto no_pool = run_command({fulcrum_binary(), "pool", "pause", "--admin", "http://" + admin}, 10s);
  EXPECT_EQ(no_pool.exit_code, 2) << no_pool.err;
  EXPECT_FALSE(pool_paused(admin));
}

}  // namespace
}  // namespace fulcrum::test
