// Large bodies both ways (100 MiB, chunked and Content-Length, checksummed at the far end), with
// curl and nginx as third-party peers; Expect: 100-continue; WebSocket tunnels.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "http_test_config.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/http_command.h"
#include "support/nginx.h"

namespace fulcrum::test {
namespace {

constexpr std::uint64_t kBig = 100ull << 20;  // 100 MiB
constexpr auto kTransferTimeout = std::chrono::seconds(60);

std::string pattern(std::size_t size) {
  std::string data(size, '\0');
  fill_pattern(data.data(), size, 0);
  return data;
}

// A file holding the first `size` pattern bytes; removed by the destructor.
struct PatternFile {
  explicit PatternFile(std::size_t size) : path(write_temp_file("pattern.bin", pattern(size))) {}
  ~PatternFile() { std::filesystem::remove(path); }
  std::string path;
};

std::string url(const std::string& address, const std::string& path) { return "http://" + address + path; }

std::string curl_binary() { return "/usr/bin/curl"; }

TEST(HttpTransfer, Uploads100MiBChunkedWithCurl) {
  ASSERT_TRUE(executable_exists(curl_binary())) << "curl is not installed (scripts/install-deps.sh)";
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  PatternFile file(kBig);
  // -T - reads stdin, whose size curl does not know: it sends the body chunked.
  const auto result = run_command({curl_binary(), "-sS", "--fail", "-T", "-", "-H", "Transfer-Encoding: chunked",
                                   url(fulcrum.address("front"), "/upload")},
                                  kTransferTimeout, {}, file.path);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("backend=b1\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("body-length=" + std::to_string(kBig) + "\n"), std::string::npos) << result.out.substr(0, 300);
  EXPECT_NE(result.out.find("body-checksum=" + pattern_checksum(kBig) + "\n"), std::string::npos)
      << "the backend received other bytes than curl sent:\n" << result.out.substr(0, 300);
  EXPECT_NE(result.out.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << "the upload was not chunked";
  EXPECT_EQ(backend.requests(), 1u);
}

TEST(HttpTransfer, Uploads100MiBWithContentLength) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(c.valid());
  const std::string body = pattern(kBig);
  ASSERT_TRUE(c.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kBig) + "\r\n\r\n"));
  std::thread writer([&] { EXPECT_TRUE(c.client().send_all(body)); });
  auto r = c.read_response(kTransferTimeout);
  writer.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(echo_value(*r, "body-length"), std::to_string(kBig));
  EXPECT_EQ(echo_value(*r, "body-checksum"), pattern_checksum(kBig));
}

TEST(HttpTransfer, Downloads100MiBChunkedAndWithContentLength) {
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  const std::string expected = pattern_checksum(kBig);
  for (const std::string framing : {"stream-chunked", "stream-length"}) {
    SCOPED_TRACE(framing);
    Checksum checksum;
    ASSERT_TRUE(c.send(get_request("/download", "X-Test: " + framing + "=" + std::to_string(kBig) + "\r\n")));
    auto r = c.read_response(kTransferTimeout, [&](std::string_view bytes) { checksum.update(bytes); });
    ASSERT_TRUE(r) << "the download was cut";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->chunked, framing == "stream-chunked") << r->head;
    EXPECT_EQ(r->body_size, kBig);
    EXPECT_EQ(checksum.hex(), expected);
  }
  // Both on one keep-alive connection, and it still works.
  auto after = c.get("/after");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(HttpTransfer, Downloads100MiBFromBackendWithCurl) {
  ASSERT_TRUE(executable_exists(curl_binary())) << "curl is not installed";
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  Checksum checksum;
  const auto result = run_command({curl_binary(), "-sS", "--fail", "-H", "X-Test: stream-chunked=" + std::to_string(kBig),
                                   url(fulcrum.address("front"), "/download")},
                                  kTransferTimeout, [&](std::string_view bytes) { checksum.update(bytes); });
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(checksum.size(), kBig);
  EXPECT_EQ(checksum.hex(), pattern_checksum(kBig));
}

TEST(HttpTransfer, Downloads100MiBFromNginx) {
  ASSERT_TRUE(Nginx::available() && executable_exists(curl_binary())) << "nginx or curl is not installed";
  Nginx nginx(kBig);
  ASSERT_TRUE(nginx.running());
  FulcrumProcess fulcrum(http_config({.backends = {nginx.address()}}));
  const std::string expected = pattern_checksum(kBig);

  // With curl...
  Checksum by_curl;
  const auto result = run_command({curl_binary(), "-sS", "--fail", url(fulcrum.address("front"), "/files/big.bin")},
                                  kTransferTimeout, [&](std::string_view bytes) { by_curl.update(bytes); });
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(by_curl.size(), kBig);
  EXPECT_EQ(by_curl.hex(), expected);

  // ...and twice in a row on one keep-alive connection of our own.
  auto c = HttpConnection::connect(fulcrum.address("front"));
  for (int i = 0; i < 2; ++i) {
    Checksum checksum;
    ASSERT_TRUE(c.send(get_request("/files/big.bin")));
    auto r = c.read_response(kTransferTimeout, [&](std::string_view bytes) { checksum.update(bytes); });
    ASSERT_TRUE(r) << "download " << i << " was cut";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->field("Content-Length"), std::to_string(kBig));
    EXPECT_EQ(checksum.hex(), expected);
  }
}

