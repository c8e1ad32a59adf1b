// The preview 1 calls on their own, over a plain in-memory linear memory:
// no engine needed, so hostile pointers can be aimed precisely.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "tests/support/temp_dir.h"
#include "tests/wasi/capture.h"
#include "wasi/preview1/calls.h"

namespace stratus::wasi::preview1 {
namespace {

using engine::Value;

class VectorMemory : public engine::Memory {
 public:
  explicit VectorMemory(size_t size) : bytes_(size, 0) {}
  engine::MemoryType type() const override { return {{1, 1}}; }
  uint64_t size_bytes() const override { return bytes_.size(); }
  std::optional<std::span<uint8_t>> view(uint64_t offset, uint64_t len) override {
    if (offset > bytes_.size() || len > bytes_.size() - offset) return std::nullopt;
    return std::span<uint8_t>(bytes_.data() + offset, len);
  }
  std::optional<uint64_t> grow(uint64_t) override { return std::nullopt; }
  std::vector<uint8_t> bytes_;
};

class CallsTest : public ::testing::Test {
 protected:
  CallsTest() : memory_(65536), guest_(&memory_), state_(config()) {}

  Preview1Config config() {
    Preview1Config c;
    c.args = {"prog", "one", "two"};
    c.env = {"A=1", "LONGER=value"};
    c.stdin_fd = in_.fd();
    c.stdout_fd = out_.fd();
    c.stderr_fd = err_.fd();
    return c;
  }

  Errno call(CallFn fn, std::vector<Value> args) {
    Outcome o = fn(state_, guest_, args);
    EXPECT_TRUE(std::holds_alternative<Errno>(o));
    return std::holds_alternative<Errno>(o) ? std::get<Errno>(o) : Errno::Io;
  }
  static Value i32(uint32_t v) { return Value::i32(v); }
  static Value i64(uint64_t v) { return Value::i64(v); }
  uint32_t u32_at(uint32_t p) { return *guest_.load<uint32_t>(p); }
  uint64_t u64_at(uint32_t p) { return *guest_.load<uint64_t>(p); }
  void put_iovec(uint32_t at, uint32_t buf, uint32_t len) {
    guest_.store<uint32_t>(at, buf);
    guest_.store<uint32_t>(at + 4, len);
  }

