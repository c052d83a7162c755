#include "support/http_client.h"

#include <poll.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace fulcrum::test {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

bool contains_token(std::string_view value, std::string_view token) {
  std::string lower(value);
  for (auto& c : lower) c = static_cast<char>(std::tolower(c));
  return lower.find(token) != std::string::npos;
}

}  // namespace

std::optional<std::string> HttpResponse::field(std::string_view name) const {
  for (const auto& [n, v] : fields) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

HttpConnection HttpConnection::connect(const std::string& address) { return HttpConnection(Client::connect(address)); }

bool HttpConnection::fill(std::chrono::steady_clock::time_point deadline, bool* eof) {
  if (eof) *eof = false;
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::recv(client_.fd(), chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      if (eof) *eof = true;
      return false;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{client_.fd(), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  }
}

std::optional<HttpResponse> HttpConnection::read_response(std::chrono::milliseconds timeout, const BodySink& sink,
                                                          bool head_request, bool keep_interim) {
  if (!client_.valid()) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(deadline)) return std::nullopt;
    }
    HttpResponse response;
    response.head = buffer_.substr(0, head_end + 4);
    buffer_.erase(0, head_end + 4);
    std::string_view rest = response.head;
    auto line_end = rest.find("\r\n");
    const std::string_view status_line = rest.substr(0, line_end);
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return std::nullopt;
    response.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    rest.remove_prefix(line_end + 2);
    while ((line_end = rest.find("\r\n")) != 0 && line_end != std::string_view::npos) {
      const std::string_view line = rest.substr(0, line_end);
      rest.remove_prefix(line_end + 2);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) return std::nullopt;
      response.fields.emplace_back(std::string(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
    if (response.status >= 100 && response.status < 200 && response.status != 101) {
      if (keep_interim) return response;
      continue;
    }
    auto deliver = [&](std::string_view bytes) {
      response.body_size += bytes.size();
      if (sink) {
        sink(bytes);
      } else {
        response.body.append(bytes);
      }
    };
    if (head_request || response.status == 101 || response.status == 204 || response.status == 304) return response;
    const auto te = response.field("Transfer-Encoding");
    const auto cl = response.field("Content-Length");
    if (te && contains_token(*te, "chunked")) {
      response.chunked = true;
      for (;;) {
        std::size_t size_end;
        while ((size_end = buffer_.find("\r\n")) == std::string::npos) {
          if (!fill(deadline)) return std::nullopt;
        }
        const std::uint64_t size = std::stoull(buffer_.substr(0, size_end), nullptr, 16);
        buffer_.erase(0, size_end + 2);
        if (size == 0) {
          for (;;) {  // trailers, then the empty line
            while ((size_end = buffer_.find("\r\n")) == std::string::npos) {
              if (!fill(deadline)) return std::nullopt;
            }
            buffer_.erase(0, size_end + 2);
            if (size_end == 0) return response;
          }
        }
        std::uint64_t left = size + 2;  // data + CRLF
        while (left > 0) {
          if (buffer_.empty() && !fill(deadline)) return std::nullopt;
          const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer_.size()));
          const std::size_t data = static_cast<std::size_t>(std::min<std::uint64_t>(n, left > 2 ? left - 2 : 0));
          if (data) deliver({buffer_.data(), data});
          buffer_.erase(0, n);
          left -= n;
        }
      }
    }
    if (cl) {
      std::uint64_t left = std::stoull(*cl);
      while (left > 0) {
        if (buffer_.empty() && !fill(deadline)) return std::nullopt;
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer_.size()));
        deliver({buffer_.data(), n});
        buffer_.erase(0, n);
        left -= n;
      }
      return response;
    }
    response.until_close = true;
    for (;;) {
      if (!buffer_.empty()) {
        deliver(buffer_);
        buffer_.clear();
      }
      bool eof = false;
      if (!fill(deadline, &eof)) {
        if (eof) return response;
        return std::nullopt;
      }
    }
  }
}

std::optional<HttpResponse> HttpConnection::get(const std::string& path, const std::string& extra,
                                                const std::string& host) {
  if (!send(get_request(path, extra, host))) return std::nullopt;
  return read_response();
}

bool HttpConnection::closed_by_peer(std::chrono::milliseconds timeout) {
  if (!buffer_.empty()) return false;
  return client_.closed_by_peer(timeout);
}

std::string get_request(const std::string& path, const std::string& extra, const std::string& host) {
  return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "\r\n";
}

std::string read_all_until_close(Client& client, std::chrono::milliseconds timeout, bool* closed) {
  bool timed_out = false;
  std::string data = client.read_to_eof(timeout, &timed_out);
  if (closed) *closed = !timed_out;
  return data;
}

int status_of(std::string_view bytes) {
  if (bytes.size() < 12 || bytes.substr(0, 5) != "HTTP/") return 0;
  return std::atoi(std::string(bytes.substr(9, 3)).c_str());
}

std::string echoed_head(const HttpResponse& response) {
  const auto start = response.body.find("\n\n");
  return start == std::string::npos ? std::string() : response.body.substr(start + 2);
}

std::string request_line(std::string_view head) { return std::string(head.substr(0, head.find("\r\n"))); }

std::vector<std::string> head_fields(std::string_view head, std::string_view name) {
  std::vector<std::string> values;
  std::size_t position = head.find("\r\n");
  while (position != std::string_view::npos) {
    position += 2;
    const auto end = head.find("\r\n", position);
    if (end == std::string_view::npos || end == position) break;
    const std::string_view line = head.substr(position, end - position);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
      values.push_back(trim(line.substr(colon + 1)));
    }
    position = end;
  }
  return values;
}

std::string echo_value(const HttpResponse& response, std::string_view key) {
  const std::string prefix = std::string(key) + "=";
  std::size_t position = 0;
  while (position < response.body.size()) {
    const auto end = response.body.find('\n', position);
    const std::string_view line(response.body.data() + position,
                                (end == std::string::npos ? response.body.size() : end) - position);
    if (line.empty()) break;  // the echoed head follows
    if (line.substr(0, prefix.size()) == prefix) return std::string(line.substr(prefix.size()));
    if (end == std::string::npos) break;
    position = end + 1;
  }
  return "";
}

}  // namespace fulcrum::test
