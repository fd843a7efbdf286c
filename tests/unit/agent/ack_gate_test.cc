// The acknowledgement rule, tested through every way a held group can end: no PUBACK reaches
// the broker for a message that is not committed to the queue.
#include "agent/mqtt/ack_gate.h"

#include <doctest/doctest.h>

#include "agent/mqtt/mosquitto_transport.h"
#include "agent/mqtt/mqtt_source.h"
#include "agent/normalize/normalizer.h"
#include "storage/batch_assembler.h"
#include "support/temp_dir.h"
#include "unit/agent/fake_transport.h"

using namespace ferry;
using namespace ferry::agent;
using ferry::testing::FakeTransport;

namespace {

Config TestConfig(const std::string& dir, const std::string& commit_interval) {
  auto c = ParseConfig(R"({"gateway": {"id": "gw"}, "mqtt": {"subscriptions": [{"topic": "#"}],
      "keepalive": "8s"}, "upstream": {"url": "http://127.0.0.1:1/"},
      "storage": {"path": ")" +
                       dir + R"(/q.db", "max_size": "2MiB", "commit_interval": ")" +
                       commit_interval + R"(", "commit_interval_qos1": "6s"}})");
  REQUIRE_MESSAGE(c.ok(), c.status().message());
  return *c;
}

// A queue, the intake over it, and a fake broker connection.
struct Rig {
  explicit Rig(const std::string& commit_interval = "1s")
      : config(TestConfig(dir.path(), commit_interval)), normalizer(config.routes) {
    platform::FixedRandom random(1);
    storage::QueueOptions options;
    options.path = config.storage.path;
    options.max_bytes = config.storage.max_size;
    options.sync_full = false;
    options.boot_id = "boot";
    auto q = storage::Queue::Open(options, clock, random);
    REQUIRE_MESSAGE(q.ok(), q.status().ToString());
    queue = std::move(*q);
    intake = std::make_unique<Intake>(config, normalizer, *queue, metrics);
    // Every PUBACK that reaches the broker is for a message already stored.
    transport.on_acks = [this](const std::vector<uint16_t>& acks) {
      CHECK(transport.written_acks.size() + acks.size() <= Stored());
    };
  }
  uint64_t Stored() {
    storage::QueueStats s = queue->Stats();
    return s.records + s.dead_letters;
  }
  // Reads everything the fake broker has, as the source does.
  void ReadAll() {
    std::string error;
    while (transport.Read(&error) == ReadOutcome::kPacket) {
    }
  }
  // Fills the queue to its quota with other records, so the next commit is refused: large
  // groups first, then single small records until not even one fits.
  void FillQueue() {
    for (uint32_t count : {50u, 1u}) {
      for (uint64_t i = 0;; ++i) {
        storage::AppendRequest req;
        req.count = count;
        req.oldest_received_ms = clock.WallMillis();
        req.encode = [i, count](uint64_t first, std::string& out) {
          uint64_t x = (first + i) * 0x9E3779B97F4A7C15ULL;
          for (uint32_t r = 0; r < count; ++r) {
            out += "{\"n\":\"";
            for (int k = 0; k < 300; ++k) {
              x = x * 6364136223846793005ULL + 1;
              out += static_cast<char>('a' + (x >> 59));
            }
            out += "\"}\n";
          }
        };
        if (!queue->Append(req).ok()) break;
        REQUIRE(i < 100'000);
      }
    }
    REQUIRE(!queue->HasRoom());
  }

  ferry::testing::TempDir dir;
  Config config;
  platform::FakeClock clock;
  std::unique_ptr<storage::Queue> queue;
  Metrics metrics;
  AgentState state;
  Normalizer normalizer;
  std::unique_ptr<Intake> intake;
  FakeTransport transport;
};

std::string Reading(int i) { return R"({"temperature":)" + std::to_string(20 + i) + "}"; }

// The NDJSON lines of everything queued, oldest first.
std::string QueuedLines(storage::Queue& queue) {
  auto plan = queue.NextBatch({1'000'000, 1ull << 40, true});
  REQUIRE(plan.ok());
  REQUIRE(plan->has_value());
  storage::BatchAssembler assembler(0);
  std::string lines;
  uint32_t records = 0;
  REQUIRE(assembler.Lines(**plan, &lines, &records).ok());
  return lines;
}

}  // namespace

