// Issue 15, Locks: a slow disk stalls only the front end that waits for it. The lease
// journal's flush is made to take half a second while a front end grants a mapping (the
// mapping service holds its mutex across it); meanwhile the main loop's turn has an ended
// lease to close and gatewayctl's status and mappings to answer, and a packet worker
// decides a batch. The worker must not wait for the disk: with the service's mutex taken
// under the engine lock (the old main loop), it waited the whole flush.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "daemon/gateway_control.hpp"
#include "daemon/gateway_expiry.hpp"
#include "engine_setup.hpp"
#include "igd/engine_clock.hpp"
#include "igd/journal_storage.hpp"
#include "igd/port_mapping_service.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto slow_flush = 500ms;

// A disk whose next flush, once armed, takes slow_flush; it tells when that flush began.
class SlowDisk : public JournalStorage {
public:
    void arm() { armed_ = true; }
    void wait_until_flushing() {
        std::unique_lock lock(mutex_);
        began_.wait(lock, [this] { return flushing_; });
    }
    Expected<void, Error> flush(int fd) override {
        if (armed_.exchange(false)) {
            {
                std::lock_guard lock(mutex_);
                flushing_ = true;
            }
            began_.notify_all();
            std::this_thread::sleep_for(slow_flush);
        }
        return JournalStorage::flush(fd);
    }

private:
    std::atomic<bool> armed_{false};
    std::mutex mutex_;
    std::condition_variable began_;
    bool flushing_ = false;
};

struct ScratchDirectory {
    std::filesystem::path path;
    ScratchDirectory() {
        std::string name = (std::filesystem::temp_directory_path() / "gw_slow_journal_XXXXXX").string();
        REQUIRE(mkdtemp(name.data()) != nullptr);
        path = name;
    }
    ~ScratchDirectory() { std::filesystem::remove_all(path); }
};

MappingChanges grant(PortMappingService& service, std::uint16_t port, std::uint32_t lease_seconds) {
    return service.with_policy([&](MappingPolicy& policy, Instant now) {
        PortMapping m;
        m.protocol = Protocol::udp;
        m.external = Port{port};
        m.internal = at(host_a, port);
        m.description = "slow journal test";
        MappingChanges changes;
        auto result = policy.grant(m, host_a, lease_seconds, now);
        if (auto* granted = std::get_if<PortMapping>(&result)) changes.granted.push_back(*granted);
        return changes;
    });
}

}  // namespace

TEST_CASE("a packet batch is decided while the lease journal's fsync is slow and the main loop waits for it") {
    ScratchDirectory dir;
    IgdConfig config;
    config.permissions = {UpnpPermission{true, PortRange{1024, 65535}, network("192.168.0.0/16"), PortRange{1024, 65535}}};
    config.lease_file = (dir.path / "leases").string();
    config.lease_sync = LeaseSync::change;
    PacketEngine engine(engine_setup());
    LockedEngine locked(engine);
    EngineCommandQueue commands;
    SlowDisk disk;
    PortMappingService service(config, {}, commands, ServiceClock{}, disk);
    service.start();
    GatewayControl control(locked, &service, nullptr, "", GatewayConfig{}, monotonic_now());

    // A lease that has ended by the time the disk turns slow: the main loop must close it.
    REQUIRE(grant(service, 5000, 1).granted.size() == 1);
    apply_queued_commands(locked, commands);
    REQUIRE(engine.has_port_mapping(Protocol::udp, Port{5000}));
    REQUIRE(service.next_lease_end());
    while (monotonic_now() <= *service.next_lease_end()) std::this_thread::sleep_for(20ms);

    disk.arm();
    std::atomic<bool> granted{false};
    std::thread front_end([&] {  // pupnp's thread: AddPortMapping, journaled slowly
        grant(service, 5001, 3600);
        granted = true;
    });
    disk.wait_until_flushing();
    std::thread main_loop([&] {  // one turn of the daemon's loop, and two gatewayctl requests
        Instant now = monotonic_now();
        expire_on_time({locked, commands, &service, nullptr, &control, nullptr}, now, true);
        control.answer({"status"}, now);
        control.answer({"mappings"}, now);
    });
    std::this_thread::sleep_for(50ms);  // the loop is waiting for the service by now

    // A queue worker's batch: one hold of the engine lock, 32 packets decided.
    const auto asked = Clock::now();
    std::size_t forwarded = 0;
    {
        std::lock_guard lock(locked.mutex());
        for (std::uint16_t i = 0; i < 32; ++i) {
            Packet packet = udp(at(host_b, std::uint16_t(6000 + i)), at(server, 53));
            forwarded += outbound(engine, packet, monotonic_now()).verdict == Verdict::forward;
        }
    }
    const auto latency = Clock::now() - asked;
    const bool flush_still_running = !granted;
    main_loop.join();
    front_end.join();

    INFO("the worker waited " << std::chrono::duration_cast<std::chrono::milliseconds>(latency).count() << " ms");
    CHECK(forwarded == 32);
    CHECK(flush_still_running);  // decided during the slow flush, not after it
    CHECK(latency < 100ms);
    // The loop did its work once the service was free: the ended lease is closed.
    apply_queued_commands(locked, commands);
    CHECK_FALSE(engine.has_port_mapping(Protocol::udp, Port{5000}));
    CHECK(engine.has_port_mapping(Protocol::udp, Port{5001}));
}

}  // namespace gw::test
