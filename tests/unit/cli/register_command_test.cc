// `fulcrum register ...`: what the command line accepts and the registration it describes. The
// sidecar itself runs in tests/integration/register_command_test.cc.
#include "cli/register_command.h"

#include <gtest/gtest.h>

namespace fulcrum::cli {
namespace {

std::optional<RegisterArguments> parse(std::vector<std::string> args) {
  CLI::App app;
  RegisterCommand command(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError&) {
    return std::nullopt;
  }
  if (!command.selected()) return std::nullopt;
  return command.arguments();
}

TEST(RegisterCommand, OptionsAndTheCommandAfterDashDash) {
  auto arguments = parse({"register", "--url", "http://127.0.0.1:9091", "--pool", "api", "--address", "127.0.0.1:8080",
                          "--weight", "3", "--name", "app7", "--ttl", "3s", "--token", "t", "--", "my-server",
                          "--port", "8080", "--", "x"});
  ASSERT_TRUE(arguments);
  EXPECT_EQ(arguments->urls, std::vector<std::string>{"http://127.0.0.1:9091"});
  EXPECT_EQ(arguments->pool, "api");
  EXPECT_EQ(arguments->address, "127.0.0.1:8080");
  EXPECT_EQ(arguments->weight, 3u);
  EXPECT_EQ(arguments->name, "app7");
  EXPECT_EQ(arguments->token, "t");
  EXPECT_EQ(arguments->command, (std::vector<std::string>{"my-server", "--port", "8080", "--", "x"}));

  std::string error;
  const auto options = registration_options(*arguments, &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(options.ttl, std::chrono::seconds(3));
  EXPECT_EQ(options.weight, 3u);
  EXPECT_EQ(options.name, "app7");
}

TEST(RegisterCommand, SeveralUrlsOneEachAndDefaults) {
  auto arguments = parse({"register", "--url", "http://a:1", "--url", "b:2", "--pool", "api", "--address", "h:1"});
  ASSERT_TRUE(arguments);
  EXPECT_EQ(arguments->urls, (std::vector<std::string>{"http://a:1", "b:2"}));
  EXPECT_TRUE(arguments->command.empty());
  std::string error;
  const auto options = registration_options(*arguments, &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(options.ttl, std::chrono::seconds(10));
  EXPECT_EQ(options.weight, 1u);
}

TEST(RegisterCommand, BadUsage) {
  EXPECT_FALSE(parse({"register", "--pool", "api", "--address", "h:1"}));                    // no --url
  EXPECT_FALSE(parse({"register", "--url", "http://a:1", "--address", "h:1"}));              // no --pool
  EXPECT_FALSE(parse({"register", "--url", "http://a:1", "--pool", "p"}));                   // no --address
  EXPECT_FALSE(parse({"register", "--url", "http://a:1", "--pool", "p", "--address", "h:1", "--weight", "-1"}));

  for (const std::string ttl : {"10", "0s", "-1s", "soon"}) {
    auto arguments = parse({"register", "--url", "http://a:1", "--pool", "p", "--address", "h:1", "--ttl", ttl});
    ASSERT_TRUE(arguments) << ttl;
    std::string error;
    registration_options(*arguments, &error);
    EXPECT_EQ(error, "--ttl: '" + ttl + "' is not a positive duration (e.g. 10s, 1500ms)");
  }
  auto arguments = parse({"register", "--url", "gopher://a:1", "--pool", "p", "--address", "h:1"});
  ASSERT_TRUE(arguments);
  std::string error;
  registration_options(*arguments, &error);
  EXPECT_EQ(error, "'gopher://a:1' is not an http:// or https:// URL");
}

}  // namespace
}  // namespace fulcrum::cli
