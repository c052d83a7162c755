#include "cluster/etcd_json.h"

#include <array>
#include <nlohmann/json.hpp>

namespace fulcrum::cluster {

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The gateway writes 64-bit integers as strings; accept numbers as well.
std::int64_t integer_of(const nlohmann::json& object, const char* name) {
  const auto found = object.find(name);
  if (found == object.end()) return 0;
  if (found->is_number_integer()) return found->get<std::int64_t>();
  if (found->is_string()) {
    try {
      return std::stoll(found->get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

std::optional<std::string> bytes_of(const nlohmann::json& object, const char* name) {
  const auto found = object.find(name);
  if (found == object.end()) return std::string();
  if (!found->is_string()) return std::nullopt;
  return base64_decode(found->get<std::string>());
}

std::optional<nlohmann::json> parse_object(std::string_view body) {
  nlohmann::json document = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) return std::nullopt;
  return document;
}

// etcd's error text in an answer already parsed (`message`, or the gateway's `error`); empty if none.
std::string error_in(const nlohmann::json& document) {
  for (const char* name : {"message", "error"}) {
    const auto found = document.find(name);
    if (found != document.end() && found->is_string() && !found->get<std::string>().empty()) {
      return found->get<std::string>();
    }
  }
  return {};
}

std::optional<KeyValue> key_value_of(const nlohmann::json& object) {
  if (!object.is_object()) return std::nullopt;
  KeyValue kv;
  auto key = bytes_of(object, "key");
  auto value = bytes_of(object, "value");
  if (!key || !value) return std::nullopt;
  kv.key = std::move(*key);
  kv.value = std::move(*value);
  kv.mod_revision = integer_of(object, "mod_revision");
  kv.lease = integer_of(object, "lease");
  return kv;
}

std::int64_t header_revision(const nlohmann::json& object) {
  const auto header = object.find("header");
  return header != object.end() && header->is_object() ? integer_of(*header, "revision") : 0;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = static_cast<std::uint8_t>(bytes[i]) << 16 | static_cast<std::uint8_t>(bytes[i + 1]) << 8 |
                            static_cast<std::uint8_t>(bytes[i + 2]);
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
    out += kAlphabet[n & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += rest == 2 ? kAlphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::array<int, 256> values{};
  values.fill(-1);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = values[static_cast<unsigned char>(c)];
    if (value < 0) return std::nullopt;
    buffer = buffer << 6 | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(buffer >> bits & 0xff);
    }
  }
  return out;
}

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  // The smallest key greater than every key with the prefix: increment the last byte that is not
  // 0xff, dropping those after it. An empty or all-0xff prefix means "to the end": "\0".
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::string range_body(std::string_view prefix) {
  return nlohmann::json{{"key", base64_encode(prefix)}, {"range_end", base64_encode(prefix_end(prefix))}}.dump();
}

std::string put_body(std::string_view key, std::string_view value, std::int64_t lease) {
  nlohmann::json body = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  return body.dump();
}

std::string delete_body(std::string_view key) { return nlohmann::json{{"key", base64_encode(key)}}.dump(); }

std::string grant_body(std::int64_t ttl_seconds) { return nlohmann::json{{"TTL", std::to_string(ttl_seconds)}}.dump(); }

std::string lease_body(std::int64_t lease) { return nlohmann::json{{"ID", std::to_string(lease)}}.dump(); }

std::string watch_body(std::string_view prefix, std::int64_t start_revision) {
  nlohmann::json create = {{"key", base64_encode(prefix)}, {"range_end", base64_encode(prefix_end(prefix))}};
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  return nlohmann::json{{"create_request", create}}.dump();
}

std::string authenticate_body(std::string_view name, std::string_view password) {
  return nlohmann::json{{"name", name}, {"password", password}}.dump();
}

std::string error_of(std::string_view body) {
  const auto document = parse_object(body);
  return document ? error_in(*document) : std::string();
}

RangeAnswer parse_range(std::string_view body) {
  RangeAnswer answer;
  const auto document = parse_object(body);
  if (!document) {
    answer.error = "range: the answer is not a JSON object";
    return answer;
  }
  if (auto error = error_in(*document); !error.empty()) {
    answer.error = "range: " + error;
    return answer;
  }
  answer.revision = header_revision(*document);
  if (const auto kvs = document->find("kvs"); kvs != document->end() && kvs->is_array()) {
    for (const auto& item : *kvs) {
      auto kv = key_value_of(item);
      if (!kv) {
        answer.error = "range: a key or value is not base64";
        return answer;
      }
      answer.kvs.push_back(std::move(*kv));
    }
  }
  return answer;
}

LeaseAnswer parse_grant(std::string_view body) {
  LeaseAnswer answer;
  const auto document = parse_object(body);
  if (!document) {
    answer.error = "lease grant: the answer is not a JSON object";
    return answer;
  }
  if (auto error = error_in(*document); !error.empty()) {
    answer.error = "lease grant: " + error;
    return answer;
  }
  answer.id = integer_of(*document, "ID");
  answer.ttl = integer_of(*document, "TTL");
  if (answer.id == 0) answer.error = "lease grant: no lease id in the answer";
  return answer;
}

LeaseAnswer parse_keepalive(std::string_view body) {
  LeaseAnswer answer;
  // The gateway streams: one `{"result": ...}` line per keep-alive sent, and we send one.
  const auto line_end = body.find('\n');
  const auto document = parse_object(body.substr(0, line_end));
  if (!document) {
    answer.error = "lease keepalive: the answer is not a JSON object";
    return answer;
  }
  const auto result = document->find("result");
  if (result == document->end() || !result->is_object()) {
    const std::string error = error_in(*document);
    answer.error = "lease keepalive: " + (error.empty() ? std::string("no result") : error);
    return answer;
  }
  answer.id = integer_of(*result, "ID");
  answer.ttl = integer_of(*result, "TTL");
  return answer;
}

std::string parse_token(std::string_view body, std::string& error) {
  const auto document = parse_object(body);
  if (!document) {
    error = "authenticate: the answer is not a JSON object";
    return {};
  }
  if (auto message = error_in(*document); !message.empty()) {
    error = "authenticate: " + message;
    return {};
  }
  const auto token = document->find("token");
  if (token == document->end() || !token->is_string() || token->get<std::string>().empty()) {
    error = "authenticate: no token in the answer";
    return {};
  }
  return token->get<std::string>();
}

WatchMessage parse_watch_line(std::string_view line) {
  WatchMessage message;
  const auto document = parse_object(line);
  if (!document) {
    message.error = "watch: a line is not a JSON object";
    return message;
  }
  const auto result = document->find("result");
  if (result == document->end() || !result->is_object()) {
    const std::string error = error_in(*document);
    message.error = "watch: " + (error.empty() ? std::string("no result") : error);
    return message;
  }
  message.revision = header_revision(*result);
  message.created = result->value("created", false);
  message.canceled = result->value("canceled", false);
  message.compact_revision = integer_of(*result, "compact_revision");
  if (const auto events = result->find("events"); events != result->end() && events->is_array()) {
    for (const auto& item : *events) {
      if (!item.is_object()) continue;
      WatchEvent event;
      event.deleted = item.value("type", std::string()) == "DELETE";
      const auto kv = item.find("kv");
      auto parsed = kv == item.end() ? std::nullopt : key_value_of(*kv);
      if (!parsed) {
        message.error = "watch: an event's key or value is not base64";
        return message;
      }
      event.kv = std::move(*parsed);
      message.events.push_back(std::move(event));
    }
  }
  if (message.canceled && message.compact_revision == 0) {
    const auto reason = result->find("cancel_reason");
    message.error = "watch cancelled" + (reason != result->end() && reason->is_string()
                                             ? ": " + reason->get<std::string>()
                                             : std::string());
  }
  return message;
}

}  // namespace fulcrum::cluster
