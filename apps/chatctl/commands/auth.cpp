// auth signup|login|logout|passwd|whoami|token
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "core/exit_codes.hpp"
#include "core/password.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace chatctl {

namespace client = chat::client;
using json = nlohmann::ordered_json;

namespace {

struct credentials_options {
  std::string email;
  std::string nickname;
  bool password_stdin = false;
};

std::string obtain_password(const credentials_options& o, bool confirm) {
  if (o.password_stdin) return read_password_line(std::cin);
  return prompt_password("Password for " + o.email + ": ", confirm);
}

// Stores the session in the profile and prints who is logged in.
void remember(context& ctx, const client::session_info& s) {
  profile p = ctx.current_profile();
  p.server = ctx.server_text();
  p.token = s.token;
  p.refresh_token = s.refresh_token;
  p.user_id = s.user_id;
  p.email = s.email;
  p.nickname = s.nickname;
  ctx.save_profile(p);
  ctx.note("Logged in as " + s.nickname + " <" + s.email + "> on " + p.server + " (profile " + ctx.profile_name() +
           ", token saved in " + ctx.config().path().string() + ")");
  auto& out = ctx.out();
  if (out.fmt() == format::table) {
    out.table({"USER ID", "EMAIL", "NICKNAME"}, {{std::to_string(s.user_id), s.email, s.nickname}});
  } else {
    out.document({{"userId", s.user_id},
                  {"email", s.email},
                  {"nickname", s.nickname},
                  {"server", p.server},
                  {"profile", ctx.profile_name()}});
  }
}

void signup(context& ctx, const credentials_options& o) {
  std::string nickname = o.nickname.empty() ? o.email.substr(0, o.email.find('@')) : o.nickname;
  auto& api = ctx.api(false);
  std::string password = obtain_password(o, true);
  auto r = api.signup(o.email, password, nickname);
  password.assign(password.size(), '\0');
  if (!r) fail_response(r.http, "cannot sign up " + o.email, ctx.server_text());
  remember(ctx, *r.value);
}

void login(context& ctx, const credentials_options& o) {
  auto& api = ctx.api(false);
  std::string password = obtain_password(o, false);
  auto r = api.login(o.email, password);
  password.assign(password.size(), '\0');
  if (!r) fail_response(r.http, "cannot log in as " + o.email, ctx.server_text());
  remember(ctx, *r.value);
}

// Revokes the session on the server (with --all, every session of the user), then forgets the
// tokens. A token the server no longer accepts (expired beyond renewal, revoked) is forgotten
// anyway: there is nothing left to revoke.
void logout(context& ctx, bool all) {
  auto p = ctx.current_profile();
  const bool had_token = !p.token.empty() || !ctx.opts.token.empty();
  if (!had_token) {
    ctx.note("Profile " + ctx.profile_name() + " was not logged in");
    if (ctx.out().fmt() != format::table) ctx.out().document({{"profile", ctx.profile_name()}, {"loggedOut", false}});
    return;
  }
  auto& api = ctx.api();
  const auto refresh_token = ctx.current_profile().refresh_token;  // api() may have renewed it
  const auto r = all ? api.logout_all() : api.logout(refresh_token);
  const bool revoked = r.ok();
  if (!revoked && r.status != 401) {
    fail_response(r, all ? "cannot log out everywhere" : "cannot log out", ctx.server_text());
  }
  p = ctx.current_profile();
  if (!p.token.empty() || !p.refresh_token.empty()) {
    p.token.clear();
    p.refresh_token.clear();
    ctx.save_profile(p);
  }
  ctx.note(std::string(revoked ? (all ? "Logged out everywhere" : "Logged out") : "The session had ended already") +
           " (profile " + ctx.profile_name() + ", tokens removed)");
  if (ctx.out().fmt() != format::table) {
    ctx.out().document({{"profile", ctx.profile_name()}, {"loggedOut", true}, {"all", all}, {"revoked", revoked}});
  }
}

struct passwd_options {
  bool password_stdin = false;
};

// Changes the password (the server revokes every token of the user), then logs in again with
// the new one so that this profile stays logged in.
void passwd(context& ctx, const passwd_options& o) {
  auto& api = ctx.api();
  const auto p = ctx.current_profile();
  std::string current;
  std::string next;
  if (o.password_stdin) {
    current = read_password_line(std::cin);
    next = read_password_line(std::cin);
  } else {
    current = prompt_password("Current password: ", false);
    next = prompt_password("New password: ", true);
  }
  const auto r = api.change_password(current, next);
  current.assign(current.size(), '\0');
  if (!r.ok()) {
    next.assign(next.size(), '\0');
    if (r.status == 403) fail(exit_code::forbidden, "cannot change the password: the current password is wrong");
    fail_response(r, "cannot change the password", ctx.server_text());
  }
  ctx.note("Password changed; every session of this account was logged out");
  std::string email = p.email;
  if (email.empty()) {
    next.assign(next.size(), '\0');
    ctx.note("Log in again with: chatctl auth login --email <email>");
    return;
  }
  auto& fresh = ctx.api(false);
  auto login = fresh.login(email, next);
  next.assign(next.size(), '\0');
  if (!login) fail_response(login.http, "password changed, but cannot log in again as " + email, ctx.server_text());
  remember(ctx, *login.value);
}

void whoami(context& ctx) {
  auto r = ctx.api().me();
  if (!r) fail_response(r.http, "cannot tell who is logged in", ctx.server_text());
  const auto& u = *r.value;
  auto& out = ctx.out();
  if (out.fmt() == format::table) {
    out.table({"USER ID", "EMAIL", "NICKNAME", "SERVER"},
              {{std::to_string(u.id), u.email, u.nickname, ctx.server_text()}});
  } else {
    out.document_text(chat::proto::to_json(u));
  }
}

void token(context& ctx) {
  const auto t = ctx.token();
  if (t.empty()) fail(exit_code::unauthorized, "not logged in (profile " + ctx.profile_name() + ")");
  if (ctx.out().fmt() == format::table) {
    ctx.out().line(t);
  } else {
    ctx.out().document({{"token", t}});
  }
}

}  // namespace

