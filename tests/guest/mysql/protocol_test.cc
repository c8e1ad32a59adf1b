// The protocol's messages: MariaDB's real handshake, the handshake
// response, mysql_native_password against the server's stored hash, OK and
// ERR packets, column definitions, text and binary rows, COM_STMT_EXECUTE;
// every truncation of each gives an error, not a crash.
#include "mysql/protocol.h"

#include <gtest/gtest.h>

#include <string>

#include "mysql/sha1.h"
#include "tests/guest/mysql/packets.h"

namespace mysql {
namespace {

using test_packets::column;
using test_packets::from_hex;
using test_packets::hex;

// The greeting of Debian 12's MariaDB 10.11.19 (payload, without its header).
const Bytes kMariaDbGreeting = from_hex(
    "0a352e352e352d31302e31312e31392d4d6172696144422d302b6465623132753100040000007d24357e3c515f6d00fef708"
    "0200ff81150000000000001d000000256d79374432693f3b4b4864006d7973716c5f6e61746976655f70617373776f726400");

TEST(MysqlHandshake, ReadsMariaDbsGreeting) {
  auto h = parse_handshake(kMariaDbGreeting);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->protocol_version, 10);
  EXPECT_EQ(h->server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
  EXPECT_EQ(h->connection_id, 4u);
  EXPECT_EQ(hex(h->nonce), "7d24357e3c515f6d256d79374432693f3b4b4864") << "8 bytes, then 12 of part 2";
  EXPECT_EQ(h->charset, 8);
  EXPECT_TRUE(h->capabilities & kClientProtocol41);
  EXPECT_TRUE(h->capabilities & kClientPluginAuth);
  EXPECT_EQ(h->auth_plugin, "mysql_native_password");
}

TEST(MysqlHandshake, EveryTruncationIsAnErrorOrAnOldServer) {
  for (size_t size = 0; size < kMariaDbGreeting.size(); ++size) {
    auto h = parse_handshake(std::span(kMariaDbGreeting).first(size));
    if (h) {
      // Only the plugin's name may be cut (a server may end it without a NUL).
      EXPECT_EQ(h->nonce.size(), 20u) << size;
      EXPECT_GT(size, 70u);
    } else {
      EXPECT_EQ(h.error().kind, Error::Kind::Protocol);
      EXPECT_EQ(h.error().message.rfind("handshake", 0), 0u) << h.error().message;
    }
  }
  Bytes v9 = kMariaDbGreeting;
  v9[0] = 9;
  EXPECT_EQ(parse_handshake(v9).error().message, "handshake: protocol version 9 (only 10 is supported)");
}

TEST(MysqlNativePassword, TheServerAcceptsTheScrambleAgainstItsStoredHash) {
  // MariaDB stores SHA1(SHA1(password)): PASSWORD('password') is
  // *2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19.
  auto stored = sha1(sha1("password"));
  EXPECT_EQ(hex(Bytes(stored.begin(), stored.end())), "2470c0c06dee42fd1618bb99005adca2ec9d1e19");
  Bytes nonce = from_hex("7d24357e3c515f6d256d79374432693f3b4b4864");
  Bytes scramble = native_password_scramble("password", nonce);
  ASSERT_EQ(scramble.size(), 20u);
  // The server's check: SHA1(scramble XOR SHA1(nonce + stored)) == stored.
  Sha1 s;
  s.update(nonce);
  s.update(stored);
  auto mix = s.digest();
  Bytes stage1(20);
  for (size_t i = 0; i < 20; ++i) stage1[i] = scramble[i] ^ mix[i];
  EXPECT_EQ(sha1(stage1), stored);
}

TEST(MysqlNativePassword, KnownVectorAndEmptyPassword) {
  Bytes nonce(20);
  for (size_t i = 0; i < 20; ++i) nonce[i] = static_cast<uint8_t>(i + 1);
  // Python: sha1(pw) XOR sha1(nonce + sha1(sha1(pw))) for pw = b"todo", nonce = bytes(range(1, 21)).
  EXPECT_EQ(hex(native_password_scramble("todo", nonce)), "a20f04aa0839d9721124243e97a0cebfca90cd83");
  EXPECT_TRUE(native_password_scramble("", nonce).empty());
}

TEST(MysqlHandshakeResponse, NamesUserDatabaseAndPlugin) {
  auto h = parse_handshake(kMariaDbGreeting);
  ASSERT_TRUE(h);
  uint32_t caps = 0;
  auto response = handshake_response(*h, {"todo", "todo", "todo"}, caps);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_TRUE(caps & kClientConnectWithDb);
  EXPECT_FALSE(caps & kClientDeprecateEof);
  PayloadReader r(*response, "response");
  EXPECT_EQ(*r.u32("caps"), caps);
  EXPECT_EQ(*r.u32("max packet"), kMaxPacketPayload);
  EXPECT_EQ(*r.u8("charset"), kUtf8mb4);
  ASSERT_TRUE(r.skip(23, "filler"));
  EXPECT_EQ(*r.nul_string("user"), "todo");
  EXPECT_EQ(*r.lenenc_string("auth"),
            std::string(reinterpret_cast<const char*>(native_password_scramble("todo", h->nonce).data()), 20));
  EXPECT_EQ(*r.nul_string("database"), "todo");
  EXPECT_EQ(*r.nul_string("plugin"), "mysql_native_password");
  EXPECT_TRUE(r.at_end());

  Handshake ancient = *h;
  ancient.capabilities &= ~kClientProtocol41;
  EXPECT_FALSE(handshake_response(ancient, {"todo", "todo", ""}, caps));
}

TEST(MysqlOkAndErr, ReadTheirFields) {
  auto ok = parse_ok(from_hex("00 01 fc e803 0200 0100 696e666f"));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->affected_rows, 1u);
  EXPECT_EQ(ok->last_insert_id, 1000u);
  EXPECT_EQ(ok->status, 2);
  EXPECT_EQ(ok->warnings, 1);
  EXPECT_EQ(ok->info, "info");

