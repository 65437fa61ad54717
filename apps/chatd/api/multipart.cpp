#include "api/multipart.hpp"

#include <vector>

namespace chat::chatd::api {
namespace {

std::string_view strip_blanks(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// name=value parameters after the first ';' of a header value; quoted values unescaped.
// Names lower-cased.
std::vector<std::pair<std::string, std::string>> header_params(std::string_view value) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = value.find(';');
  while (i != std::string_view::npos && i < value.size()) {
    ++i;  // past ';'
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    const auto eq = value.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string name = lower_ascii(strip_blanks(value.substr(i, eq - i)));
    std::size_t j = eq + 1;
    while (j < value.size() && (value[j] == ' ' || value[j] == '\t')) ++j;
    std::string v;
    if (j < value.size() && value[j] == '"') {
      ++j;
      while (j < value.size() && value[j] != '"') {
        if (value[j] == '\\' && j + 1 < value.size()) ++j;
        v.push_back(value[j++]);
      }
      if (j < value.size()) ++j;  // closing quote
      i = value.find(';', j);
    } else {
      const auto end = value.find(';', j);
      v = std::string(strip_blanks(value.substr(j, end == std::string_view::npos ? std::string_view::npos : end - j)));
      i = end;
    }
    out.emplace_back(std::move(name), std::move(v));
  }
  return out;
}

// RFC 8187 ext-value: charset'language'percent-encoded; UTF-8 (or ASCII) only.
std::optional<std::string> decode_ext_value(std::string_view v) {
  const auto q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  const auto q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  const std::string charset = lower_ascii(v.substr(0, q1));
  if (charset != "utf-8" && charset != "us-ascii") return std::nullopt;
  std::string out;
  for (std::size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] != '%') {
      out.push_back(v[i]);
      continue;
    }
    if (i + 2 >= v.size()) return std::nullopt;
    const int hi = hex_digit(v[i + 1]);
    const int lo = hex_digit(v[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

struct part_headers {
  bool has_file_name = false;
  std::string file_name;
  std::string field_name;
  std::string content_type;
};

part_headers read_part_headers(std::string_view block) {
  part_headers h;
  while (!block.empty()) {
    const auto eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = lower_ascii(strip_blanks(line.substr(0, colon)));
    const std::string_view value = strip_blanks(line.substr(colon + 1));
    if (name == "content-type") {
      h.content_type = std::string(value);
    } else if (name == "content-disposition") {
      std::optional<std::string> extended;
      for (auto& [k, v] : header_params(value)) {
        if (k == "name") {
          h.field_name = v;
        } else if (k == "filename") {
          h.has_file_name = true;
          h.file_name = v;
        } else if (k == "filename*") {
          extended = decode_ext_value(v);
          if (extended) h.has_file_name = true;
        }
      }
      if (extended) h.file_name = std::move(*extended);
    }
  }
  return h;
}

}  // namespace

std::optional<std::string> form_data_boundary(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  if (lower_ascii(strip_blanks(content_type.substr(0, semicolon))) != "multipart/form-data") return std::nullopt;
  for (auto& [k, v] : header_params(content_type)) {
    if (k != "boundary") continue;
    if (v.empty() || v.size() > 70) return std::nullopt;
    return v;
  }
  return std::nullopt;
}

std::optional<form_file> parse_form_file(std::string_view body, std::string_view boundary, std::string& error) {
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next_delimiter = "\r\n" + delimiter;
  // The first delimiter: at the start, or after a preamble ending in CRLF.
  std::size_t pos = 0;
  if (!body.starts_with(delimiter)) {
    pos = body.find(next_delimiter);
    if (pos == std::string_view::npos) {
      error = "multipart body without its boundary";
      return std::nullopt;
    }
    pos += 2;
  }
  std::optional<form_file> chosen;
  bool chosen_has_name = false;
  for (;;) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") break;  // the close delimiter
    // Transport padding, then CRLF.
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") {
      error = "malformed multipart delimiter line";
      return std::nullopt;
    }
    pos += 2;
    const auto headers_end = body.find("\r\n\r\n", pos);
    // A part without headers starts with CRLF right away.
    std::string_view header_block;
    std::size_t data_start = 0;
    if (body.substr(pos, 2) == "\r\n") {
      data_start = pos + 2;
    } else if (headers_end == std::string_view::npos) {
      error = "multipart part without the end of its headers";
      return std::nullopt;
    } else {
      header_block = body.substr(pos, headers_end - pos);
      data_start = headers_end + 4;
    }
    const auto data_end = body.find(next_delimiter, data_start);
    if (data_end == std::string_view::npos) {
      error = "multipart body without its closing boundary";
      return std::nullopt;
    }
    auto h = read_part_headers(header_block);
    const std::string_view data = body.substr(data_start, data_end - data_start);
    if (h.has_file_name) {
      if (chosen_has_name) {
        error = "more than one file part: upload one file per request";
        return std::nullopt;
      }
      chosen = form_file{data, std::move(h.file_name), std::move(h.content_type)};
      chosen_has_name = true;
    } else if (!chosen && h.field_name == "file") {
      chosen = form_file{data, {}, std::move(h.content_type)};
    }
    pos = data_end + 2;
  }
  if (!chosen) {
    error = "no file part (a part with a filename, or named \"file\")";
    return std::nullopt;
  }
  return chosen;
}

}  // namespace chat::chatd::api
