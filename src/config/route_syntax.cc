// The syntax of route values; see route_syntax.h. Character classes are the HTTP parser's, so a
// pattern is refused exactly when no request the parser accepts could match it.
#include "config/route_syntax.h"

#include <array>

#include "http/syntax.h"

namespace fulcrum::config {
namespace {

namespace syntax = http::syntax;

/// `'x'`, cut like the reader cuts long values so that one error stays one line.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxQuotedChars = 40;
  if (text.size() > kMaxQuotedChars) {
    return "'" + std::string(text.substr(0, kMaxQuotedChars)) + "...'";
  }
  return "'" + std::string(text) + "'";
}

/// Letters, digits, '-' and '_' in dot-separated non-empty labels: a DNS name as Host has it.
bool is_host_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') return false;
  char previous = 0;
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!allowed || (c == '.' && previous == '.')) return false;
    previous = c;
  }
  return true;
}

/// `[2001:db8::1]`: an IPv6 literal as Host writes it (the router compares it as text).
bool is_bracketed_ip_literal(std::string_view host) {
  if (host.size() < 3 || host.front() != '[' || host.back() != ']') return false;
  for (char c : host.substr(1, host.size() - 2)) {
    if (!syntax::has_class(c, syntax::kHex) && c != ':' && c != '.') return false;
  }
  return true;
}

/// The first byte of `path` that a received path cannot hold (its query's '?' included).
std::optional<char> invalid_path_character(std::string_view path) {
  for (char c : path) {
    if (c == '?' || !syntax::has_class(c, syntax::kTarget)) return c;
  }
  return std::nullopt;
}

std::string got(std::string_view text) { return " (got " + quoted(text) + ")"; }

}  // namespace

std::optional<std::string> host_pattern_problem(std::string_view host) {
  std::string_view name = host;
  const bool wildcard = name.starts_with("*.");
  if (wildcard) name.remove_prefix(2);
  if (is_host_name(name) || (!wildcard && is_bracketed_ip_literal(name))) return std::nullopt;
  return "expected a host like api.example.com or *.example.com, without a port" + got(host);
}

std::optional<std::string> path_pattern_problem(std::string_view path) {
  if (!path.starts_with('/')) return "must start with '/'" + got(path);
  const std::size_t star = path.find('*');
  if (star != std::string_view::npos && (star + 1 != path.size() || path[star - 1] != '/')) {
    return "'*' is only allowed as a final '/*'" + got(path);
  }
  if (const auto c = invalid_path_character(path)) {
    if (*c == '?') return "must not hold a query: routes match the path only" + got(path);
    return "holds a byte a request path cannot hold" + got(path);
  }
  return std::nullopt;
}

std::optional<std::string> method_problem(std::string_view method) {
  if (!syntax::is_token(method)) return "expected a method token like GET" + got(method);
  static constexpr std::array<std::string_view, 9> kStandardMethods = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (std::string_view standard : kStandardMethods) {
    if (method != standard && syntax::equals_ignore_case(method, standard)) {
      return "methods are case-sensitive (did you mean '" + std::string(standard) + "'?)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> token_problem(std::string_view what, std::string_view name) {
  if (syntax::is_token(name)) return std::nullopt;
  return quoted(name) + " is not a valid " + std::string(what) +
         " (letters, digits and !#$%&'*+-.^_`|~ only)";
}

std::optional<std::string> header_value_problem(std::string_view value) {
  for (char c : value) {
    if (!syntax::is_field_value_char(c)) {
      return std::string("the value holds control characters, which no request can carry");
    }
  }
  if (syntax::trim_whitespace(value).size() != value.size()) {
    return "the value has surrounding spaces, which received values never have" + got(value);
  }
  return std::nullopt;
}

std::optional<std::string> strip_prefix_problem(std::string_view prefix) {
  if (!prefix.starts_with('/')) return "must start with '/'" + got(prefix);
  if (prefix.ends_with('/')) return "must not end with '/'" + got(prefix);
  if (prefix.ends_with("/*")) return "must be a plain path, not a pattern" + got(prefix);
  if (invalid_path_character(prefix)) {
    return "holds a byte a request path cannot hold" + got(prefix);
  }
  return std::nullopt;
}

}  // namespace fulcrum::config
