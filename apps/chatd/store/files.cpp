#include "store/files.hpp"

#include "store/sql_util.hpp"

#include <chat/common/uuid.hpp>

#include <pqxx/pqxx>
#include <sodium.h>

#include <array>
#include <stdexcept>

namespace chat::store {
namespace {

std::array<unsigned char, crypto_hash_sha256_BYTES> sha256_of(std::string_view data) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return digest;
}

// The columns read_file_meta() expects, for a table alias `f`.
#define CHAT_SQL_FILE_COLUMNS(f)                                                                                  \
  f ".id::text, " f ".uploader_id, " f ".name, " f ".mime_type, " f ".size, " f ".width, " f ".height, encode(" f \
    ".sha256, 'hex'), " CHAT_SQL_MS(f ".created_at")

file_meta read_file_meta(const pqxx::row& row) {
  file_meta m;
  m.id = row[0].as<std::string>();
  m.uploader_id = row[1].as<std::int64_t>();
  m.name = row[2].as<std::string>();
  m.mime_type = row[3].as<std::string>();
  m.size = row[4].as<std::int64_t>();
  if (!row[5].is_null()) m.width = row[5].as<std::int32_t>();
  if (!row[6].is_null()) m.height = row[6].as<std::int32_t>();
  m.sha256 = row[7].as<std::string>();
  m.created_at_ms = row[8].as<std::int64_t>();
  return m;
}

// Locks the blob against the clean-up until the transaction ends; false when there is none.
bool lock_blob(pqxx::work& tx, const pqxx::binarystring& hash) {
  return !tx.exec_params("SELECT 1 FROM file_blobs WHERE sha256 = $1 FOR KEY SHARE", hash).empty();
}

}  // namespace

result<file_meta> insert_file(session& db, const new_file& file, std::string_view data) {
  return detail::guarded([&] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
    const auto digest = sha256_of(data);
    const pqxx::binarystring hash(digest.data(), digest.size());
    pqxx::work tx(db.native<pqxx::connection>());
    // The same bytes again: the existing blob, locked, and nothing sent but its hash.
    if (!lock_blob(tx, hash)) {
      const pqxx::binarystring bytes(data.data(), data.size());
      const auto inserted = tx.exec_params(
          "INSERT INTO file_blobs (sha256, data, size) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING RETURNING 1",
          hash, bytes, static_cast<std::int64_t>(data.size()));
      // Nothing inserted: a concurrent upload of the same bytes committed it meanwhile.
      if (inserted.empty() && !lock_blob(tx, hash)) {
        throw pqxx::serialization_failure("file blob vanished while being stored; retry");
      }
    }
    static const std::string sql =
        "INSERT INTO files (id, uploader_id, sha256, name, mime_type, size, width, height) "
        "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8) RETURNING " CHAT_SQL_FILE_COLUMNS("files");
    const auto row = tx.exec_params1(sql, file.id, file.uploader_id, hash, file.name, file.mime_type,
                                     static_cast<std::int64_t>(data.size()), file.width, file.height);
    auto meta = read_file_meta(row);
    tx.commit();
    return meta;
  });
}

result<file_lookup> look_up_file(session& db, std::string_view file_id, std::int64_t user_id) {
  if (!common::is_uuid(file_id)) return file_lookup{};
  return detail::guarded([&] {
    auto& conn = db.native<pqxx::connection>();
    static const std::string name = "chat_file_lookup";
    // Readable: the uploader, or a member of a room where a message (not deleted) attaches it
    // (messages_attachment_file_idx finds those messages).
    static const std::string sql =
        "SELECT " CHAT_SQL_FILE_COLUMNS("f") ", "
        "  f.uploader_id = $2 OR EXISTS ("
        "    SELECT 1 FROM messages m JOIN chat_room_members cm ON cm.room_id = m.room_id AND cm.user_id = $2 "
        "    WHERE m.attachment_file_id = f.id AND NOT m.deleted) "
        "FROM files f WHERE f.id = $1::uuid";
    detail::define(conn, name, sql);
    pqxx::nontransaction tx(conn);
    const auto r = tx.exec_prepared(name, common::normalize_uuid(file_id), user_id);
    file_lookup out;
    if (r.empty()) return out;
    out.meta = read_file_meta(r[0]);
    out.access = r[0][9].as<bool>() ? file_access::granted : file_access::forbidden;
    return out;
  });
}

result<std::optional<file_meta>> readable_file(session& db, std::string_view file_id, std::int64_t user_id) {
  auto found = look_up_file(db, file_id, user_id);
  if (!found) return chat::unexpected(std::move(found.error()));
  if (found->access != file_access::granted) return std::optional<file_meta>();
  return std::optional<file_meta>(std::move(found->meta));
}

result<std::optional<std::string>> file_bytes(session& db, const std::string& sha256, std::int64_t offset,
                                              std::int64_t length) {
  return detail::guarded([&]() -> std::optional<std::string> {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r =
        tx.exec_params("SELECT substring(data FROM $2 FOR $3) FROM file_blobs WHERE sha256 = decode($1, 'hex')", sha256,
                       offset + 1, length);
    if (r.empty() || r[0][0].is_null()) return std::nullopt;
    const pqxx::binarystring bytes(r[0][0]);
    return std::string(bytes.get(), bytes.size());
  });
}

result<file_cleanup> remove_unreferenced_files(session& db, std::chrono::seconds min_age, int batch) {
  return detail::guarded([&] {
    file_cleanup out;
    pqxx::nontransaction tx(db.native<pqxx::connection>());  // each statement commits on its own
    // Files first: an upload older than min_age that no message names. A message stored after
    // this (its send was validated while the file still existed) keeps a dangling id: its
    // attachment then answers 404.
    out.files = tx.exec_params(
                      "DELETE FROM files WHERE id IN ("
                      "  SELECT f.id FROM files f "
                      "  WHERE f.created_at < now() - make_interval(secs => $1) "
                      "    AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.attachment_file_id = f.id) "
                      "  ORDER BY f.created_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
                      static_cast<double>(min_age.count()), batch)
                    .affected_rows();
    // Then the blobs no file uses; one an upload holds (FOR KEY SHARE) is skipped.
    out.blobs = tx.exec_params(
                      "DELETE FROM file_blobs WHERE sha256 IN ("
                      "  SELECT b.sha256 FROM file_blobs b "
                      "  WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256) "
                      "  LIMIT $1 FOR UPDATE SKIP LOCKED)",
                      batch)
                    .affected_rows();
    return out;
  });
}

}  // namespace chat::store