  Bytes err_packet = from_hex("ff 7a04 23 3432533032");
  std::string text = "Table 'todo.x' doesn't exist";
  err_packet.insert(err_packet.end(), text.begin(), text.end());
  Error e = parse_err(err_packet);
  EXPECT_EQ(e.kind, Error::Kind::Server);
  EXPECT_EQ(e.code, 1146);
  EXPECT_EQ(e.sql_state, "42S02");
  EXPECT_EQ(e.describe(), "ERROR 1146 (42S02): Table 'todo.x' doesn't exist");
  EXPECT_TRUE(e.connection_usable());

  Error early = parse_err(from_hex("ff 1004 546f6f206d616e7920636f6e6e656374696f6e73"));
  EXPECT_EQ(early.describe(), "ERROR 1040: Too many connections") << "no SQL state before the handshake";

  for (size_t size = 0; size < 3; ++size) {
    Error cut = parse_err(std::span(err_packet).first(size));
    EXPECT_EQ(cut.kind, Error::Kind::Protocol) << size;
  }
  EXPECT_EQ(parse_err(from_hex("ff 7a04 23 3432")).message, "ERR packet: sql state: needs 5 bytes, 2 left");
  EXPECT_FALSE(parse_ok(from_hex("00 01")));
  EXPECT_FALSE(parse_ok(from_hex("07 00 00 0000 0000")));
}

TEST(MysqlColumns, ReadTheDefinitionAndRefuseACutOne) {
  Bytes def = column("title", ColumnType::Blob, 0);
  auto c = parse_column(def);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->name, "title");
  EXPECT_EQ(c->table, "todos");
  EXPECT_EQ(c->type, ColumnType::Blob);
  for (size_t size = 0; size < def.size(); ++size) {
    auto cut = parse_column(std::span(def).first(size));
    ASSERT_FALSE(cut) << size;
    EXPECT_EQ(cut.error().message.rfind("column definition: ", 0), 0u) << cut.error().message;
  }
}

TEST(MysqlTextRows, HoldStringsAndNulls) {
  std::vector<Column> columns = {*parse_column(column("id", ColumnType::LongLong, kUnsignedFlag)),
                                 *parse_column(column("title", ColumnType::Blob, 0))};
  auto row = parse_text_row(from_hex("01 37 fb"), columns);
  ASSERT_TRUE(row) << row.error().message;
  EXPECT_EQ(*row, (Row{std::string("7"), std::monostate{}}));
  EXPECT_EQ(parse_text_row(from_hex("01 37"), columns).error().message, "text row: title: needs 1 byte, 0 left");
  EXPECT_EQ(parse_text_row(from_hex("01 37 fb 00"), columns).error().message, "text row: 1 bytes after its 2 columns");
}

