#include "http/request_target.h"

#include "http/syntax.h"

namespace fulcrum::http {
namespace {

constexpr std::string_view kRootPath = "/";

// host ":" port with a non-empty host of Host-class bytes and a non-empty decimal port.
bool is_authority_with_port(std::string_view authority) {
  const std::size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == authority.size()) return false;
  if (syntax::find_first_not_in(authority, syntax::kHost) != authority.size()) return false;
  // An IPv6 literal has colons of its own: the port colon must follow its closing bracket.
  if (authority.front() == '[' && authority[colon - 1] != ']') return false;
  return syntax::find_first_not_in(authority, syntax::kDigit, colon + 1) == authority.size();
}

// Splits `rest` (starting at the path) into path and query, offsets relative to `base`.
void split_path_and_query(std::string_view rest, std::uint32_t base, TargetParts& parts) {
  const std::size_t question = rest.find('?');
  parts.path_offset = base;
  if (question == std::string_view::npos) {
    parts.path_length = static_cast<std::uint32_t>(rest.size());
    return;
  }
  parts.path_length = static_cast<std::uint32_t>(question);
  parts.has_query = true;
  parts.query_offset = static_cast<std::uint32_t>(base + question + 1);
  parts.query_length = static_cast<std::uint32_t>(rest.size() - question - 1);
}

}  // namespace

HttpError parse_request_target(std::string_view target, Method method, TargetParts& parts) {
  parts = TargetParts{};
  if (target.empty() || syntax::find_first_not_in(target, syntax::kTarget) != target.size()) {
    return {400, "invalid request-target"};
  }
  if (method == Method::Connect) {
    if (!is_authority_with_port(target)) return {400, "CONNECT needs host:port"};
    parts.form = TargetForm::Authority;
    parts.authority_length = static_cast<std::uint32_t>(target.size());
    return {};
  }
  if (target.front() == '/') {
    parts.form = TargetForm::Origin;
    split_path_and_query(target, 0, parts);
    return {};
  }
  if (target == "*") {
    if (method != Method::Options) return {400, "asterisk-form is for OPTIONS only"};
    parts.form = TargetForm::Asterisk;
    return {};
  }
  // absolute-form: only the schemes a reverse proxy forwards.
  const std::size_t separator = target.find("://");
  if (separator == std::string_view::npos) return {400, "invalid request-target"};
  const std::string_view scheme = target.substr(0, separator);
  if (!syntax::equals_ignore_case(scheme, "http") && !syntax::equals_ignore_case(scheme, "https")) {
    return {400, "unsupported scheme in request-target"};
  }
  const std::size_t authority_begin = separator + 3;
  std::size_t authority_end = target.find_first_of("/?", authority_begin);
  if (authority_end == std::string_view::npos) authority_end = target.size();
  const std::string_view authority = target.substr(authority_begin, authority_end - authority_begin);
  // kHost has no '@': userinfo in a target is deprecated and a phishing vector (RFC 9110 §4.2.4).
  if (authority.empty() || syntax::find_first_not_in(authority, syntax::kHost) != authority.size()) {
    return {400, "invalid authority in request-target"};
  }
  parts.form = TargetForm::Absolute;
  parts.authority_offset = static_cast<std::uint32_t>(authority_begin);
  parts.authority_length = static_cast<std::uint32_t>(authority.size());
  split_path_and_query(target.substr(authority_end), static_cast<std::uint32_t>(authority_end), parts);
  parts.root_path = parts.path_length == 0;
  return {};
}

void TargetParts::apply(std::string_view target, RequestHead& head) const {
  head.target = target;
  head.target_form = form;
  head.path = root_path ? kRootPath : target.substr(path_offset, path_length);
  head.has_query = has_query;
  head.query = has_query ? target.substr(query_offset, query_length) : std::string_view();
  head.authority = target.substr(authority_offset, authority_length);
}

}  // namespace fulcrum::http
