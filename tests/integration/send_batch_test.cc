// core::SendBatch over real loopback TCP connections: what the HTTP sessions rely on when their
// sends are gathered into one io_uring submission per loop turn.
#include "core/send_batch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace fulcrum::core {
namespace {

// A connected loopback TCP pair: `sender` nonblocking (as the proxy's sockets are), `receiver` blocking.
struct TcpPair {
  int sender = -1;
  int receiver = -1;
  TcpPair() {
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "loopback listener: " << std::strerror(errno);
    }
    sender = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(sender, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ADD_FAILURE() << "connect: " << std::strerror(errno);
    }
    receiver = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    close(listener);
    fcntl(sender, F_SETFL, fcntl(sender, F_GETFL) | O_NONBLOCK);
    timeval timeout{3, 0};
    setsockopt(receiver, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~TcpPair() {
    if (sender >= 0) close(sender);
    if (receiver >= 0) close(receiver);
  }
  TcpPair(const TcpPair&) = delete;
  std::string receive(std::size_t n) const {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = recv(receiver, out.data() + got, n - got, 0);
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    out.resize(got);
    return out;
  }
  // Fills the sender's socket buffer (and the receiver's) until a nonblocking send says EAGAIN.
  std::size_t fill() const {
    const int small = 4096;
    setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    setsockopt(sender, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    std::string chunk(64 * 1024, 'f');
    std::size_t total = 0;
    for (;;) {
      const ssize_t n = send(sender, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      total += static_cast<std::size_t>(n);
    }
    return total;
  }
};

struct Recorder final : SendBatch::Completion {
  std::vector<int> results;
  std::function<void(int)> then;
  void on_sent(int result) override {
    results.push_back(result);
    if (then) then(result);
  }
};

iovec part(const std::string& bytes) { return {const_cast<char*>(bytes.data()), bytes.size()}; }

std::unique_ptr<SendBatch> make_batch(unsigned entries = 256) {
  auto batch = SendBatch::create(entries);
  // The CI machines run a kernel with io_uring; a batch that cannot be made there is a failure,
  // not a reason to skip (the fallback path is covered by the HTTP tests run with io_uring: false).
  EXPECT_NE(batch, nullptr) << "io_uring refused by this kernel";
  return batch;
}

TEST(SendBatch, NothingLeavesBeforeFlushAndEverythingHasLeftAfter) {
  auto batch = make_batch();
  ASSERT_TRUE(batch);
  TcpPair a, b;
  const std::string head = "GET / HTTP/1.1\r\n\r\n", body = "twelve bytes", other = "to b";
  Recorder ra, rb;
  const iovec parts_a[] = {part(head), part(body)};
  const iovec parts_b[] = {part(other)};
  batch->queue(a.sender, parts_a, ra);
  batch->queue(b.sender, parts_b, rb);
  EXPECT_FALSE(batch->idle());
  char probe;
  EXPECT_EQ(recv(a.receiver, &probe, 1, MSG_DONTWAIT), -1) << "a queued send left before flush()";
  EXPECT_TRUE(ra.results.empty());
  batch->flush();
  EXPECT_TRUE(batch->idle());
  EXPECT_EQ(ra.results, std::vector<int>{static_cast<int>(head.size() + body.size())});
  EXPECT_EQ(rb.results, std::vector<int>{static_cast<int>(other.size())});
  EXPECT_EQ(a.receive(head.size() + body.size()), head + body);
  EXPECT_EQ(b.receive(other.size()), other);
}

TEST(SendBatch, SendsOnOneSocketLeaveInQueueOrderBeyondTheRingSize) {
  auto batch = make_batch(8);  // 1000 sends through 8 submission slots: submits mid-queue
  ASSERT_TRUE(batch);
  TcpPair pair;
  std::vector<std::string> messages;
  for (int i = 0; i < 1000; ++i) messages.push_back("[" + std::to_string(i) + "]");
  Recorder recorder;
  std::string expected;
  for (const auto& message : messages) {
    const iovec parts[] = {part(message)};
    batch->queue(pair.sender, parts, recorder);
    expected += message;
  }
  batch->flush();
  ASSERT_EQ(recorder.results.size(), messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) EXPECT_EQ(recorder.results[i], static_cast<int>(messages[i].size()));
  EXPECT_EQ(pair.receive(expected.size()), expected);
}

TEST(SendBatch, AFullSocketBufferReportsEagainAndRaisesEpolloutLater) {
  auto batch = make_batch();
  ASSERT_TRUE(batch);
  TcpPair pair;
  const std::size_t filled = pair.fill();
  ASSERT_GT(filled, 0u);
  const int epoll = epoll_create1(EPOLL_CLOEXEC);
  epoll_event registration{};
  registration.events = EPOLLOUT | EPOLLET;
  epoll_ctl(epoll, EPOLL_CTL_ADD, pair.sender, &registration);
  epoll_event event{};
  while (epoll_wait(epoll, &event, 1, 0) > 0) {
  }  // consume the edge of registration
  Recorder recorder;
  const std::string late = "late";
  const iovec parts[] = {part(late)};
  batch->queue(pair.sender, parts, recorder);
  batch->flush();  // must not block, nor keep the send to retry it behind our back
  ASSERT_EQ(recorder.results, std::vector<int>{-EAGAIN});
  // The reader drains: the edge-triggered EPOLLOUT a proxy waits for after EAGAIN must come.
  std::string drained = pair.receive(filled);
  EXPECT_EQ(drained.size(), filled);
  EXPECT_EQ(epoll_wait(epoll, &event, 1, 3000), 1);
  EXPECT_TRUE(event.events & EPOLLOUT);
  close(epoll);
  char probe;
  EXPECT_EQ(recv(pair.receiver, &probe, 1, MSG_DONTWAIT), -1) << "the refused send went out after all";
}

TEST(SendBatch, ACancelledSendNeverLeavesAndReportsNothing) {
  auto batch = make_batch();
  ASSERT_TRUE(batch);
  TcpPair pair;
  Recorder cancelled, kept;
  const std::string secret = "never sent", after = "sent";
  const iovec parts_secret[] = {part(secret)};
  const iovec parts_after[] = {part(after)};
  const auto ticket = batch->queue(pair.sender, parts_secret, cancelled);
  batch->queue(pair.sender, parts_after, kept);
  batch->cancel(ticket);
  batch->flush();
  EXPECT_TRUE(cancelled.results.empty());
  EXPECT_EQ(kept.results, std::vector<int>{static_cast<int>(after.size())});
  EXPECT_EQ(pair.receive(after.size()), after);
  char probe;
  EXPECT_EQ(recv(pair.receiver, &probe, 1, MSG_DONTWAIT), -1);
}

TEST(SendBatch, ACompletionMayQueueMoreAndTheSameFlushIssuesIt) {
  auto batch = make_batch();
  ASSERT_TRUE(batch);
  TcpPair pair;
  const std::string first = "first;", second = "second";
  const iovec parts_second[] = {part(second)};
  Recorder chained, recorder;
  recorder.then = [&](int) { batch->queue(pair.sender, parts_second, chained); };
  const iovec parts_first[] = {part(first)};
  batch->queue(pair.sender, parts_first, recorder);
  batch->flush();
  EXPECT_TRUE(batch->idle());
  EXPECT_EQ(chained.results, std::vector<int>{static_cast<int>(second.size())});
  EXPECT_EQ(pair.receive(first.size() + second.size()), first + second);
}

TEST(SendBatch, ASendToAResetPeerFailsWithoutSigpipe) {
  auto batch = make_batch();
  ASSERT_TRUE(batch);
  TcpPair pair;
  linger abortive{1, 0};
  setsockopt(pair.receiver, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  close(pair.receiver);  // RST
  pair.receiver = -1;
  char probe;
  for (int i = 0; i < 100 && recv(pair.sender, &probe, 1, 0) == -1 && errno == EAGAIN; ++i) usleep(10000);
  Recorder recorder;
  const std::string bytes = "into the void";
  const iovec parts[] = {part(bytes)};
  batch->queue(pair.sender, parts, recorder);
  batch->flush();  // a SIGPIPE would kill the test binary here
  ASSERT_EQ(recorder.results.size(), 1u);
  EXPECT_LT(recorder.results[0], 0);
  EXPECT_TRUE(recorder.results[0] == -EPIPE || recorder.results[0] == -ECONNRESET) << recorder.results[0];
}

}  // namespace
}  // namespace fulcrum::core
