#include "http/forwarding.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "http/error_response.h"
#include "http/field_semantics.h"
#include "http/syntax.h"

namespace fulcrum::http {
namespace {

// The fields the writers treat specially. Anything else is Other: kept unless a Connection option
// names it.
enum class Field : std::uint8_t {
  Other,
  Connection,
  KeepAlive,
  ProxyConnection,
  Te,
  Trailer,
  Upgrade,
  Host,
  ContentLength,
  TransferEncoding,
  Expect,
  XForwardedFor,
  XForwardedProto,
  XForwardedHost,
  Forwarded,
  XRequestId,
};

// `name` (a parsed field name) is `lower`, ignoring case.
inline bool is(std::string_view name, std::string_view lower) { return syntax::name_is(name, lower); }

// One switch on the length, then at most two comparisons: most fields (Accept, User-Agent,
// Cookie...) are classified by their length alone or after one mismatching byte.
Field classify(std::string_view name) {
  switch (name.size()) {
    case 2:
      if (is(name, "te")) return Field::Te;
      break;
    case 4:
      if (is(name, "host")) return Field::Host;
      break;
    case 6:
      if (is(name, "expect")) return Field::Expect;
      break;
    case 7:
      if (is(name, "upgrade")) return Field::Upgrade;
      if (is(name, "trailer")) return Field::Trailer;
      break;
    case 9:
      if (is(name, "forwarded")) return Field::Forwarded;
      break;
    case 10:
      if (is(name, "connection")) return Field::Connection;
      if (is(name, "keep-alive")) return Field::KeepAlive;
      break;
    case 12:
      if (is(name, "x-request-id")) return Field::XRequestId;
      break;
    case 14:
      if (is(name, "content-length")) return Field::ContentLength;
      break;
    case 15:
      if (is(name, "x-forwarded-for")) return Field::XForwardedFor;
      break;
    case 16:
      if (is(name, "proxy-connection")) return Field::ProxyConnection;
      if (is(name, "x-forwarded-host")) return Field::XForwardedHost;
      break;
    case 17:
      if (is(name, "transfer-encoding")) return Field::TransferEncoding;
      if (is(name, "x-forwarded-proto")) return Field::XForwardedProto;
      break;
    default:
      break;
  }
  return Field::Other;
}

// The field names the Connection fields of one head nominate, collected in one pass so that each
// field is then checked against a short array instead of re-parsing every Connection value.
// `close`, `keep-alive` and `upgrade` are not stored: the fields they would name are handled by
// fixed rules, and they are nearly the only options real clients send, so the array is usually
// empty. Past kCapacity options (no legitimate peer sends that many) it falls back to scanning the
// Connection fields for each field: correct, and bounded by the head limits.
class Nominations {
 public:
  static constexpr std::size_t kCapacity = 16;

  explicit Nominations(const HeaderList& headers) : headers_(headers) {}

  // Records the options of one Connection field value.
  void add(std::string_view value) {
    for (std::string_view option : ListElements(value)) {
      if (syntax::equals_ignore_case(option, "close") || syntax::equals_ignore_case(option, "keep-alive") ||
          syntax::equals_ignore_case(option, "upgrade")) {
        continue;
      }
      if (count_ == kCapacity) {
        overflow_ = true;
        return;
      }
      options_[count_++] = option;
    }
  }

  // True when a Connection option names the field `name`.
  bool contains(std::string_view name) const {
    if (overflow_) return headers_.contains_token("connection", name);
    for (std::size_t i = 0; i < count_; ++i) {
      if (syntax::equals_ignore_case(options_[i], name)) return true;
    }
    return false;
  }

