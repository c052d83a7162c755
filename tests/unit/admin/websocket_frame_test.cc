#include "admin/websocket_frame.h"

#include <gtest/gtest.h>

namespace fulcrum::admin {
namespace {

std::string masked(std::uint8_t first, std::string_view payload) {
  const char mask[4] = {0x37, static_cast<char>(0xfa), 0x21, 0x3d};
  std::string frame;
  frame += static_cast<char>(first);
  if (payload.size() < 126) {
    frame += static_cast<char>(0x80 | payload.size());
  } else {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>(payload.size() >> 8);
    frame += static_cast<char>(payload.size() & 0xff);
  }
  frame.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  return frame;
}

TEST(WebSocketFrame, ServerFramesAreUnmaskedWithTheRightLength) {
  std::string out;
  append_websocket_frame(out, WebSocketOpcode::Text, "Hello");
  EXPECT_EQ(out, std::string("\x81\x05Hello"));  // RFC 6455 §5.7
  out.clear();
  append_websocket_frame(out, WebSocketOpcode::Text, std::string(300, 'x'));
  ASSERT_EQ(out.size(), 4u + 300u);
  EXPECT_EQ(static_cast<std::uint8_t>(out[1]), 126);
  EXPECT_EQ(static_cast<std::uint8_t>(out[2]) * 256 + static_cast<std::uint8_t>(out[3]), 300);
  out.clear();
  append_websocket_frame(out, WebSocketOpcode::Binary, std::string(70'000, 'y'));
  ASSERT_EQ(out.size(), 10u + 70'000u);
  EXPECT_EQ(static_cast<std::uint8_t>(out[1]), 127);
}

TEST(WebSocketFrame, ReadsAMaskedClientFrame) {
  // RFC 6455 §5.7: a masked "Hello".
  const std::string hello("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  const auto frame = parse_websocket_frame(hello);
  ASSERT_EQ(frame.status, WebSocketFrame::Status::Complete);
  EXPECT_EQ(frame.opcode, WebSocketOpcode::Text);
  EXPECT_EQ(frame.payload, "Hello");
  EXPECT_EQ(frame.size, hello.size());
  for (std::size_t cut = 0; cut < hello.size(); ++cut) {
    EXPECT_EQ(parse_websocket_frame(hello.substr(0, cut)).status, WebSocketFrame::Status::NeedMore) << cut;
  }
}

TEST(WebSocketFrame, PingCloseAndLongFrames) {
  auto ping = parse_websocket_frame(masked(0x89, "are you there"));
  ASSERT_EQ(ping.status, WebSocketFrame::Status::Complete);
  EXPECT_EQ(ping.opcode, WebSocketOpcode::Ping);
  EXPECT_EQ(ping.payload, "are you there");
  auto close = parse_websocket_frame(masked(0x88, std::string("\x03\xe8", 2)));
  ASSERT_EQ(close.status, WebSocketFrame::Status::Complete);
  EXPECT_EQ(close.opcode, WebSocketOpcode::Close);
  const std::string long_text(1000, 'z');
  auto text = parse_websocket_frame(masked(0x81, long_text) + "trailing");
  ASSERT_EQ(text.status, WebSocketFrame::Status::Complete);
  EXPECT_EQ(text.payload, long_text);
  EXPECT_EQ(text.size, 4u + 4u + 1000u);
}

TEST(WebSocketFrame, RejectsProtocolViolations) {
  EXPECT_EQ(parse_websocket_frame(std::string("\x81\x05Hello", 7)).status, WebSocketFrame::Status::Error)
      << "client frames must be masked";
  EXPECT_EQ(parse_websocket_frame(masked(0xC1, "x")).status, WebSocketFrame::Status::Error) << "reserved bit";
  EXPECT_EQ(parse_websocket_frame(masked(0x09, "x")).status, WebSocketFrame::Status::Error) << "fragmented ping";
  EXPECT_EQ(parse_websocket_frame(masked(0x81, std::string(200, 'a')), 100).status, WebSocketFrame::Status::Error)
      << "over the size limit";
}

}  // namespace
}  // namespace fulcrum::admin
