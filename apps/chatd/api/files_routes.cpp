// POST /api/files, GET /api/files/{id} (docs/rest.md "Files", SPEC §16)
#include "api/byte_range.hpp"
#include "api/db_job.hpp"
#include "api/errors.hpp"
#include "api/media.hpp"
#include "api/multipart.hpp"
#include "api/query.hpp"
#include "api/rest_api.hpp"
#include "store/files.hpp"

#include <chat/common/uuid.hpp>
#include <chat/proto/json.hpp>

#include <limits>
#include <memory>

namespace chat::chatd::api {
namespace {

constexpr std::size_t max_file_name_code_points = 255;  // as an attachment's name (lib/proto)
constexpr std::size_t max_mime_bytes = 127;             // as an attachment's mimeType (lib/proto)
constexpr std::string_view default_mime = "application/octet-stream";
constexpr std::string_view default_file_name = "file";

http::response too_large(std::size_t limit) {
  return http::error_response(http::status::payload_too_large, "payload_too_large",
                              "file exceeds " + std::to_string(limit) + " bytes (--max-file-bytes)");
}

http::response unsupported_media(std::string_view message) {
  return http::error_response(http::status::unsupported_media_type, "unsupported_media_type", message);
}

// {"id","url","name","size","mimeType","sha256","width"?,"height"?,"createdAt"}
std::string render_file(const store::file_meta& f) {
  std::string out = "{\"id\":";
  proto::append_json_string(f.id, out);
  out += ",\"url\":";
  proto::append_json_string("/api/files/" + f.id, out);
  out += ",\"name\":";
  proto::append_json_string(f.name, out);
  out += ",\"size\":";
  proto::append_json_int(f.size, out);
  out += ",\"mimeType\":";
  proto::append_json_string(f.mime_type, out);
  out += ",\"sha256\":";
  proto::append_json_string(f.sha256, out);
  if (f.width && f.height) {
    out += ",\"width\":";
    proto::append_json_int(*f.width, out);
    out += ",\"height\":";
    proto::append_json_int(*f.height, out);
  }
  out += '}';
  return out;
}

// What the upload is, from the request (the headers and query) alone.
struct upload_request {
  std::optional<std::string> boundary;  // multipart/form-data
  std::optional<std::string> name;      // ?name=
  std::string mime_type;                // a raw body's, normalized; empty for multipart
};

// Whether If-None-Match (a list of entity tags, or "*") names `etag`; weak tags compare by
// their opaque part (RFC 9110 §13.1.2: weak comparison).
bool none_match_hit(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

}  // namespace

void rest_api::upload_file(const http::request& req, const http::path_params&, const caller& who,
                           http::responder respond) {
  upload_request up;
  const std::string_view content_type = req[http::bhttp::field::content_type];
  if (auto boundary = form_data_boundary(content_type)) {
    up.boundary = std::move(boundary);
  } else if (content_type.empty()) {
    up.mime_type = default_mime;
  } else {
    auto mime = normalize_mime_type(content_type, max_mime_bytes);
    if (!mime || essence_of(*mime) == "multipart/form-data") {
      return respond(bad_request("Content-Type is not a MIME type (type/subtype), or multipart without a boundary"));
    }
    up.mime_type = std::move(*mime);
  }
  if (auto error = query_param(req.target(), "name", up.name)) return respond(bad_request(error));
  if (up.name && !clean_file_name(*up.name, max_file_name_code_points)) {
    return respond(bad_request("name: 1-255 characters, UTF-8, no control characters"));
  }
  // A raw body is the file: at most --max-file-bytes. A multipart body may exceed it by its
  // envelope (the route allows 64 KiB more); its file part is checked on the worker.
  if (!up.boundary && req.body().size() > max_file_bytes_) return respond(too_large(max_file_bytes_));
  // The worker reads the bytes (multipart scan, magic, SHA-256): the I/O thread only copies.
  auto body = std::make_shared<const std::string>(req.body());
  run_db_job(pool_, "POST /api/files", respond,
             [up = std::move(up), body, uploader = who.user_id, limit = max_file_bytes_](
                 store::session& db, store::db_context&) -> job_result {
               std::string_view data = *body;
               std::optional<std::string> given_name = up.name;
               std::string mime = up.mime_type;
               if (up.boundary) {
                 std::string error;
                 auto part = parse_form_file(*body, *up.boundary, error);
                 if (!part) return bad_request(error);
                 data = part->data;
                 if (!given_name && !part->file_name.empty()) {
                   given_name = part->file_name;
                   if (!clean_file_name(*given_name, max_file_name_code_points)) {
                     return bad_request("filename: 1-255 characters, UTF-8, no control characters");
                   }
                 }
                 if (part->content_type.empty()) {
                   mime = default_mime;
                 } else {
                   auto normalized = normalize_mime_type(part->content_type, max_mime_bytes);
                   if (!normalized) return bad_request("the file part's Content-Type is not a MIME type");
                   mime = std::move(*normalized);
                 }
               }
               if (data.size() > limit) return too_large(limit);
               if (data.empty()) return bad_request("empty file");
               store::new_file file;
               file.id = common::make_uuid_v4();
               file.uploader_id = uploader;
               file.name = given_name ? *clean_file_name(*given_name, max_file_name_code_points)
                                      : std::string(default_file_name);
               file.mime_type = mime;
               if (const auto format = image_format_of_mime(mime)) {
                 // A declared image must be one: its magic bytes, and a size we can read.
                 if (sniff_image(data) != format) {
                   return unsupported_media("the content is not " + std::string(mime_of(*format)));
                 }
                 const auto size = image_dimensions(*format, data);
                 constexpr auto max_side = static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max());
                 if (!size || size->width > max_side || size->height > max_side) {
                   return unsupported_media("cannot read the size of this " + std::string(mime_of(*format)));
                 }
                 file.width = static_cast<std::int32_t>(size->width);
                 file.height = static_cast<std::int32_t>(size->height);
               }
               auto stored = store::insert_file(db, file, data);
               if (!stored) return failed(stored);
               auto res = http::json_response(http::status::created, render_file(*stored));
               res.set(http::bhttp::field::location, "/api/files/" + stored->id);
               return res;
             });
}

void rest_api::download_file(const http::request& req, const http::path_params& params, const caller& who,
                             http::responder respond) {
  const std::string_view id = params.get("id");
  if (!common::is_uuid(id)) return respond(bad_request("file id: a UUID"));
  struct conditions {
    std::string if_none_match;
    std::string if_range;
    std::string range;
    bool head = false;
  } c{std::string(req[http::bhttp::field::if_none_match]), std::string(req[http::bhttp::field::if_range]),
      std::string(req[http::bhttp::field::range]), req.method() == http::verb::head};
  run_db_job(
      pool_, "GET /api/files/{id}", respond,
      [id = common::normalize_uuid(id), c = std::move(c), user = who.user_id](store::session& db,
                                                                              store::db_context&) -> job_result {
        auto found = store::look_up_file(db, id, user);
        if (!found) return failed(found);
        switch (found->access) {
          case store::file_access::no_such_file: return not_found("no such file");
          case store::file_access::forbidden:
            return forbidden("only its uploader and the members of a room where it was posted may read it");
          case store::file_access::granted: break;
        }
        const auto& f = found->meta;
        const std::string etag = "\"" + f.sha256 + "\"";
        const bool image = image_format_of_mime(f.mime_type).has_value();
        auto with_headers = [&](http::response res) {
          res.set(http::bhttp::field::etag, etag);
          res.set(http::bhttp::field::accept_ranges, "bytes");
          // The id's bytes never change, but who may read them does: revalidate (304).
          res.set(http::bhttp::field::cache_control, "private, no-cache");
          res.set("X-Content-Type-Options", "nosniff");
          res.set("Content-Security-Policy", "default-src 'none'; sandbox");
          return res;
        };
        if (!c.if_none_match.empty() && none_match_hit(c.if_none_match, etag)) {
          return with_headers(http::response{http::status::not_modified, 11});
        }
        const auto size = static_cast<std::uint64_t>(f.size);
        // If-Range with another validator: the file changed as far as the client knows,
        // so the whole of it (ours never change, but the tag may be from elsewhere).
        range_request range{};
        if (!c.range.empty() && (c.if_range.empty() || c.if_range == etag)) range = parse_range(c.range, size);
        if (range.kind == range_kind::unsatisfiable) {
          auto res = with_headers(http::error_response(http::status::range_not_satisfiable, "range_not_satisfiable",
                                                       "the range is past the end"));
          res.set(http::bhttp::field::content_range, "bytes */" + std::to_string(size));
          return res;
        }
        const std::uint64_t first = range.kind == range_kind::partial ? range.range.first : 0;
        const std::uint64_t length = range.kind == range_kind::partial ? range.range.length() : size;
        http::response res{range.kind == range_kind::partial ? http::status::partial_content : http::status::ok, 11};
        res.set(http::bhttp::field::content_type, f.mime_type);
        res.set(http::bhttp::field::content_disposition, content_disposition(f.name, image));
        if (range.kind == range_kind::partial) {
          res.set(
              http::bhttp::field::content_range,
              "bytes " + std::to_string(first) + "-" + std::to_string(first + length - 1) + "/" + std::to_string(size));
        }
        if (c.head || length == 0) {
          res.content_length(length);  // HEAD: the length without reading the bytes
        } else {
          auto bytes =
              store::file_bytes(db, f.sha256, static_cast<std::int64_t>(first), static_cast<std::int64_t>(length));
          if (!bytes) return failed(bytes);
          if (!*bytes) return not_found("no such file");
          res.body() = std::move(**bytes);
        }
        return with_headers(std::move(res));
      });
}

}  // namespace chat::chatd::api
