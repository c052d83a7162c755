#include "http/header_list.h"

#include "http/syntax.h"

namespace fulcrum::http {

void ListElements::Iterator::advance() {
  // Skip empty elements (RFC 9110 §5.6.1 asks recipients to tolerate them), stop at the end.
  while (!at_end_) {
    if (rest_.empty()) {
      at_end_ = true;
      current_ = {};
      return;
    }
    const std::size_t comma = rest_.find(',');
    const std::string_view element = rest_.substr(0, comma);
    rest_ = comma == std::string_view::npos ? rest_.substr(rest_.size()) : rest_.substr(comma + 1);
    current_ = syntax::trim_whitespace(element);
    if (!current_.empty()) return;
  }
}

std::optional<std::string_view> HeaderList::find(std::string_view name) const {
  for (std::size_t i = 0; i < count_; ++i) {
    const HeaderField field = (*this)[i];
    if (syntax::equals_ignore_case(field.name, name)) return field.value;
  }
  return std::nullopt;
}

std::size_t HeaderList::count(std::string_view name) const {
  std::size_t matches = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    if (syntax::equals_ignore_case((*this)[i].name, name)) ++matches;
  }
  return matches;
}

bool HeaderList::contains_token(std::string_view name, std::string_view token) const {
  for (std::size_t i = 0; i < count_; ++i) {
    const HeaderField field = (*this)[i];
    if (!syntax::equals_ignore_case(field.name, name)) continue;
    for (std::string_view element : ListElements(field.value)) {
      if (syntax::equals_ignore_case(element, token)) return true;
    }
  }
  return false;
}

}  // namespace fulcrum::http
