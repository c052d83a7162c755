#include "cluster/etcd_client.h"

#include "client/http_client.h"

namespace fulcrum::cluster {

namespace {

/// A watch line longer than this is refused (the stream is cut and read again in full): nothing
/// is buffered without a bound. etcd's own request limit is 1.5 MiB per value.
constexpr std::size_t kMaxWatchLine = 16 << 20;

/// Whether an answer says the token is no longer valid (etcd's simple tokens expire).
bool token_refused(int status, const std::string& body) {
  if (status == 401) return true;
  const std::string error = error_of(body);
  return error.find("invalid auth token") != std::string::npos || error.find("auth: ") != std::string::npos;
}

}  // namespace

EtcdClient::EtcdClient(EtcdOptions options) : options_(std::move(options)) {
  if (options_.endpoints.empty()) options_.endpoints.push_back("http://127.0.0.1:2379");
  for (auto& endpoint : options_.endpoints) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  }
}

bool EtcdClient::authenticate(const std::string& endpoint, std::string& error) {
  client::HttpRequest request;
  request.method = "POST";
  request.url = endpoint + "/v3/auth/authenticate";
  request.body = authenticate_body(options_.username, options_.password);
  request.timeout = options_.timeout;
  request.cancel = options_.cancel;
  const auto response = client::request(request);
  if (!response.answered()) {
    error = response.error;
    return false;
  }
  token_ = parse_token(response.body, error);
  return !token_.empty();
}

EtcdClient::Answer EtcdClient::call(const std::string& path, const std::string& body) {
  Answer answer;
  std::string errors;
  for (std::size_t attempt = 0; attempt < options_.endpoints.size(); ++attempt) {
    const std::size_t index = (current_ + attempt) % options_.endpoints.size();
    const std::string& endpoint = options_.endpoints[index];
    if (options_.cancel && options_.cancel->load()) {
      answer.status.error = "cancelled";
      return answer;
    }
    std::string why;
    if (!options_.username.empty() && token_.empty() && !authenticate(endpoint, why)) {
      errors += (errors.empty() ? "" : "; ") + endpoint + ": " + why;
      continue;
    }
    client::HttpRequest request;
    request.method = "POST";
    request.url = endpoint + path;
    request.body = body;
    request.timeout = options_.timeout;
    request.cancel = options_.cancel;
    if (!token_.empty()) request.headers.push_back("Authorization: " + token_);
    auto response = client::request(request);
    if (response.answered() && !token_.empty() && token_refused(response.status, response.body)) {
      token_.clear();  // expired: once more with a new one
      if (authenticate(endpoint, why)) {
        request.headers = {"Authorization: " + token_};
        response = client::request(request);
      }
    }
    // 5xx and gRPC's "unavailable" (14) mean this member cannot serve now (no leader, no quorum):
    // the next one may.
    const bool unavailable = !response.answered() || response.status >= 500;
    if (unavailable) {
      const std::string said = response.answered() ? error_of(response.body) : std::string();
      const std::string error = response.answered()
                                    ? "HTTP " + std::to_string(response.status) + (said.empty() ? "" : ": " + said)
                                    : response.error;
      errors += (errors.empty() ? "" : "; ") + endpoint + ": " + error;
      continue;
    }
    current_ = index;
    answer.status.reached = true;
    if (response.status != 200) {
      const std::string error = error_of(response.body);
      answer.status.error = endpoint + ": HTTP " + std::to_string(response.status) + (error.empty() ? "" : ": " + error);
    }
    answer.body = std::move(response.body);
    return answer;
  }
  answer.status.error = errors.empty() ? "no etcd endpoint" : errors;
  return answer;
}

RangeAnswer EtcdClient::range(const std::string& prefix, CallStatus& status) {
  Answer answer = call("/v3/kv/range", range_body(prefix));
  status = answer.status;
  if (!status.ok()) return {};
  RangeAnswer range = parse_range(answer.body);
  if (!range.error.empty()) status.error = range.error;
  return range;
}

CallStatus EtcdClient::put(const std::string& key, const std::string& value, std::int64_t lease) {
  Answer answer = call("/v3/kv/put", put_body(key, value, lease));
  if (answer.status.ok()) {
    if (auto error = error_of(answer.body); !error.empty()) answer.status.error = "put: " + error;
  }
  return answer.status;
}

