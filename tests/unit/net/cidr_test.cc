#include "net/cidr.h"

#include <gtest/gtest.h>

namespace fulcrum::net {
namespace {

IpBytes ip(const char* address_and_port) {
  auto address = Address::parse_numeric(address_and_port);
  EXPECT_TRUE(address) << address_and_port;
  return address ? address->ip_bytes() : IpBytes{};
}

std::string parse_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(Cidr::parse(text, &error)) << text;
  return error;
}

TEST(Cidr, ParsesBlocksAndSingleAddressesOfBothFamilies) {
  auto v4 = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->prefix, 96u + 8u);
  EXPECT_EQ(v4->to_string(), "10.0.0.0/8");
  auto host = Cidr::parse("192.0.2.7");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->to_string(), "192.0.2.7/32");
  auto v6 = Cidr::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "2001:db8::/32");
  auto loopback = Cidr::parse("::1");
  ASSERT_TRUE(loopback);
  EXPECT_EQ(loopback->to_string(), "::1/128");
  auto everything = Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(everything);
  EXPECT_TRUE(everything->contains(ip("203.0.113.9:1")));
  EXPECT_FALSE(everything->contains(ip("[2001:db8::1]:1"))) << "an IPv4 block never covers IPv6 clients";
}

TEST(Cidr, ExplainsWhatIsWrong) {
  EXPECT_EQ(parse_error(""), "empty: expected an address or a block like 10.0.0.0/8 or 2001:db8::/32");
  EXPECT_EQ(parse_error("10.0.0/8"), "invalid address '10.0.0/8': expected an IPv4 or IPv6 address, optionally with /prefix");
  EXPECT_EQ(parse_error("example.com"),
            "invalid address 'example.com': expected an IPv4 or IPv6 address, optionally with /prefix");
  EXPECT_EQ(parse_error("10.0.0.0/33"), "invalid prefix length in '10.0.0.0/33': expected a number from 0 to 32");
  EXPECT_EQ(parse_error("::/129"), "invalid prefix length in '::/129': expected a number from 0 to 128");
  EXPECT_EQ(parse_error("10.0.0.0/"), "invalid prefix length in '10.0.0.0/': expected a number from 0 to 32");
  EXPECT_EQ(parse_error("10.0.0.0/-1"), "invalid prefix length in '10.0.0.0/-1': expected a number from 0 to 32");
  EXPECT_EQ(parse_error("10.0.0.0/8/8"), "invalid prefix length in '10.0.0.0/8/8': expected a number from 0 to 32");
  EXPECT_EQ(parse_error("10.1.0.0/8"), "host bits set in '10.1.0.0/8' (did you mean 10.0.0.0/8?)");
  EXPECT_EQ(parse_error("2001:db8::1/32"), "host bits set in '2001:db8::1/32' (did you mean 2001:db8::/32?)");
  EXPECT_EQ(parse_error(std::string_view("10.0.0.1\0junk", 13)), std::string("invalid address: a NUL byte in '10.0.0.1") + '\0' + "junk'")
      << "inet_pton would stop at the NUL and take 10.0.0.1";
}

TEST(Cidr, Ipv4EntriesMatchIpv4MappedClients) {
  auto block = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(block);
  EXPECT_TRUE(block->contains(ip("10.200.3.4:80")));
  EXPECT_TRUE(block->contains(ip("[::ffff:10.200.3.4]:80")));
  EXPECT_FALSE(block->contains(ip("11.0.0.1:80")));
  EXPECT_FALSE(block->contains(ip("[::ffff:11.0.0.1]:80")));
  // Written in its mapped form, an IPv4 entry is the same block.
  auto mapped = Cidr::parse("::ffff:10.0.0.0/104");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, *block);
}

TEST(Cidr, MaskKeepsExactlyThePrefixBits) {
  const IpBytes all = ip("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:1");
  const IpBytes masked = mask_prefix(all, 61);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(masked[i], 0xff) << i;
  EXPECT_EQ(masked[7], 0xf8);
  for (int i = 8; i < 16; ++i) EXPECT_EQ(masked[i], 0) << i;
  EXPECT_EQ(mask_prefix(all, 128), all);
  EXPECT_EQ(mask_prefix(all, 0), IpBytes{});
}

TEST(CidrSet, FindsTheLongestContainingPrefix) {
  std::string error;
  auto set = CidrSet::parse({"10.0.0.0/8", "10.1.0.0/16", "10.1.2.3", "2001:db8::/32", "2001:db8:1::/48"}, &error);
  ASSERT_TRUE(set) << error;
  EXPECT_EQ(set->longest_match(ip("10.9.9.9:1")), 104u);
  EXPECT_EQ(set->longest_match(ip("10.1.9.9:1")), 112u);
  EXPECT_EQ(set->longest_match(ip("10.1.2.3:1")), 128u);
  EXPECT_EQ(set->longest_match(ip("[2001:db8:1::5]:1")), 48u);
  EXPECT_EQ(set->longest_match(ip("[2001:db8:2::5]:1")), 32u);
  EXPECT_FALSE(set->longest_match(ip("192.0.2.1:1")));
  EXPECT_FALSE(set->longest_match(ip("[2001:db9::1]:1")));
  EXPECT_FALSE(CidrSet().contains(ip("10.0.0.1:1")));
}

