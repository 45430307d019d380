// The upstream worker with a fake upstream (wan.upstream_mappings): discovery only with
// another NAT upstream, every local opening carried, deleted upstream when it goes,
// re-claimed on an upstream restart, and what a front end waiting for a grant learns.
#include <catch2/catch.hpp>
#include <atomic>

#include <filesystem>
#include <map>
#include <thread>

#include "daemon/upstream_worker.hpp"
#include "igd/lease_file.hpp"
#include "igd/upstream_lease_file.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;

constexpr Ipv4Address wan = Ipv4Address::from_octets(100, 64, 0, 2);
constexpr Ipv4Address upstream_public = Ipv4Address::from_octets(198, 51, 100, 7);
constexpr CarriedKey rtp{Protocol::udp, Port{5004}};
constexpr CarriedKey rdp{Protocol::tcp, Port{3389}};

// An upstream PCP server in memory: it grants the port asked unless told otherwise.
struct FakeUpstream {
    std::map<CarriedKey, UpstreamGrant> mappings;
    std::vector<UpstreamRequest> requests;
    std::vector<CarriedKey> unmapped;
    std::map<std::uint16_t, std::uint16_t> port_instead;  // asked -> given
    std::optional<UpstreamFailure> failing;
    std::uint32_t epoch = 1000;
    std::uint8_t next_nonce = 1;
};

class FakeClient : public UpstreamClient {
public:
    explicit FakeClient(FakeUpstream& upstream) : upstream_(upstream) {}
    UpstreamProtocol protocol() const override { return UpstreamProtocol::pcp; }
    std::string describe() const override { return "192.0.2.1:5351"; }
    std::optional<Ipv4Address> announcing_server() const override { return Ipv4Address::from_octets(192, 0, 2, 1); }
    Expected<Ipv4Address, UpstreamFailure> external_address() override { return upstream_public; }
    Expected<UpstreamGrant, UpstreamFailure> map(const UpstreamRequest& request) override {
        upstream_.requests.push_back(request);
        if (upstream_.failing) return unexpected(*upstream_.failing);
        UpstreamGrant g;
        g.via = UpstreamProtocol::pcp;
        g.external_address = upstream_public;
        auto instead = upstream_.port_instead.find(request.suggested_external.value);
        g.external_port = instead == upstream_.port_instead.end() ? request.suggested_external : Port{instead->second};
        g.lifetime = request.lifetime;
        g.nonce = request.nonce ? *request.nonce : PcpNonce{upstream_.next_nonce++};
        g.epoch_seconds = upstream_.epoch;
        upstream_.mappings[{request.protocol, request.internal_port}] = g;
        return g;
    }
    std::optional<UpstreamFailure> unmap(Protocol protocol, Port internal_port, const UpstreamGrant&) override {
        upstream_.unmapped.push_back({protocol, internal_port});
        upstream_.mappings.erase({protocol, internal_port});
        return std::nullopt;
    }

private:
    FakeUpstream& upstream_;
};

// The worker's thread found the upstream (tests that run the thread wait for it first:
// a grant before that is answered as without an upstream).
bool using_upstream(const UpstreamWorker& worker) {
    for (int i = 0; i < 300 && worker.status().state != "using"; ++i) std::this_thread::sleep_for(10ms);
    return worker.status().state == "using";
}

struct Harness {
    FakeUpstream upstream;
    bool answers = true;
    int discoveries = 0;
    std::vector<LocalOpening> local;
    Instant now = 1'000'000ms;
    std::atomic<int> clock_reads{0};  // the worker reads the clock at every turn of its loop
    std::string state_file;
    UpstreamWorker::Options options;
    std::unique_ptr<UpstreamWorker> worker;

    explicit Harness(UpstreamFailurePolicy policy = UpstreamFailurePolicy::keep, std::string file = "") {
        options.failure_policy = policy;
        options.state_file = std::move(file);
        worker = make();
    }
    std::unique_ptr<UpstreamWorker> make() {
        return std::make_unique<UpstreamWorker>(
            options,
            [this](const std::vector<UpstreamProtocol>& order, Ipv4Address) {
                ++discoveries;
                UpstreamDiscoveryResult result;
                if (answers) result.client = std::make_unique<FakeClient>(upstream);
                else for (auto p : order) result.reasons.emplace_back(p, "no answer");
                return result;
            },
            [this] { return local; },
            [this] {
                ++clock_reads;
                return now;
            });
    }
};

