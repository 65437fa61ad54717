#include <chat/client/errc.hpp>
#include <chat/client/files.hpp>
#include <chat/client/lifecycle.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace chat::client {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool looks_like_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<file_info> parse_file_info(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  file_info f;
  auto str = [&](const char* name, std::string& out) {
    const auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  if (!str("id", f.id) || !str("url", f.url) || !str("name", f.name) || !str("mimeType", f.mime_type) ||
      !str("sha256", f.sha256)) {
    return std::nullopt;
  }
  const auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer()) return std::nullopt;
  f.size = size->get<std::int64_t>();
  const auto w = j.find("width");
  const auto h = j.find("height");
  if (w != j.end() && w->is_number_integer() && h != j.end() && h->is_number_integer()) {
    f.width = w->get<std::int32_t>();
    f.height = h->get<std::int32_t>();
  }
  return f;
}

result<file_info> typed_file(response r) {
  result<file_info> out;
  out.http = std::move(r);
  if (!out.http.ok()) return out;
  out.value = parse_file_info(out.http.body);
  if (!out.value) out.http.error = errc::bad_response;
  return out;
}

}  // namespace

proto::file_attachment attachment_of(const file_info& file) {
  proto::file_attachment a;
  a.url = file.url;
  a.name = file.name;
  a.size = file.size;
  a.mime_type = file.mime_type;
  a.width = file.width;
  a.height = file.height;
  return a;
}

proto::message_type message_type_of(const file_info& file) {
  const std::string essence = lower(std::string_view(file.mime_type).substr(0, file.mime_type.find(';')));
  const bool image =
      essence == "image/png" || essence == "image/jpeg" || essence == "image/gif" || essence == "image/webp";
  return image ? proto::message_type::image : proto::message_type::file;
}

std::string guess_mime_type(std::string_view file_name, std::string_view b) {
  if (b.starts_with("\x89PNG\r\n\x1a\n")) return "image/png";
  if (b.starts_with("\xFF\xD8\xFF")) return "image/jpeg";
  if (b.starts_with("GIF87a") || b.starts_with("GIF89a")) return "image/gif";
  if (b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP") return "image/webp";
  if (b.starts_with("%PDF-")) return "application/pdf";
  if (b.starts_with(std::string_view("\x1f\x8b", 2))) return "application/gzip";
  static constexpr std::pair<std::string_view, std::string_view> by_extension[] = {
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".svg", "image/svg+xml"},
      {".pdf", "application/pdf"},
      {".zip", "application/zip"},
      {".gz", "application/gzip"},
      {".tar", "application/x-tar"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
      {".csv", "text/csv; charset=utf-8"},
      {".html", "text/html; charset=utf-8"},
      {".mp3", "audio/mpeg"},
      {".mp4", "video/mp4"},
      {".webm", "video/webm"},
  };
  const std::string name = lower(file_name);
  if (const auto dot = name.rfind('.'); dot != std::string::npos) {
    const std::string_view ext = std::string_view(name).substr(dot);
    for (const auto& [e, mime] : by_extension) {
      if (e == ext) return std::string(mime);
    }
  }
  if (b.starts_with("PK\x03\x04")) return "application/zip";
  return "application/octet-stream";
}

result<file_info> upload_bytes(rest_client& api, std::string_view data, std::string_view name,
                               std::string_view mime_type) {
  std::string target = "/api/files";
  if (!name.empty()) target += "?name=" + percent_encode_segment(name);
  // An empty body is sent without Content-Type; the server refuses it (400) either way.
  raw_request raw{data, mime_type, {}, 0};
  return typed_file(api.request(http_method::post, target, raw));
}

result<file_info> upload_file(rest_client& api, const std::filesystem::path& path,
                              std::optional<std::string> mime_type) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result<file_info> out;
    out.http.error = std::make_error_code(std::errc::no_such_file_or_directory);
    return out;
  }
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    result<file_info> out;
    out.http.error = std::make_error_code(std::errc::io_error);
    return out;
  }
  const std::string name = path.filename().string();
  const std::string mime = mime_type ? *mime_type : guess_mime_type(name, std::string_view(data).substr(0, 64));
  return upload_bytes(api, data, name, mime);
}

std::optional<std::string> file_id_of(std::string_view s) {
  if (const auto q = s.find_first_of("?#"); q != std::string_view::npos) s = s.substr(0, q);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  std::string_view id = s;
  if (const auto at = s.rfind("/api/files/"); at != std::string_view::npos) {
    id = s.substr(at + 11);
    const std::string_view before = s.substr(0, at);
    // The path only, or a whole http(s) URL.
    if (!before.empty() && !before.starts_with("http://") && !before.starts_with("https://")) return std::nullopt;
  }
  if (!looks_like_uuid(id)) return std::nullopt;
  return lower(id);
}

std::string disposition_file_name(std::string_view v) {
  std::string plain;
  std::optional<std::string> extended;
  std::size_t i = 0;
  while ((i = v.find(';', i)) != std::string_view::npos) {
    ++i;
    while (i < v.size() && v[i] == ' ') ++i;
    const auto eq = v.find('=', i);
    if (eq == std::string_view::npos) break;
    const std::string name = lower(v.substr(i, eq - i));
    std::size_t j = eq + 1;
    std::string value;
    if (j < v.size() && v[j] == '"') {
      for (++j; j < v.size() && v[j] != '"'; ++j) {
        if (v[j] == '\\' && j + 1 < v.size()) ++j;
        value.push_back(v[j]);
      }
    } else {
      const auto end = v.find(';', j);
      value = std::string(v.substr(j, end == std::string_view::npos ? std::string_view::npos : end - j));
    }
    if (name == "filename") {
      plain = value;
    } else if (name == "filename*") {
      const auto quote = value.find("''");
      if (quote != std::string::npos && lower(value.substr(0, quote)) == "utf-8") {
        std::string decoded;
        bool ok = true;
        for (std::size_t k = quote + 2; k < value.size() && ok; ++k) {
          if (value[k] != '%') {
            decoded.push_back(value[k]);
          } else if (k + 2 < value.size() && hex_value(value[k + 1]) >= 0 && hex_value(value[k + 2]) >= 0) {
            decoded.push_back(static_cast<char>(hex_value(value[k + 1]) * 16 + hex_value(value[k + 2])));
            k += 2;
          } else {
            ok = false;
          }
        }
        if (ok) extended = std::move(decoded);
      }
    }
    i = j;
  }
  return extended ? *extended : plain;
}

result<downloaded_file> download_file(rest_client& api, std::string_view id_or_url, std::size_t max_bytes) {
  result<downloaded_file> out;
  const auto id = file_id_of(id_or_url);
  if (!id) {
    out.http.error = errc::bad_url;
    return out;
  }
  raw_request raw{{}, {}, {}, max_bytes};
  out.http = api.request(http_method::get, "/api/files/" + *id, raw);
  if (!out.http.ok()) return out;
  downloaded_file f;
  f.mime_type = std::string(out.http.header("Content-Type"));
  f.name = disposition_file_name(out.http.header("Content-Disposition"));
  f.etag = std::string(out.http.header("ETag"));
  f.data = std::move(out.http.body);
  out.http.body.clear();
  out.value = std::move(f);
  return out;
}

}  // namespace chat::client