  testing::CapturedFd in_{"stdin", "typed input"};
  testing::CapturedFd out_{"stdout"};
  testing::CapturedFd err_{"stderr"};
  VectorMemory memory_;
  GuestMemory guest_;
  State state_;
};

TEST_F(CallsTest, ArgsAndEnvironLayOutCStrings) {
  ASSERT_EQ(call(&args_sizes_get, {i32(0), i32(4)}), Errno::Success);
  EXPECT_EQ(u32_at(0), 3u);
  EXPECT_EQ(u32_at(4), 13u);  // "prog\0one\0two\0"
  ASSERT_EQ(call(&args_get, {i32(100), i32(200)}), Errno::Success);
  EXPECT_EQ(u32_at(100), 200u);
  EXPECT_EQ(u32_at(104), 205u);
  EXPECT_STREQ(reinterpret_cast<const char*>(&memory_.bytes_[u32_at(108)]), "two");
  ASSERT_EQ(call(&environ_sizes_get, {i32(0), i32(4)}), Errno::Success);
  EXPECT_EQ(u32_at(0), 2u);
  EXPECT_EQ(u32_at(4), 17u);
  ASSERT_EQ(call(&environ_get, {i32(100), i32(200)}), Errno::Success);
  EXPECT_STREQ(reinterpret_cast<const char*>(&memory_.bytes_[u32_at(104)]), "LONGER=value");
}

TEST_F(CallsTest, ArgsIntoBadPointersAreEfault) {
  EXPECT_EQ(call(&args_sizes_get, {i32(65534), i32(4)}), Errno::Fault);
  EXPECT_EQ(call(&args_get, {i32(100), i32(65530)}), Errno::Fault);  // strings run off the end
  EXPECT_EQ(call(&environ_get, {i32(0xfffffff0u), i32(0)}), Errno::Fault);
}

TEST_F(CallsTest, FdWriteGathersIovecs) {
  guest_.store_string(1000, "Hello, ");
  guest_.store_string(2000, "world\n");
  put_iovec(16, 1000, 7);
  put_iovec(24, 2000, 6);
  put_iovec(32, 60000, 0);  // empty iovecs are fine anywhere in bounds
  ASSERT_EQ(call(&fd_write, {i32(1), i32(16), i32(3), i32(40)}), Errno::Success);
  EXPECT_EQ(u32_at(40), 13u);
  EXPECT_EQ(out_.text(), "Hello, world\n");
  ASSERT_EQ(call(&fd_write, {i32(2), i32(16), i32(1), i32(40)}), Errno::Success);
  EXPECT_EQ(err_.text(), "Hello, ");
}

TEST_F(CallsTest, FdWriteBadPointersAreEfaultAndWriteNothing) {
  guest_.store_string(1000, "partial");
  put_iovec(16, 1000, 7);
  put_iovec(24, 65530, 100);  // runs off the end of memory
  EXPECT_EQ(call(&fd_write, {i32(1), i32(16), i32(2), i32(40)}), Errno::Fault);
  EXPECT_EQ(call(&fd_write, {i32(1), i32(65532), i32(1), i32(40)}), Errno::Fault);  // iovec array
  EXPECT_EQ(call(&fd_write, {i32(1), i32(0xffffffffu), i32(0xffffffffu), i32(40)}), Errno::Inval);
  EXPECT_EQ(call(&fd_write, {i32(1), i32(16), i32(1), i32(65534)}), Errno::Fault);  // nwritten
  EXPECT_EQ(out_.text(), "");
}

TEST_F(CallsTest, WithoutMemoryEveryPointerIsEfault) {
  GuestMemory none(nullptr);
  std::vector<Value> args = {i32(1), i32(0), i32(0), i32(0)};
  EXPECT_EQ(std::get<Errno>(fd_write(state_, none, args)), Errno::Fault);
  std::vector<Value> clock = {i32(clockid::kMonotonic), i64(0), i32(0)};
  EXPECT_EQ(std::get<Errno>(clock_time_get(state_, none, clock)), Errno::Fault);
}

TEST_F(CallsTest, BadFdsAndClosedFds) {
  put_iovec(16, 1000, 1);
  EXPECT_EQ(call(&fd_write, {i32(0), i32(16), i32(1), i32(40)}), Errno::Badf);  // stdin is read-only
  EXPECT_EQ(call(&fd_write, {i32(7), i32(16), i32(1), i32(40)}), Errno::Badf);
  EXPECT_EQ(call(&fd_read, {i32(1), i32(16), i32(1), i32(40)}), Errno::Badf);
  EXPECT_EQ(call(&fd_close, {i32(1)}), Errno::Success);
  EXPECT_EQ(call(&fd_write, {i32(1), i32(16), i32(1), i32(40)}), Errno::Badf);
  EXPECT_EQ(call(&fd_close, {i32(1)}), Errno::Badf);
}

TEST_F(CallsTest, FdReadFromStdin) {
  put_iovec(16, 1000, 5);
  put_iovec(24, 2000, 100);
  ASSERT_EQ(call(&fd_read, {i32(0), i32(16), i32(2), i32(40)}), Errno::Success);
  EXPECT_EQ(u32_at(40), 11u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&memory_.bytes_[1000]), 5), "typed");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&memory_.bytes_[2000]), 6), " input");
  ASSERT_EQ(call(&fd_read, {i32(0), i32(16), i32(2), i32(40)}), Errno::Success);
  EXPECT_EQ(u32_at(40), 0u);  // end of input
}

TEST_F(CallsTest, StdioIsNotSeekableAndHasNoPreopens) {
  EXPECT_EQ(call(&fd_seek, {i32(1), i64(0), i32(0), i32(40)}), Errno::Spipe);
  EXPECT_EQ(call(&fd_seek, {i32(9), i64(0), i32(0), i32(40)}), Errno::Badf);
  EXPECT_EQ(call(&fd_prestat_get, {i32(3), i32(40)}), Errno::Badf);
  EXPECT_EQ(call(&fd_prestat_dir_name, {i32(3), i32(40), i32(10)}), Errno::Badf);
}

