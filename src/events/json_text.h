// Writing JSON text by hand on hot paths (per-request event details, access-log lines), where
// building a nlohmann::json object would allocate per field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fulcrum::events {

/// Appends `text` as a JSON string literal, quotes included: `"`, `\` and control bytes escaped,
/// valid UTF-8 kept, any byte that is not part of valid UTF-8 replaced with U+FFFD (request
/// paths and headers may hold arbitrary bytes; a log line must stay valid JSON).
void append_json_string(std::string& out, std::string_view text);

/// Builds a flat JSON object: `JsonObject o; o.add("pool", name).add("attempt", 2); o.finish()`.
class JsonObject {
 public:
  JsonObject() { text_.reserve(160); text_ += '{'; }
  JsonObject& add(std::string_view key, std::string_view value) {
    separate(key);
    append_json_string(text_, value);
    return *this;
  }
  JsonObject& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  JsonObject& add(std::string_view key, const std::string& value) {
    return add(key, std::string_view(value));
  }
  JsonObject& add(std::string_view key, std::int64_t value) {
    separate(key);
    text_ += std::to_string(value);
    return *this;
  }
  JsonObject& add(std::string_view key, std::uint64_t value) {
    separate(key);
    text_ += std::to_string(value);
    return *this;
  }
  JsonObject& add(std::string_view key, int value) { return add(key, static_cast<std::int64_t>(value)); }
  JsonObject& add(std::string_view key, unsigned value) {
    return add(key, static_cast<std::uint64_t>(value));
  }
  /// A number with three decimals (milliseconds with microsecond precision).
  JsonObject& add_millis(std::string_view key, double millis);
  /// A value already in JSON (`[...]`, `{...}`, `true`).
  JsonObject& add_raw(std::string_view key, std::string_view json) {
    separate(key);
    text_ += json;
    return *this;
  }
  /// The object's text; the builder is spent.
  std::string finish() {
    text_ += '}';
    return std::move(text_);
  }

 private:
  void separate(std::string_view key) {
    if (text_.size() > 1) text_ += ',';
    append_json_string(text_, key);
    text_ += ':';
  }
  std::string text_;
};

}  // namespace fulcrum::events
