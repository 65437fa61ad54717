// admin gentoken (docs/chatctl.md "Operators"): an access token signed with chatd's JWT secret,
// made here from the secret file, without the server.
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "core/duration.hpp"
#include "core/exit_codes.hpp"

#include <chat/auth/jwt.hpp>
#include <chat/auth/refresh_token.hpp>
#include <chat/common/time.hpp>

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

namespace chatctl {
namespace {

struct gentoken_options {
  std::int64_t user = 0;
  std::string ttl = "1h";
  std::string secret_file;
  std::string email;
};

// The secret as chatd reads --jwt-secret-file: the file's bytes without trailing line ends.
std::string read_secret(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(exit_code::usage, "cannot read the secret file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto secret = ss.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.size() < 32)
    fail(exit_code::usage, "the secret in " + path + " is shorter than 32 bytes (chatd refuses it)");
  return secret;
}

void gentoken(context& ctx, const gentoken_options& o) {
  if (o.user <= 0) fail(exit_code::usage, "--user: a positive user id");
  const auto ttl = parse_duration(o.ttl);
  if (!ttl || ttl->count() < 1000) fail(exit_code::usage, "--ttl: a duration from 1s to 24h, such as 15m or 1h");
  const auto secret = read_secret(o.secret_file);
  chat::auth::claims c;
  c.user_id = o.user;
  c.email = o.email;
  c.issued_at = chat::common::now_unix_ms() / 1000;
  c.expires_at = c.issued_at + std::chrono::duration_cast<std::chrono::seconds>(*ttl).count();
  c.token_id = chat::auth::make_token_id();
  const auto token = chat::auth::sign_jwt(c, secret);
  if (token.empty()) fail(exit_code::error, "signing failed");
  if (ctx.out().fmt() == format::table) {
    std::cout << token << "\n";
    return;
  }
  ctx.out().document(
      {{"token", token}, {"userId", o.user}, {"expiresAt", chat::common::format_iso8601_ms(c.expires_at * 1000)}});
}

}  // namespace

void add_admin_commands(CLI::App& app, context& ctx) {
  auto* admin = app.add_subcommand("admin", "Operator commands that need no server");
  admin->require_subcommand(1);
  auto o = std::make_shared<gentoken_options>();
  auto* sub = admin->add_subcommand(
      "gentoken", "Print an access token for a user, signed with chatd's JWT secret (for operators and tests)");
  sub->add_option("--user", o->user, "user id (the token's sub)")->required();
  sub->add_option("--ttl", o->ttl, "lifetime, 1s to 24h")->capture_default_str();
  sub->add_option("--secret-file", o->secret_file, "chatd's --jwt-secret-file")
      ->envname("CHATD_JWT_SECRET_FILE")
      ->required();
  sub->add_option("--email", o->email, "email claim (informational; chatd identifies the user by id)");
  sub->footer(examples({"chatctl admin gentoken --user 7 --ttl 15m --secret-file /etc/chatd/jwt-secret",
                        "TOKEN=$(chatctl admin gentoken --user 7 --secret-file secret) && curl -H \"Authorization: "
                        "Bearer $TOKEN\" http://localhost:8080/api/users/me"}));
  on_run(sub, ctx, o, gentoken);
}

}  // namespace chatctl
