// `fulcrum pool ...`: what the command line accepts, and the admin API request it makes. No
// request is sent here (tests/integration/pool_command_test.cc sends them).
#include "cli/pool_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>

namespace fulcrum::cli {
namespace {

// Parses `args` (after the program name) the way main() does; nullopt when CLI11 refuses them.
std::optional<PoolArguments> parse(std::vector<std::string> args) {
  CLI::App app;
  PoolCommand command(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError&) {
    return std::nullopt;
  }
  if (!command.selected()) return std::nullopt;
  return command.arguments();
}

PoolRequest request_for(std::vector<std::string> args) {
  auto arguments = parse(std::move(args));
  EXPECT_TRUE(arguments);
  return arguments ? build_pool_request(*arguments) : PoolRequest{.error = "unparsed"};
}

TEST(PoolCommand, PausePatchesPausedTrue) {
  const auto request = request_for({"pool", "pause", "--admin", "http://127.0.0.1:9090", "api", "--token", "s3cret"});
  EXPECT_EQ(request.error, "");
  EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(request.url, "http://127.0.0.1:9090/api/pools/api");
  EXPECT_EQ(nlohmann::json::parse(request.body), nlohmann::json({{"paused", true}}));
  EXPECT_EQ(parse({"pool", "pause", "--admin", "x", "api", "--token", "s3cret"})->token, "s3cret");
}

TEST(PoolCommand, ResumePatchesPausedFalse) {
  const auto request = request_for({"pool", "resume", "--admin", "127.0.0.1:9090/", "api"});
  EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(request.url, "http://127.0.0.1:9090/api/pools/api");
  EXPECT_EQ(nlohmann::json::parse(request.body), nlohmann::json({{"paused", false}}));
}

TEST(PoolCommand, ShowGetsThePool) {
  const auto request = request_for({"pool", "show", "--admin", "http://127.0.0.1:9090", "api"});
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.url, "http://127.0.0.1:9090/api/pools/api");
  EXPECT_EQ(request.body, "");
}

TEST(PoolCommand, RestartPostsToTheRestartResource) {
  const auto request = request_for({"pool", "restart", "--admin", "http://127.0.0.1:9090", "a b", "--token", "t"});
  EXPECT_EQ(request.error, "");
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:9090/api/pools/a%20b/restart");
  EXPECT_EQ(request.body, "");
  EXPECT_FALSE(parse({"pool", "restart", "--admin", "http://h:1"})) << "POOL is required";
}

TEST(PoolCommand, PoolNameIsUrlEncoded) {
  const auto request = request_for({"pool", "pause", "--admin", "http://h:1", "a b/c"});
  EXPECT_EQ(request.url, "http://h:1/api/pools/a%20b%2Fc");
}

TEST(PoolCommand, BadUsageIsRefusedBeforeAnyRequest) {
  EXPECT_FALSE(parse({"pool", "pause", "api"})) << "--admin is required";
  EXPECT_FALSE(parse({"pool", "pause", "--admin", "http://h:1"})) << "POOL is required";
  EXPECT_FALSE(parse({"pool", "--admin", "http://h:1", "api"})) << "an action is required";
  EXPECT_FALSE(parse({"pool", "stop", "--admin", "http://h:1", "api"}));
  EXPECT_NE(request_for({"pool", "pause", "--admin", "ftp://h:1", "api"}).error, "");
  EXPECT_NE(request_for({"pool", "pause", "--admin", "http://h:1", ""}).error, "");
}

}  // namespace
}  // namespace fulcrum::cli
