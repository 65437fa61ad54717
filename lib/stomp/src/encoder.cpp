#include <chat/stomp/encoder.hpp>

#include <charconv>

namespace chat::stomp {
namespace {

constexpr std::string_view content_length_name = "content-length";

void append_header_part(std::string& out, std::string_view text, bool escape) {
  if (escape) {
    append_escaped(out, text);
  } else {
    out.append(text);
  }
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto special = text.find_first_of("\\\n\r:", i);
    if (special == std::string_view::npos) {
      out.append(text.substr(i));
      return;
    }
    out.append(text.substr(i, special - i));
    switch (text[special]) {
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      default: out.append("\\c"); break;  // ':'
    }
    i = special + 1;
  }
}

void encode(const frame& f, std::string& out, encode_options options) {
  const bool escape = options.escape && !is_escape_exempt(f.cmd);
  const std::string_view cmd = to_string(f.cmd);

  // One allocation in the common case: escapes are rare, so the unescaped size is a good
  // estimate (+32 covers an added content-length header).
  std::size_t estimate = cmd.size() + 2 + f.body.size() + 1 + 32;
  for (const header& h : f.headers) estimate += h.name.size() + h.value.size() + 2;
  out.reserve(out.size() + estimate);

  out.append(cmd);
  out.push_back('\n');
  bool has_content_length = false;
  for (const header& h : f.headers) {
    has_content_length = has_content_length || h.name == content_length_name;
    append_header_part(out, h.name, escape);
    out.push_back(':');
    append_header_part(out, h.value, escape);
    out.push_back('\n');
  }
  if (!f.body.empty() && !has_content_length) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, f.body.size());
    (void)ec;  // 24 digits hold any size_t
    out.append(content_length_name);
    out.push_back(':');
    out.append(digits, end);
    out.push_back('\n');
  }
  out.push_back('\n');
  out.append(f.body);
  out.push_back('\0');
}

std::string encode(const frame& f, encode_options options) {
  std::string out;
  encode(f, out, options);
  return out;
}

void encode_heartbeat(std::string& out) { out.push_back('\n'); }

}  // namespace chat::stomp
