// `fulcrum backend ...`: what the command line accepts, and the admin API request it makes. No
// request is sent here (tests/integration/backend_command_test.cc sends them).
#include "cli/backend_command.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>

namespace fulcrum::cli {
namespace {

// Parses `args` (after the program name) the way main() does; nullopt when CLI11 refuses them.
std::optional<BackendArguments> parse(std::vector<std::string> args) {
  CLI::App app;
  BackendCommand command(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError&) {
    return std::nullopt;
  }
  if (!command.selected()) return std::nullopt;
  return command.arguments();
}

BackendRequest request_for(std::vector<std::string> args) {
  auto arguments = parse(std::move(args));
  EXPECT_TRUE(arguments);
  return arguments ? build_backend_request(*arguments) : BackendRequest{.error = "unparsed"};
}

TEST(BackendCommand, AddPostsAddressWeightAndName) {
  const auto request = request_for({"backend", "add", "--admin", "http://127.0.0.1:9090", "api", "127.0.0.1:9003",
                                    "--weight", "2", "--name", "app3", "--token", "s3cret"});
  EXPECT_EQ(request.error, "");
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:9090/api/pools/api/backends");
  EXPECT_EQ(nlohmann::json::parse(request.body),
            nlohmann::json({{"address", "127.0.0.1:9003"}, {"weight", 2}, {"name", "app3"}}));
  EXPECT_EQ(parse({"backend", "add", "--admin", "x", "api", "a:1", "--token", "s3cret"})->token, "s3cret");
}

TEST(BackendCommand, AddSendsMaxConnectionsWhenGiven) {
  const auto request = request_for({"backend", "add", "--admin", "http://127.0.0.1:9090", "api", "127.0.0.1:9003",
                                    "--max-connections", "10"});
  EXPECT_EQ(nlohmann::json::parse(request.body),
            nlohmann::json({{"address", "127.0.0.1:9003"}, {"max_connections", 10}}));
  // Out of range or not a number: the server's words (400), as for the weight.
  const auto zero = request_for({"backend", "add", "--admin", "h:1", "api", "a:1", "--max-connections", "0"});
  EXPECT_EQ(nlohmann::json::parse(zero.body)["max_connections"], 0);
  EXPECT_FALSE(parse({"backend", "set", "--admin", "h:1", "api", "a:1", "--max-connections", "3"}))
      << "only add takes it";
}

TEST(BackendCommand, AddWithoutWeightLeavesItToTheServer) {
  const auto request = request_for({"backend", "add", "--admin", "127.0.0.1:9090/", "api", "127.0.0.1:9003"});
  EXPECT_EQ(request.url, "http://127.0.0.1:9090/api/pools/api/backends");
  EXPECT_EQ(nlohmann::json::parse(request.body), nlohmann::json({{"address", "127.0.0.1:9003"}}));
}

TEST(BackendCommand, SetPatchesWeightAndOrState) {
  auto request = request_for({"backend", "set", "--admin", "http://a:1", "api", "app3", "--weight", "5"});
  EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(request.url, "http://a:1/api/pools/api/backends/app3");
  EXPECT_EQ(nlohmann::json::parse(request.body), nlohmann::json({{"weight", 5}}));

  request = request_for({"backend", "set", "--admin", "http://a:1", "api", "app3", "--state", "maint", "--weight", "0"});
  EXPECT_EQ(nlohmann::json::parse(request.body), nlohmann::json({{"weight", 0}, {"state", "maint"}}));

  request = request_for({"backend", "set", "--admin", "http://a:1", "api", "app3"});
  EXPECT_EQ(request.error, "give --weight N and/or --state ready|drain|maint");
  EXPECT_TRUE(request.method.empty());
}

TEST(BackendCommand, DrainPatchesStateDrainRemoveDeletes) {
  auto request = request_for({"backend", "drain", "--admin", "http://a:1", "api", "127.0.0.1:9003"});
  EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(request.url, "http://a:1/api/pools/api/backends/127.0.0.1:9003");
  EXPECT_EQ(nlohmann::json::parse(request.body), nlohmann::json({{"state", "drain"}}));

  request = request_for({"backend", "remove", "--admin", "http://a:1", "api", "[::1]:9003"});
  EXPECT_EQ(request.method, "DELETE");
  EXPECT_EQ(request.url, "http://a:1/api/pools/api/backends/%5B::1%5D:9003");
  EXPECT_EQ(request.body, "");
}

TEST(BackendCommand, PoolAndBackendAreEncodedAsOneSegment) {
  const auto request = request_for({"backend", "drain", "--admin", "http://a:1", "my pool", "app/3?x"});
  EXPECT_EQ(request.url, "http://a:1/api/pools/my%20pool/backends/app%2F3%3Fx");
}

TEST(BackendCommand, TokenFromTheEnvironment) {
  ASSERT_EQ(setenv("FULCRUM_TOKEN", "from-env", 1), 0);
  auto arguments = parse({"backend", "remove", "--admin", "http://a:1", "api", "app3"});
  EXPECT_EQ(arguments->token, "from-env");
  arguments = parse({"backend", "remove", "--admin", "http://a:1", "api", "app3", "--token", "flag"});
  EXPECT_EQ(arguments->token, "flag");
  unsetenv("FULCRUM_TOKEN");
  EXPECT_EQ(parse({"backend", "remove", "--admin", "http://a:1", "api", "app3"})->token, "");
}

TEST(BackendCommand, BadUsageIsRefusedBeforeAnyRequest) {
  EXPECT_FALSE(parse({"backend"}));                                                        // no action
  EXPECT_FALSE(parse({"backend", "add", "api", "127.0.0.1:9003"}));                         // no --admin
  EXPECT_FALSE(parse({"backend", "add", "--admin", "http://a:1", "api"}));                  // no ADDRESS
  EXPECT_FALSE(parse({"backend", "set", "--admin", "http://a:1", "api", "b", "--state", "up"}));   // bad state
  EXPECT_FALSE(parse({"backend", "set", "--admin", "http://a:1", "api", "b", "--weight", "x"}));   // not a number
  EXPECT_FALSE(parse({"backend", "add", "--admin", "http://a:1", "api", "b", "--state", "drain"}));  // not for add
  EXPECT_FALSE(parse({"backend", "drain", "--admin", "http://a:1", "api", "b", "--weight", "2"}));   // not for drain
  EXPECT_FALSE(parse({"backend", "kill", "--admin", "http://a:1", "api", "b"}));

  auto arguments = parse({"backend", "remove", "--admin", "ftp://a:1", "api", "b"});
  ASSERT_TRUE(arguments);
  EXPECT_EQ(build_backend_request(*arguments).error, "--admin: 'ftp://a:1' is not an http:// or https:// URL");
}

}  // namespace
}  // namespace fulcrum::cli