void add_auth_commands(CLI::App& app, context& ctx) {
  auto* auth = app.add_subcommand("auth", "Accounts: sign up, log in and out, show the current user or token");
  auth->require_subcommand(1);
  auth->footer(examples({"chatctl auth login --email ann@example.com", "chatctl auth whoami -o json"}));

  {
    auto o = std::make_shared<credentials_options>();
    auto* sub = auth->add_subcommand("signup", "Create an account and log in (the token is saved in the profile)");
    sub->add_option("--email", o->email, "email address")->required();
    sub->add_option("--nickname", o->nickname, "display name (default: the email's local part)");
    sub->add_flag("--password-stdin", o->password_stdin, "read the password from the first line of stdin");
    sub->footer(examples({"chatctl auth signup --email ann@example.com --nickname ann",
                          "printf '%s\\n' \"$PW\" | chatctl auth signup --email ann@example.com --password-stdin"}));
    on_run(sub, ctx, o, signup);
  }
  {
    auto o = std::make_shared<credentials_options>();
    auto* sub = auth->add_subcommand("login", "Log in and save the token in the profile");
    sub->add_option("--email", o->email, "email address")->required();
    sub->add_flag("--password-stdin", o->password_stdin, "read the password from the first line of stdin");
    sub->footer(examples({"chatctl auth login --email ann@example.com",
                          "chatctl --server http://chat:8080 --profile prod auth login --email ann@example.com "
                          "--password-stdin < pw.txt"}));
    on_run(sub, ctx, o, login);
  }
  {
    auto o = std::make_shared<bool>(false);
    auto* sub = auth->add_subcommand("logout", "Log out: revoke the session on the server and forget its tokens");
    sub->add_flag("--all", *o, "revoke every session of the user (all devices), not only this one");
    sub->footer(examples({"chatctl auth logout", "chatctl auth logout --all", "chatctl --profile prod auth logout"}));
    on_run(sub, ctx, o, [](context& c, bool all) { logout(c, all); });
  }
  {
    auto o = std::make_shared<passwd_options>();
    auto* sub = auth->add_subcommand(
        "passwd", "Change the password (every session is logged out; this profile logs in again with the new one)");
    sub->add_flag("--password-stdin", o->password_stdin,
                  "read the current password from the first line of stdin and the new one from the second");
    sub->footer(examples(
        {"chatctl auth passwd", "printf '%s\\n%s\\n' \"$OLD\" \"$NEW\" | chatctl auth passwd --password-stdin"}));
    on_run(sub, ctx, o, passwd);
  }
  {
    auto o = std::make_shared<int>(0);
    auto* sub = auth->add_subcommand("whoami", "Show the logged-in user (asks the server)");
    sub->footer(examples({"chatctl auth whoami", "chatctl auth whoami -o json | jq .id"}));
    on_run(sub, ctx, o, [](context& c, int) { whoami(c); });
  }
  {
    auto o = std::make_shared<int>(0);
    auto* sub = auth->add_subcommand("token", "Print the token (for scripts and other STOMP clients)");
    sub->footer(examples({"export CHAT_TOKEN=$(chatctl auth token)"}));
    on_run(sub, ctx, o, [](context& c, int) { token(c); });
  }
}

}  // namespace chatctl
