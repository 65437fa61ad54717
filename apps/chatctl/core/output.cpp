#include "core/output.hpp"

#include "core/exit_codes.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include <unistd.h>

namespace chatctl {

using json = nlohmann::ordered_json;

std::optional<format> parse_format(std::string_view text) noexcept {
  if (text == "table") return format::table;
  if (text == "json") return format::json;
  if (text == "jsonl") return format::jsonl;
  return std::nullopt;
}

bool is_terminal(int fd) noexcept { return ::isatty(fd) == 1; }

bool color_wanted(int fd) noexcept {
  if (!is_terminal(fd)) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

std::string sanitize(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7f) {
      out.push_back(ch);
      continue;
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        out += "\\x";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xf]);
    }
  }
  return out;
}

std::string indent_json(std::string_view compact, std::size_t indent) {
  std::string out;
  out.reserve(compact.size() * 2);
  std::size_t depth = 0;
  const auto new_line = [&] {
    out.push_back('\n');
    out.append(depth * indent, ' ');
  };
  bool in_string = false;
  for (std::size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < compact.size()) {
        out.push_back(compact[++i]);  // an escaped character, '"' included, stays in the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        out.push_back(c);
        break;
      case '{':
      case '[':
        out.push_back(c);
        if (i + 1 < compact.size() && compact[i + 1] == (c == '{' ? '}' : ']')) {
          out.push_back(compact[++i]);  // empty: {} and [] stay on one line
        } else {
          ++depth;
          new_line();
        }
        break;
      case '}':
      case ']':
        if (depth > 0) --depth;
        new_line();
        out.push_back(c);
        break;
      case ',':
        out.push_back(c);
        new_line();
        break;
      case ':': out += ": "; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string compact_json(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::size_t display_width(std::string_view text) noexcept {
  std::size_t width = 0;
  for (const char ch : text) {
    // Count every byte that does not continue a multi-byte sequence.
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++width;
  }
  return width;
}

std::string truncate_display(std::string_view text, std::size_t width) {
  if (display_width(text) <= width) return std::string(text);
  const std::size_t keep = width > 3 ? width - 3 : 0;
  std::size_t seen = 0;
  std::size_t cut = 0;
  for (; cut < text.size(); ++cut) {
    if ((static_cast<unsigned char>(text[cut]) & 0xC0) != 0x80) {
      if (seen == keep) break;
      ++seen;
    }
  }
  return std::string(text.substr(0, cut)) + "...";
}

output::output(format f, bool terminal, bool color, std::ostream& os)
    : format_(f), terminal_(terminal), color_(color), os_(os) {}

std::string output::styled(std::string_view text, style s) const {
  const char* code = nullptr;
  switch (s) {
    case style::plain: break;
    case style::bold: code = "1"; break;
    case style::dim: code = "2"; break;
    case style::cyan: code = "36"; break;
    case style::green: code = "32"; break;
    case style::yellow: code = "33"; break;
    case style::red: code = "31"; break;
  }
  if (!color_ || code == nullptr) return std::string(text);
  std::string out = "\x1b[";
  out += code;
  out += 'm';
  out += text;
  out += "\x1b[0m";
  return out;
}

void output::table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  if (!terminal_) {
    for (const auto& r : rows) {
      for (std::size_t i = 0; i < r.size(); ++i) {
        if (i != 0) os_ << '\t';
        os_ << sanitize(r[i]);
      }
      os_ << '\n';
    }
    flush();
    return;
  }
  std::vector<std::size_t> widths(header.size(), 0);
  for (std::size_t i = 0; i < header.size(); ++i) widths[i] = display_width(header[i]);
  std::vector<std::vector<std::string>> clean;
  clean.reserve(rows.size());
  for (const auto& r : rows) {
    auto& c = clean.emplace_back();
    for (std::size_t i = 0; i < r.size(); ++i) {
      c.push_back(sanitize(r[i]));
      if (i < widths.size()) widths[i] = std::max(widths[i], display_width(c.back()));
    }
  }
  auto print = [&](const std::vector<std::string>& cells, bool head) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const bool last = i + 1 == cells.size();
      std::string cell = cells[i];
      if (!last && i < widths.size()) cell.append(widths[i] - std::min(widths[i], display_width(cell)), ' ');
      os_ << (head ? styled(cell, style::bold) : cell);
      if (!last) os_ << "  ";
    }
    os_ << '\n';
  };
  print(header, true);
  for (const auto& r : clean) print(r, false);
  flush();
}

void output::fields(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::size_t width = 0;
  for (const auto& [k, v] : pairs) width = std::max(width, display_width(k));
  for (const auto& [k, v] : pairs) {
    if (terminal_) {
      std::string key = k;
      key.append(width - display_width(k), ' ');
      os_ << styled(key, style::bold) << "  " << sanitize(v) << '\n';
    } else {
      os_ << k << '\t' << sanitize(v) << '\n';
    }
  }
  flush();
}

void output::line(std::string_view text) {
  os_ << text << '\n';
  flush();
}

void output::document_text(std::string_view json_text) {
  if (format_ == format::json) {
    os_ << indent_json(json_text, 2) << '\n';
  } else {
    os_ << json_text << '\n';
  }
  flush();
}

void output::list_text(const std::vector<std::string>& json_items) {
  if (format_ == format::json) {
    std::string array = "[";
    for (std::size_t i = 0; i < json_items.size(); ++i) {
      if (i != 0) array.push_back(',');
      array += json_items[i];
    }
    array.push_back(']');
    document_text(array);
    return;
  }
  for (const auto& item : json_items) os_ << item << '\n';
  flush();
}

void output::document(const json& value) { document_text(compact_json(value)); }

void output::list(const std::vector<json>& items) {
  std::vector<std::string> texts;
  texts.reserve(items.size());
  for (const auto& item : items) texts.push_back(compact_json(item));
  list_text(texts);
}

void output::begin_list() {
  list_open_ = true;
  list_first_ = true;
  if (format_ == format::json) os_ << '[';
}

void output::list_item_text(std::string_view json_text) {
  if (format_ == format::json) {
    // Indent the item's lines by two spaces inside the array.
    os_ << (list_first_ ? "\n  " : ",\n  ");
    for (const char c : indent_json(json_text, 2)) {
      os_ << c;
      if (c == '\n') os_ << "  ";
    }
  } else {
    os_ << json_text << '\n';
  }
  list_first_ = false;
  flush();
}

void output::list_item(const json& item) { list_item_text(compact_json(item)); }

void output::end_list() {
  if (!list_open_) return;
  list_open_ = false;
  if (format_ == format::json) os_ << (list_first_ ? "]\n" : "\n]\n");
  flush();
}

void output::row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths,
                 const std::vector<style>& styles) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    std::string cell = sanitize(cells[i]);
    if (!terminal_) {
      if (i != 0) os_ << '\t';
      os_ << cell;
      continue;
    }
    const std::size_t width = i < widths.size() ? widths[i] : 0;
    const std::size_t w = display_width(cell);
    if (width != 0 && w < width) cell.append(width - w, ' ');
    if (i != 0) os_ << "  ";
    os_ << styled(cell, i < styles.size() ? styles[i] : style::plain);
  }
  os_ << '\n';
  flush();
}

void output::flush() {
  os_.flush();
  if (!os_) throw command_error(exit_code::error, "cannot write to standard output");
}

}  // namespace chatctl