// Hands what the fake broker sends to a gate, as the source does.
struct GateEvents : MqttEvents {
  explicit GateEvents(AckGate& g) : gate(g) {}
  void OnConnack(int, const std::string&) override { gate.SessionStarted(); }
  void OnMessage(const InboundMessage& m) override { gate.Hold(m); }
  AckGate& gate;
};

struct GateRig : Rig {
  explicit GateRig(const std::string& commit_interval = "1s") : Rig(commit_interval) {
    REQUIRE(transport.Connect(events).ok());
    ReadAll();  // the CONNACK
  }
  AckGate gate{config, transport, *intake, metrics, clock, {}};
  GateEvents events{gate};
};

TEST_CASE("a held group's PUBACKs go out only after its commit") {
  GateRig rig;
  for (int i = 1; i <= 3; ++i)
    rig.transport.Send("sensors/t" + std::to_string(i), Reading(i), 1, i);
  rig.ReadAll();
  CHECK(rig.gate.held() == 3);
  CHECK(rig.transport.queued_acks.size() == 3);
  // Between groups the gate writes; while holding, never.
  CHECK(rig.gate.Flush().ok());
  CHECK(rig.transport.written_acks.empty());
  bool stored = false;
  REQUIRE(rig.gate.CommitAndRelease(&stored).ok());
  CHECK(stored);
  CHECK(rig.Stored() == 3);
  CHECK(rig.transport.written_acks == std::vector<uint16_t>{1, 2, 3});
}

TEST_CASE("a failed commit drops the connection without acknowledging the group") {
  GateRig rig;
  rig.FillQueue();
  rig.transport.Send("sensors/a", Reading(1), 1, 7);
  rig.transport.Send("sensors/b", Reading(2), 0, 0);
  rig.ReadAll();
  uint64_t before = rig.Stored();
  bool stored = true;
  platform::Status st = rig.gate.CommitAndRelease(&stored);
  CHECK(!st.ok());
  CHECK(st.code() == platform::Code::kNoSpace);
  CHECK(!stored);
  CHECK(rig.Stored() == before);
  CHECK(rig.transport.written_acks.empty());
  CHECK(rig.transport.lost_acks == 1);  // the broker sends message 7 again
  CHECK(!rig.transport.connected);
  CHECK(!rig.gate.holding());
  // The QoS 0 message is gone for good, and counted.
  CHECK(rig.metrics.records_dropped.Snapshot()["store_failed"] == 1);
}

// Regression, issue 10 finding 1: pausing at the quota while a group waited for its commit sent
// DISCONNECT with loop_write, and the held group's PUBACKs went out first, unstored.
TEST_CASE("pausing while a group is held never acknowledges it unstored") {
  GateRig rig;
  rig.transport.Send("sensors/a", Reading(1), 1, 11);
  rig.transport.Send("sensors/b", Reading(2), 1, 12);
  rig.ReadAll();
  REQUIRE(rig.gate.holding());
  rig.FillQueue();  // the quota is reached while the group waits
  uint64_t before = rig.Stored();
  rig.gate.Leave();
  CHECK(rig.Stored() == before);
  CHECK(rig.transport.written_acks.empty());
  CHECK(rig.transport.lost_acks == 2);
  CHECK(rig.transport.goodbyes == 0);
  CHECK(!rig.transport.connected);
}

TEST_CASE("leaving commits the held group, then says goodbye after its PUBACKs") {
  GateRig rig;
  rig.transport.Send("sensors/a", Reading(1), 1, 21);
  rig.transport.Send("sensors/b", Reading(2), 0, 0);
  rig.ReadAll();
  rig.gate.Leave();
  CHECK(rig.Stored() == 2);
  CHECK(rig.transport.written_acks == std::vector<uint16_t>{21});
  CHECK(rig.transport.goodbyes == 1);
}

