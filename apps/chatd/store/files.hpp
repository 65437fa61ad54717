#pragma once
// Files (SPEC §16, docs/rest.md "Files", sql/0003_files.sql): uploads in PostgreSQL,
// content-addressed (file_blobs by SHA-256) and deduplicated; who may read one; the clean-up
// of old unreferenced uploads. Run on db_pool workers (or a consumer's own connection) only;
// database failures come back as store::error.
#include "store/error.hpp"
#include "store/session.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::store {

struct file_meta {
  std::string id;  // UUID, lower case
  std::int64_t uploader_id = 0;
  std::string name;
  std::string mime_type;
  std::int64_t size = 0;
  std::optional<std::int32_t> width;  // images only (both or neither)
  std::optional<std::int32_t> height;
  std::string sha256;  // 64 lower-case hex digits
  std::int64_t created_at_ms = 0;
};

struct new_file {
  std::string id;  // a fresh UUID
  std::int64_t uploader_id = 0;
  std::string name;
  std::string mime_type;
  std::optional<std::int32_t> width;
  std::optional<std::int32_t> height;
};

// Stores `data` once per content (file_blobs keyed by its SHA-256: the same bytes again add no
// blob) and a files row for this upload. One transaction; the blob is locked (FOR KEY SHARE)
// until the files row that uses it is committed, so a concurrent clean-up cannot remove it in
// between. errc::not_found when the uploader does not exist (any more).
result<file_meta> insert_file(session& db, const new_file& file, std::string_view data);

// Whether `user_id` may read (download) or attach the file: its uploader, or a member of a room
// holding a message, not deleted, whose attachment names it (messages.attachment_file_id).
enum class file_access { granted, forbidden, no_such_file };

struct file_lookup {
  file_access access = file_access::no_such_file;
  file_meta meta;  // set unless no_such_file
};

// `file_id` must be a UUID (common::is_uuid); anything else is no_such_file.
result<file_lookup> look_up_file(session& db, std::string_view file_id, std::int64_t user_id);

// For the send path (the gateway and REST before publishing a message with an attachment url
// /api/files/{id}): the file's metadata (name, size, mimeType, width, height) when `user_id` may
// attach it (look_up_file granted: the uploader, or the file is readable to them already), else
// nullopt (no such file, or not theirs to share). Never reads the file's bytes.
result<std::optional<file_meta>> readable_file(session& db, std::string_view file_id, std::int64_t user_id);

// `length` bytes of the blob `sha256` (hex) from byte `offset` (0-based); only those bytes are
// read (the data column is stored uncompressed out of line). nullopt when the blob is gone.
result<std::optional<std::string>> file_bytes(session& db, const std::string& sha256, std::int64_t offset,
                                              std::int64_t length);

struct file_cleanup {
  std::int64_t files = 0;  // files rows removed
  std::int64_t blobs = 0;  // file_blobs rows removed
};

// Removes the uploads older than `min_age` that no message names (messages.attachment_file_id),
// then the blobs no file uses. Safe on several nodes at once: blobs are taken FOR UPDATE SKIP
// LOCKED, and one that an upload is about to reuse (locked by insert_file) is left alone. At most
// `batch` rows of each per call.
result<file_cleanup> remove_unreferenced_files(session& db, std::chrono::seconds min_age, int batch = 1000);

}  // namespace chat::store