 private:
  const HeaderList& headers_;
  std::array<std::string_view, kCapacity> options_;
  std::size_t count_ = 0;
  bool overflow_ = false;
};

// One resize and plain copies: four appends cost four capacity checks and calls per field, and
// every forwarded field goes through here.
void append_field(std::string& out, std::string_view name, std::string_view value) {
  const std::size_t at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  char* to = out.data() + at;
  std::memcpy(to, name.data(), name.size());
  to += name.size();
  *to++ = ':';
  *to++ = ' ';
  std::memcpy(to, value.data(), value.size());
  to += value.size();
  *to++ = '\r';
  *to = '\n';
}

// Content-Length once, whatever the message said: duplicates with one value (`5` and `5`, or
// `5, 5`) are one length to us, and a recipient that took them for two could frame the message
// otherwise (RFC 9112 §6.3). The parsers refused lengths that disagree, so the first field says it.
// `written` tells whether it went out already.
void append_content_length(std::string& out, const HeaderField& field, bool& written) {
  if (written) return;
  written = true;
  std::uint64_t length = 0;
  if (field.value.find(',') == std::string_view::npos || !parse_content_length(field.value, length)) {
    append_field(out, field.name, field.value);  // one value (the parser refused anything else)
    return;
  }
  append_field(out, field.name, std::to_string(length));
}

// A quoted-string (RFC 9110 §5.6.4). Hosts and addresses never contain '"' or '\\' once parsed,
// but escaping costs nothing and keeps the element well-formed whatever the caller passes.
void append_quoted(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

// A Forwarded parameter value: a token as is, anything else quoted (RFC 7239 §4). An IPv6 node
// is bracketed and therefore always quoted (§6).
void append_forwarded_value(std::string& out, std::string_view value) {
  if (syntax::is_token(value)) {
    out.append(value);
  } else {
    append_quoted(out, value);
  }
}

void append_forwarded_for(std::string& out, std::string_view address) {
  if (address.empty()) {
    out.append("unknown");  // RFC 7239 §6.2: the node is not known.
  } else if (address.find(':') != std::string_view::npos) {
    out.push_back('"');
    out.push_back('[');
    out.append(address);  // an address has no '"' or '\\'; a zone id ("%eth0") is fine quoted
    out.append("]\"");
  } else {
    append_forwarded_value(out, address);
  }
}

// Appends the values of the fields of `kind` between `first` and `last` (inclusive) that no
// Connection option names, each followed by ", ". Empty values are skipped, so an empty
// `X-Forwarded-For:` does not turn into ", , client".
void append_existing_values(std::string& out, const HeaderList& headers, std::size_t first, std::size_t last,
                            Field kind, const Nominations& nominated) {
  for (std::size_t i = first; i <= last; ++i) {
    const HeaderField field = headers[i];
    if (field.value.empty() || classify(field.name) != kind || nominated.contains(field.name)) continue;
    out.append(field.value);
    out.append(", ");
  }
}

void append_three_digits(std::string& out, int code) {
  out.push_back(char('0' + code / 100 % 10));
  out.push_back(char('0' + code / 10 % 10));
  out.push_back(char('0' + code % 10));
}

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// Where fields of one kind sit, so the combined value can be built without another full pass.
struct FieldRange {
  std::size_t first = kNone;
  std::size_t last = kNone;

  void add(std::size_t index) {
    if (first == kNone) first = index;
    last = index;
  }
  bool empty() const { return first == kNone; }
};

}  // namespace

std::string_view write_request_head(std::string& out, const RequestHead& request,
                                    const RequestForwarding& forwarding) {
  const HeaderList& headers = request.headers;

  // Pass 1: Connection options, and where the fields that are combined sit.
  Nominations nominated(headers);
  FieldRange forwarded_for;
  FieldRange forwarded;
  bool has_host = false;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const HeaderField field = headers[i];
    switch (classify(field.name)) {
      case Field::Connection: nominated.add(field.value); break;
      case Field::Host: has_host = true; break;
      case Field::XForwardedFor: forwarded_for.add(i); break;
      case Field::Forwarded: forwarded.add(i); break;
      default: break;
    }
  }

  // The host the client asked for: an absolute-form target's authority wins over Host (RFC 9112
  // §3.2.2), and it is also what the backend receives as Host.
  const std::string_view original_host = request.authority.empty() ? request.host : request.authority;
  const bool upgrade = forwarding.upgrade;

  // A generous estimate: the added fields are short. Never shrinks, so a session's reused buffer
  // stops allocating after its first requests.
  out.reserve(out.size() + request.head_length + 160 + 2 * forwarding.client_address.size() +
              2 * original_host.size() + forwarding.request_id.size() + forwarding.default_host.size() +
              2 * forwarding.scheme.size());

  // Request line.
  out.append(request.method);
  out.push_back(' ');
  if (request.target_form == TargetForm::Origin || request.target_form == TargetForm::Absolute) {
    std::string_view path = request.path;
    const std::string_view prefix = forwarding.strip_prefix;
    if (!prefix.empty() && path.starts_with(prefix)) path.remove_prefix(prefix.size());
    if (path.empty() || path.front() != '/') out.push_back('/');
    out.append(path);
    if (request.has_query) {
      out.push_back('?');
      out.append(request.query);
    }
  } else {
    out.append(request.target);  // `*` or CONNECT's host:port
  }
  out.append(" HTTP/1.1\r\n");

  if (!has_host) {
    const std::string_view host = request.authority.empty() ? forwarding.default_host : request.authority;
    if (!host.empty()) append_field(out, "Host", host);
  }

  // Pass 2: copy what is end-to-end.
  std::string_view client_request_id;
  bool request_id_kept = false;
  bool content_length_written = false;
  for (const HeaderField field : headers) {
    switch (classify(field.name)) {
      case Field::Connection:
      case Field::KeepAlive:
      case Field::ProxyConnection:
      case Field::Te:
      case Field::XForwardedFor:
      case Field::Forwarded:
      case Field::XForwardedProto:
      case Field::XForwardedHost:
        continue;
      case Field::Upgrade:
        if (!upgrade) continue;
        break;
      case Field::Host:
        if (!request.authority.empty()) {
          append_field(out, field.name, request.authority);
          continue;
        }
        break;
      case Field::ContentLength:
        // Framing: never dropped on a Connection option's word.
        append_content_length(out, field, content_length_written);
        continue;
      case Field::TransferEncoding:
        break;  // framing: never dropped on a Connection option's word
      case Field::Expect:
        if (request.version == HttpVersion::Http10 || nominated.contains(field.name)) continue;
        break;
      case Field::XRequestId:
        if (nominated.contains(field.name)) continue;
        if (!request_id_kept) client_request_id = field.value;
        request_id_kept = true;
        break;
      case Field::Trailer:
      case Field::Other:
        if (nominated.contains(field.name)) continue;
        break;
    }
    append_field(out, field.name, field.value);
  }

