#include <chat/proto/json.hpp>

#include <chat/common/utf8.hpp>

#include <charconv>

namespace chat::proto {

void append_json_string(std::string_view text, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  const char* const data = text.data();
  std::size_t run_start = 0;  // start of the pending run copied verbatim
  std::size_t i = 0;
  const auto flush = [&] {
    if (i > run_start) out.append(data + run_start, i - run_start);
  };
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      char32_t cp;
      const std::size_t n = common::utf8_decode(text, i, cp);
      if (n != 0) {
        i += n;
        continue;
      }
      flush();
      out.append("\xEF\xBF\xBD");  // U+FFFD for the malformed byte
      run_start = ++i;
      continue;
    }
    flush();
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default: {
        const char escape[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0F]};
        out.append(escape, sizeof escape);
      }
    }
    run_start = ++i;
  }
  flush();
  out.push_back('"');
}

void append_json_int(std::int64_t value, std::string& out) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

}  // namespace chat::proto
