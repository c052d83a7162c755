#include "net/proxy_protocol.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace fulcrum::net {
namespace {

using namespace std::string_literals;

// Parses a heap copy of exactly `bytes`, so that a read past the end is caught under ASan.
ProxyParse parse_exact(std::string_view bytes, const ProxyLimits& limits = {}) {
  auto copy = std::make_unique<char[]>(bytes.size() + (bytes.empty() ? 1 : 0));
  if (!bytes.empty()) std::memcpy(copy.get(), bytes.data(), bytes.size());
  return parse_proxy_header(std::string_view(copy.get(), bytes.size()), limits);
}

const std::string kV2Signature = "\r\n\r\n\0\r\nQUIT\n"s;

// A v2 header: signature, version/command byte, family byte, 16-bit length of `block`, `block`.
std::string v2(unsigned char version_command, unsigned char family, const std::string& block) {
  std::string out = kV2Signature;
  out += static_cast<char>(version_command);
  out += static_cast<char>(family);
  out += static_cast<char>(block.size() >> 8);
  out += static_cast<char>(block.size() & 0xFF);
  return out + block;
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

// 192.0.2.1:56324 → 198.51.100.2:443 as a v2 address block.
const std::string kTcp4Block = bytes({192, 0, 2, 1, 198, 51, 100, 2, 0xDC, 0x04, 0x01, 0xBB});
// [2001:db8::1]:1234 → [2001:db8::2]:80.
const std::string kTcp6Block = bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,  //
                                      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,  //
                                      0x04, 0xD2, 0x00, 0x50});

struct Valid {
  const char* name;
  std::string header;
  ProxyVersion version;
  bool local;
  const char* source;  // Address::to_string(), or nullptr when local
  const char* destination;
};