TEST(CidrSet, ManyEntriesOfOneLengthAreSearchedNotScanned) {
  std::vector<std::string> texts;
  for (int a = 0; a < 40; ++a) {
    for (int b = 0; b < 25; ++b) texts.push_back("172." + std::to_string(a) + "." + std::to_string(b) + ".0/24");
  }
  auto set = CidrSet::parse(texts);
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains(ip("172.39.24.200:1")));
  EXPECT_TRUE(set->contains(ip("172.0.0.1:1")));
  EXPECT_FALSE(set->contains(ip("172.39.25.1:1")));
  EXPECT_FALSE(set->contains(ip("172.40.0.1:1")));
}

TEST(CidrSet, NamesTheBadEntry) {
  std::string error;
  EXPECT_FALSE(CidrSet::parse({"10.0.0.0/8", "10.0.0.0/99"}, &error));
  EXPECT_EQ(error, "entry 1: invalid prefix length in '10.0.0.0/99': expected a number from 0 to 32");
  EXPECT_FALSE(AccessRules::parse({}, {"nope"}, &error));
  EXPECT_EQ(error, "deny: entry 0: invalid address 'nope': expected an IPv4 or IPv6 address, optionally with /prefix");
}

AccessRules rules(std::vector<std::string> allow, std::vector<std::string> deny) {
  std::string error;
  auto parsed = AccessRules::parse(allow, deny, &error);
  EXPECT_TRUE(parsed) << error;
  return parsed ? *parsed : AccessRules();
}

TEST(AccessRules, NoListsAdmitEveryone) {
  const AccessRules none = rules({}, {});
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(none.admits(ip("198.51.100.1:1")));
  EXPECT_TRUE(none.admits(ip("[2001:db8::1]:1")));
}

TEST(AccessRules, AnAllowListRefusesWhoItDoesNotName) {
  const AccessRules only_loopback = rules({"127.0.0.0/8", "::1"}, {});
  EXPECT_TRUE(only_loopback.admits(ip("127.0.0.2:1")));
  EXPECT_TRUE(only_loopback.admits(ip("[::ffff:127.0.0.3]:1")));
  EXPECT_TRUE(only_loopback.admits(ip("[::1]:1")));
  EXPECT_FALSE(only_loopback.admits(ip("10.0.0.1:1")));
  EXPECT_FALSE(only_loopback.admits(ip("[::2]:1")));
}

TEST(AccessRules, ADenyListAloneRefusesOnlyWhoItNames) {
  const AccessRules deny = rules({}, {"127.0.0.3", "2001:db8::/32"});
  EXPECT_TRUE(deny.admits(ip("127.0.0.2:1")));
  EXPECT_FALSE(deny.admits(ip("127.0.0.3:1")));
  EXPECT_FALSE(deny.admits(ip("[::ffff:127.0.0.3]:1")));
  EXPECT_FALSE(deny.admits(ip("[2001:db8:5::1]:1")));
}

TEST(AccessRules, TheMostSpecificEntryDecidesWhicheverListItIsIn) {
  const AccessRules exception_allowed = rules({"10.1.2.3"}, {"10.0.0.0/8"});
  EXPECT_TRUE(exception_allowed.admits(ip("10.1.2.3:1")));
  EXPECT_FALSE(exception_allowed.admits(ip("10.1.2.4:1")));
  EXPECT_FALSE(exception_allowed.admits(ip("192.0.2.1:1"))) << "a non-empty allow list refuses who it does not name";
  // Everyone but 10/8, except 10.1.2.3: the catch-all allow entry is the least specific.
  const AccessRules open_with_hole = rules({"10.1.2.3", "0.0.0.0/0"}, {"10.0.0.0/8"});
  EXPECT_TRUE(open_with_hole.admits(ip("10.1.2.3:1")));
  EXPECT_FALSE(open_with_hole.admits(ip("10.1.2.4:1")));
  EXPECT_TRUE(open_with_hole.admits(ip("192.0.2.1:1")));
}

TEST(AccessRules, AnAllowListWithADeniedHole) {
  const AccessRules hole = rules({"10.0.0.0/8"}, {"10.6.0.0/16"});
  EXPECT_TRUE(hole.admits(ip("10.5.0.1:1")));
  EXPECT_FALSE(hole.admits(ip("10.6.0.1:1")));
  EXPECT_FALSE(hole.admits(ip("11.0.0.1:1")));
}

TEST(AccessRules, DenyWinsATieOfEqualPrefixes) {
  const AccessRules tie = rules({"10.0.0.0/8", "::/0"}, {"10.0.0.0/8"});
  EXPECT_FALSE(tie.admits(ip("10.0.0.1:1")));
  EXPECT_TRUE(tie.admits(ip("[2001:db8::1]:1")));
}

}  // namespace
}  // namespace fulcrum::net
