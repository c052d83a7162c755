#include "net/address.h"

#include <gtest/gtest.h>

namespace fulcrum::net {
namespace {

TEST(Address, ParsesAndPrintsBackBothFamilies) {
  auto v4 = Address::parse_numeric("10.1.2.3:443");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->to_string(), "10.1.2.3:443");
  EXPECT_EQ(v4->port(), 443);
  auto v6 = Address::parse_numeric("[2001:db8::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "[2001:db8::1]:80");
  EXPECT_FALSE(Address::parse_numeric("localhost:80")) << "numeric parsing never resolves";
}

TEST(Address, Ipv4AndItsMappedIpv6FormGiveTheSameClientKey) {
  auto v4 = Address::parse_numeric("192.0.2.7:1");
  auto mapped = Address::parse_numeric("[::ffff:192.0.2.7]:2");
  ASSERT_TRUE(v4 && mapped);
  EXPECT_EQ(v4->ip_bytes(), mapped->ip_bytes());
  EXPECT_NE(v4->ip_bytes(), Address::parse_numeric("192.0.2.8:1")->ip_bytes());
}

TEST(Address, ResolvesNamesAndExplainsFailures) {
  auto local = Address::resolve("localhost:9");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->port(), 9);
  std::string error;
  EXPECT_FALSE(Address::resolve("no-such-host.invalid:80", &error));
  EXPECT_NE(error.find("cannot resolve host 'no-such-host.invalid'"), std::string::npos) << error;
}

}  // namespace
}  // namespace fulcrum::net
