#include "http/message.h"

namespace fulcrum::http {

Method method_from_token(std::string_view token) {
  // Methods are case-sensitive (RFC 9110 §9.1): compare exactly.
  switch (token.size()) {
    case 3:
      if (token == "GET") return Method::Get;
      if (token == "PUT") return Method::Put;
      break;
    case 4:
      if (token == "HEAD") return Method::Head;
      if (token == "POST") return Method::Post;
      break;
    case 5:
      if (token == "PATCH") return Method::Patch;
      if (token == "TRACE") return Method::Trace;
      break;
    case 6:
      if (token == "DELETE") return Method::Delete;
      break;
    case 7:
      if (token == "CONNECT") return Method::Connect;
      if (token == "OPTIONS") return Method::Options;
      break;
    default:
      break;
  }
  return Method::Other;
}

}  // namespace fulcrum::http
