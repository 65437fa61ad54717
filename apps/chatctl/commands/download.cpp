// download FILE_ID_OR_URL [--out PATH] [--force]: GET /api/files/{id} (docs/rest.md "Files")
#include "commands/commands.hpp"
#include "commands/common.hpp"
#include "core/exit_codes.hpp"

#include <chat/client/files.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace chatctl {

namespace client = chat::client;
namespace fs = std::filesystem;

namespace {

// Files up to this size are downloaded (the server's --max-file-bytes may be at most 512 MiB).
constexpr std::size_t max_download_bytes = std::size_t{512} * 1024 * 1024;

struct download_options {
  std::string file;
  std::string out;  // empty: the server's file name in the current directory; "-": stdout
  bool force = false;
};

// The server's name reduced to a plain file name (no directories, no leading dots).
std::string local_name(std::string name, const std::string& id) {
  if (const auto slash = name.find_last_of("/\\"); slash != std::string::npos) name.erase(0, slash + 1);
  while (!name.empty() && name.front() == '.') name.erase(0, 1);
  for (char& c : name) {
    if (static_cast<unsigned char>(c) < 0x20) c = '_';
  }
  return name.empty() ? id : name;
}

void download(context& ctx, const download_options& o) {
  const auto id = client::file_id_of(o.file);
  if (!id) fail(exit_code::usage, "not a file id or /api/files/ url: " + o.file);
  auto r = client::download_file(ctx.api(), *id, max_download_bytes);
  if (!r) fail_response(r.http, "cannot download file " + *id, ctx.server_text());
  const auto& f = *r.value;
  const bool to_stdout = o.out == "-";
  fs::path path = o.out.empty() ? fs::path(local_name(f.name, *id)) : fs::path(o.out);
  if (!to_stdout) {
    if (fs::is_directory(path)) path /= local_name(f.name, *id);
    if (fs::exists(path) && !o.force) fail(exit_code::error, path.string() + " exists (--force overwrites it)");
    const fs::path partial = path.string() + ".part";
    {
      std::ofstream out(partial, std::ios::binary | std::ios::trunc);
      out.write(f.data.data(), static_cast<std::streamsize>(f.data.size()));
      if (!out.flush()) fail(exit_code::error, "cannot write " + partial.string());
    }
    std::error_code ec;
    fs::rename(partial, path, ec);
    if (ec) fail(exit_code::error, "cannot write " + path.string() + ": " + ec.message());
  } else {
    std::cout.write(f.data.data(), static_cast<std::streamsize>(f.data.size()));
    std::cout.flush();
    if (!std::cout) fail(exit_code::error, "cannot write to stdout");
    return;  // stdout holds the file: nothing else goes there
  }
  auto& out = ctx.out();
  if (out.fmt() == format::table) {
    out.line(path.string());
    ctx.note(std::to_string(f.data.size()) + " bytes, " + f.mime_type);
  } else {
    out.document({{"id", *id},
                  {"path", path.string()},
                  {"name", f.name},
                  {"size", f.data.size()},
                  {"mimeType", f.mime_type},
                  {"sha256", f.etag.size() > 2 ? f.etag.substr(1, f.etag.size() - 2) : f.etag}});
  }
}

}  // namespace

void add_download_command(CLI::App& app, context& ctx) {
  auto o = std::make_shared<download_options>();
  auto* sub = app.add_subcommand("download", "Download an uploaded file (GET /api/files/{id})");
  sub->add_option("FILE", o->file, "file id, or its url (/api/files/ID or http://host/api/files/ID)")->required();
  sub->add_option("-O,--out", o->out,
                  "where to write it (default: the file's name in the current directory; a directory: "
                  "the file's name in it; -: stdout)")
      ->type_name("PATH");
  sub->add_flag("--force", o->force, "overwrite an existing file");
  sub->footer(examples({"chatctl download 3b241101-e2bb-4255-8caf-4136c566a962",
                        "chatctl download /api/files/3b241101-e2bb-4255-8caf-4136c566a962 -O cat.png",
                        "chatctl download 3b241101-e2bb-4255-8caf-4136c566a962 -O - | sha256sum"}));
  on_run(sub, ctx, o, download);
}

}  // namespace chatctl