TEST_CASE("a lost connection keeps held QoS 0 messages and leaves QoS 1 ones to the broker") {
  GateRig rig;
  rig.transport.Send("sensors/a", Reading(1), 1, 31);
  rig.transport.Send("sensors/b", Reading(2), 0, 0);
  rig.transport.Send("sensors/c", Reading(3), 0, 0);
  rig.ReadAll();
  rig.gate.ConnectionLost();
  CHECK(rig.Stored() == 2);
  CHECK(rig.transport.written_acks.empty());
  CHECK(!rig.gate.holding());
}

// The held group's bytes live in one buffer that grows while messages come and is reused: each
// record must still get its own topic and payload, whatever the sizes and the order.
TEST_CASE("a held group's topics and payloads reach the queue intact, across groups") {
  GateRig rig;
  std::vector<std::string> topics;
  for (int group = 0; group < 3; ++group) {
    for (int i = 0; i < 40; ++i) {
      int n = group * 40 + i;
      std::string topic = "sensors/" + std::string(static_cast<size_t>(n * 37 % 300), 'x') + "/" +
                          std::to_string(n);
      std::string payload = R"({"v":")" + std::string(static_cast<size_t>(n * 53 % 900), 'p') +
                            R"(","n":)" + std::to_string(n) + "}";
      rig.transport.Send(topic, payload, 1, static_cast<uint16_t>(n + 1));
      topics.push_back(topic);
    }
    rig.ReadAll();
    bool stored = false;
    REQUIRE(rig.gate.CommitAndRelease(&stored).ok());
  }
  std::string lines = QueuedLines(*rig.queue);
  size_t at = 0;
  for (size_t n = 0; n < topics.size(); ++n) {
    size_t end = lines.find('\n', at);
    REQUIRE(end != std::string::npos);
    std::string line = lines.substr(at, end - at);
    CHECK(line.find(R"("topic":")" + topics[n] + "\"") != std::string::npos);
    CHECK_MESSAGE(line.find(R"("n":)" + std::to_string(n) + ",") != std::string::npos, line);
    at = end + 1;
  }
  CHECK(at == lines.size());
}

TEST_CASE("a lost connection keeps the held QoS 0 messages' own bytes") {
  GateRig rig;
  rig.transport.Send("sensors/a", Reading(1), 1, 31);
  rig.transport.Send("sensors/bb", Reading(22), 0, 0);
  rig.transport.Send("sensors/ccc", Reading(333), 1, 32);
  rig.transport.Send("sensors/dddd", Reading(4444), 0, 0);
  rig.ReadAll();
  rig.gate.ConnectionLost();
  std::string lines = QueuedLines(*rig.queue);
  CHECK(lines.find(R"("topic":"sensors/bb")") < lines.find(R"("topic":"sensors/dddd")"));
  CHECK(lines.find(R"("temperature":42})") != std::string::npos);
  CHECK(lines.find(R"("temperature":4464})") != std::string::npos);
  CHECK(lines.find("sensors/a\"") == std::string::npos);
  CHECK(lines.find("sensors/ccc") == std::string::npos);
}

TEST_CASE("a broker redelivery of a stored message is acknowledged without a second record") {
  GateRig rig;
  rig.transport.Send("sensors/a", Reading(1), 1, 41);
  rig.ReadAll();
  bool stored = false;
  REQUIRE(rig.gate.CommitAndRelease(&stored).ok());
  // The PUBACK was lost with the connection; the broker sends the message again.
  rig.transport.written_acks.clear();
  REQUIRE(rig.transport.Connect(rig.events).ok());
  rig.transport.Send("sensors/a", Reading(1), 1, 41);
  rig.transport.Send("sensors/b", Reading(2), 1, 42);
  rig.ReadAll();
  REQUIRE(rig.gate.CommitAndRelease(&stored).ok());
  CHECK(rig.Stored() == 2);
  CHECK(rig.metrics.mqtt_redeliveries_skipped == 1);
  CHECK(rig.transport.written_acks == std::vector<uint16_t>{41, 42});
}