TEST_CASE("without another NAT upstream the worker never looks for one and carries nothing") {
    Harness h;
    h.local = {{rtp, std::nullopt}};
    h.worker->set_cascade(false, wan);
    h.worker->run_turn();
    CHECK(h.discoveries == 0);
    CHECK(h.upstream.requests.empty());
    CHECK(h.worker->status().state == "not needed");
    CHECK_FALSE(h.worker->external_address());
    CHECK(h.worker->await_upstream(rtp, 0ms).kind == UpstreamOutcome::Kind::not_carried);
}

TEST_CASE("wan.upstream_mappings: off never looks for an upstream, even behind another NAT") {
    Harness h;
    h.options.mode = UpstreamMappingsMode::off;
    h.worker = h.make();
    h.worker->set_cascade(true, wan);
    h.worker->run_turn();
    CHECK(h.discoveries == 0);
    CHECK(h.worker->status().state == "off");
}

TEST_CASE("behind another NAT every local opening is carried upstream for the same port") {
    Harness h;
    h.local = {{rtp, h.now + 600s}, {rdp, std::nullopt}};
    h.worker->set_cascade(true, wan);
    h.worker->run_turn();
    CHECK(h.discoveries == 1);
    REQUIRE(h.upstream.mappings.size() == 2);
    CHECK(h.upstream.mappings[rtp].external_port == Port{5004});
    CHECK(h.worker->external_address() == upstream_public);
    auto status = h.worker->status();
    CHECK(status.state == "using");
    CHECK(status.detail == "PCP at 192.0.2.1:5351");
    CHECK(status.mappings_carried == 2);
    CHECK(status.counters.carried == 2);
    auto outcome = h.worker->await_upstream(rtp, 0ms);
    CHECK(outcome.kind == UpstreamOutcome::Kind::held);
    CHECK(outcome.external_address == upstream_public);
}

TEST_CASE("a local opening deleted or expired is deleted upstream") {
    Harness h;
    h.local = {{rtp, h.now + 600s}, {rdp, std::nullopt}};
    h.worker->set_cascade(true, wan);
    h.worker->run_turn();
    h.local = {{rdp, std::nullopt}};
    h.worker->openings_changed();
    h.worker->run_turn();
    CHECK(h.upstream.unmapped == std::vector<CarriedKey>{rtp});
    CHECK(h.upstream.mappings.size() == 1);
}

TEST_CASE("the upstream half is renewed with its nonce before half its lifetime, and not before") {
    Harness h;
    h.local = {{rtp, h.now + 600s}};
    h.worker->set_cascade(true, wan);
    Instant next = h.worker->run_turn();
    CHECK(next == h.now + 30s);  // the longest sleep: a renewal far ahead is still looked at now and then
    h.now += 299s;
    h.worker->run_turn();
    CHECK(h.upstream.requests.size() == 1);
    h.now += 1s;
    h.upstream.epoch += 300;
    h.worker->run_turn();
    REQUIRE(h.upstream.requests.size() == 2);
    CHECK(h.upstream.requests[1].nonce == h.upstream.mappings[rtp].nonce);
    CHECK(h.worker->status().counters.renewals == 1);
}

TEST_CASE("an upstream that restarted (its epoch went back) gets every half claimed again") {
    Harness h;
    h.local = {{rtp, std::nullopt}, {rdp, std::nullopt}};
    h.worker->set_cascade(true, wan);
    h.worker->run_turn();
    auto nonce_before = h.upstream.mappings[rdp].nonce;
    h.upstream.mappings.clear();  // the upstream lost them
    h.upstream.epoch = 5;
    h.now += 1800s;  // rdp and rtp both due: the first answer shows the restart
    h.worker->run_turn();
    h.worker->run_turn();
    CHECK(h.upstream.mappings.size() == 2);
    CHECK(h.upstream.mappings[rdp].nonce == nonce_before);
    CHECK(h.worker->status().counters.reclaims == 1);
}

