#include <chat/auth/password.hpp>

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

using chat::auth::hash_password;
using chat::auth::password_cost;
using chat::auth::password_needs_rehash;
using chat::auth::verify_password;

namespace {
const password_cost fast = password_cost::minimum();
}

TEST(Password, PresetsAreLibsodiumConstants) {
  EXPECT_EQ(password_cost::interactive().opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
  EXPECT_EQ(password_cost::interactive().memlimit, crypto_pwhash_MEMLIMIT_INTERACTIVE);
  EXPECT_EQ(password_cost::minimum().opslimit, crypto_pwhash_OPSLIMIT_MIN);
  EXPECT_EQ(password_cost::minimum().memlimit, crypto_pwhash_MEMLIMIT_MIN);
}

TEST(Password, HashesWithArgon2idAndVerifies) {
  const auto hash = hash_password("correct horse battery staple", fast);
  ASSERT_TRUE(hash.has_value());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(verify_password(*hash, "correct horse battery staple"));
  EXPECT_FALSE(verify_password(*hash, "correct horse battery stapl"));
  EXPECT_FALSE(verify_password(*hash, "Correct horse battery staple"));
  EXPECT_FALSE(verify_password(*hash, ""));
}

TEST(Password, SaltsEveryHash) {
  const auto a = hash_password("same password", fast);
  const auto b = hash_password("same password", fast);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(verify_password(*a, "same password"));
  EXPECT_TRUE(verify_password(*b, "same password"));
}

TEST(Password, HandlesEmptyUnicodeAndEmbeddedNulPasswords) {
  const auto empty = hash_password("", fast);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(verify_password(*empty, ""));
  EXPECT_FALSE(verify_password(*empty, "x"));

  const std::string unicode = "p\xC3\xA4ssw\xC3\xB6rd \xF0\x9F\x98\x80";
  const auto u = hash_password(unicode, fast);
  ASSERT_TRUE(u);
  EXPECT_TRUE(verify_password(*u, unicode));

  // The whole byte string counts, not a C string prefix.
  const std::string with_nul("abc\0def", 7);
  const auto n = hash_password(with_nul, fast);
  ASSERT_TRUE(n);
  EXPECT_TRUE(verify_password(*n, with_nul));
  EXPECT_FALSE(verify_password(*n, "abc"));
}

TEST(Password, RejectsGarbageHashes) {
  EXPECT_FALSE(verify_password("", "x"));
  EXPECT_FALSE(verify_password("not a hash", "not a hash"));
  EXPECT_FALSE(verify_password("$argon2id$v=19$m=8,t=1,p=1$", "x"));
  EXPECT_FALSE(verify_password(std::string(1000, '$'), "x"));
  const auto hash = hash_password("pw", fast);
  ASSERT_TRUE(hash);
  EXPECT_FALSE(verify_password(*hash + std::string("\0", 1), "pw"));
  EXPECT_FALSE(verify_password(hash->substr(0, hash->size() - 1), "pw"));
}

TEST(Password, FailsCleanlyForImpossibleCost) {
  EXPECT_FALSE(hash_password("pw", {0, crypto_pwhash_MEMLIMIT_MIN}).has_value());
  EXPECT_FALSE(hash_password("pw", {crypto_pwhash_OPSLIMIT_MIN, 1}).has_value());
}

TEST(Password, NeedsRehashWhenCostOrAlgorithmDiffers) {
  const auto hash = hash_password("pw", fast);
  ASSERT_TRUE(hash);
  EXPECT_FALSE(password_needs_rehash(*hash, fast));
  EXPECT_TRUE(password_needs_rehash(*hash, password_cost::interactive()));
  EXPECT_TRUE(password_needs_rehash(*hash, {fast.opslimit + 1, fast.memlimit}));
  EXPECT_TRUE(password_needs_rehash("garbage", fast));
  EXPECT_TRUE(password_needs_rehash("", fast));

  // An Argon2i hash still verifies, but should be upgraded to Argon2id.
  ASSERT_GE(sodium_init(), 0);
  char argon2i[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(argon2i, "pw", 2, crypto_pwhash_argon2i_OPSLIMIT_MIN,
                                  crypto_pwhash_argon2i_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2I13),
            0);
  EXPECT_TRUE(verify_password(argon2i, "pw"));
  EXPECT_TRUE(password_needs_rehash(argon2i, {crypto_pwhash_argon2i_OPSLIMIT_MIN, crypto_pwhash_argon2i_MEMLIMIT_MIN}));
}
