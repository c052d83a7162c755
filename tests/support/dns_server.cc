#include "support/dns_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace fulcrum::test {

namespace {

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAAAA = 28;
constexpr std::uint16_t kClassIn = 1;
constexpr std::uint8_t kNxDomain = 3;
constexpr std::uint8_t kFormErr = 1;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

void put16(std::string& out, std::uint16_t value) {
  out += static_cast<char>(value >> 8);
  out += static_cast<char>(value & 0xff);
}

void put32(std::string& out, std::uint32_t value) {
  put16(out, static_cast<std::uint16_t>(value >> 16));
  put16(out, static_cast<std::uint16_t>(value & 0xffff));
}

std::uint16_t get16(const std::string& in, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(in[at]) << 8) | static_cast<unsigned char>(in[at + 1]));
}

}  // namespace

DnsServer::DnsServer() {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof local;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) != 0 || ::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "DnsServer: cannot bind a UDP socket on 127.0.0.1";
    return;
  }
  address_ = "127.0.0.1:" + std::to_string(ntohs(local.sin_port));
  thread_ = std::thread([this] { serve(); });
}

DnsServer::~DnsServer() {
  if (thread_.joinable()) {
    const char byte = 0;
    (void)!::write(stop_pipe_[1], &byte, 1);
    thread_.join();
  }
  for (int fd : {fd_, stop_pipe_[0], stop_pipe_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

void DnsServer::set(const std::string& name, std::vector<std::string> ipv4, std::vector<std::string> ipv6,
                    std::uint32_t ttl) {
  std::lock_guard lock(mutex_);
  records_[lower(name)] = Records{std::move(ipv4), std::move(ipv6), ttl};
}

void DnsServer::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  records_.erase(lower(name));
}

std::uint64_t DnsServer::questions(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto found = questions_.find(lower(name));
  return found == questions_.end() ? 0 : found->second;
}

void DnsServer::serve() {
  char buffer[1500];
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof peer;
    const ssize_t got = ::recvfrom(fd_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&peer), &peer_length);
    if (got <= 0) continue;
    const std::string reply = answer(std::string(buffer, static_cast<std::size_t>(got)));
    if (!reply.empty()) {
      ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer), peer_length);
    }
  }
}

std::string DnsServer::answer(const std::string& query) {
  if (query.size() < 12 || (static_cast<unsigned char>(query[2]) & 0x80) != 0) return {};  // not a query
  // The question: labels, then type and class.
  std::size_t at = 12;
  std::string name;
  while (at < query.size() && query[at] != 0) {
    const std::size_t length = static_cast<unsigned char>(query[at]);
    if (length > 63 || at + 1 + length > query.size()) return {};
    if (!name.empty()) name += '.';
    name.append(query, at + 1, length);
    at += 1 + length;
  }
  const std::size_t question_end = at + 5;  // the root label, type, class
  const bool well_formed = get16(query, 4) == 1 && question_end <= query.size();
  std::string reply = query.substr(0, 2);  // id
  // QR, opcode 0, AA, RD copied; RA.
  reply += static_cast<char>(0x84 | (query[2] & 0x01));
  std::uint8_t rcode = 0;
  std::vector<std::string> rdata;
  std::uint32_t ttl = 0;
  std::uint16_t type = 0;
  if (!well_formed) {
    rcode = kFormErr;
  } else {
    type = get16(query, at + 1);
    const std::uint16_t klass = get16(query, at + 3);
    std::lock_guard lock(mutex_);
    ++questions_[lower(name)];
    const auto found = records_.find(lower(name));
    if (found == records_.end()) {
      rcode = kNxDomain;
    } else if (klass == kClassIn && (type == kTypeA || type == kTypeAAAA)) {
      ttl = found->second.ttl;
      for (const auto& ip : type == kTypeA ? found->second.ipv4 : found->second.ipv6) {
        unsigned char bytes[16];
        if (inet_pton(type == kTypeA ? AF_INET : AF_INET6, ip.c_str(), bytes) == 1) {
          rdata.emplace_back(reinterpret_cast<char*>(bytes), type == kTypeA ? 4 : 16);
        }
      }
    }
  }
  reply += static_cast<char>(0x80 | rcode);
  put16(reply, well_formed ? 1 : 0);  // questions
  put16(reply, static_cast<std::uint16_t>(rdata.size()));
  put16(reply, 0);
  put16(reply, 0);
  if (!well_formed) return reply;
  reply.append(query, 12, question_end - 12);
  for (const auto& bytes : rdata) {
    put16(reply, 0xc00c);  // the name: a pointer to the question's
    put16(reply, type);
    put16(reply, kClassIn);
    put32(reply, ttl);
    put16(reply, static_cast<std::uint16_t>(bytes.size()));
    reply += bytes;
  }
  return reply;
}

}  // namespace fulcrum::test
