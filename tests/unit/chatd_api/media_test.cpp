// Image headers (PNG IHDR, JPEG SOFn, GIF logical screen, WebP VP8/VP8L/VP8X), magic bytes,
// MIME types, file names and Content-Disposition of api/media.hpp.
#include "api/media.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace chat::chatd::api;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::string be32(std::uint32_t v) {
  return bytes({int(v >> 24), int((v >> 16) & 255), int((v >> 8) & 255), int(v & 255)});
}
std::string be16(std::uint32_t v) { return bytes({int(v >> 8), int(v & 255)}); }
std::string le16(std::uint32_t v) { return bytes({int(v & 255), int(v >> 8)}); }
std::string le24(std::uint32_t v) { return bytes({int(v & 255), int((v >> 8) & 255), int(v >> 16)}); }

std::string png(std::uint32_t w, std::uint32_t h) {
  return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + "IHDR" + be32(w) + be32(h) + bytes({8, 6, 0, 0, 0}) +
         be32(0xdeadbeef) + be32(0) + "IEND" + be32(0xae426082);
}

// SOI, APP0 (JFIF), DQT, DHT, then the frame header `sof` (C0 baseline, C2 progressive, …).
std::string jpeg(std::uint32_t w, std::uint32_t h, int sof = 0xC0, bool fill = false) {
  std::string out = bytes({0xFF, 0xD8});
  out += bytes({0xFF, 0xE0}) + be16(16) + "JFIF" + bytes({0, 1, 1, 0, 0, 1, 0, 1, 0, 0});
  out += bytes({0xFF, 0xDB}) + be16(67) + std::string(65, '\x01');
  out += bytes({0xFF, 0xC4}) + be16(20) + std::string(18, '\x02');  // DHT: C4 is no frame header
  if (fill) out += bytes({0xFF, 0xFF});
  out +=
      bytes({0xFF, sof}) + be16(17) + bytes({8}) + be16(h) + be16(w) + bytes({3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1});
  out += bytes({0xFF, 0xDA}) + be16(12) + std::string(10, '\0') + "scan" + bytes({0xFF, 0xD9});
  return out;
}

std::string gif(std::uint32_t w, std::uint32_t h, const char* version = "GIF89a") {
  return std::string(version) + le16(w) + le16(h) + bytes({0xF7, 0, 0}) + std::string(20, '\0') + ";";
}

std::string riff(const std::string& chunk, const std::string& payload) {
  const std::string body =
      "WEBP" + chunk + std::string(le24(static_cast<std::uint32_t>(payload.size()))) + '\0' + payload;
  return "RIFF" + le24(static_cast<std::uint32_t>(body.size())) + '\0' + body;
}

std::string webp_lossy(std::uint32_t w, std::uint32_t h) {
  return riff("VP8 ", bytes({0x50, 0x2A, 0x00, 0x9D, 0x01, 0x2A}) + le16(w) + le16(h) + std::string(16, '\0'));
}

std::string webp_lossless(std::uint32_t w, std::uint32_t h) {
  const std::uint32_t bits = (w - 1) | ((h - 1) << 14);  // then alpha (1 bit) and version (3 bits)
  return riff("VP8L",
              bytes({0x2F, int(bits & 255), int((bits >> 8) & 255), int((bits >> 16) & 255), int((bits >> 24) & 255)}) +
                  std::string(10, '\0'));
}

std::string webp_extended(std::uint32_t w, std::uint32_t h) {
  return riff("VP8X", bytes({0x10, 0, 0, 0}) + le24(w - 1) + le24(h - 1)) + "ALPH";
}

}  // namespace

TEST(Media, PngSizeFromIhdr) {
  EXPECT_EQ(png_size(png(640, 480)), (image_size{640, 480}));
  EXPECT_EQ(png_size(png(1, 65536)), (image_size{1, 65536}));
  EXPECT_EQ(image_dimensions(image_format::png, png(3, 2)), (image_size{3, 2}));
}

TEST(Media, PngRefusesTruncatedZeroAndOtherFirstChunks) {
  const auto good = png(10, 20);
  for (std::size_t n = 0; n < 24; ++n) EXPECT_FALSE(png_size(good.substr(0, n))) << n;
  EXPECT_TRUE(png_size(good.substr(0, 24)));
  EXPECT_FALSE(png_size(png(0, 20)));
  EXPECT_FALSE(png_size(png(10, 0)));
  EXPECT_FALSE(png_size(png(0x80000000u, 1)));  // above the PNG limit
  auto other = good;
  other.replace(12, 4, "gAMA");
  EXPECT_FALSE(png_size(other));
  auto bad_signature = good;
  bad_signature[1] = 'Q';
  EXPECT_FALSE(png_size(bad_signature));
}

