#include "admin/websocket_frame.h"

namespace fulcrum::admin {

void append_websocket_frame(std::string& out, WebSocketOpcode opcode, std::string_view payload) {
  out += static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
  const std::uint64_t size = payload.size();
  if (size < 126) {
    out += static_cast<char>(size);
  } else if (size <= 0xFFFF) {
    out += static_cast<char>(126);
    out += static_cast<char>(size >> 8);
    out += static_cast<char>(size & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((size >> (8 * i)) & 0xFF);
  }
  out.append(payload);
}

WebSocketFrame parse_websocket_frame(std::string_view bytes, std::size_t max_payload) {
  WebSocketFrame frame;
  if (bytes.size() < 2) return frame;
  const auto b0 = static_cast<std::uint8_t>(bytes[0]);
  const auto b1 = static_cast<std::uint8_t>(bytes[1]);
  frame.final = (b0 & 0x80) != 0;
  frame.opcode = static_cast<WebSocketOpcode>(b0 & 0x0F);
  const bool masked = (b1 & 0x80) != 0;
  const bool control = (b0 & 0x08) != 0;
  if ((b0 & 0x70) != 0 || !masked || (control && (!frame.final || (b1 & 0x7F) > 125))) {
    frame.status = WebSocketFrame::Status::Error;
    return frame;
  }
  std::size_t offset = 2;
  std::uint64_t size = b1 & 0x7F;
  if (size == 126) {
    if (bytes.size() < 4) return frame;
    size = static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes[2])) << 8 | static_cast<std::uint8_t>(bytes[3]);
    offset = 4;
  } else if (size == 127) {
    if (bytes.size() < 10) return frame;
    size = 0;
    for (int i = 0; i < 8; ++i) size = size << 8 | static_cast<std::uint8_t>(bytes[2 + i]);
    offset = 10;
  }
  if (size > max_payload) {
    frame.status = WebSocketFrame::Status::Error;
    return frame;
  }
  if (bytes.size() < offset + 4 + size) return frame;
  const char* mask = bytes.data() + offset;
  offset += 4;
  frame.payload.resize(size);
  for (std::size_t i = 0; i < size; ++i) frame.payload[i] = static_cast<char>(bytes[offset + i] ^ mask[i % 4]);
  frame.size = offset + size;
  frame.status = WebSocketFrame::Status::Complete;
  return frame;
}

}  // namespace fulcrum::admin
