#include "events/access_log_format.h"

#include "config/suggest.h"

namespace fulcrum::events {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

std::optional<AccessLogFormat> AccessLogFormat::parse(std::string_view text, std::string* why) {
  const auto fail = [&](std::string message) -> std::optional<AccessLogFormat> {
    if (why != nullptr) *why = std::move(message);
    return std::nullopt;
  };
  AccessLogFormat format;
  if (text == "json") return format;
  format.json = false;
  std::string literal;
  bool any_field = false;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c != '$') {
      literal += c;
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      literal += '$';
      i += 2;
      continue;
    }
    if (i + 1 >= text.size() || !is_name_start(text[i + 1])) {
      literal += '$';
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    while (end < text.size() && is_name_char(text[end])) ++end;
    const std::string_view name = text.substr(i + 1, end - i - 1);
    std::optional<AccessLogField> field;
    for (std::size_t k = 0; k < kAccessLogVariables.size(); ++k) {
      if (kAccessLogVariables[k] == name) field = static_cast<AccessLogField>(k);
    }
    if (!field) {
      std::string message = "unknown variable '$" + std::string(name) + "'";
      if (auto close = config::closest_name(name, kAccessLogVariables)) {
        message += " (did you mean '$" + std::string(*close) + "'?)";
      } else {
        message += " (expected one of: $" + std::string(kAccessLogVariables[0]);
        for (std::size_t k = 1; k < kAccessLogVariables.size(); ++k) {
          message += ", $" + std::string(kAccessLogVariables[k]);
        }
        message += ")";
      }
      return fail(std::move(message));
    }
    format.pieces.push_back({std::move(literal), field});
    literal.clear();
    any_field = true;
    i = end;
  }
  if (!any_field) {
    return fail("expected json or a format with at least one variable such as $status (got '" +
                std::string(text) + "')");
  }
  if (!literal.empty()) format.pieces.push_back({std::move(literal), std::nullopt});
  return format;
}

}  // namespace fulcrum::events
