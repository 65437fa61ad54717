#pragma once
// Files of chatd's REST API (docs/rest.md "Files"): upload (POST /api/files) and download
// (GET /api/files/{id}) over a rest_client. Blocking, like the client.
//
//   auto up = chat::client::upload_file(api, "cat.png");        // mime guessed: image/png
//   if (up) send_attachment(chat::client::attachment_of(*up.value));
//   auto down = chat::client::download_file(api, up.value->url);
#include <chat/client/rest_client.hpp>
#include <chat/proto/message.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace chat::client {

// The POST /api/files answer.
struct file_info {
  std::string id;   // UUID
  std::string url;  // "/api/files/{id}": what a message's attachment carries
  std::string name;
  std::int64_t size = 0;
  std::string mime_type;
  std::string sha256;                 // hex
  std::optional<std::int32_t> width;  // images
  std::optional<std::int32_t> height;
};

// The attachment of an IMAGE or FILE message (SPEC §13) for an uploaded file.
proto::file_attachment attachment_of(const file_info& file);
// IMAGE for image/png, image/jpeg, image/gif, image/webp; FILE for anything else.
proto::message_type message_type_of(const file_info& file);

// A MIME type for a file: from its first bytes (PNG, JPEG, GIF, WebP, PDF, ZIP, gzip), else from
// the extension of `file_name` (case-insensitive; common types), else application/octet-stream.
std::string guess_mime_type(std::string_view file_name, std::string_view first_bytes);

// Uploads the file at `path` as a raw body, named after its file name; `mime_type` nullopt:
// guess_mime_type(). http.error = errc::bad_response for an answer that is not a file; a
// file that cannot be read gives http.error = the std::errc (no request is made).
result<file_info> upload_file(rest_client& api, const std::filesystem::path& path,
                              std::optional<std::string> mime_type = std::nullopt);
// The same for bytes in memory.
result<file_info> upload_bytes(rest_client& api, std::string_view data, std::string_view name,
                               std::string_view mime_type);

struct downloaded_file {
  std::string data;
  std::string mime_type;  // Content-Type
  std::string name;       // from Content-Disposition (filename*, else filename); may be empty
  std::string etag;
};

// "3b241101-…", "/api/files/3b241101-…" or "http://host:8080/api/files/3b241101-…" → the
// lower-case UUID; nullopt for anything else.
std::optional<std::string> file_id_of(std::string_view id_or_url);

// GET /api/files/{id} for an id or url (file_id_of; anything else: http.error =
// errc::bad_url). The answer may be up to `max_bytes` (the client's rest_options limit when 0).
result<downloaded_file> download_file(rest_client& api, std::string_view id_or_url, std::size_t max_bytes = 0);

// The file name of a Content-Disposition value: filename*=UTF-8''… (percent-decoded) wins over
// filename="…"; empty when there is none.
std::string disposition_file_name(std::string_view content_disposition);

}  // namespace chat::client