// Regression, issue 10 finding 6: with storage.commit_interval longer than the keep-alive, a
// held group kept every packet (PINGREQ too) from the broker, which ended the session. The
// broker waits 1.5 times the keep-alive; a group is held at most one keep-alive after the last
// write (issue 15: it was half, which made 15 s the longest QoS 1 group by default).
TEST_CASE("a group is never held past the keep-alive since the last write") {
  GateRig rig("10s");  // commit_interval 10 s, keep-alive 8 s
  rig.transport.Send("sensors/a", Reading(1), 1, 51);
  rig.ReadAll();
  int64_t now = rig.clock.MonotonicMillis();
  CHECK(rig.gate.due_ms() == now + 8'000);
  rig.clock.Advance(7'999);
  CHECK(!rig.gate.CommitDue(rig.clock.MonotonicMillis()));
  rig.clock.Advance(1);
  CHECK(rig.gate.CommitDue(rig.clock.MonotonicMillis()));
  bool stored = false;
  REQUIRE(rig.gate.CommitAndRelease(&stored).ok());  // the last write: now
  int64_t written = rig.clock.MonotonicMillis();
  rig.clock.Advance(5'000);  // quiet, then a message: it may wait only what is left
  rig.transport.Send("sensors/b", Reading(2), 1, 52);
  rig.ReadAll();
  CHECK(rig.gate.due_ms() == written + 8'000);
}

// An MQTT 5 broker may hold the session to a shorter keep-alive than asked (Server Keep Alive in
// CONNACK, mosquitto's max_keepalive): the bound follows the broker's value.
TEST_CASE("a group is never held past the broker's Server Keep Alive") {
  GateRig rig;  // commit_interval_qos1 6 s, keep-alive 8 s
  rig.transport.server_keepalive_ms = 4'000;
  rig.transport.Drop();
  REQUIRE(rig.transport.Connect(rig.events).ok());
  rig.ReadAll();  // the CONNACK with Server Keep Alive 4
  CHECK(rig.gate.KeepAliveMs() == 4'000);
  rig.transport.Send("sensors/a", Reading(1), 1, 53);
  rig.ReadAll();
  CHECK(rig.gate.due_ms() == rig.clock.MonotonicMillis() + 4'000);
  CHECK(rig.intake->TransformBudgetMs() == 0);  // no transforms: nothing taken off the hold
}

TEST_CASE("a group of only QoS 1 messages waits commit_interval_qos1; a QoS 0 one does not") {
  GateRig rig;  // commit_interval 1 s, commit_interval_qos1 6 s, keep-alive 8 s
  rig.transport.Send("sensors/a", Reading(1), 1, 81);
  rig.ReadAll();
  int64_t start = rig.clock.MonotonicMillis();
  CHECK(rig.gate.due_ms() == start + 6'000);
  rig.clock.Advance(2'000);
  CHECK(!rig.gate.CommitDue(rig.clock.MonotonicMillis()));
  rig.transport.Send("sensors/b", Reading(2), 0, 0);  // nobody resends this one
  rig.ReadAll();
  CHECK(rig.gate.due_ms() == start + 1'000);
  CHECK(rig.gate.CommitDue(rig.clock.MonotonicMillis()));
}

TEST_CASE("a QoS 1 group that holds kQos1GroupBytes waits only commit_interval") {
  GateRig rig;  // commit_interval 1 s, commit_interval_qos1 6 s, keep-alive 8 s
  const std::string big(AckGate::kQos1GroupBytes / 2, 'x');
  rig.transport.Send("s/1", big, 1, 1);
  rig.ReadAll();
  int64_t start = rig.clock.MonotonicMillis();
  CHECK(rig.gate.due_ms() == start + 6'000);
  rig.transport.Send("s/2", big, 1, 2);  // the group now holds more than kQos1GroupBytes
  rig.ReadAll();
  CHECK(rig.gate.due_ms() == start + 1'000);
  CHECK(!rig.gate.CommitDue(start + 999));
  CHECK(rig.gate.CommitDue(start + 1'000));
}

TEST_CASE("a group that waited the batch linger is sealed as a batch in its own commit") {
  GateRig rig;  // linger: the product's 1 s
  rig.transport.Send("sensors/a", Reading(1), 1, 1);
  rig.ReadAll();
  bool stored = false;
  REQUIRE(rig.gate.CommitAndRelease(&stored).ok());  // at once: no batch formed
  auto none = rig.queue->NextBatch({100, 1 << 20, false});
  REQUIRE(none.ok());
  CHECK(!none->has_value());
  rig.transport.Send("sensors/b", Reading(2), 1, 2);
  rig.ReadAll();
  rig.clock.Advance(1'000);
  REQUIRE(rig.gate.CommitAndRelease(&stored).ok());
  auto sealed = rig.queue->NextBatch({100, 1 << 20, false});  // no partial batch of its own
  REQUIRE(sealed.ok());
  REQUIRE(sealed->has_value());
  CHECK((*sealed)->first_seq == 1);
  CHECK((*sealed)->last_seq == 2);
}

TEST_CASE("a QoS 1 group is due as soon as it fills the broker's in-flight window") {
  GateRig rig;
  rig.transport.receive_maximum = 4;
  for (int i = 1; i <= 3; ++i) rig.transport.Send("s/" + std::to_string(i), Reading(i), 1, i);
  rig.ReadAll();
  CHECK(!rig.gate.full());
  CHECK(!rig.gate.CommitDue(rig.clock.MonotonicMillis()));
  rig.transport.Send("s/4", Reading(4), 1, 4);
  rig.ReadAll();
  CHECK(rig.gate.full());
  CHECK(rig.gate.CommitDue(rig.clock.MonotonicMillis()));
}

TEST_CASE("under MQTT 5 the window is two groups: a group commits at commit_max_records") {
  GateRig rig;
  rig.config.storage.commit_max_records = 4;
  rig.transport.receive_maximum = MosquittoTransport::ReceiveMaximumFor(rig.config);
  CHECK(rig.transport.receive_maximum == 8);  // the broker sends the next group meanwhile
  for (int i = 1; i <= 3; ++i) rig.transport.Send("s/" + std::to_string(i), Reading(i), 1, i);
  rig.ReadAll();
  CHECK(!rig.gate.full());
  rig.transport.Send("s/4", Reading(4), 1, 4);
  rig.ReadAll();
  CHECK(rig.gate.full());
  CHECK(rig.gate.CommitDue(rig.clock.MonotonicMillis()));
  // Clamped to MQTT's two-byte field.
  rig.config.storage.commit_max_records = 40'000;
  CHECK(MosquittoTransport::ReceiveMaximumFor(rig.config) == 65'535);
}

// A source over the rig's queue, with a fake broker connection of its own (the source owns it).
struct SourceRig {
  SourceRig() {
    auto owned = std::make_unique<FakeTransport>();
    transport = owned.get();
    source = std::make_unique<MqttSource>(rig.config, *rig.intake, rig.metrics, rig.state,
                                          rig.clock, std::vector<std::string>{}, std::move(owned));
  }
  // Connects and reads the CONNACK.
  void Connect() {
    source->Step();
    source->Step();
  }
  Rig rig;
  FakeTransport* transport = nullptr;
  std::unique_ptr<MqttSource> source;
};

TEST_CASE("the source pauses at the quota while holding, without acknowledging, and resumes") {
  SourceRig sr;
  Rig& rig = sr.rig;
  FakeTransport& t = *sr.transport;
  MqttSource& source = *sr.source;
  t.on_acks = [&](const std::vector<uint16_t>& acks) {
    CHECK(t.written_acks.size() + acks.size() <= rig.Stored());
  };
  sr.Connect();
  CHECK(rig.metrics.mqtt_connected == 1);
  t.Send("sensors/a", Reading(1), 1, 61);
  t.Send("sensors/b", Reading(2), 1, 62);
  source.Step();
  REQUIRE(source.gate().held() == 2);  // waiting for its commit interval
  rig.FillQueue();
  rig.clock.Advance(60);  // the next look at the room finds none
  source.Step();
  CHECK(source.paused());
  CHECK(t.written_acks.empty());
  CHECK(t.lost_acks == 2);
  CHECK(rig.metrics.mqtt_connected == 0);
  // Room again: the source reconnects, the broker resends, and they are stored and acknowledged.
  auto batch = rig.queue->NextBatch({1'000'000, 1ull << 40, true});
  REQUIRE(batch.ok());
  REQUIRE(rig.queue->Ack((*batch)->first_seq, (*batch)->last_seq).ok());
  t.Send("sensors/a", Reading(1), 1, 61);
  t.Send("sensors/b", Reading(2), 1, 62);
  for (int i = 0; i < 15 && t.written_acks.size() < 2; ++i) {
    source.Step();
    rig.clock.Advance(1'000);
  }
  CHECK(!source.paused());
  CHECK(t.written_acks == std::vector<uint16_t>{61, 62});
  CHECK(rig.Stored() == 2);
}

TEST_CASE("stopping the source with a held group commits it before the goodbye") {
  SourceRig sr;
  FakeTransport& t = *sr.transport;
  MqttSource& source = *sr.source;
  sr.Connect();
  t.Send("sensors/a", Reading(1), 1, 71);
  source.Step();
  REQUIRE(source.gate().holding());
  source.Finish();
  CHECK(sr.rig.Stored() == 1);
  CHECK(t.written_acks == std::vector<uint16_t>{71});
  CHECK(t.goodbyes == 1);
}

TEST_CASE("a Step's read round counts the packets it took, and the next round starts again") {
  SourceRig sr;
  FakeTransport& t = *sr.transport;
  MqttSource& source = *sr.source;
  sr.Connect();
  for (uint16_t mid = 1; mid <= 12; ++mid) t.Send("sensors/a", Reading(mid), 1, mid);
  source.Step();
  CHECK(source.last_round_packets() == 12);  // busy: the next Step pauses before its poll
  source.Step();
  CHECK(source.last_round_packets() == 0);
  t.Send("sensors/a", Reading(13), 1, 13);
  source.Step();
  CHECK(source.last_round_packets() == 1);
  CHECK(source.gate().held() == 13);
}

// A busy mosquitto keeps sending while the PUBACKs Ferry wrote wait unread in the socket: the
// source reads nothing more, buffered input included, until they are out (they grew by a
// group per round without this, 1.7 MB in a 5M-message run).
TEST_CASE("while PUBACKs wait for the broker to take them, the source reads nothing") {
  SourceRig sr;
  FakeTransport& t = *sr.transport;
  MqttSource& source = *sr.source;
  sr.Connect();
  t.stall_writes = true;
  t.buffered_input = true;
  t.Send("sensors/a", Reading(1), 1, 81);
  source.Step();
  REQUIRE(source.gate().held() == 1);
  sr.rig.clock.Advance(7'000);  // past storage.commit_interval_qos1: committed, PUBACK queued
  source.Step();
  REQUIRE(sr.rig.Stored() == 1);
  REQUIRE(t.queued_acks == std::vector<uint16_t>{81});
  t.Send("sensors/b", Reading(2), 1, 82);
  source.Step();
  CHECK(t.incoming.size() == 1);  // not read: its PUBACK would join those still waiting
  CHECK(!source.gate().holding());
  t.stall_writes = false;  // the broker reads again
  source.Step();
  CHECK(t.written_acks == std::vector<uint16_t>{81});
  source.Step();
  CHECK(t.incoming.empty());  // read (held or, its hold limit run out, already stored)
  CHECK(sr.rig.Stored() + source.gate().held() == 2);
}
