#pragma once
// Everything chatctl writes to stdout. Three formats (-o):
//   table  aligned columns under a header on a terminal (colour unless NO_COLOR); when stdout is
//          not a terminal, tab-separated rows without header or colour (for cut/awk);
//   json   one pretty-printed JSON document (a list command prints one array);
//   jsonl  one compact JSON value per line (a list command prints one line per item).
// Field names in json/jsonl are those of the REST API (docs/events.md, docs/rest.md) and are stable.
#include <nlohmann/json.hpp>

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatctl {

enum class format { table, json, jsonl };

std::optional<format> parse_format(std::string_view text) noexcept;

enum class style { plain, bold, dim, cyan, green, yellow, red };

// Whether a stream is a terminal and should get colour: a terminal, NO_COLOR unset or empty,
// TERM not "dumb".
bool is_terminal(int fd) noexcept;
bool color_wanted(int fd) noexcept;

// Control characters (and DEL) as visible escapes (\n, \t, \x1b), so that message text can
// neither break a row nor drive the terminal.
std::string sanitize(std::string_view text);

// Code points of valid UTF-8 (each invalid byte counts one): the column width used to align.
std::size_t display_width(std::string_view text) noexcept;

// Compact JSON text (no white space outside strings) as nlohmann's dump(indent) lays it out:
// one member or element per line, `indent` spaces a level, "key": value, {} and [] when empty.
std::string indent_json(std::string_view compact, std::size_t indent);

// Compact JSON text of a value; invalid UTF-8 in its strings becomes U+FFFD.
std::string compact_json(const nlohmann::ordered_json& value);

// At most `width` code points of `text`, ending in "..." when cut (never inside a UTF-8 sequence).
std::string truncate_display(std::string_view text, std::size_t width);

class output {
 public:
  output(format f, bool terminal, bool color, std::ostream& os);

  format fmt() const noexcept { return format_; }
  bool terminal() const noexcept { return terminal_; }

  // table format only
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
  void fields(const std::vector<std::pair<std::string, std::string>>& pairs);
  void line(std::string_view text);

  // json and jsonl formats. The *_text forms take compact JSON text, such as chat::proto's
  // encoders write; the others take chatctl's own shapes built as JSON values.
  void document_text(std::string_view json_text);
  void list_text(const std::vector<std::string>& json_items);
  void document(const nlohmann::ordered_json& value);
  void list(const std::vector<nlohmann::ordered_json>& items);

  // A list printed as it arrives (history --all, tail): json streams one array, jsonl lines,
  // table one row per item via row().
  void begin_list();
  void list_item_text(std::string_view json_text);
  void list_item(const nlohmann::ordered_json& item);
  void end_list();
  // One table row of a streamed list: tab-separated when not a terminal; on a terminal the
  // cells are padded to `widths` (0 = no padding, for the last cell).
  void row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths,
           const std::vector<style>& styles = {});

  std::string styled(std::string_view text, style s) const;

  // Flushes; a failed stdout (closed pipe, full disk) throws command_error(error).
  void flush();

 private:
  format format_;
  bool terminal_;
  bool color_;
  std::ostream& os_;
  bool list_open_ = false;
  bool list_first_ = true;
};

}  // namespace chatctl