TEST(Media, JpegSizeFromTheFirstFrameHeader) {
  EXPECT_EQ(jpeg_size(jpeg(800, 600)), (image_size{800, 600}));
  EXPECT_EQ(jpeg_size(jpeg(1, 65535, 0xC2)), (image_size{1, 65535}));  // progressive
  EXPECT_EQ(jpeg_size(jpeg(7, 9, 0xC1)), (image_size{7, 9}));
  EXPECT_EQ(jpeg_size(jpeg(7, 9, 0xCF)), (image_size{7, 9}));
  EXPECT_EQ(jpeg_size(jpeg(33, 44, 0xC0, true)), (image_size{33, 44}));  // fill bytes before a marker
}

TEST(Media, JpegSkipsMarkersThatAreNoFrameHeaders) {
  // C4 (DHT), C8 (JPG), CC (DAC) share the range but carry no size.
  for (int marker : {0xC8, 0xCC}) {
    std::string data = bytes({0xFF, 0xD8, 0xFF, marker}) + be16(6) + be16(1) + be16(1);
    data += bytes({0xFF, 0xC0}) + be16(17) + bytes({8}) + be16(5) + be16(4) + std::string(10, '\0');
    EXPECT_EQ(jpeg_size(data), (image_size{4, 5})) << marker;
  }
  // RSTn and TEM have no length.
  std::string data = bytes({0xFF, 0xD8, 0xFF, 0xD0, 0xFF, 0x01});
  data += bytes({0xFF, 0xC0}) + be16(17) + bytes({8}) + be16(2) + be16(3) + std::string(10, '\0');
  EXPECT_EQ(jpeg_size(data), (image_size{3, 2}));
}

TEST(Media, JpegWithoutFrameHeaderOrTruncatedHasNoSize) {
  const auto good = jpeg(100, 50);
  const auto sof = good.find(std::string("\xFF\xC0", 2));
  ASSERT_NE(sof, std::string::npos);
  for (std::size_t n = 0; n < sof + 9; ++n) EXPECT_FALSE(jpeg_size(good.substr(0, n))) << n;
  EXPECT_TRUE(jpeg_size(good.substr(0, sof + 9)));
  // Start of scan (or end of image) before a frame header.
  EXPECT_FALSE(jpeg_size(bytes({0xFF, 0xD8, 0xFF, 0xDA, 0, 4, 0, 0, 0xFF, 0xC0, 0, 17, 8, 0, 1, 0, 1})));
  EXPECT_FALSE(jpeg_size(bytes({0xFF, 0xD8, 0xFF, 0xD9})));
  // Garbage where a marker should be, a segment length below 2, a zero size.
  EXPECT_FALSE(jpeg_size(bytes({0xFF, 0xD8, 0x00, 0xC0})));
  EXPECT_FALSE(jpeg_size(bytes({0xFF, 0xD8, 0xFF, 0xE0, 0, 1, 0xFF, 0xC0})));
  EXPECT_FALSE(jpeg_size(jpeg(0, 10)));
  // A segment length that points past the end.
  EXPECT_FALSE(jpeg_size(bytes({0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 1, 2, 3})));
}

TEST(Media, GifLogicalScreen) {
  EXPECT_EQ(gif_size(gif(320, 200)), (image_size{320, 200}));
  EXPECT_EQ(gif_size(gif(65535, 1, "GIF87a")), (image_size{65535, 1}));
  EXPECT_FALSE(gif_size(gif(320, 200).substr(0, 9)));
  EXPECT_FALSE(gif_size(gif(0, 200)));
  EXPECT_FALSE(gif_size("GIF88a" + le16(1) + le16(1)));
}

TEST(Media, WebpLossyLosslessAndExtended) {
  EXPECT_EQ(webp_size(webp_lossy(1024, 768)), (image_size{1024, 768}));
  EXPECT_EQ(webp_size(webp_lossy(16383 | 0xC000, 5)), (image_size{16383, 5}));  // scale bits ignored
  EXPECT_EQ(webp_size(webp_lossless(1, 1)), (image_size{1, 1}));
  EXPECT_EQ(webp_size(webp_lossless(400, 301)), (image_size{400, 301}));
  EXPECT_EQ(webp_size(webp_lossless(16384, 16384)), (image_size{16384, 16384}));
  EXPECT_EQ(webp_size(webp_extended(5000, 3)), (image_size{5000, 3}));
  EXPECT_EQ(webp_size(webp_extended(1 << 24, 1)), (image_size{1u << 24, 1}));
}

