// multipart/form-data uploads (api/multipart.hpp).
#include "api/multipart.hpp"

#include <gtest/gtest.h>

using namespace chat::chatd::api;

namespace {

std::string part(std::string_view headers, std::string_view data, std::string_view boundary = "XyZ") {
  return "--" + std::string(boundary) + "\r\n" + std::string(headers) + "\r\n\r\n" + std::string(data) + "\r\n";
}

std::string close_delimiter(std::string_view boundary = "XyZ") { return "--" + std::string(boundary) + "--\r\n"; }

}  // namespace

TEST(Multipart, Boundary) {
  EXPECT_EQ(form_data_boundary("multipart/form-data; boundary=XyZ"), "XyZ");
  EXPECT_EQ(form_data_boundary("Multipart/Form-Data;boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(form_data_boundary("multipart/form-data; charset=utf-8; BOUNDARY=----x"), "----x");
  EXPECT_FALSE(form_data_boundary("multipart/form-data"));
  EXPECT_FALSE(form_data_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(form_data_boundary("multipart/form-data; boundary=" + std::string(71, 'x')));
  EXPECT_FALSE(form_data_boundary("multipart/mixed; boundary=x"));
  EXPECT_FALSE(form_data_boundary("image/png"));
  EXPECT_FALSE(form_data_boundary(""));
}

TEST(Multipart, TheFilePartWithItsNameAndType) {
  // NUL, CRLF and the boundary text not after a CRLF: all data.
  const std::string data("\x89PNG\0\r\nx--XyZ\r\nnot a boundary", 27);
  const std::string body = part("Content-Disposition: form-data; name=\"caption\"", "hello") +
                           part(
                               "Content-Disposition: form-data; name=\"file\"; filename=\"cat.png\"\r\n"
                               "Content-Type: image/png",
                               data) +
                           close_delimiter();
  std::string error;
  const auto f = parse_form_file(body, "XyZ", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->data, data);
  EXPECT_EQ(f->file_name, "cat.png");
  EXPECT_EQ(f->content_type, "image/png");
}

TEST(Multipart, PreambleQuotedEscapesAndExtendedFileName) {
  const std::string body = "preamble to ignore\r\n" +
                           part(
                               "content-disposition: form-data; name=upload; filename=\"a \\\"b\\\".txt\"; "
                               "filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt",
                               "x") +
                           close_delimiter() + "epilogue";
  std::string error;
  const auto f = parse_form_file(body, "XyZ", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->file_name, "Grüße.txt");  // filename* wins
  EXPECT_EQ(f->data, "x");
  EXPECT_EQ(f->content_type, "");
}

TEST(Multipart, AFieldNamedFileWithoutFileNameAndEmptyData) {
  std::string error;
  // data views the body: each body outlives the checks of its result.
  const std::string raw = part("Content-Disposition: form-data; name=\"file\"", "raw") + close_delimiter();
  auto f = parse_form_file(raw, "XyZ", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->data, "raw");
  EXPECT_EQ(f->file_name, "");
  const std::string empty = part("Content-Disposition: form-data; name=\"f\"; filename=\"e\"", "") + close_delimiter();
  f = parse_form_file(empty, "XyZ", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->data, "");
  const std::string quoted = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"q\"\r\n\r\nv\r\n--XyZ--";
  f = parse_form_file(quoted, "XyZ", error);  // no CRLF after the close delimiter
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->data, "v");
}

TEST(Multipart, RefusesBrokenBodies) {
  const std::string file = part("Content-Disposition: form-data; name=\"f\"; filename=\"a\"", "data");
  std::string error;
  EXPECT_FALSE(parse_form_file("", "XyZ", error));
  EXPECT_FALSE(parse_form_file("no boundary anywhere", "XyZ", error));
  EXPECT_FALSE(parse_form_file(file, "XyZ", error)) << "no close delimiter";
  EXPECT_FALSE(parse_form_file(file.substr(0, file.size() - 10), "XyZ", error));
  EXPECT_FALSE(parse_form_file("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\ndata\r\n--XyZ--",
                               "XyZ", error))
      << "headers without their blank line";
  EXPECT_FALSE(parse_form_file("--XyZjunk\r\n", "XyZ", error));
  error.clear();
  EXPECT_FALSE(parse_form_file(part("Content-Disposition: form-data; name=\"caption\"", "hi") + close_delimiter(),
                               "XyZ", error));
  EXPECT_NE(error.find("no file part"), std::string::npos) << error;
  EXPECT_FALSE(parse_form_file(file + file + close_delimiter(), "XyZ", error));
  EXPECT_NE(error.find("more than one"), std::string::npos) << error;
}