CallStatus EtcdClient::remove(const std::string& key) {
  Answer answer = call("/v3/kv/deleterange", delete_body(key));
  if (answer.status.ok()) {
    if (auto error = error_of(answer.body); !error.empty()) answer.status.error = "delete: " + error;
  }
  return answer.status;
}

LeaseAnswer EtcdClient::grant(std::int64_t ttl_seconds, CallStatus& status) {
  Answer answer = call("/v3/lease/grant", grant_body(ttl_seconds));
  status = answer.status;
  if (!status.ok()) return {};
  LeaseAnswer lease = parse_grant(answer.body);
  if (!lease.error.empty()) status.error = lease.error;
  return lease;
}

LeaseAnswer EtcdClient::keep_alive(std::int64_t lease, CallStatus& status) {
  Answer answer = call("/v3/lease/keepalive", lease_body(lease));
  status = answer.status;
  if (!status.ok()) return {};
  LeaseAnswer renewed = parse_keepalive(answer.body);
  if (!renewed.error.empty()) status.error = renewed.error;
  return renewed;
}

CallStatus EtcdClient::revoke(std::int64_t lease) {
  Answer answer = call("/v3/lease/revoke", lease_body(lease));
  // A lease already gone is what revoking wanted.
  if (!answer.status.ok() && answer.status.reached && answer.status.error.find("lease not found") != std::string::npos) {
    answer.status.error.clear();
  }
  return answer.status;
}

WatchEnd EtcdClient::watch(const std::string& prefix, std::int64_t start_revision,
                           const std::function<bool(const WatchMessage&)>& handler, std::string& error) {
  const std::string& endpoint = options_.endpoints[current_];
  if (!options_.username.empty() && token_.empty() && !authenticate(endpoint, error)) {
    current_ = (current_ + 1) % options_.endpoints.size();
    return WatchEnd::Broken;
  }
  std::string line;
  WatchEnd end = WatchEnd::Quiet;
  bool ended = false;
  bool created = false;
  client::HttpRequest request;
  request.method = "POST";
  request.url = endpoint + "/v3/watch";
  request.body = watch_body(prefix, start_revision);
  request.timeout = options_.watch_span;
  request.connect_timeout = options_.timeout;
  request.cancel = options_.cancel;
  if (!token_.empty()) request.headers.push_back("Authorization: " + token_);
  request.on_data = [&](std::string_view data) {
    while (!data.empty()) {
      const auto newline = data.find('\n');
      line.append(data.substr(0, newline));
      if (line.size() > kMaxWatchLine) {
        error = "watch: a message longer than " + std::to_string(kMaxWatchLine) + " bytes";
        end = WatchEnd::Broken;
        ended = true;
        return false;
      }
      if (newline == std::string_view::npos) return true;
      data.remove_prefix(newline + 1);
      if (line.find_first_not_of(" \r\t") == std::string::npos) {
        line.clear();
        continue;
      }
      const WatchMessage message = parse_watch_line(line);
      line.clear();
      if (message.compact_revision > 0) {
        end = WatchEnd::Compacted;
        ended = true;
        return false;
      }
      if (!message.error.empty()) {
        error = message.error;
        if (message.error.find("auth") != std::string::npos) token_.clear();
        end = WatchEnd::Broken;
        ended = true;
        return false;
      }
      created = created || message.created;
      if (!handler(message)) {
        end = WatchEnd::Stopped;
        ended = true;
        return false;
      }
    }
    return true;
  };
  const auto response = client::request(request);
  if (ended) return end;
  if (options_.cancel && options_.cancel->load()) return WatchEnd::Cancelled;
  // The span ran out on a stream etcd had accepted: nothing is wrong, it was quiet.
  if (created && response.status == 0 && response.error.find("no answer within") != std::string::npos) {
    return WatchEnd::Quiet;
  }
  // Answered and closed (etcd shutting down), refused, reset: the next member, after a pause.
  error = endpoint + ": " + (response.answered() ? "watch ended (HTTP " + std::to_string(response.status) + ")"
                                                 : response.error);
  current_ = (current_ + 1) % options_.endpoints.size();
  return WatchEnd::Broken;
}

}  // namespace fulcrum::cluster
