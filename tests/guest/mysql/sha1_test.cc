// SHA-1 against FIPS 180-4's test vectors, whole and in pieces.
#include "mysql/sha1.h"

#include <gtest/gtest.h>

#include <string>

namespace mysql {
namespace {

std::string hex(const Sha1Digest& d) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) out += {kDigits[b >> 4], kDigits[b & 15]};
  return out;
}

TEST(MysqlSha1, FipsVectors) {
  EXPECT_EQ(hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex(sha1(std::string(1000000, 'a'))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(MysqlSha1, PiecesOfEverySizeGiveTheSameDigest) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += static_cast<char>('a' + i % 26);
  auto whole = sha1(text);
  for (size_t piece = 1; piece <= 130; ++piece) {
    Sha1 s;
    for (size_t at = 0; at < text.size(); at += piece) s.update(std::string_view(text).substr(at, piece));
    EXPECT_EQ(s.digest(), whole) << "pieces of " << piece;
  }
  for (size_t size : {55u, 56u, 63u, 64u, 65u, 119u, 120u}) {
    Sha1 s;
    s.update(std::string_view(text).substr(0, size));
    EXPECT_EQ(s.digest(), sha1(std::string_view(text).substr(0, size))) << size << " bytes";
  }
}

}  // namespace
}  // namespace mysql