TEST_F(CallsTest, FdstatReportsTypeAndRights) {
  ASSERT_EQ(call(&fd_fdstat_get, {i32(1), i32(64)}), Errno::Success);
  EXPECT_EQ(memory_.bytes_[64], filetype::kRegularFile);  // a memfd
  uint64_t base = u64_at(72);
  EXPECT_TRUE(base & rights::kFdWrite);
  EXPECT_FALSE(base & rights::kFdRead);
  EXPECT_FALSE(base & rights::kFdSeek);  // stdio never seeks
  EXPECT_EQ(call(&fd_fdstat_get, {i32(1), i32(65530)}), Errno::Fault);
  EXPECT_EQ(call(&fd_fdstat_get, {i32(5), i32(64)}), Errno::Badf);
}

TEST_F(CallsTest, ClocksTickAndRejectUnknownIds) {
  ASSERT_EQ(call(&clock_time_get, {i32(clockid::kMonotonic), i64(1), i32(8)}), Errno::Success);
  uint64_t first = u64_at(8);
  ASSERT_EQ(call(&clock_time_get, {i32(clockid::kMonotonic), i64(1), i32(8)}), Errno::Success);
  EXPECT_GE(u64_at(8), first);
  for (uint32_t id : {clockid::kRealtime, clockid::kProcessCputime, clockid::kThreadCputime}) {
    EXPECT_EQ(call(&clock_time_get, {i32(id), i64(1), i32(8)}), Errno::Success);
    EXPECT_EQ(call(&clock_res_get, {i32(id), i32(16)}), Errno::Success);
    EXPECT_GT(u64_at(16), 0u);
  }
  EXPECT_EQ(call(&clock_time_get, {i32(4), i64(1), i32(8)}), Errno::Inval);
  EXPECT_EQ(call(&clock_res_get, {i32(99), i32(8)}), Errno::Inval);
}

TEST_F(CallsTest, RandomFillsTheBuffer) {
  ASSERT_EQ(call(&random_get, {i32(4096), i32(256)}), Errno::Success);
  int nonzero = 0;
  for (int i = 0; i < 256; ++i) nonzero += memory_.bytes_[4096 + i] != 0;
  EXPECT_GT(nonzero, 200);
  EXPECT_EQ(call(&random_get, {i32(65500), i32(100)}), Errno::Fault);
}

TEST_F(CallsTest, PollOneoffSleepsOnARelativeClock) {
  uint32_t sub = 256, ev = 512;
  guest_.store<uint64_t>(sub + layout::kSubUserdata, 0x1234);
  guest_.store<uint8_t>(sub + layout::kSubTag, eventtype::kClock);
  guest_.store<uint32_t>(sub + layout::kSubClockId, clockid::kMonotonic);
  guest_.store<uint64_t>(sub + layout::kSubClockTimeout, 20'000'000);  // 20 ms
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(call(&poll_oneoff, {i32(sub), i32(ev), i32(1), i32(8)}), Errno::Success);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  EXPECT_EQ(u32_at(8), 1u);
  EXPECT_EQ(u64_at(ev + layout::kEventUserdata), 0x1234u);
  EXPECT_EQ(memory_.bytes_[ev + layout::kEventType], eventtype::kClock);
}

TEST_F(CallsTest, PollOneoffRejectsBadInput) {
  EXPECT_EQ(call(&poll_oneoff, {i32(256), i32(512), i32(0), i32(8)}), Errno::Inval);
  EXPECT_EQ(call(&poll_oneoff, {i32(65500), i32(512), i32(1), i32(8)}), Errno::Fault);
  EXPECT_EQ(call(&poll_oneoff, {i32(256), i32(512), i32(0x7fffffff), i32(8)}), Errno::Inval);
  guest_.store<uint8_t>(256 + layout::kSubTag, 9);  // no such event type
  EXPECT_EQ(call(&poll_oneoff, {i32(256), i32(512), i32(1), i32(8)}), Errno::Inval);
}