TEST_CASE("only the server in use may announce, and only while it answers") {
    Harness h;
    CHECK_FALSE(h.worker->announcing_upstream());
    h.worker->set_cascade(true, wan);
    h.worker->run_turn();
    auto announcing = h.worker->announcing_upstream();
    REQUIRE(announcing);
    CHECK(announcing->server == Ipv4Address::from_octets(192, 0, 2, 1));
    CHECK(announcing->wan_address == wan);
    h.worker->set_cascade(false, wan);  // no NAT upstream any more: the client goes
    h.worker->run_turn();
    CHECK_FALSE(h.worker->announcing_upstream());
}

TEST_CASE("announcements and the datagrams to port 5350 that were not are counted in the status") {
    Harness h;
    h.worker->upstream_announced(5);
    h.worker->announcement_ignored(AnnouncementVerdict::not_from_upstream);
    h.worker->announcement_ignored(AnnouncementVerdict::not_from_upstream);
    auto status = h.worker->status();
    CHECK(status.counters.announcements == 1);
    CHECK(status.counters.announcements_ignored["not_from_upstream"] == 2);
    CHECK(upstream_status_json(status).find("\"announcements_ignored\":{\"not_from_upstream\":2}") != std::string::npos);
}

TEST_CASE("an announcement whose epoch went back re-claims every half at once, the rest of its series nothing") {
    Harness h;
    h.local = {{rtp, std::nullopt}, {rdp, std::nullopt}};
    h.worker->set_cascade(true, wan);
    h.worker->run_turn();  // granted with epoch 1000
    auto requests_before = h.upstream.requests.size();
    h.upstream.mappings.clear();  // the upstream restarted and lost them
    h.upstream.epoch = 0;
    h.now += 10s;
    h.worker->upstream_announced(0);
    h.worker->run_turn();
    CHECK(h.upstream.mappings.size() == 2);
    CHECK(h.upstream.requests.size() == requests_before + 2);
    CHECK(h.worker->status().counters.reclaims == 1);
    h.now += 1s;  // the next of the series (RFC 6886 3.2.1), epoch in step: nothing to do
    h.worker->upstream_announced(1);
    h.worker->run_turn();
    CHECK(h.upstream.requests.size() == requests_before + 2);
    CHECK(h.worker->status().counters.reclaims == 1);
    CHECK(h.worker->status().counters.announcements == 2);
}

TEST_CASE("a PCP ANNOUNCE from the upstream re-claims every half at once") {
    Harness h;
    h.local = {{rtp, std::nullopt}};
    h.worker->set_cascade(true, wan);
    h.worker->run_turn();
    h.upstream.mappings.clear();
    h.worker->upstream_restarted();
    h.now += 1s;
    h.upstream.epoch += 1;
    h.worker->run_turn();
    CHECK(h.upstream.mappings.size() == 1);
}

TEST_CASE("an upstream that stops answering is dropped and looked for again; a new one gets every half") {
    Harness h;
    h.local = {{rtp, h.now + 600s}};
    h.worker->set_cascade(true, wan);
    h.worker->run_turn();
    h.upstream.failing = UpstreamFailure{UpstreamFailure::Kind::no_answer, "3 tries"};
    h.now += 300s;
    h.worker->run_turn();
    CHECK_FALSE(h.worker->external_address());
    CHECK(h.worker->status().counters.failed["no_answer"] == 1);
    h.upstream.failing.reset();
    h.upstream.mappings.clear();
    h.now += 1s;
    h.worker->run_turn();
    CHECK(h.discoveries == 2);
    CHECK(h.upstream.mappings.size() == 1);
}

TEST_CASE("when no upstream answers, status names each protocol's reason and discovery backs off") {
    Harness h;
    h.answers = false;
    h.worker->set_cascade(true, wan);
    Instant next = h.worker->run_turn();
    auto status = h.worker->status();
    CHECK(status.state == "none answered");
    CHECK(status.detail == "PCP: no answer; NAT-PMP: no answer; UPnP IGD: no answer; next try in 10 s");
    CHECK(next == h.now + 10s);
    h.now += 10s;
    CHECK(h.worker->run_turn() == h.now + 20s);
    CHECK(h.discoveries == 2);
}

