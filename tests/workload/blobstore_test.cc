// wasi:blobstore in a workload: a guest (guests/blobs) writes, reads, lists
// and deletes objects on the filesystem backend, in a volume of its
// workload; driven by messages on the host's in-process broker.
#include <fstream>

#include "plugins/message_broker.h"
#include "tests/workload/runtime_fixture.h"

namespace stratus::workload {
namespace {

using test_host::WorkloadRuntimeTest;
namespace fs = std::filesystem;

class BlobstoreWorkloadTest : public WorkloadRuntimeTest {
 protected:
  std::string yaml(const std::string& blob_config) {
    return "namespace: test\nname: blobs\nwit_world:\n  components:\n    - name: blobs\n      image: " +
           std::string(STRATUS_BLOBS_COMPONENT) +
           "\n  host_interfaces:\n"
           "    - {namespace: wasmcloud, package: messaging, interfaces: [consumer, handler], "
           "config: {subscriptions: \"blob.>\"}}\n"
           "    - {namespace: wasi, package: blobstore, version: 0.2.0-draft, interfaces: [blobstore], config: {" +
           blob_config + "}}\nvolumes:\n  - {name: store, host_path: {local_path: store}}\n";
  }
  std::string ask(const std::string& subject, const std::string& body = "") {
    auto reply =
        host_->broker()->request(subject, std::vector<uint8_t>(body.begin(), body.end()), std::chrono::seconds(20));
    if (!reply) return "request failed: " + reply.error().message;
    return std::string(reply->body.begin(), reply->body.end());
  }
};

TEST_F(BlobstoreWorkloadTest, AGuestWritesReadsListsAndDeletesObjectsInItsVolume) {
  fs::create_directories(dir_ / "store");
  auto id = start(yaml("volume: store"));
  ASSERT_TRUE(id) << id.error().message;
  std::string big(100'000, 'x');
  EXPECT_EQ(ask("blob.put.docs.notes.txt", "hello blobs"), "ok");
  EXPECT_EQ(ask("blob.put.docs.big.bin", big), "ok");
  EXPECT_EQ(ask("blob.get.docs.notes.txt"), "hello blobs");
  EXPECT_EQ(ask("blob.get.docs.big.bin"), big) << "read through an input-stream, in pieces";
  EXPECT_EQ(ask("blob.info.docs.big.bin"), "100000");
  EXPECT_EQ(ask("blob.list.docs"), "big.bin,notes.txt");
  {
    std::ifstream on_disk(dir_ / "store" / "docs" / "notes.txt");
    std::string text;
    std::getline(on_disk, text);
    EXPECT_EQ(text, "hello blobs") << "a folder per container, a file per object, in the volume";
  }
  EXPECT_EQ(ask("blob.del.docs.notes.txt"), "ok");
  EXPECT_EQ(ask("blob.list.docs"), "big.bin");
  EXPECT_EQ(ask("blob.get.docs.notes.txt").substr(0, 6), "error:");
  EXPECT_EQ(ask("blob.get.nosuch.x"), "error: no container nosuch");
}

TEST_F(BlobstoreWorkloadTest, WithoutAVolumeObjectsGoToTheNamespacesFolderAndABadVolumeIsAStartError) {
  fs::create_directories(dir_ / "store");
  auto bad = start(yaml("volume: nowhere"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("wit_world.host_interfaces[1].config.volume: `nowhere` is not in volumes"),
            std::string::npos)
      << bad.error().message;
  auto id = start(yaml(""));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(ask("blob.put.c.o", "data"), "ok");
  EXPECT_TRUE(fs::exists(dir_ / "data" / "blobstore" / "test" / "c" / "o"));
}

}  // namespace
}  // namespace stratus::workload