TEST(MysqlBinaryRows, DecodeEachTypeAndTheNullBitmap) {
  std::vector<Column> columns = {
      *parse_column(column("id", ColumnType::LongLong, kUnsignedFlag)),
      *parse_column(column("done", ColumnType::Tiny, 0)),
      *parse_column(column("n", ColumnType::Long, 0)),
      *parse_column(column("title", ColumnType::VarString, 0)),
      *parse_column(column("nothing", ColumnType::Blob, 0)),
      *parse_column(column("ratio", ColumnType::Double, 0)),
      *parse_column(column("at", ColumnType::DateTime, 0)),
      *parse_column(column("day", ColumnType::Date, 0)),
      *parse_column(column("span", ColumnType::Time, 0)),
  };
  // NULL bitmap: column 4 ("nothing") is bit 6 of the first byte.
  Bytes payload = from_hex(
      "00 4000"
      "ffffffffffffffff"           // id: 2^64-1, unsigned
      "ff"                         // done: -1
      "feffffff"                   // n: -2
      "03616263"                   // title: "abc"
      "000000000000f83f"           // ratio: 1.5
      "07 e807 02 1d 0c 22 38"     // at: 2024-02-29 12:34:56
      "04 e807 01 1f"              // day: 2024-01-31
      "08 01 01000000 02 03 04");  // span: -26:03:04
  auto row = parse_binary_row(payload, columns);
  ASSERT_TRUE(row) << row.error().message;
  EXPECT_EQ((*row)[0], Value(uint64_t{18446744073709551615u}));
  EXPECT_EQ((*row)[1], Value(int64_t{-1}));
  EXPECT_EQ((*row)[2], Value(int64_t{-2}));
  EXPECT_EQ((*row)[3], Value(std::string("abc")));
  EXPECT_EQ((*row)[4], Value(std::monostate{}));
  EXPECT_EQ((*row)[5], Value(1.5));
  EXPECT_EQ((*row)[6], Value(std::string("2024-02-29 12:34:56")));
  EXPECT_EQ((*row)[7], Value(std::string("2024-01-31")));
  EXPECT_EQ((*row)[8], Value(std::string("-26:03:04")));
  for (size_t size = 0; size < payload.size(); ++size) {
    auto cut = parse_binary_row(std::span(payload).first(size), columns);
    ASSERT_FALSE(cut) << size;
    EXPECT_EQ(cut.error().kind, Error::Kind::Protocol);
  }
  EXPECT_EQ(parse_binary_row(from_hex("00 00 09"), {columns[6]}).error().message,
            "binary row: a date or time value of 9 bytes (expected 0, 4, 7 or 11)");
}

TEST(MysqlExecute, SendsTypesThenValues) {
  PrepareOk statement{0x01020304, 0, 3, 0};
  auto payload = execute_command(statement, {std::string("hi"), int64_t{-1}, std::monostate{}});
  ASSERT_TRUE(payload) << payload.error().message;
  EXPECT_EQ(hex(*payload),
            "17"
            "04030201"
            "00"
            "01000000"  // COM_STMT_EXECUTE, id, no cursor, 1 iteration
            "04"
            "01"  // NULL bitmap (the third), types follow
            "fd00"
            "0800"
            "0600"  // VAR_STRING, LONGLONG, NULL
            "026869"
            "ffffffffffffffff");
  auto wrong = execute_command(statement, {std::string("hi")});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, Error::Kind::Usage);
  EXPECT_EQ(wrong.error().message, "the statement takes 3 parameters, 1 given");
  auto none = execute_command(PrepareOk{7, 0, 0, 0}, {});
  EXPECT_EQ(hex(*none), "17070000000001000000");
}

TEST(MysqlPrepareOk, ReadsIdAndCounts) {
  auto p = parse_prepare_ok(from_hex("00 05000000 0300 0100 00 0000"));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->statement_id, 5u);
  EXPECT_EQ(p->columns, 3);
  EXPECT_EQ(p->params, 1);
  EXPECT_FALSE(parse_prepare_ok(from_hex("00 0500")));
}

}  // namespace
}  // namespace mysql
