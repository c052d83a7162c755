// SHA-1 and base64, just enough for the WebSocket handshake (RFC 6455 §4.2.2: the accept key is
// base64(SHA-1(key + GUID))). SHA-1 is not used for anything that needs collision resistance.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace fulcrum::admin {

/// The 20-byte SHA-1 digest of `data` (FIPS 180-4).
std::array<std::uint8_t, 20> sha1(std::string_view data);

/// Standard base64 (RFC 4648 §4) with padding.
std::string base64_encode(std::string_view bytes);

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string websocket_accept_key(std::string_view client_key);

}  // namespace fulcrum::admin
