#include "store/tokens.hpp"

#include "store/sql_util.hpp"

#include <pqxx/pqxx>

namespace chat::store {
namespace {

std::int64_t until_for(std::int64_t issued_or_revoked_s, std::chrono::seconds jwt_ttl) {
  return issued_or_revoked_s + jwt_ttl.count() + tokens::revocation_margin_s;
}

// Revocation of a family inside `tx`; true when it was live.
bool revoke_family_in(pqxx::work& tx, const std::string& family_id, std::int64_t user_id, revoke_reason reason) {
  const auto r = tx.exec_params(
      "UPDATE refresh_families SET revoked_at = now(), revoked_reason = $3 "
      "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
      family_id, user_id, std::string(to_string(reason)));
  return r.affected_rows() > 0;
}

}  // namespace

std::string_view to_string(revoke_reason r) noexcept {
  switch (r) {
    case revoke_reason::logout: return "logout";
    case revoke_reason::reuse: return "reuse";
    case revoke_reason::logout_all: return "logout_all";
    case revoke_reason::password_change: return "password_change";
  }
  return "logout";
}

result<void> create_refresh_family(session& db, const std::string& family_id, std::int64_t user_id,
                                   const std::string& token_hash, std::int64_t expires_at_s) {
  return detail::guarded([&] {
    pqxx::work tx(db.native<pqxx::connection>());
    tx.exec_params("INSERT INTO refresh_families (id, user_id) VALUES ($1, $2)", family_id, user_id);
    tx.exec_params("INSERT INTO refresh_tokens (token_hash, family_id, expires_at) VALUES ($1, $2, to_timestamp($3))",
                   token_hash, family_id, expires_at_s);
    tx.commit();
  });
}

result<refresh_outcome> rotate_refresh_token(session& db, const std::string& presented_hash,
                                             const std::string& next_hash, std::int64_t next_expires_at_s,
                                             std::int64_t now_s) {
  return detail::guarded([&] {
    pqxx::work tx(db.native<pqxx::connection>());
    refresh_outcome out;
    // The token's row and its family's are locked: a concurrent refresh of the same token
    // waits here and then sees used_at set (reuse); a concurrent logout sees the family.
    const auto rows = tx.exec_params(
        "SELECT t.used_at IS NOT NULL, f.revoked_at IS NOT NULL, floor(extract(epoch FROM t.expires_at))::bigint, "
        "f.id, u.id, u.email, u.nickname, COALESCE(w.revoked_before, 0) "
        "FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id JOIN users u ON u.id = f.user_id "
        "LEFT JOIN user_token_watermarks w ON w.user_id = u.id "
        "WHERE t.token_hash = $1 FOR UPDATE OF t, f",
        presented_hash);
    if (rows.empty()) {
      out.verdict = tokens::refresh_verdict::unknown;
      return out;
    }
    const auto& row = rows[0];
    tokens::refresh_state state;
    state.used = row[0].as<bool>();
    state.family_revoked = row[1].as<bool>();
    state.expires_at = row[2].as<std::int64_t>();
    out.family_id = row[3].as<std::string>();
    out.user_id = row[4].as<std::int64_t>();
    out.email = row[5].as<std::string>();
    out.nickname = row[6].as<std::string>();
    out.watermark = row[7].as<std::int64_t>();
    out.verdict = tokens::judge_refresh(state, now_s);
    switch (out.verdict) {
      case tokens::refresh_verdict::rotate:
        tx.exec_params("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1", presented_hash);
        tx.exec_params(
            "INSERT INTO refresh_tokens (token_hash, family_id, expires_at) VALUES ($1, $2, to_timestamp($3))",
            next_hash, out.family_id, next_expires_at_s);
        break;
      case tokens::refresh_verdict::reused:
        revoke_family_in(tx, out.family_id, out.user_id, revoke_reason::reuse);
        break;
      case tokens::refresh_verdict::unknown:
      case tokens::refresh_verdict::revoked:
      case tokens::refresh_verdict::expired: break;
    }
    tx.commit();
    return out;
  });
}

result<std::optional<std::string>> refresh_family_of(session& db, const std::string& token_hash, std::int64_t user_id) {
  return detail::guarded([&]() -> std::optional<std::string> {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r = tx.exec_params(
        "SELECT f.id FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id "
        "WHERE t.token_hash = $1 AND f.user_id = $2",
        token_hash, user_id);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
  });
}

result<bool> revoke_refresh_family(session& db, const std::string& family_id, std::int64_t user_id,
                                   revoke_reason reason) {
  return detail::guarded([&] {
    pqxx::work tx(db.native<pqxx::connection>());
    const bool revoked = revoke_family_in(tx, family_id, user_id, reason);
    tx.commit();
    return revoked;
  });
}

result<void> revoke_access_token(session& db, const std::string& jti, std::int64_t user_id, std::int64_t expires_at_s) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    tx.exec_params(
        "INSERT INTO revoked_access_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING",
        jti, user_id, expires_at_s);
  });
}

