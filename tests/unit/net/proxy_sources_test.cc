#include "net/proxy_sources.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fulcrum::net {
namespace {

Address peer(const char* text) {
  auto address = Address::parse_numeric(text);
  EXPECT_TRUE(address) << text;
  return address.value_or(Address{});
}

ProxySources sources(const std::vector<std::string>& entries) {
  std::string error;
  auto parsed = ProxySources::parse(entries, &error);
  EXPECT_TRUE(parsed) << error;
  return parsed.value_or(ProxySources{});
}

TEST(ProxySources, MatchesPeersInsideTheirBlocksOnly) {
  const ProxySources trusted = sources({"10.0.0.0/8", "192.0.2.7", "172.16.0.0/12", "2001:db8::/32", "::1"});
  EXPECT_TRUE(trusted.contains(peer("10.0.0.0:1")));
  EXPECT_TRUE(trusted.contains(peer("10.255.255.255:1")));
  EXPECT_FALSE(trusted.contains(peer("11.0.0.0:1")));
  EXPECT_FALSE(trusted.contains(peer("9.255.255.255:1")));
  EXPECT_TRUE(trusted.contains(peer("192.0.2.7:80")));
  EXPECT_FALSE(trusted.contains(peer("192.0.2.8:80"))) << "a single address is a /32";
  EXPECT_TRUE(trusted.contains(peer("172.31.255.255:1"))) << "a prefix that is not a whole byte";
  EXPECT_FALSE(trusted.contains(peer("172.32.0.0:1")));
  EXPECT_TRUE(trusted.contains(peer("[2001:db8:ffff::1]:1")));
  EXPECT_FALSE(trusted.contains(peer("[2001:db9::1]:1")));
  EXPECT_TRUE(trusted.contains(peer("[::1]:1")));
  EXPECT_FALSE(trusted.contains(peer("[::2]:1")));
  EXPECT_TRUE(trusted.contains(peer("[::ffff:10.1.2.3]:1"))) << "an IPv4-mapped peer is its IPv4 address";
  EXPECT_FALSE(trusted.contains(Address{})) << "a peer without an address is never trusted";
  EXPECT_FALSE(ProxySources{}.contains(peer("10.0.0.1:1")));
}

TEST(ProxySources, ZeroPrefixesTrustTheirWholeFamily) {
  const ProxySources v4 = sources({"0.0.0.0/0"});
  EXPECT_TRUE(v4.contains(peer("203.0.113.9:1")));
  EXPECT_FALSE(v4.contains(peer("[2001:db8::1]:1")));
  const ProxySources v6 = sources({"::/0"});
  EXPECT_TRUE(v6.contains(peer("[2001:db8::1]:1")));
  EXPECT_TRUE(v6.contains(peer("203.0.113.9:1"))) << "::/0 covers the IPv4-mapped range too";
}

TEST(ProxySources, RefusesMalformedBlocksSayingWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"10.0.0.1/8", "invalid CIDR '10.0.0.1/8': bits are set past the /8 prefix (did you mean 10.0.0.0/8?)"},
      {"2001:db8::1/32",
       "invalid CIDR '2001:db8::1/32': bits are set past the /32 prefix (did you mean 2001:db8::/32?)"},
      {"10.0.0.0/33", "invalid CIDR '10.0.0.0/33': the prefix length must be a number from 0 to 32"},
      {"::/129", "invalid CIDR '::/129': the prefix length must be a number from 0 to 128"},
      {"10.0.0.0/", "invalid CIDR '10.0.0.0/': the prefix length must be a number from 0 to 32"},
      {"10.0.0.0/08", "invalid CIDR '10.0.0.0/08': the prefix length must be a number from 0 to 32"},
      {"10.0.0.0/-1", "invalid CIDR '10.0.0.0/-1': the prefix length must be a number from 0 to 32"},
      {"10.0.0.0/8/8", "invalid CIDR '10.0.0.0/8/8': the prefix length must be a number from 0 to 32"},
      {"proxy.internal", "invalid CIDR 'proxy.internal': expected an IP address or block (10.0.0.0/8, 2001:db8::/32)"},
      {"010.0.0.0/8", "invalid CIDR '010.0.0.0/8': expected an IP address or block (10.0.0.0/8, 2001:db8::/32)"},
      {"[::1]", "invalid CIDR '[::1]': expected an IP address or block (10.0.0.0/8, 2001:db8::/32)"},
      {"", "invalid CIDR '': expected an IP address or block (10.0.0.0/8, 2001:db8::/32)"},
      {std::string("10.0.0.0\0/8", 11), "invalid CIDR: a NUL byte in the address"},
  };
  for (const auto& [text, message] : cases) {
    std::string error;
    EXPECT_FALSE(parse_proxy_source(text, &error)) << text;
    EXPECT_EQ(error, message);
  }
  std::string error;
  EXPECT_FALSE(ProxySources::parse({"10.0.0.0/8", "10.0.0.1/8"}, &error));
  EXPECT_NE(error.find("'10.0.0.1/8'"), std::string::npos) << error;
}

}  // namespace
}  // namespace fulcrum::net