TEST_F(CallsTest, PollOneoffReportsStdinAndBadFds) {
  uint32_t sub = 256, ev = 512;
  guest_.store<uint64_t>(sub + layout::kSubUserdata, 1);
  guest_.store<uint8_t>(sub + layout::kSubTag, eventtype::kFdRead);
  guest_.store<uint32_t>(sub + layout::kSubFd, 0);
  uint32_t sub2 = sub + layout::kSubscriptionSize;
  guest_.store<uint64_t>(sub2 + layout::kSubUserdata, 2);
  guest_.store<uint8_t>(sub2 + layout::kSubTag, eventtype::kFdWrite);
  guest_.store<uint32_t>(sub2 + layout::kSubFd, 42);
  ASSERT_EQ(call(&poll_oneoff, {i32(sub), i32(ev), i32(2), i32(8)}), Errno::Success);
  ASSERT_EQ(u32_at(8), 2u);
  EXPECT_EQ(u64_at(ev + layout::kEventUserdata), 1u);
  EXPECT_EQ(*guest_.load<uint16_t>(ev + layout::kEventError), 0u);
  EXPECT_EQ(u64_at(ev + layout::kEventSize + layout::kEventUserdata), 2u);
  EXPECT_EQ(*guest_.load<uint16_t>(ev + layout::kEventSize + layout::kEventError), static_cast<uint16_t>(Errno::Badf));
}

TEST_F(CallsTest, ProcExitIsAnExitTrap) {
  std::vector<Value> args = {i32(3)};
  Outcome o = proc_exit(state_, guest_, args);
  ASSERT_TRUE(std::holds_alternative<engine::Trap>(o));
  EXPECT_EQ(std::get<engine::Trap>(o).kind, engine::TrapKind::Exit);
  EXPECT_EQ(std::get<engine::Trap>(o).exit_code, 3);
}

TEST_F(CallsTest, TableTypesMatchTheWitxSignatures) {
  for (const auto& c : implemented_calls()) {
    if (c.name == "proc_exit") {
      EXPECT_TRUE(c.type.results.empty());
    } else {
      EXPECT_EQ(c.type.results, std::vector<engine::ValType>{engine::ValType::I32}) << c.name;
    }
  }
}

// Files and directories beneath a preopen (fd 3), called directly so
// hostile pointers and lengths can be aimed precisely.
class FileCallsTest : public CallsTest {
 protected:
  FileCallsTest() {
    dir_.write("a", "alpha");
    dir_.write("b", "");
    dir_.write("c", "");
    Preview1Config c = config();
    c.dirs = {{dir_.path().string(), "/data", false}};
    state_ = State(c);
  }

  // Opens `name` beneath the preopen; the guest fd.
  uint32_t open(const std::string& name, uint32_t oflags, uint64_t rights) {
    guest_.store_string(1000, name);
    EXPECT_EQ(call(&path_open, {i32(3), i32(0), i32(1000), i32(static_cast<uint32_t>(name.size())), i32(oflags),
                                i64(rights), i64(0), i32(0), i32(2000)}),
              Errno::Success)
        << name;
    return u32_at(2000);
  }

  // The names in a readdir buffer of `used` bytes at `buf`, with each
  // entry's cookie checked to be the next one's position.
  std::vector<std::string> names(uint32_t buf, uint32_t used, uint64_t first_cookie) {
    std::vector<std::string> out;
    uint64_t expect_next = first_cookie + 1;
    for (uint32_t at = buf; at + layout::kDirentSize <= buf + used;) {
      uint32_t len = u32_at(at + layout::kDirentNamlen);
      EXPECT_EQ(u64_at(at + layout::kDirentNext), expect_next++);
      if (at + layout::kDirentSize + len > buf + used) break;  // cut short
      out.emplace_back(reinterpret_cast<const char*>(&memory_.bytes_[at + layout::kDirentSize]), len);
      at += layout::kDirentSize + len;
    }
    return out;
  }

  test_support::TempDir dir_;
};

