// The registration protocol's messages and the checks of fulcrum::Registration's options.
#include "client/registration_protocol.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace fulcrum::client {
namespace {

RegistrationOptions valid_options() {
  return {.urls = {"http://127.0.0.1:9091"}, .pool = "api", .address = "10.0.0.7:8080"};
}

TEST(CheckRegistrationOptions, NamesWhatIsMissingOrWrong) {
  EXPECT_EQ(check_registration_options(valid_options()), "");
  auto options = valid_options();
  options.urls.clear();
  EXPECT_EQ(check_registration_options(options), "no registration URL given");
  options = valid_options();
  options.urls.push_back("ftp://x");
  EXPECT_EQ(check_registration_options(options), "'ftp://x' is not an http:// or https:// URL");
  options = valid_options();
  options.pool.clear();
  EXPECT_EQ(check_registration_options(options), "no pool given");
  options = valid_options();
  options.address.clear();
  EXPECT_EQ(check_registration_options(options), "no backend address given");
  options = valid_options();
  options.ttl = std::chrono::milliseconds(0);
  EXPECT_EQ(check_registration_options(options), "the TTL must be positive");
}

TEST(RegistrationBody, HoldsEveryFieldTheNameOnlyWhenSet) {
  auto options = valid_options();
  options.weight = 3;
  options.ttl = std::chrono::milliseconds(1500);
  auto body = nlohmann::json::parse(registration_body(options));
  EXPECT_EQ(body, nlohmann::json({{"pool", "api"}, {"address", "10.0.0.7:8080"}, {"weight", 3}, {"ttl", "1s500ms"}}));
  options.name = "app7";
  options.ttl = std::chrono::seconds(10);
  body = nlohmann::json::parse(registration_body(options));
  EXPECT_EQ(body["name"], "app7");
  EXPECT_EQ(body["ttl"], "10s");
}

TEST(RenewalBody, NothingOrWeightOrLoad) {
  EXPECT_EQ(renewal_body({}), "");
  EXPECT_EQ(nlohmann::json::parse(renewal_body({.kind = CapacityReport::Kind::Weight, .weight = 5})),
            nlohmann::json({{"weight", 5}}));
  EXPECT_EQ(nlohmann::json::parse(renewal_body({.kind = CapacityReport::Kind::Load, .load = 0.25})),
            nlohmann::json({{"load", 0.25}}));
}

TEST(LeasePath, EncodesTheLease) {
  EXPECT_EQ(lease_path("4f2a"), "/register/4f2a");
  EXPECT_EQ(lease_path("a/b"), "/register/a%2Fb");
}

}  // namespace
}  // namespace fulcrum::client