  // The fields Fulcrum adds.
  out.append("X-Forwarded-For: ");
  if (!forwarded_for.empty()) {
    append_existing_values(out, headers, forwarded_for.first, forwarded_for.last, Field::XForwardedFor, nominated);
  }
  out.append(forwarding.client_address.empty() ? std::string_view("unknown") : forwarding.client_address);
  out.append("\r\n");

  if (!forwarding.scheme.empty()) append_field(out, "X-Forwarded-Proto", forwarding.scheme);
  if (!original_host.empty()) append_field(out, "X-Forwarded-Host", original_host);

  out.append("Forwarded: ");
  if (!forwarded.empty()) {
    append_existing_values(out, headers, forwarded.first, forwarded.last, Field::Forwarded, nominated);
  }
  out.append("for=");
  append_forwarded_for(out, forwarding.client_address);
  if (!original_host.empty()) {
    out.append(";host=");
    append_forwarded_value(out, original_host);
  }
  if (!forwarding.scheme.empty()) {
    out.append(";proto=");
    append_forwarded_value(out, forwarding.scheme);
  }
  out.append("\r\n");

  std::string_view request_id = client_request_id;
  if (!request_id_kept) {
    request_id = forwarding.request_id;
    if (!request_id.empty()) append_field(out, "X-Request-Id", request_id);
  }
  if (upgrade) out.append("Connection: upgrade\r\n");
  out.append("\r\n");
  return request_id;
}

void write_response_head(std::string& out, const ResponseHead& response, const ResponseForwarding& forwarding) {
  const HeaderList& headers = response.headers;

  Nominations nominated(headers);
  for (const HeaderField field : headers) {
    if (classify(field.name) == Field::Connection) nominated.add(field.value);
  }

  const bool client_10 = forwarding.client_version == HttpVersion::Http10;
  const bool switching = response.switching_protocols;

  out.reserve(out.size() + response.head_length + 64 + forwarding.set_cookie.size());
  bool content_length_written = false;

  out.append("HTTP/1.1 ");
  append_three_digits(out, response.status_code);
  out.push_back(' ');
  out.append(response.reason.empty() ? reason_phrase(response.status_code) : response.reason);
  out.append("\r\n");

  for (const HeaderField field : headers) {
    switch (classify(field.name)) {
      case Field::Connection:
      case Field::KeepAlive:
      case Field::ProxyConnection:
      case Field::Te:
        continue;
      case Field::Upgrade:
        if (!switching) continue;
        break;
      case Field::ContentLength:
        append_content_length(out, field, content_length_written);
        continue;
      case Field::TransferEncoding:
        // RFC 9112 §6.1: never to a 1.0 client; a chunked body reaches it de-chunked.
        if (client_10 || forwarding.dechunk) continue;
        break;
      case Field::Trailer:
        if (client_10 || forwarding.dechunk || nominated.contains(field.name)) continue;
        break;
      default:
        if (nominated.contains(field.name)) continue;
        break;
    }
    append_field(out, field.name, field.value);
  }

  if (!forwarding.set_cookie.empty()) append_field(out, "Set-Cookie", forwarding.set_cookie);

  if (switching) {
    out.append("Connection: upgrade\r\n");
  } else if (response.status_code < 200) {
    // An interim response (100, 103) says nothing about the connection: the final one will.
  } else if (forwarding.close || forwarding.dechunk) {
    out.append("Connection: close\r\n");
  } else if (client_10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

RequestId generate_request_id(balance::Random& random) {
  // Two hex digits per table entry: one load per random byte instead of two shifts, masks and
  // loads (this runs for every request).
  static constexpr auto kPairs = [] {
    std::array<char, 512> pairs{};
    constexpr char kDigits[] = "0123456789abcdef";
    for (std::size_t byte = 0; byte < 256; ++byte) {
      pairs[2 * byte] = kDigits[byte & 0xf];
      pairs[2 * byte + 1] = kDigits[byte >> 4];
    }
    return pairs;
  }();
  RequestId id;
  for (std::size_t word = 0; word < 2; ++word) {
    std::uint64_t bits = random.next();
    for (std::size_t i = 0; i < 8; ++i) {
      std::memcpy(&id.text[word * 16 + 2 * i], &kPairs[2 * (bits & 0xff)], 2);
      bits >>= 8;
    }
  }
  return id;
}

}  // namespace fulcrum::http
