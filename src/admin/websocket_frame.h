// WebSocket framing (RFC 6455 §5) for the admin event stream: the server sends unmasked text,
// pong and close frames; it reads the client's masked frames (ping, pong, close, and data it
// ignores). Pure functions over byte strings, no sockets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fulcrum::admin {

enum class WebSocketOpcode : std::uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

/// Appends one unmasked, final frame (server to client).
void append_websocket_frame(std::string& out, WebSocketOpcode opcode, std::string_view payload);

/// One frame read from a client.
struct WebSocketFrame {
  enum class Status : std::uint8_t {
    NeedMore,  ///< not all of the frame is there yet
    Complete,  ///< `opcode`, `payload` (unmasked) and `size` (bytes to consume) are set
    Error,     ///< a protocol violation (unmasked, reserved bits, oversized control frame, too big)
  } status = Status::NeedMore;
  WebSocketOpcode opcode = WebSocketOpcode::Text;
  bool final = true;
  std::string payload;
  std::size_t size = 0;
};

/// Decodes the frame at the front of `bytes`; frames larger than `max_payload` are an Error.
WebSocketFrame parse_websocket_frame(std::string_view bytes, std::size_t max_payload = 64 * 1024);

}  // namespace fulcrum::admin
