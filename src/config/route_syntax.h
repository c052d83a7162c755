// The syntax of the values a route and an http pool are written with: host and path patterns,
// method, header and cookie names, header values, strip_prefix. Each check is pure and returns
// the message for the first problem of its value, or nullopt when the value is well formed;
// validate.cc gives the message its key path. What the patterns mean is http/router.h's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fulcrum::config {

/// `api.example.com`, `*.example.com` (the wildcard only as the whole first label) or an IPv6
/// literal `[2001:db8::1]`; never a port, which routing ignores on the request side.
std::optional<std::string> host_pattern_problem(std::string_view host);

/// `/health` (exact) or `/api/*` (prefix): starts with '/', '*' only as a final `/*`, only
/// bytes a request path can hold and no query.
std::optional<std::string> path_pattern_problem(std::string_view path);

/// A method token. Methods are case-sensitive, so `get`, a token no client sends, is refused
/// with the method it was meant to be.
std::optional<std::string> method_problem(std::string_view method);

/// A token, as header and cookie names are; `what` names it in the message (`header name`).
std::optional<std::string> token_problem(std::string_view what, std::string_view name);

/// A value a parsed request can carry in a field: no control bytes, no surrounding whitespace
/// (the parser trims it), so that a `header:` condition can match at all.
std::optional<std::string> header_value_problem(std::string_view value);

/// A plain path (no pattern) that starts with '/' and does not end with one: a trailing '/'
/// would never lie on a segment boundary, so the prefix would strip nothing.
std::optional<std::string> strip_prefix_problem(std::string_view prefix);

}  // namespace fulcrum::config
