#include "core/context.hpp"

#include "core/duration.hpp"
#include "core/exit_codes.hpp"

#include <iostream>

#include <unistd.h>

namespace chatctl {

namespace client = chat::client;

context::context() = default;

std::string context::profile_name() const { return opts.profile.empty() ? std::string(default_profile) : opts.profile; }

config_file& context::config() {
  if (!config_) {
    const auto path = default_config_path();
    if (!path) fail(exit_code::error, "cannot locate the configuration: neither XDG_CONFIG_HOME nor HOME is set");
    try {
      config_ = config_file::load(*path);
    } catch (const config_error& e) {
      fail(exit_code::error, e.what());
    }
    if (const auto loose = config_->loose_permissions(); loose != 0 && !warned_permissions_) {
      warned_permissions_ = true;
      warn(config_->path().string() + " is readable by other users; it will be rewritten with mode 0600");
    }
  }
  return *config_;
}

profile context::current_profile() { return config().get(profile_name()).value_or(profile{}); }

void context::save_profile(const profile& p) {
  auto& c = config();
  c.put(profile_name(), p);
  try {
    c.save();
  } catch (const config_error& e) {
    fail(exit_code::error, e.what());
  }
}

const client::url& context::server() {
  if (!server_) {
    std::string text = opts.server;
    std::string origin = "--server";
    if (text.empty()) {
      text = current_profile().server;
      origin = "profile " + profile_name();
    }
    if (text.empty()) {
      text = default_server;
      origin = "default";
    }
    std::string why;
    auto parsed = client::parse_url(text, &why);
    if (!parsed || parsed->kind != client::scheme::http) {
      fail(exit_code::usage, "bad server URL '" + text + "' (" + origin +
                                 "): " + (parsed ? std::string("expected http://host:port") : why));
    }
    server_ = std::move(parsed);
  }
  return *server_;
}

std::string context::server_text() { return client::to_string(server()); }

std::string context::token() {
  if (!opts.token.empty()) return opts.token;
  return current_profile().token;
}

client::rest_client& context::api(bool require_token) {
  if (!api_) {
    api_ = std::make_unique<client::rest_client>(server(),
                                                 client::rest_options{.timeout = timeout(), .user_agent = "chatctl"});
  }
  if (require_token) {
    const auto t = token();
    if (t.empty()) {
      fail(exit_code::unauthorized,
           "not logged in (profile " + profile_name() + "): run chatctl auth login, or pass --token / CHAT_TOKEN");
    }
    api_->set_token(t);
  } else {
    api_->set_token({});
  }
  return *api_;
}

std::chrono::milliseconds context::timeout() {
  const auto parsed = parse_duration(opts.timeout);
  if (!parsed)
    fail(exit_code::usage, "--timeout: expected a duration such as 10s or 500ms, got '" + opts.timeout + "'");
  return *parsed;
}

client::stomp_options context::stomp_options() {
  client::stomp_options o;
  if (opts.stomp.empty()) {
    o.server = client::websocket_url_for(server());
  } else {
    std::string why;
    auto parsed = client::parse_url(opts.stomp, &why);
    if (!parsed || parsed->kind == client::scheme::http) {
      fail(exit_code::usage, "bad --stomp-url '" + opts.stomp +
                                 "': " + (parsed ? std::string("expected ws://host:port/ws or tcp://host:port") : why));
    }
    o.server = std::move(*parsed);
  }
  o.token = token();
  if (o.token.empty()) {
    fail(exit_code::unauthorized,
         "not logged in (profile " + profile_name() + "): run chatctl auth login, or pass --token / CHAT_TOKEN");
  }
  o.connect_timeout = timeout();
  o.disconnect_timeout = timeout();
  // We can beat every second if the server asks for it; we want its beats every 10 s.
  o.heart_beat = {1000, 10000};
  return o;
}

output& context::out() {
  if (!out_) {
    format f = format::table;
    if (!opts.output.empty()) {
      const auto parsed = parse_format(opts.output);
      if (!parsed) fail(exit_code::usage, "-o: expected table, json or jsonl");
      f = *parsed;
    }
    out_ = std::make_unique<output>(f, is_terminal(STDOUT_FILENO), color_wanted(STDOUT_FILENO), std::cout);
  }
  return *out_;
}

void context::note(std::string_view text) {
  if (opts.quiet) return;
  std::cerr << text << '\n';
}

void context::warn(std::string_view text) {
  const bool color = color_wanted(STDERR_FILENO);
  std::cerr << (color ? "\x1b[33mwarning:\x1b[0m " : "warning: ") << text << '\n';
}

}  // namespace chatctl
