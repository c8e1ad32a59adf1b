// NATS decentralized auth made inside a test: nkeys (ed25519 through
// OpenSSL's EVP API; base32 of a prefix byte, the key and a CRC16), JWTs
// signed with them (`base64url(header).base64url(claims).base64url(sig)`,
// header {"typ":"JWT","alg":"ed25519-nkey"}), an operator that signs an
// account that signs a user, the user's creds file, and the nats-server
// configuration that trusts the operator (`resolver: MEMORY` with the
// account preloaded).
#pragma once

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace stratus::test_support::nats_auth {

// The nkeys prefix bytes: the first base32 letter of an encoded key.
enum class KeyType : uint8_t { Operator = 14 << 3, Account = 0, User = 20 << 3 };
constexpr uint8_t kSeedPrefix = 18 << 3;  // 'S'

// CRC-16/XMODEM (polynomial 0x1021, initial 0), as nkeys checks keys.
inline uint16_t crc16(const std::vector<uint8_t>& data) {
  uint16_t crc = 0;
  for (uint8_t byte : data) {
    crc ^= static_cast<uint16_t>(byte) << 8;
    for (int i = 0; i < 8; ++i) crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : crc << 1;
  }
  return crc;
}

// RFC 4648 base32 without padding.
inline std::string base32(const std::vector<uint8_t>& data) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

inline std::string base64url(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

// With its CRC16 (little-endian), in base32.
inline std::string with_crc(std::vector<uint8_t> raw) {
  uint16_t crc = crc16(raw);
  raw.push_back(static_cast<uint8_t>(crc & 0xff));
  raw.push_back(static_cast<uint8_t>(crc >> 8));
  return base32(raw);
}

class KeyPair {
 public:
  explicit KeyPair(KeyType type) : type_(type) {
    if (RAND_bytes(seed_.data(), static_cast<int>(seed_.size())) != 1) throw std::runtime_error("RAND_bytes");
    key_.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()));
    if (!key_) throw std::runtime_error("EVP_PKEY_new_raw_private_key");
    size_t len = public_.size();
    if (EVP_PKEY_get_raw_public_key(key_.get(), public_.data(), &len) != 1 || len != public_.size())
      throw std::runtime_error("EVP_PKEY_get_raw_public_key");
  }

  // "O...", "A...", "U...".
  std::string public_key() const {
    std::vector<uint8_t> raw{static_cast<uint8_t>(type_)};
    raw.insert(raw.end(), public_.begin(), public_.end());
    return with_crc(raw);
  }

  // "SO...", "SA...", "SU...": the seed's prefix is two bytes, the seed
  // prefix and the key type spread over them.
  std::string seed() const {
    auto t = static_cast<uint8_t>(type_);
    std::vector<uint8_t> raw{static_cast<uint8_t>(kSeedPrefix | (t >> 5)), static_cast<uint8_t>((t & 31) << 3)};
    raw.insert(raw.end(), seed_.begin(), seed_.end());
    return with_crc(raw);
  }

  std::string sign(const std::string& message) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::string sig(64, '\0');
    size_t len = sig.size();
    if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
      throw std::runtime_error("EVP_DigestSign");
    sig.resize(len);
    return sig;
  }

 private:
  struct FreeKey {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  KeyType type_;
  std::array<uint8_t, 32> seed_{};
  std::array<uint8_t, 32> public_{};
  std::unique_ptr<EVP_PKEY, FreeKey> key_;
};

// A JWT about `subject`, issued (signed) by `issuer`, with `nats` as its
// claims' `nats` member.
inline std::string jwt(const KeyPair& issuer, const std::string& subject, const std::string& name,
                       const nlohmann::json& nats) {
  std::vector<uint8_t> id(20);
  if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) throw std::runtime_error("RAND_bytes");
  nlohmann::json claims = {{"jti", base32(id)},
                           {"iat", static_cast<int64_t>(std::time(nullptr))},
                           {"iss", issuer.public_key()},
                           {"name", name},
                           {"sub", subject},
                           {"nats", nats}};
  std::string signing_input = base64url(R"({"typ":"JWT","alg":"ed25519-nkey"})") + "." + base64url(claims.dump());
  return signing_input + "." + base64url(issuer.sign(signing_input));
}

// An operator, one account it signs and one user the account signs.
struct Chain {
  KeyPair op{KeyType::Operator}, account{KeyType::Account}, user{KeyType::User};
  std::string operator_jwt, account_jwt, user_jwt;

  Chain() {
    operator_jwt = jwt(op, op.public_key(), "stratus-test-operator", {{"type", "operator"}, {"version", 2}});
    nlohmann::json unlimited = {{"subs", -1},    {"data", -1},        {"payload", -1}, {"imports", -1},
                                {"exports", -1}, {"wildcards", true}, {"conn", -1},    {"leaf", -1}};
    account_jwt = jwt(op, account.public_key(), "stratus-test-account",
                      {{"limits", unlimited}, {"type", "account"}, {"version", 2}});
    user_jwt = jwt(account, user.public_key(), "stratus-test-user",
                   {{"pub", nlohmann::json::object()},
                    {"sub", nlohmann::json::object()},
                    {"subs", -1},
                    {"data", -1},
                    {"payload", -1},
                    {"type", "user"},
                    {"version", 2}});
  }

  // The creds file `nsc` writes for the user.
  std::string creds() const { return creds_file(user_jwt, user.seed()); }

  // nats-server's configuration: trust the operator, know the account.
  std::string server_config(uint16_t port) const {
    return "listen: 127.0.0.1:" + std::to_string(port) + "\noperator: " + operator_jwt +
           "\nresolver: MEMORY\nresolver_preload: {\n  " + account.public_key() + ": " + account_jwt + "\n}\n";
  }

  static std::string creds_file(const std::string& user_jwt, const std::string& seed) {
    return "-----BEGIN NATS USER JWT-----\n" + user_jwt +
           "\n------END NATS USER JWT------\n\n"
           "************************* IMPORTANT *************************\n"
           "NKEY Seed printed below can be used to sign and prove identity.\n"
           "NKEYs are sensitive and should be treated as secrets.\n\n"
           "-----BEGIN USER NKEY SEED-----\n" +
           seed +
           "\n------END USER NKEY SEED------\n\n"
           "*************************************************************\n";
  }
};

}  // namespace stratus::test_support::nats_auth