std::vector<Valid> valid_headers() {
  const std::string longest_v6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  std::string padded_unknown = "PROXY UNKNOWN ";
  padded_unknown += std::string(kProxyV1MaxBytes - padded_unknown.size() - 2, 'x') + "\r\n";
  return {
      {"v1_tcp4", "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n", ProxyVersion::V1, false, "192.0.2.1:56324",
       "198.51.100.2:443"},
      {"v1_tcp4_extremes", "PROXY TCP4 255.255.255.255 0.0.0.0 65535 0\r\n", ProxyVersion::V1, false,
       "255.255.255.255:65535", "0.0.0.0:0"},
      {"v1_tcp6", "PROXY TCP6 2001:db8::1 2001:db8::2 1234 80\r\n", ProxyVersion::V1, false, "[2001:db8::1]:1234",
       "[2001:db8::2]:80"},
      {"v1_tcp6_longest", "PROXY TCP6 " + longest_v6 + " " + longest_v6 + " 65535 65535\r\n", ProxyVersion::V1,
       false, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
      {"v1_tcp6_mapped", "PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n", ProxyVersion::V1, false, "[::ffff:192.0.2.1]:1",
       "[::1]:2"},
      {"v1_unknown", "PROXY UNKNOWN\r\n", ProxyVersion::V1, true, nullptr, nullptr},
      {"v1_unknown_with_ignored_rest", "PROXY UNKNOWN ffff:: 1.2.3.4 1 2\r\n", ProxyVersion::V1, true, nullptr,
       nullptr},
      {"v1_unknown_107_bytes", padded_unknown, ProxyVersion::V1, true, nullptr, nullptr},
      {"v2_tcp4", v2(0x21, 0x11, kTcp4Block), ProxyVersion::V2, false, "192.0.2.1:56324", "198.51.100.2:443"},
      {"v2_tcp6", v2(0x21, 0x21, kTcp6Block), ProxyVersion::V2, false, "[2001:db8::1]:1234", "[2001:db8::2]:80"},
      {"v2_tcp4_tlvs_skipped", v2(0x21, 0x11, kTcp4Block + bytes({0x04, 0, 2, 0, 0}) + bytes({0x02, 0, 1, 'a'}) +
                                                  bytes({0x05, 0, 0})),
       ProxyVersion::V2, false, "192.0.2.1:56324", "198.51.100.2:443"},
      {"v2_local", v2(0x20, 0x00, ""), ProxyVersion::V2, true, nullptr, nullptr},
      {"v2_local_ignores_family_and_block", v2(0x20, 0x31, "anything at all"), ProxyVersion::V2, true, nullptr,
       nullptr},
      {"v2_proxy_unspec", v2(0x21, 0x00, "ignored"), ProxyVersion::V2, true, nullptr, nullptr},
      {"v2_at_the_length_limit", v2(0x21, 0x11, kTcp4Block + bytes({0x04, 0x07, 0xE1}) + std::string(0x07E1, '\0')),
       ProxyVersion::V2, false, "192.0.2.1:56324", "198.51.100.2:443"},
  };
}

TEST(ProxyProtocol, ParsesValidHeadersAndStopsAtTheirEnd) {
  for (const Valid& test : valid_headers()) {
    SCOPED_TRACE(test.name);
    const std::string input = test.header + "GET / HTTP/1.1\r\n";
    const ProxyParse result = parse_exact(input);
    ASSERT_EQ(result.status, ProxyStatus::Done) << result.reason;
    EXPECT_EQ(result.length, test.header.size());
    EXPECT_EQ(result.version, test.version);
    EXPECT_EQ(result.local, test.local);
    if (test.local) {
      EXPECT_FALSE(result.source);
      EXPECT_FALSE(result.destination);
      continue;
    }
    ASSERT_TRUE(result.source && result.destination);
    EXPECT_EQ(result.source->to_string(), test.source);
    EXPECT_EQ(result.destination->to_string(), test.destination);
    EXPECT_EQ(result.source->family(), result.destination->family());
  }
  EXPECT_EQ(valid_headers()[7].header.size(), kProxyV1MaxBytes) << "the padded UNKNOWN line is the longest allowed";
  EXPECT_EQ(valid_headers().back().header.size(), ProxyLimits{}.max_v2_bytes) << "exactly at the default limit";
}

TEST(ProxyProtocol, EveryShorterPrefixOfAValidHeaderNeedsMore) {
  for (const Valid& test : valid_headers()) {
    SCOPED_TRACE(test.name);
    for (std::size_t n = 0; n < test.header.size(); ++n) {
      const ProxyParse result = parse_exact(std::string_view(test.header).substr(0, n));
      ASSERT_EQ(result.status, ProxyStatus::NeedMore) << "prefix of " << n << " bytes: " << result.reason;
    }
    EXPECT_EQ(parse_exact(test.header).status, ProxyStatus::Done);
  }
}

struct Rejected {
  const char* name;
  std::string input;
  const char* reason;
};

std::vector<Rejected> rejected_inputs() {
  const std::string tcp4 = "PROXY TCP4 ";
  const std::string tcp6 = "PROXY TCP6 ";
  const std::string good4 = "1.2.3.4 5.6.7.8 ";
  std::string tlv_overrun = kTcp4Block + bytes({0x04, 0, 2, 0});
  return {
      // Not a PROXY header at all: refused at the first byte.
      {"http", "GET / HTTP/1.1\r\n", "not a PROXY protocol header"},
      {"tls", bytes({0x16, 0x03, 0x01, 0x00}), "not a PROXY protocol header"},
      {"lowercase", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not a PROXY protocol header"},
      {"put_method", "PUT / HTTP/1.1\r\n", "v1: bad signature"},
      {"no_space_after_proxy", "PROXY\r\n", "v1: bad signature"},
      // v1 line framing.
      {"lf_without_cr", tcp4 + good4 + "1 2\n", "v1: LF without CR"},
      {"cr_without_lf", tcp4 + "1.2.3.4\r5.6.7.8 1 2\r\n", "v1: CR not followed by LF"},
      {"no_crlf_in_107_bytes", "PROXY UNKNOWN " + std::string(200, 'x'), "v1: no CRLF within 107 bytes"},
      {"crlf_one_byte_too_late", "PROXY UNKNOWN " + std::string(kProxyV1MaxBytes - 15, 'x') + "\r\n",
       "v1: no CRLF within 107 bytes"},
      // v1 protocol and fields.
      {"empty_protocol", "PROXY \r\n", "v1: unknown protocol"},
      {"double_space_before_protocol", "PROXY  TCP4 " + good4 + "1 2\r\n", "v1: unknown protocol"},
      {"tcp5", "PROXY TCP5 " + good4 + "1 2\r\n", "v1: unknown protocol"},
      {"lowercase_protocol", "PROXY tcp4 " + good4 + "1 2\r\n", "v1: unknown protocol"},
      {"unknown_glued", "PROXY UNKNOWNX\r\n", "v1: unknown protocol"},
      {"tcp4_alone", "PROXY TCP4\r\n", "v1: fewer than four fields"},
      {"tcp4_no_fields", tcp4 + "\r\n", "v1: fewer than four fields"},
      {"three_fields", tcp4 + "1.2.3.4 5.6.7.8 80\r\n", "v1: fewer than four fields"},
      {"five_fields", tcp4 + good4 + "1 2 3\r\n", "v1: more than four fields"},
      {"double_space_between", tcp4 + "1.2.3.4  5.6.7.8 1 2\r\n", "v1: empty field"},
      {"trailing_space", tcp4 + good4 + "1 2 \r\n", "v1: more than four fields"},
      {"tab_separator", tcp4 + "1.2.3.4\t5.6.7.8 1 2 3\r\n", "v1: malformed source address"},
      // IPv4 addresses.
      {"ipv4_three_octets", tcp4 + "1.2.3 5.6.7.8 1 2\r\n", "v1: malformed source address"},
      {"ipv4_five_octets", tcp4 + "1.2.3.4.5 5.6.7.8 1 2\r\n", "v1: malformed source address"},
      {"ipv4_octet_256", tcp4 + "1.2.3.4 256.6.7.8 1 2\r\n", "v1: malformed destination address"},
      {"ipv4_leading_zero", tcp4 + "01.2.3.4 5.6.7.8 1 2\r\n", "v1: malformed source address"},
      {"ipv4_four_digits", tcp4 + "1.2.3.0004 5.6.7.8 1 2\r\n", "v1: malformed source address"},
      {"ipv4_empty_octet", tcp4 + "1..3.4 5.6.7.8 1 2\r\n", "v1: malformed source address"},
      {"ipv4_trailing_dot", tcp4 + "1.2.3.4. 5.6.7.8 1 2\r\n", "v1: malformed source address"},
      {"ipv4_sign", tcp4 + "1.2.3.+4 5.6.7.8 1 2\r\n", "v1: malformed source address"},
      {"ipv4_hex", tcp4 + "0x1.2.3.4 5.6.7.8 1 2\r\n", "v1: malformed source address"},
      {"ipv4_name", tcp4 + "localhost 5.6.7.8 1 2\r\n", "v1: malformed source address"},
      // IPv6 addresses.
      {"ipv6_triple_colon", tcp6 + "2001:db8:::1 ::2 1 2\r\n", "v1: malformed source address"},
      {"ipv6_two_gaps", tcp6 + "::1 1::2::3 1 2\r\n", "v1: malformed destination address"},
      {"ipv6_bad_hex", tcp6 + "2001:db8::g ::2 1 2\r\n", "v1: malformed source address"},
      {"ipv6_zone", tcp6 + "fe80::1%eth0 ::2 1 2\r\n", "v1: malformed source address"},
      {"ipv6_brackets", tcp6 + "[::1] ::2 1 2\r\n", "v1: malformed source address"},
      {"ipv6_too_long", tcp6 + "0000:0000:0000:0000:0000:0000:0000:0000:0000 ::2 1 2\r\n",
       "v1: malformed source address"},
      // Family mismatches.
      {"ipv6_in_tcp4", tcp4 + "::1 5.6.7.8 1 2\r\n", "v1: IPv6 address in a TCP4 line"},
      {"ipv4_in_tcp6", tcp6 + "::1 5.6.7.8 1 2\r\n", "v1: IPv4 address in a TCP6 line"},
      // Ports.
      {"port_too_big", tcp4 + good4 + "65536 2\r\n", "v1: malformed source port"},
      {"port_six_digits", tcp4 + good4 + "1 000080\r\n", "v1: malformed destination port"},
      {"port_leading_zero", tcp4 + good4 + "080 2\r\n", "v1: malformed source port"},
      {"port_negative", tcp4 + good4 + "-1 2\r\n", "v1: malformed source port"},
      {"port_plus", tcp4 + good4 + "1 +2\r\n", "v1: malformed destination port"},
      {"port_letters", tcp4 + good4 + "1 8a\r\n", "v1: malformed destination port"},
      {"port_huge", tcp4 + good4 + "1 99999999999999999999\r\n", "v1: malformed destination port"},
      // v2 signature, version, command.
      {"v2_bad_signature_byte_4", "\r\n\r\n\1\r\nQUIT\n"s, "v2: bad signature"},
      {"v2_bad_signature_last_byte", "\r\n\r\n\0\r\nQUIT\r"s, "v2: bad signature"},
      {"v2_version_1", v2(0x11, 0x11, kTcp4Block), "v2: unsupported version"},
      {"v2_version_3", v2(0x31, 0x11, kTcp4Block), "v2: unsupported version"},
      {"v2_command_2", v2(0x22, 0x11, kTcp4Block), "v2: unknown command"},
      {"v2_command_f", v2(0x2F, 0x11, kTcp4Block), "v2: unknown command"},
      // v2 families and transports.
      {"v2_tcp4_dgram", v2(0x21, 0x12, kTcp4Block), "v2: transport is not STREAM"},
      {"v2_tcp6_dgram", v2(0x21, 0x22, kTcp6Block), "v2: transport is not STREAM"},
      {"v2_inet_unspec_transport", v2(0x21, 0x10, kTcp4Block), "v2: transport is not STREAM"},
      {"v2_unix_stream", v2(0x21, 0x31, std::string(216, 'u')), "v2: UNIX addresses are not supported"},
      {"v2_family_4", v2(0x21, 0x41, kTcp4Block), "v2: unknown address family"},
      {"v2_unspec_family_stream", v2(0x21, 0x01, ""), "v2: unknown address family"},
      // v2 lengths and TLVs.
      {"v2_over_the_limit", v2(0x21, 0x11, std::string(ProxyLimits{}.max_v2_bytes - 15, '\0')),
       "v2: header longer than the limit"},
      {"v2_tcp4_block_short", v2(0x21, 0x11, kTcp4Block.substr(0, 11)), "v2: address block shorter"},
      {"v2_tcp6_block_short", v2(0x21, 0x21, kTcp6Block.substr(0, 35)), "v2: address block shorter"},
      {"v2_tcp6_with_tcp4_block", v2(0x21, 0x21, kTcp4Block), "v2: address block shorter"},
      {"v2_truncated_tlv", v2(0x21, 0x11, kTcp4Block + bytes({0x04, 0})), "v2: truncated TLV"},
      {"v2_tlv_overrun", v2(0x21, 0x11, tlv_overrun), "v2: TLV longer than the header"},
  };
}

TEST(ProxyProtocol, RejectsEveryMalformedHeaderWithItsReason) {
  for (const Rejected& test : rejected_inputs()) {
    SCOPED_TRACE(test.name);
    const ProxyParse result = parse_exact(test.input + "more bytes after it");
    ASSERT_EQ(result.status, ProxyStatus::Invalid);
    EXPECT_EQ(result.reason.substr(0, std::strlen(test.reason)), test.reason) << result.reason;
    EXPECT_EQ(result.length, 0u);
    EXPECT_FALSE(result.source);
  }
}

// The verdict never depends on how the bytes were split: feeding any input one byte longer at a
// time gives NeedMore until a verdict, and that verdict is the whole input's, for every longer input.
TEST(ProxyProtocol, VerdictDoesNotDependOnWhereTheInputIsSplit) {
  std::vector<std::string> inputs;
  for (const Valid& test : valid_headers()) inputs.push_back(test.header + "tail");
  for (const Rejected& test : rejected_inputs()) inputs.push_back(test.input + "tail");
  for (const std::string& input : inputs) {
    SCOPED_TRACE(input);
    const ProxyParse whole = parse_exact(input);
    ASSERT_NE(whole.status, ProxyStatus::NeedMore);
    std::size_t n = 0;
    while (parse_exact(std::string_view(input).substr(0, n)).status == ProxyStatus::NeedMore) ++n;
    ASSERT_LE(n, input.size());
    for (std::size_t longer = n; longer <= input.size(); ++longer) {
      const ProxyParse part = parse_exact(std::string_view(input).substr(0, longer));
      ASSERT_EQ(part.status, whole.status) << longer;
      ASSERT_EQ(part.reason, whole.reason) << longer;
      ASSERT_EQ(part.length, whole.length) << longer;
    }
  }
}

TEST(ProxyProtocol, RefusesEarlyWithoutWaitingForTheWholeHeader) {
  EXPECT_EQ(parse_exact("G").status, ProxyStatus::Invalid) << "an HTTP client is refused at its first byte";
  EXPECT_EQ(parse_exact("PO").status, ProxyStatus::Invalid);
  EXPECT_EQ(parse_exact("\r\n\r\n\0\r\nQUIX"s).status, ProxyStatus::Invalid);
  // A v2 length over the limit is refused as soon as the 16 fixed bytes are in.
  const std::string fixed = v2(0x21, 0x11, "").substr(0, 14) + bytes({0xFF, 0xFF});
  EXPECT_EQ(parse_exact(fixed).reason, "v2: header longer than the limit");
  EXPECT_EQ(parse_exact(fixed.substr(0, 15)).status, ProxyStatus::NeedMore);
  // A v1 line without CRLF is refused at byte 107, not later.
  const std::string line = "PROXY UNKNOWN " + std::string(200, 'x');
  EXPECT_EQ(parse_exact(line.substr(0, kProxyV1MaxBytes - 1)).status, ProxyStatus::NeedMore);
  EXPECT_EQ(parse_exact(line.substr(0, kProxyV1MaxBytes)).status, ProxyStatus::Invalid);
}

TEST(ProxyProtocol, TheV2LengthLimitIsTheCallers) {
  const std::string with_tlv = v2(0x21, 0x11, kTcp4Block + bytes({0x04, 0, 0}));
  ProxyLimits tight;
  tight.max_v2_bytes = kProxyV2FixedBytes + kTcp4Block.size();
  EXPECT_EQ(parse_exact(v2(0x21, 0x11, kTcp4Block), tight).status, ProxyStatus::Done);
  EXPECT_EQ(parse_exact(with_tlv, tight).reason, "v2: header longer than the limit");
  EXPECT_EQ(parse_exact(with_tlv).status, ProxyStatus::Done);
}

Address address(const char* text) {
  auto parsed = Address::parse_numeric(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(Address{});
}

std::string encode(ProxyVersion version, const Address& source, const Address& destination) {
  std::array<char, kProxyEncodeMaxBytes> out{};
  const std::size_t n = encode_proxy_header(version, source, destination, out);
  return std::string(out.data(), n);
}

TEST(ProxyProtocol, EncodesTheExactBytesOfTheSpecification) {
  EXPECT_EQ(encode(ProxyVersion::V1, address("192.0.2.1:56324"), address("198.51.100.2:443")),
            "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
  EXPECT_EQ(encode(ProxyVersion::V1, address("[2001:db8::1]:1234"), address("[2001:db8::2]:80")),
            "PROXY TCP6 2001:db8::1 2001:db8::2 1234 80\r\n");
  EXPECT_EQ(encode(ProxyVersion::V2, address("192.0.2.1:56324"), address("198.51.100.2:443")),
            v2(0x21, 0x11, kTcp4Block));
  EXPECT_EQ(encode(ProxyVersion::V2, address("[2001:db8::1]:1234"), address("[2001:db8::2]:80")),
            v2(0x21, 0x21, kTcp6Block));
  // Mixed families: IPv6, the IPv4 side mapped.
  EXPECT_EQ(encode(ProxyVersion::V1, address("192.0.2.1:1"), address("[2001:db8::2]:2")),
            "PROXY TCP6 ::ffff:192.0.2.1 2001:db8::2 1 2\r\n");
  // No usable address: an unknown origin.
  EXPECT_EQ(encode(ProxyVersion::V1, Address{}, address("192.0.2.1:1")), "PROXY UNKNOWN\r\n");
  EXPECT_EQ(encode(ProxyVersion::V2, address("192.0.2.1:1"), Address{}), v2(0x21, 0x00, ""));

  std::array<char, kProxyEncodeMaxBytes> out{};
  ASSERT_EQ(encode_proxy_local_header(ProxyVersion::V1, out), 15u);
  EXPECT_EQ(std::string(out.data(), 15), "PROXY UNKNOWN\r\n");
  ASSERT_EQ(encode_proxy_local_header(ProxyVersion::V2, out), 16u);
  EXPECT_EQ(std::string(out.data(), 16), v2(0x20, 0x00, ""));
}

TEST(ProxyProtocol, EncodedHeadersParseBackToTheSameAddresses) {
  const std::vector<std::pair<const char*, const char*>> pairs = {
      {"192.0.2.1:56324", "198.51.100.2:443"},
      {"0.0.0.0:0", "255.255.255.255:65535"},
      {"[2001:db8::1]:1234", "[2001:db8::2]:80"},
      {"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
      {"[::]:0", "[::1]:1"},
      {"192.0.2.1:1", "[2001:db8::2]:2"},
      {"[fe80::1]:7", "10.0.0.1:8"},
  };
  for (ProxyVersion version : {ProxyVersion::V1, ProxyVersion::V2}) {
    for (const auto& [from, to] : pairs) {
      SCOPED_TRACE(std::string(from) + " -> " + to + (version == ProxyVersion::V1 ? " v1" : " v2"));
      const std::string header = encode(version, address(from), address(to));
      ASSERT_FALSE(header.empty());
      ASSERT_LE(header.size(), kProxyEncodeMaxBytes);
      const ProxyParse parsed = parse_exact(header + "payload");
      ASSERT_EQ(parsed.status, ProxyStatus::Done) << parsed.reason;
      EXPECT_EQ(parsed.length, header.size());
      EXPECT_EQ(parsed.version, version);
      ASSERT_FALSE(parsed.local);
      EXPECT_EQ(*parsed.source, address(from)) << parsed.source->to_string();
      EXPECT_EQ(*parsed.destination, address(to)) << parsed.destination->to_string();
    }
    std::array<char, kProxyEncodeMaxBytes> out{};
    const std::size_t n = encode_proxy_local_header(version, out);
    const ProxyParse local = parse_exact(std::string_view(out.data(), n));
    EXPECT_EQ(local.status, ProxyStatus::Done);
    EXPECT_TRUE(local.local);
  }
}

TEST(ProxyProtocol, EncoderWritesNothingIntoATooShortBuffer) {
  const Address source = address("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
  const std::size_t needed = encode(ProxyVersion::V1, source, source).size();
  EXPECT_EQ(needed, 104u) << "the longest v1 line Fulcrum writes";
  std::array<char, kProxyEncodeMaxBytes> out;
  out.fill('#');
  EXPECT_EQ(encode_proxy_header(ProxyVersion::V1, source, source, std::span<char>(out).first(needed - 1)), 0u);
  EXPECT_EQ(encode_proxy_header(ProxyVersion::V2, source, source, std::span<char>(out).first(51)), 0u);
  EXPECT_EQ(encode_proxy_local_header(ProxyVersion::V2, std::span<char>(out).first(15)), 0u);
  EXPECT_EQ(std::string(out.data(), out.size()), std::string(out.size(), '#'));
  EXPECT_EQ(encode_proxy_header(ProxyVersion::V2, source, source, std::span<char>(out).first(52)), 52u);
}

}  // namespace
}  // namespace fulcrum::net
