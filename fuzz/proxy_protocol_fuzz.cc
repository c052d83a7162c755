// libFuzzer target for the PROXY protocol header parser and encoder (src/net/proxy_protocol.h).
//
// Each input is parsed whole (from a heap copy of exactly its bytes, so ASan catches any read past
// the span), in two pieces split at a data-derived point (the second call sees the bytes at a new
// address), and one byte longer at a time: every feeding must reach the same verdict, reason,
// length and addresses. A complete header must respect the bounds (107 bytes and CRLF for v1, the
// limit for v2); an invalid one must carry a reason. Every complete header is encoded back, in
// both versions, and the encoding must parse to the same addresses.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "net/proxy_protocol.h"

namespace {

using namespace fulcrum;

// Small enough that the fuzzer reaches the length limit with short inputs.
net::ProxyLimits fuzz_limits() {
  net::ProxyLimits limits;
  limits.max_v2_bytes = 256;
  return limits;
}

std::string describe_address(const std::optional<net::Address>& address) {
  if (!address) return "-";
  const std::array<std::uint8_t, 16> ip = address->ip_bytes();
  std::string out = std::to_string(address->family()) + "/";
  for (std::uint8_t byte : ip) out += std::to_string(byte) + ".";
  return out + ":" + std::to_string(address->port());
}

std::string describe(const net::ProxyParse& result) {
  return std::to_string(static_cast<int>(result.status)) + " reason=" + std::string(result.reason) +
         " len=" + std::to_string(result.length) + " v=" + std::to_string(static_cast<int>(result.version)) +
         (result.local ? " local" : " proxied") + " src=" + describe_address(result.source) +
         " dst=" + describe_address(result.destination);
}

// Parses a heap copy of exactly `bytes`.
net::ProxyParse parse_copy(std::string_view bytes) {
  auto copy = std::make_unique<char[]>(bytes.size() + 1);
  std::memcpy(copy.get(), bytes.data(), bytes.size());
  return net::parse_proxy_header(std::string_view(copy.get(), bytes.size()), fuzz_limits());
}

void check_invariants(std::string_view data, const net::ProxyParse& result) {
  if (result.status == net::ProxyStatus::Invalid) {
    fuzz::require(!result.reason.empty(), "an invalid header has a reason");
    fuzz::require(result.length == 0 && !result.source && !result.destination, "an invalid header carries nothing");
    return;
  }
  if (result.status == net::ProxyStatus::NeedMore) {
    fuzz::require(data.size() < fuzz_limits().max_v2_bytes, "NeedMore only below the bounds");
    return;
  }
  fuzz::require(result.length > 0 && result.length <= data.size(), "header length within input");
  if (result.version == net::ProxyVersion::V1) {
    fuzz::require(result.length <= net::kProxyV1MaxBytes, "v1 line within 107 bytes");
    fuzz::require(data.substr(0, 6) == "PROXY ", "v1 starts with PROXY");
    fuzz::require(data.substr(result.length - 2, 2) == "\r\n", "v1 line ends with CRLF");
  } else {
    fuzz::require(result.length >= net::kProxyV2FixedBytes && result.length <= fuzz_limits().max_v2_bytes,
                  "v2 header within its bounds");
  }
  fuzz::require(result.local == !result.source && result.local == !result.destination,
                "addresses exactly when not local");
  if (!result.local) {
    const int family = result.source->family();
    fuzz::require(family == AF_INET || family == AF_INET6, "an IP family");
    fuzz::require(family == result.destination->family(), "both addresses of one family");
  }
}

// The header encoded back must parse to the same addresses, in both versions.
void check_round_trip(const net::ProxyParse& result) {
  for (net::ProxyVersion version : {net::ProxyVersion::V1, net::ProxyVersion::V2}) {
    std::array<char, net::kProxyEncodeMaxBytes> out{};
    const std::size_t n = result.local ? net::encode_proxy_local_header(version, out)
                                       : net::encode_proxy_header(version, *result.source, *result.destination, out);
    fuzz::require(n > 0, "the encoder fits kProxyEncodeMaxBytes");
    const net::ProxyParse again = parse_copy(std::string_view(out.data(), n));
    fuzz::require(again.status == net::ProxyStatus::Done && again.length == n, "an encoded header parses whole");
    fuzz::require(again.version == version && again.local == result.local, "same version and kind");
    if (!result.local) {
      fuzz::require(*again.source == *result.source && *again.destination == *result.destination,
                    "same addresses after encoding");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);

  const net::ProxyParse whole = parse_copy(data);
  const std::string expected = describe(whole);
  check_invariants(data, whole);

  // Two pieces; the second call sees the bytes at a different address.
  const std::size_t split = fuzz::split_point(data);
  net::ProxyParse result = parse_copy(data.substr(0, split));
  if (result.status == net::ProxyStatus::NeedMore) result = parse_copy(data);
  fuzz::require_same(expected, describe(result), "whole and split parses");

  // One byte more at a time, as bytes trickle in: the first verdict must be the whole input's.
  for (std::size_t n = 0; n <= size; ++n) {
    result = parse_copy(data.substr(0, n));
    if (result.status != net::ProxyStatus::NeedMore) break;
  }
  fuzz::require_same(expected, describe(result), "whole and byte-by-byte parses");

  if (whole.status == net::ProxyStatus::Done) check_round_trip(whole);
  return 0;
}