result<std::int64_t> revoke_all_tokens(session& db, std::int64_t user_id, std::int64_t before_s, revoke_reason reason) {
  return detail::guarded([&] {
    pqxx::work tx(db.native<pqxx::connection>());
    const auto r = tx.exec_params(
        "INSERT INTO user_token_watermarks (user_id, revoked_before) VALUES ($1, $2) "
        "ON CONFLICT (user_id) DO UPDATE SET revoked_before = GREATEST(user_token_watermarks.revoked_before, "
        "EXCLUDED.revoked_before), updated_at = now() RETURNING revoked_before",
        user_id, before_s);
    tx.exec_params(
        "UPDATE refresh_families SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        user_id, std::string(to_string(reason)));
    tx.commit();
    return r[0][0].as<std::int64_t>();
  });
}

result<std::int64_t> token_watermark(session& db, std::int64_t user_id) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r = tx.exec_params("SELECT revoked_before FROM user_token_watermarks WHERE user_id = $1", user_id);
    return r.empty() ? std::int64_t{0} : r[0][0].as<std::int64_t>();
  });
}

result<tokens::revocation_reason> access_token_revocation(session& db, const tokens::token_ref& token) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    const auto r = tx.exec_params(
        "SELECT EXISTS (SELECT 1 FROM user_token_watermarks WHERE user_id = $1 AND revoked_before > $4), "
        "EXISTS (SELECT 1 FROM refresh_families WHERE id = $3 AND revoked_at IS NOT NULL), "
        "EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $2)",
        token.user_id, std::string(token.token_id), std::string(token.session_id), token.issued_at);
    if (r[0][0].as<bool>()) return tokens::revocation_reason::user;
    if (r[0][1].as<bool>()) return tokens::revocation_reason::session;
    if (r[0][2].as<bool>()) return tokens::revocation_reason::token;
    return tokens::revocation_reason::none;
  });
}

result<std::vector<tokens::revocation>> revocations_since(session& db, std::int64_t since_s, std::int64_t now_s,
                                                          std::chrono::seconds jwt_ttl) {
  return detail::guarded([&] {
    pqxx::nontransaction tx(db.native<pqxx::connection>());
    std::vector<tokens::revocation> out;
    const std::int64_t horizon = now_s - jwt_ttl.count() - tokens::revocation_margin_s;
    for (const auto& row : tx.exec_params("SELECT jti, user_id, expires_at FROM revoked_access_tokens "
                                          "WHERE revoked_at >= to_timestamp($1) AND expires_at > $2",
                                          since_s, now_s)) {
      out.push_back({tokens::revocation_kind::token, row[1].as<std::int64_t>(), row[0].as<std::string>(), 0,
                     row[2].as<std::int64_t>() + tokens::revocation_margin_s});
    }
    for (const auto& row :
         tx.exec_params("SELECT id, user_id, floor(extract(epoch FROM revoked_at))::bigint FROM refresh_families "
                        "WHERE revoked_at >= to_timestamp(GREATEST($1, $2))",
                        since_s, horizon)) {
      out.push_back({tokens::revocation_kind::session, row[1].as<std::int64_t>(), row[0].as<std::string>(), 0,
                     until_for(row[2].as<std::int64_t>(), jwt_ttl)});
    }
    for (const auto& row : tx.exec_params("SELECT user_id, revoked_before FROM user_token_watermarks "
                                          "WHERE updated_at >= to_timestamp($1) AND revoked_before > $2",
                                          since_s, horizon)) {
      const auto before = row[1].as<std::int64_t>();
      out.push_back({tokens::revocation_kind::user, row[0].as<std::int64_t>(), {}, before, until_for(before, jwt_ttl)});
    }
    return out;
  });
}

result<std::int64_t> delete_expired_tokens(session& db, std::chrono::seconds jwt_ttl) {
  return detail::guarded([&] {
    pqxx::work tx(db.native<pqxx::connection>());
    const std::int64_t keep_s = jwt_ttl.count() + tokens::revocation_margin_s;
    std::int64_t n = 0;
    n += tx.exec("DELETE FROM refresh_tokens WHERE expires_at < now()").affected_rows();
    n += tx.exec_params("DELETE FROM revoked_access_tokens WHERE expires_at + $1 < floor(extract(epoch FROM now()))",
                        tokens::revocation_margin_s)
             .affected_rows();
    // A family without tokens can no longer be refreshed; once its access tokens have expired
    // too (the last was issued at its last rotation, before its last token expired), nothing
    // refers to it.
    n += tx.exec_params(
               "DELETE FROM refresh_families f WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = "
               "f.id) AND COALESCE(f.revoked_at, f.created_at) < now() - make_interval(secs => $1)",
               keep_s)
             .affected_rows();
    tx.commit();
    return n;
  });
}

}  // namespace chat::store