TEST_CASE("a refused claim is what a waiting front end learns, and counted by reason") {
    Harness h(UpstreamFailurePolicy::refuse);
    h.worker->set_cascade(true, wan);
    h.worker->run_turn();
    h.upstream.failing = UpstreamFailure{UpstreamFailure::Kind::port_taken, "CANNOT_PROVIDE_EXTERNAL"};
    h.local = {{rtp, h.now + 600s}};
    h.worker->openings_changed();
    h.worker->run_turn();
    auto outcome = h.worker->await_upstream(rtp, 0ms);
    CHECK(outcome.kind == UpstreamOutcome::Kind::failed);
    CHECK(outcome.failure->kind == UpstreamFailure::Kind::port_taken);
    CHECK(h.worker->refusing_on_failure());
    h.worker->report_refused_locally("udp 5004");
    CHECK(h.worker->status().counters.refused_locally == 1);
    CHECK(h.worker->status().counters.failed["port_taken"] == 1);
}

TEST_CASE("a fresh grant not yet answered is pending when the wait runs out") {
    Harness h;
    h.worker->set_cascade(true, wan);
    h.worker->run_turn();
    CHECK(h.worker->await_upstream(rtp, 10ms).kind == UpstreamOutcome::Kind::pending);
}

TEST_CASE("with no upstream in use the worker's thread sleeps until something changes, whatever the openings do") {
    for (bool cascade : {false, true}) {
        CAPTURE(cascade);
        Harness h;
        h.answers = false;  // behind another NAT, nobody answers: discovery waits for its backoff
        h.local = {{rtp, std::nullopt}};
        h.worker->set_cascade(cascade, wan);
        h.worker->start();
        for (int i = 0; i < 3; ++i) {
            h.worker->openings_changed();
            std::this_thread::sleep_for(50ms);
        }
        // A few turns for the start and each change; a loop that turns round on a change
        // it cannot act on reads the clock millions of times.
        CHECK(h.clock_reads.load() < 50);
    }
}

TEST_CASE("the worker's thread answers a front end waiting for a fresh grant") {
    Harness h;
    h.worker->set_cascade(true, wan);
    h.worker->start();
    REQUIRE(using_upstream(*h.worker));
    h.local = {{rtp, std::nullopt}};
    h.worker->openings_changed();
    auto outcome = h.worker->await_upstream(rtp, 3000ms);
    CHECK(outcome.kind == UpstreamOutcome::Kind::held);
    CHECK(outcome.external_port == Port{5004});
}

TEST_CASE("the upstream halves survive a restart in the state file and are re-claimed with their nonce") {
    char dir_template[] = "/tmp/upstream_worker_test.XXXXXX";
    std::string dir = mkdtemp(dir_template);
    std::string leases = dir + "/leases";
    PcpNonce nonce;
    {
        Harness h(UpstreamFailurePolicy::keep, leases);
        h.local = {{rtp, std::nullopt}};
        h.upstream.port_instead[5004] = 40000;
        h.worker->set_cascade(true, wan);
        h.worker->run_turn();
        nonce = *h.upstream.mappings[rtp].nonce;
    }
    CHECK(std::filesystem::exists(leases + ".upstream"));
    Harness after(UpstreamFailurePolicy::keep, leases);
    after.local = {{rtp, std::nullopt}};
    after.worker->start();  // reads the file; the thread waits for a cascade
    after.worker->set_cascade(true, wan);
    REQUIRE(using_upstream(*after.worker));
    CHECK(after.worker->await_upstream(rtp, 3000ms).kind == UpstreamOutcome::Kind::held);
    after.worker.reset();
    REQUIRE_FALSE(after.upstream.requests.empty());
    CHECK(after.upstream.requests[0].nonce == nonce);
    CHECK(after.upstream.requests[0].suggested_external == Port{40000});
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gw
