// How one configuration error is printed (by `fulcrum check` and at start).
#include "fulcrum/config.h"

namespace fulcrum {

std::string ConfigError::to_string() const {
  // `file:line: key: message`. The line is left out when unknown (a Config built in code, a file
  // that could not be read) and the key when the error concerns no key (a YAML syntax error), so
  // the text never shows a meaningless `:0` or an empty `: :`.
  std::string text = file.empty() ? "<config>" : file;
  if (line > 0) text += ":" + std::to_string(line);
  text += ": ";
  if (!key.empty()) text += key + ": ";
  text += message;
  return text;
}

}  // namespace fulcrum
