// lib/client files.hpp: uploads and downloads against a fake HTTP server, MIME guessing, ids.
#include "fakes.hpp"

#include <chat/client/errc.hpp>
#include <chat/client/files.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace chat::client {
namespace {

using test::fake_http_server;
using test::json_response;
namespace bhttp = test::bhttp;
using request_type = bhttp::request<bhttp::string_body>;

const char* png_answer =
    R"({"id":"3b241101-e2bb-4255-8caf-4136c566a962","url":"/api/files/3b241101-e2bb-4255-8caf-4136c566a962",)"
    R"("name":"cat 1.png","size":9,"mimeType":"image/png","sha256":"ab","width":640,"height":480})";

TEST(ClientFiles, UploadSendsTheRawBodyWithTypeAndName) {
  fake_http_server server([](const request_type&) { return json_response(201, png_answer); });
  rest_client api(server.address());
  api.set_token("t");
  const std::string data("\x89PNG\r\n\x1a\n\0", 9);
  const auto r = upload_bytes(api, data, "cat 1.png", "image/png");
  ASSERT_TRUE(r) << r.http.error.message() << " " << r.http.status;
  EXPECT_EQ(r.value->id, "3b241101-e2bb-4255-8caf-4136c566a962");
  EXPECT_EQ(r.value->url, "/api/files/3b241101-e2bb-4255-8caf-4136c566a962");
  EXPECT_EQ(r.value->size, 9);
  EXPECT_EQ(r.value->width, 640);
  EXPECT_EQ(r.value->height, 480);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method(), bhttp::verb::post);
  EXPECT_EQ(reqs[0].target(), "/api/files?name=cat%201.png");
  EXPECT_EQ(reqs[0][bhttp::field::content_type], "image/png");
  EXPECT_EQ(reqs[0].body(), data);
  EXPECT_EQ(reqs[0][bhttp::field::authorization], "Bearer t");

  const auto a = attachment_of(*r.value);
  EXPECT_EQ(a.url, r.value->url);
  EXPECT_EQ(a.name, "cat 1.png");
  EXPECT_EQ(a.mime_type, "image/png");
  EXPECT_EQ(a.width, 640);
  EXPECT_EQ(message_type_of(*r.value), proto::message_type::image);
}

TEST(ClientFiles, UploadFileReadsGuessesAndReportsErrors) {
  fake_http_server server([](const request_type&) {
    return json_response(413, R"({"error":{"code":"payload_too_large","message":"too big"}})");
  });
  rest_client api(server.address());
  const auto path = std::filesystem::temp_directory_path() / ("chat-files-test-" + std::to_string(::getpid()) + ".gif");
  {
    std::ofstream out(path, std::ios::binary);
    out << "GIF89a\x01\x00\x01\x00";
  }
  const auto r = upload_file(api, path);
  std::filesystem::remove(path);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.http.status, 413u);
  EXPECT_EQ(r.http.api.code, "payload_too_large");
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0][bhttp::field::content_type], "image/gif");
  EXPECT_EQ(reqs[0].target(), "/api/files?name=" + path.filename().string());

  const auto missing = upload_file(api, "/nonexistent/chat-files-test");
  EXPECT_FALSE(missing);
  EXPECT_EQ(missing.http.error, std::errc::no_such_file_or_directory);
  EXPECT_EQ(server.requests().size(), 1u);  // no request for a file that cannot be read
}

TEST(ClientFiles, AnAnswerThatIsNoFileIsBadResponse) {
  fake_http_server server([](const request_type&) { return json_response(201, R"({"id":"x"})"); });
  rest_client api(server.address());
  const auto r = upload_bytes(api, "x", "x", "text/plain");
  EXPECT_FALSE(r);
  EXPECT_EQ(r.http.error, errc::bad_response);
}

TEST(ClientFiles, DownloadReadsBytesTypeNameAndTag) {
  const std::string data("bin\0ary", 7);
  fake_http_server server([&](const request_type&) {
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
    res.set(bhttp::field::content_type, "application/pdf");
    res.set(bhttp::field::content_disposition,
            "attachment; filename=\"Gr____e.pdf\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe.pdf");
    res.set(bhttp::field::etag, "\"abc\"");
    res.body() = data;
    res.prepare_payload();
    return res;
  });
  rest_client api(server.address());
  const auto r = download_file(api, "http://h:1/api/files/3B241101-E2BB-4255-8CAF-4136C566A962");
  ASSERT_TRUE(r) << r.http.error.message();
  EXPECT_EQ(r.value->data, data);
  EXPECT_EQ(r.value->mime_type, "application/pdf");
  EXPECT_EQ(r.value->name, "Grüße.pdf");
  EXPECT_EQ(r.value->etag, "\"abc\"");
  EXPECT_EQ(r.http.header("content-type"), "application/pdf");
  EXPECT_EQ(server.requests().at(0).target(), "/api/files/3b241101-e2bb-4255-8caf-4136c566a962");

  const auto bad = download_file(api, "not-an-id");
  EXPECT_EQ(bad.http.error, errc::bad_url);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ClientFiles, FileIds) {
  const std::string id = "3b241101-e2bb-4255-8caf-4136c566a962";
  EXPECT_EQ(file_id_of(id), id);
  EXPECT_EQ(file_id_of("/api/files/" + id), id);
  EXPECT_EQ(file_id_of("https://chat.example.com/api/files/" + id + "?x=1"), id);
  EXPECT_EQ(file_id_of("http://127.0.0.1:8080/base/api/files/" + id + "/"), id);
  EXPECT_FALSE(file_id_of(""));
  EXPECT_FALSE(file_id_of("/api/files/"));
  EXPECT_FALSE(file_id_of("/api/rooms/" + id));
  EXPECT_FALSE(file_id_of("ftp://x/api/files/" + id));
  EXPECT_FALSE(file_id_of(id.substr(1)));
}

TEST(ClientFiles, GuessesMimeTypes) {
  EXPECT_EQ(guess_mime_type("x.bin", "\x89PNG\r\n\x1a\n"), "image/png");
  EXPECT_EQ(guess_mime_type("photo.png", "\xFF\xD8\xFF\xE0"), "image/jpeg");  // the bytes win
  EXPECT_EQ(guess_mime_type("a.gif", "GIF87a"), "image/gif");
  EXPECT_EQ(guess_mime_type("a", std::string_view("RIFF\x10\0\0\0WEBPVP8 ", 16)), "image/webp");
  EXPECT_EQ(guess_mime_type("a", "%PDF-1.7"), "application/pdf");
  EXPECT_EQ(guess_mime_type("Notes.TXT", "hello"), "text/plain; charset=utf-8");
  EXPECT_EQ(guess_mime_type("a.docx", "PK\x03\x04"), "application/zip");
  EXPECT_EQ(guess_mime_type("archive.tar", ""), "application/x-tar");
  EXPECT_EQ(guess_mime_type("noext", "\x01\x02"), "application/octet-stream");
}

TEST(ClientFiles, DispositionFileNames) {
  EXPECT_EQ(disposition_file_name("attachment; filename=\"a b.txt\""), "a b.txt");
  EXPECT_EQ(disposition_file_name("inline; filename=plain.png"), "plain.png");
  EXPECT_EQ(disposition_file_name("attachment; filename*=UTF-8''%E2%82%AC.txt; filename=\"_.txt\""), "€.txt");
  EXPECT_EQ(disposition_file_name("attachment; filename=\"q\\\"x\""), "q\"x");
  EXPECT_EQ(disposition_file_name("attachment"), "");
  EXPECT_EQ(disposition_file_name(""), "");
}

}  // namespace
}  // namespace chat::client