TEST(Media, WebpRefusesBrokenHeaders) {
  auto lossy = webp_lossy(10, 10);
  lossy[23] = 0;  // the start code
  EXPECT_FALSE(webp_size(lossy));
  auto lossless = webp_lossless(10, 10);
  lossless[20] = 0x2E;  // the signature
  EXPECT_FALSE(webp_size(lossless));
  EXPECT_FALSE(webp_size(riff("VP8Z", std::string(20, '\0'))));
  EXPECT_FALSE(webp_size(webp_lossy(0, 10)));
  const auto extended = webp_extended(10, 10);
  for (std::size_t n = 0; n < 30; ++n) EXPECT_FALSE(webp_size(extended.substr(0, n))) << n;
}

TEST(Media, SniffsMagicBytes) {
  EXPECT_EQ(sniff_image(png(1, 1)), image_format::png);
  EXPECT_EQ(sniff_image(jpeg(1, 1)), image_format::jpeg);
  EXPECT_EQ(sniff_image(gif(1, 1)), image_format::gif);
  EXPECT_EQ(sniff_image(gif(1, 1, "GIF87a")), image_format::gif);
  EXPECT_EQ(sniff_image(webp_lossless(1, 1)), image_format::webp);
  EXPECT_FALSE(sniff_image(""));
  EXPECT_FALSE(sniff_image("<svg xmlns=\"http://www.w3.org/2000/svg\"/>"));
  EXPECT_FALSE(sniff_image("RIFF\x10\0\0\0WAVEfmt "));
  EXPECT_FALSE(sniff_image(bytes({0xFF, 0xD8})));
}

TEST(Media, ImageFormatOfMime) {
  EXPECT_EQ(image_format_of_mime("image/png"), image_format::png);
  EXPECT_EQ(image_format_of_mime("image/jpeg"), image_format::jpeg);
  EXPECT_EQ(image_format_of_mime("image/gif"), image_format::gif);
  EXPECT_EQ(image_format_of_mime("image/webp; q=1"), image_format::webp);
  EXPECT_FALSE(image_format_of_mime("image/svg+xml"));
  EXPECT_FALSE(image_format_of_mime("application/octet-stream"));
  EXPECT_EQ(mime_of(image_format::jpeg), "image/jpeg");
}

TEST(Media, NormalizesMimeTypes) {
  EXPECT_EQ(normalize_mime_type("Image/PNG", 127), "image/png");
  EXPECT_EQ(normalize_mime_type("  text/plain ;charset=UTF-8 ", 127), "text/plain; charset=UTF-8");
  EXPECT_EQ(normalize_mime_type("application/vnd.openxmlformats-officedocument.wordprocessingml.document", 127),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  EXPECT_EQ(essence_of("text/plain; charset=utf-8"), "text/plain");
  for (const char* bad : {"", "text", "text/", "/plain", "te xt/plain", "text/pl@in", "text/plain\r\nX: y",
                          "t\x01xt/plain", "text/pl\xc3\xa4in"}) {
    EXPECT_FALSE(normalize_mime_type(bad, 127)) << bad;
  }
  EXPECT_FALSE(normalize_mime_type("application/" + std::string(200, 'x'), 127));
}

TEST(Media, CleansFileNames) {
  EXPECT_EQ(clean_file_name("report.pdf", 255), "report.pdf");
  EXPECT_EQ(clean_file_name("../../etc/passwd", 255), "passwd");
  EXPECT_EQ(clean_file_name("C:\\Users\\ann\\photo.jpg", 255), "photo.jpg");
  EXPECT_EQ(clean_file_name("  spaced name.txt ", 255), "spaced name.txt");
  EXPECT_EQ(clean_file_name("Grüße 🎉.txt", 255), "Grüße 🎉.txt");
  EXPECT_EQ(clean_file_name(std::string(255, 'a'), 255), std::string(255, 'a'));
  for (std::string bad : {std::string(""), std::string("dir/"), std::string("."), std::string(".."),
                          std::string("a\nb"), std::string("a\x7f"), std::string("\xc2\x85x"), std::string("\xff.txt"),
                          std::string(256, 'a'), std::string("nul\0byte", 8)}) {
    EXPECT_FALSE(clean_file_name(bad, 255)) << bad;
  }
}

TEST(Media, ContentDispositionEscapesNames) {
  EXPECT_EQ(content_disposition("a.png", true), "inline; filename=\"a.png\"; filename*=UTF-8''a.png");
  EXPECT_EQ(content_disposition("my \"report\" 100%.pdf", false),
            "attachment; filename=\"my _report_ 100_.pdf\"; filename*=UTF-8''my%20%22report%22%20100%25.pdf");
  EXPECT_EQ(content_disposition("Grüße.txt", false),
            "attachment; filename=\"Gr____e.txt\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt");
  EXPECT_EQ(content_disposition("a\\b;c", false), "attachment; filename=\"a_b;c\"; filename*=UTF-8''a%5Cb%3Bc");
}
