// The wire format: integers and strings in payloads, framing, and cutting
// a byte stream into payloads (split packets, sequence numbers, bounds).
#include "mysql/wire.h"

#include <gtest/gtest.h>

namespace mysql {
namespace {

TEST(MysqlPayloadWriter, LengthEncodedIntegersTakeTheirShortestForm) {
  auto encoded = [](uint64_t v) { return PayloadWriter().lenenc(v).take(); };
  EXPECT_EQ(encoded(0), Bytes({0x00}));
  EXPECT_EQ(encoded(250), Bytes({0xfa}));
  EXPECT_EQ(encoded(251), Bytes({0xfc, 0xfb, 0x00}));
  EXPECT_EQ(encoded(0xffff), Bytes({0xfc, 0xff, 0xff}));
  EXPECT_EQ(encoded(0x10000), Bytes({0xfd, 0x00, 0x00, 0x01}));
  EXPECT_EQ(encoded(0x1000000), Bytes({0xfe, 0, 0, 0, 1, 0, 0, 0, 0}));
}

TEST(MysqlPayloadReader, ReadsBackWhatTheWriterWrote) {
  PayloadWriter w;
  w.u8(7).fixed(0x1234, 2).fixed(0xdeadbeef, 4).lenenc(70000).lenenc_string("title").nul_string("user").text("rest");
  Bytes b = w.take();
  PayloadReader r(b, "test");
  EXPECT_EQ(*r.u8("a"), 7);
  EXPECT_EQ(*r.u16("b"), 0x1234);
  EXPECT_EQ(*r.u32("c"), 0xdeadbeefu);
  EXPECT_EQ(*r.lenenc("d"), 70000u);
  EXPECT_EQ(*r.lenenc_string("e"), "title");
  EXPECT_EQ(*r.nul_string("f"), "user");
  EXPECT_EQ(r.rest_string(), "rest");
  EXPECT_TRUE(r.at_end());
}

TEST(MysqlPayloadReader, ShortInputNamesTheFieldAndWhatWasLeft) {
  Bytes b = {0xfc, 0x01};
  PayloadReader r(b, "OK packet");
  auto v = r.lenenc("affected rows");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().kind, Error::Kind::Protocol);
  EXPECT_EQ(v.error().message, "OK packet: affected rows: needs 2 bytes, 1 left");

  Bytes s = {0x05, 'a', 'b'};
  PayloadReader rs(s, "column definition");
  EXPECT_EQ(rs.lenenc_string("name").error().message, "column definition: name: needs 5 bytes, 2 left");

  Bytes huge = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  PayloadReader rh(huge, "row");
  EXPECT_FALSE(rh.lenenc_string("title")) << "a length past anything the payload holds";

  Bytes n = {'a', 'b'};
  PayloadReader rn(n, "handshake");
  EXPECT_EQ(rn.nul_string("server version").error().message, "handshake: server version: no NUL before the end");

  Bytes nul = {0xfb};
  PayloadReader rnull(nul, "header");
  EXPECT_FALSE(rnull.lenenc("count")) << "0xfb is NULL, not a length";
}

TEST(MysqlFraming, SmallPayloadsAreOnePacket) {
  uint8_t seq = 3;
  Bytes framed = frame(Bytes{0x03, 'S', 'E', 'L'}, seq);
  EXPECT_EQ(framed, Bytes({4, 0, 0, 3, 0x03, 'S', 'E', 'L'}));
  EXPECT_EQ(seq, 4);
  uint8_t zero = 0;
  EXPECT_EQ(frame(Bytes{}, zero), Bytes({0, 0, 0, 0}));
}

TEST(MysqlFraming, LargePayloadsAreSplitAndReadBackWhole) {
  for (size_t size : {kMaxPacketPayload - 1, kMaxPacketPayload, kMaxPacketPayload + 10}) {
    Bytes payload(size);
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<uint8_t>(i * 7);
    uint8_t seq = 0;
    Bytes framed = frame(payload, seq);
    size_t packets = size / kMaxPacketPayload + 1;
    EXPECT_EQ(seq, packets) << "an exact multiple ends with an empty packet";
    EXPECT_EQ(framed.size(), size + 4 * packets);
    PacketReader reader;
    reader.feed(framed);
    auto whole = reader.next();
    ASSERT_TRUE(whole) << whole.error().message;
    ASSERT_TRUE(*whole);
    EXPECT_EQ(**whole, payload);
    EXPECT_FALSE(reader.has_unread());
  }
}

TEST(MysqlPacketReader, AssemblesPayloadsFedAByteAtATime) {
  uint8_t seq = 1;
  Bytes stream = frame(Bytes{1, 2, 3}, seq);
  Bytes second = frame(Bytes{4}, seq);
  stream.insert(stream.end(), second.begin(), second.end());
  PacketReader reader;
  reader.reset(1);
  std::vector<Bytes> got;
  for (uint8_t b : stream) {
    reader.feed(Bytes{b});
    for (;;) {
      auto p = reader.next();
      ASSERT_TRUE(p) << p.error().message;
      if (!*p) break;
      got.push_back(**p);
    }
  }
  EXPECT_EQ(got, (std::vector<Bytes>{{1, 2, 3}, {4}}));
  EXPECT_EQ(reader.seq(), 3);
}

TEST(MysqlPacketReader, APacketOutOfSequenceIsAnError) {
  PacketReader reader;
  reader.reset(1);
  reader.feed(Bytes{1, 0, 0, 5, 0x00});
  auto p = reader.next();
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "packet out of order: sequence number 5, expected 1");
}

TEST(MysqlPacketReader, APayloadOverTheBoundIsRefusedBeforeItArrives) {
  PacketReader reader(1000);
  reader.feed(Bytes{0xe9, 0x03, 0x00, 0x00});  // announces 1001 bytes
  auto p = reader.next();
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "a packet of more than 1000 bytes (the client's bound)");
}

}  // namespace
}  // namespace mysql