TEST(HttpTransfer, ExpectContinueWithCurlForALargePost) {
  ASSERT_TRUE(executable_exists(curl_binary())) << "curl is not installed";
  HttpBackend backend("b1");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  constexpr std::size_t kSize = 10u << 20;
  PatternFile file(kSize);
  const auto result =
      run_command({curl_binary(), "-sS", "-v", "--fail", "--expect100-timeout", "30", "-H", "Expect: 100-continue",
                   "--data-binary", "@" + file.path, url(fulcrum.address("front"), "/post")},
                  kTransferTimeout);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // curl waits (up to --expect100-timeout, 30 s) for the 100 before sending: its arrival shows the
  // proxy passed the interim response on instead of holding it.
  EXPECT_NE(result.err.find("< HTTP/1.1 100 Continue"), std::string::npos) << result.err;
  EXPECT_NE(result.out.find("body-checksum=" + pattern_checksum(kSize) + "\n"), std::string::npos)
      << result.out.substr(0, 300);
  EXPECT_NE(result.out.find("Expect: 100-continue\r\n"), std::string::npos) << "Expect was not forwarded";
}

// --------------------------------------------------------------------------------- WebSocket

// The client side of a WebSocket handshake through the proxy; returns the connection after 101.
HttpConnection open_websocket(const std::string& address, HttpBackend& backend) {
  auto c = HttpConnection::connect(address);
  EXPECT_TRUE(c.send("GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
  auto r = c.read_response();
  EXPECT_TRUE(r);
  if (!r) return c;
  EXPECT_EQ(r->status, 101) << r->head;
  EXPECT_EQ(r->field("Upgrade").value_or(""), "websocket") << r->head;
  EXPECT_EQ(r->backend(), backend.name());
  const auto heads = backend.received_heads();
  EXPECT_FALSE(heads.empty());
  if (!heads.empty()) {
    EXPECT_EQ(head_fields(heads.back(), "Upgrade"), std::vector<std::string>{"websocket"}) << heads.back();
    EXPECT_EQ(head_fields(heads.back(), "Sec-WebSocket-Key"), std::vector<std::string>{"dGhlIHNhbXBsZSBub25jZQ=="});
  }
  return c;
}

// A masked client frame (RFC 6455 §5.2) carrying `payload`.
std::string masked_frame(std::string_view payload) {
  std::string frame;
  frame += static_cast<char>(0x82);  // FIN, binary
  if (payload.size() < 126) {
    frame += static_cast<char>(0x80 | payload.size());
  } else {
    frame += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) frame += static_cast<char>((payload.size() >> (8 * i)) & 0xff);
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  frame.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  return frame;
}

TEST(HttpWebSocket, EchoesFramesBothWaysThroughTheTunnel) {
  HttpBackend backend("ws");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}}));
  auto c = open_websocket(fulcrum.address("front"), backend);
  ASSERT_FALSE(HasFailure());
  const std::string hello = masked_frame("Hello");
  ASSERT_TRUE(c.send(hello));
  EXPECT_EQ(c.client().read_exactly(hello.size()), hello);
  // A large frame, written while the echo comes back (both directions at once).
  const std::string big = masked_frame(pattern(4u << 20));
  std::thread writer([&] { EXPECT_TRUE(c.client().send_all(big)); });
  const std::string echoed = c.client().read_exactly(big.size(), std::chrono::seconds(30));
  writer.join();
  EXPECT_TRUE(echoed == big) << "the tunnel changed the bytes (" << echoed.size() << " of " << big.size() << ")";
  // The client's FIN reaches the backend, whose FIN comes back: the tunnel ends cleanly.
  c.client().shutdown_write();
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpWebSocket, IdleTunnelIsClosedAtTunnelTimeout) {
  HttpBackend backend("ws");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .listener_extra = "    tunnel_timeout: 500ms\n"}));
  auto c = open_websocket(fulcrum.address("front"), backend);
  ASSERT_FALSE(HasFailure());
  // Traffic every 200 ms for 1.2 s keeps it open past the timeout: the timeout is about silence.
  for (int i = 0; i < 6; ++i) {
    const std::string frame = masked_frame("ping " + std::to_string(i));
    ASSERT_TRUE(c.send(frame));
    ASSERT_EQ(c.client().read_exactly(frame.size()), frame) << "the tunnel closed while in use (frame " << i << ")";
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // Silence closes it.
  EXPECT_TRUE(c.closed_by_peer(std::chrono::seconds(5))) << "an idle tunnel outlived tunnel_timeout";
}

}  // namespace
}  // namespace fulcrum::test