TEST_F(FileCallsTest, ReaddirListsDotsThenEntriesResumesAtACookieAndCutsTheLastShort) {
  ASSERT_EQ(call(&fd_readdir, {i32(3), i32(4096), i32(4096), i64(0), i32(0)}), Errno::Success);
  auto all = names(4096, u32_at(0), 0);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0], ".");
  EXPECT_EQ(all[1], "..");
  std::vector<std::string> rest(all.begin() + 2, all.end());
  std::sort(rest.begin(), rest.end());
  EXPECT_EQ(rest, (std::vector<std::string>{"a", "b", "c"}));

  ASSERT_EQ(call(&fd_readdir, {i32(3), i32(4096), i32(4096), i64(3), i32(0)}), Errno::Success);
  EXPECT_EQ(names(4096, u32_at(0), 3), (std::vector<std::string>{all[3], all[4]}));

  // Room for "." and part of "..": the buffer is filled to the end.
  ASSERT_EQ(call(&fd_readdir, {i32(3), i32(4096), i32(30), i64(0), i32(0)}), Errno::Success);
  EXPECT_EQ(u32_at(0), 30u);

  EXPECT_EQ(call(&fd_readdir, {i32(3), i32(65530), i32(100), i64(0), i32(0)}), Errno::Fault);
  uint32_t file = open("a", 0, rights::kFdRead);
  EXPECT_EQ(call(&fd_readdir, {i32(file), i32(4096), i32(100), i64(0), i32(0)}), Errno::Notdir);
}

TEST_F(FileCallsTest, HostilePointersAndArgumentsChangeNothing) {
  // The result pointer is checked before anything is created.
  guest_.store_string(1000, "new");
  EXPECT_EQ(call(&path_open, {i32(3), i32(0), i32(1000), i32(3), i32(oflags::kCreat), i64(rights::kFdWrite), i64(0),
                              i32(0), i32(65534)}),
            Errno::Fault);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "new"));
  // A path running off the end of memory.
  EXPECT_EQ(call(&path_create_directory, {i32(3), i32(65530), i32(100)}), Errno::Fault);
  EXPECT_EQ(call(&path_unlink_file, {i32(3), i32(1000), i32(0xffffffff)}), Errno::Fault);

  uint32_t file = open("a", 0, rights::kFdRead);
  EXPECT_EQ(call(&fd_seek, {i32(file), i64(0), i32(7), i32(0)}), Errno::Inval);
  EXPECT_EQ(call(&fd_seek, {i32(file), i64(static_cast<uint64_t>(-10)), i32(whence::kSet), i32(0)}), Errno::Inval);
  put_iovec(16, 100, 4);
  EXPECT_EQ(call(&fd_pread, {i32(file), i32(16), i32(1), i64(1ull << 63), i32(0)}), Errno::Inval);
  EXPECT_EQ(call(&fd_write, {i32(file), i32(16), i32(1), i32(0)}), Errno::Badf);  // opened read-only
  EXPECT_EQ(call(&fd_filestat_set_times, {i32(file), i64(0), i64(0), i32(fstflags::kMtim | fstflags::kMtimNow)}),
            Errno::Inval);
  EXPECT_EQ(test_support::read_text(dir_.path() / "a"), "alpha");
  EXPECT_EQ(call(&fd_read, {i32(3), i32(16), i32(1), i32(0)}), Errno::Isdir);
}

TEST_F(FileCallsTest, RenumberMovesAnFdOntoAnOpenOneOnly) {
  uint32_t a = open("a", 0, rights::kFdRead);
  uint32_t b = open("b", 0, rights::kFdRead);
  ASSERT_EQ(call(&fd_renumber, {i32(a), i32(b)}), Errno::Success);
  EXPECT_EQ(call(&fd_close, {i32(a)}), Errno::Badf);
  put_iovec(16, 100, 5);
  ASSERT_EQ(call(&fd_read, {i32(b), i32(16), i32(1), i32(0)}), Errno::Success);  // now "a"'s file
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&memory_.bytes_[100]), u32_at(0)), "alpha");
  EXPECT_EQ(call(&fd_renumber, {i32(b), i32(a)}), Errno::Badf);
  // A freed number is handed out again, lowest first.
  EXPECT_EQ(open("c", 0, rights::kFdRead), a);
}

}  // namespace
}  // namespace stratus::wasi::preview1
