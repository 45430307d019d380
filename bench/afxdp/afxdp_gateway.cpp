// afxdp_gateway: the issue 17 experiment (README.md), an AF_XDP data path under the same
// pure engine the NFQUEUE path calls. Loads xdp_gateway.bpf.o onto the LAN and WAN
// interfaces, takes the IPv4 frames it redirects, judges them with PacketEngine::judge_batch
// (LAN frames as outbound, WAN frames as inbound), and forwards what the engine forwards:
// TTL decremented, next-hop MAC from the kernel's neighbour table, sent on the other
// interface's socket. Everything else stays the kernel's (XDP_PASS), and the kernel's
// ip_forward stays 0, so with this program gone nothing crosses untranslated.
//
//   afxdp_gateway --config FILE --object xdp_gateway.bpf.o [--mode native|skb]
//
// Not the product: no control socket, UPnP, hairpinning, ICMP errors, IPv6 or local
// delivery of what the engine hands to the gateway itself (counted and dropped).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "config/gateway_config.hpp"
#include "daemon/gateway_daemon.hpp"
#include "firewall/packet_engine.hpp"
#include "neighbour_cache.hpp"
#include "xsk_port.hpp"

namespace gw::afxdp {
namespace {

volatile std::sig_atomic_t stop_requested = 0;
void request_stop(int) { stop_requested = 1; }

struct Interface {
    std::string name;
    int index = 0;
    Mac mac{};
    std::uint32_t address = 0, mask = 0;  // host order: its first IPv4 address
};

Interface interface_named(const std::string& name) {
    Interface i{name, int(if_nametoindex(name.c_str()))};
    if (i.index == 0) throw std::runtime_error("no interface " + name);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq request{};
    std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFHWADDR, &request) != 0) throw std::runtime_error("no MAC address on " + name);
    std::memcpy(i.mac.data(), request.ifr_hwaddr.sa_data, 6);
    close(s);
    ifaddrs* all = nullptr;
    getifaddrs(&all);
    for (ifaddrs* a = all; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || name != a->ifa_name) continue;
        i.address = ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
        i.mask = ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_netmask)->sin_addr.s_addr);
        break;
    }
    freeifaddrs(all);
    if (i.address == 0) throw std::runtime_error("no IPv4 address on " + name);
    return i;
}

// The default route's gateway through `interface` (host order), from /proc/net/route.
std::uint32_t default_gateway(const std::string& interface) {
    std::ifstream routes("/proc/net/route");
    std::string line;
    std::getline(routes, line);
    while (std::getline(routes, line)) {
        std::istringstream fields(line);
        std::string device, destination, gateway;
        if (fields >> device >> destination >> gateway && device == interface && destination == "00000000")
            return ntohl(std::uint32_t(std::stoul(gateway, nullptr, 16)));
    }
    return 0;
}

// TTL one lower, IP header checksum updated incrementally (RFC 1624; the kernel's ip_decrease_ttl).
void decrement_ttl(std::uint8_t* ip) {
    std::uint32_t check = (std::uint32_t(ip[10]) << 8 | ip[11]) + 0x0100;
    check = (check + (check >> 16)) & 0xffff;
    ip[10] = std::uint8_t(check >> 8);
    ip[11] = std::uint8_t(check);
    --ip[8];
}

struct Counters {
    std::uint64_t received = 0, forwarded = 0, dropped_by_engine = 0, local_not_delivered = 0;
    std::uint64_t no_neighbour = 0, send_ring_full = 0, malformed = 0;
};

// One direction's leg: frames from `in` are judged on `path` and leave by `out`.
struct Leg {
    XskPort& in;
    XskPort& out;
    const Interface& out_interface;
    EnginePath path;
};

class Forwarder {
public:
    Forwarder(PacketEngine& engine, const Interface& wan, std::uint32_t wan_gateway)
        : engine_(engine), wan_(wan), wan_gateway_(wan_gateway) {}

    // One batch from leg.in; returns how many frames it took.
    std::size_t forward_batch(const Leg& leg, Instant now) {
        constexpr std::size_t batch = 64;
        std::array<ReceivedFrame, batch> frames;
        std::array<EnginePacket, batch> packets;
        std::array<EngineResult, batch> results;
        std::array<std::size_t, batch> frame_of;
        const std::size_t count = leg.in.receive(frames);
        std::size_t judged = 0;
        for (std::size_t i = 0; i < count; ++i) {
            auto bytes = frames[i].bytes;
            if (bytes.size() < 14 + 20) {
                ++counters_.malformed;
                continue;
            }
            std::size_t ip_length = std::size_t(bytes[16]) << 8 | bytes[17];
            // Ethernet padding is not the packet's: the engine sees what NFQUEUE would give it.
            if (ip_length < 20 || ip_length > bytes.size() - 14) {
                ++counters_.malformed;
                continue;
            }
            packets[judged] = {bytes.subspan(14, ip_length), leg.path, L4Checksum::complete};
            frame_of[judged++] = i;
        }
        counters_.received += count;
        engine_.judge_batch(std::span(packets.data(), judged), now, results);
        for (std::size_t k = 0; k < judged; ++k) send_on(leg, frames[frame_of[k]], packets[k], results[k]);
        leg.in.finish_receive(count);
        for (std::size_t i = 0; i < count; ++i) leg.in.release(frames[i].address);
        leg.in.refill();
        leg.out.flush_sends();
        return count;
    }

    NeighbourCache& neighbours() { return neighbours_; }
    const Counters& counters() const { return counters_; }

private:
    void send_on(const Leg& leg, const ReceivedFrame& frame, const EnginePacket& packet, const EngineResult& result) {
        if (result.verdict == Verdict::deliver_locally) {
            ++counters_.local_not_delivered;
            return;
        }
        if (result.verdict != Verdict::forward) {
            ++counters_.dropped_by_engine;
            return;
        }
        std::uint8_t* ip = packet.bytes.data();
        std::uint32_t destination = std::uint32_t(ip[16]) << 24 | ip[17] << 16 | ip[18] << 8 | ip[19];
        std::uint32_t next_hop = destination;
        if (leg.path == EnginePath::outbound && (destination & wan_.mask) != (wan_.address & wan_.mask))
            next_hop = wan_gateway_;
        auto mac = neighbours_.find(next_hop, leg.out_interface.index);
        if (!mac) {
            ++counters_.no_neighbour;
            return;
        }
        decrement_ttl(ip);
        std::uint8_t* ethernet = frame.bytes.data();
        std::memcpy(ethernet, mac->data(), 6);
        std::memcpy(ethernet + 6, leg.out_interface.mac.data(), 6);
        if (!leg.out.queue_send(frame.bytes.first(14 + packet.bytes.size()))) {
            ++counters_.send_ring_full;
            return;
        }
        ++counters_.forwarded;
    }

    PacketEngine& engine_;
    const Interface& wan_;
    std::uint32_t wan_gateway_;
    NeighbourCache neighbours_;
    Counters counters_;
};

double seconds_of(timeval t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; }

Instant monotonic_instant() {
    return std::chrono::duration_cast<Instant>(std::chrono::steady_clock::now().time_since_epoch());
}

struct Attached {
    int index;
    std::uint32_t flags;
    ~Attached() { bpf_xdp_detach(index, flags, nullptr); }
};

int bpf_fd_of_map(bpf_object* object, const char* name) {
    bpf_map* map = bpf_object__find_map_by_name(object, name);
    if (!map) throw std::runtime_error(std::string("no map ") + name + " in the XDP object");
    return bpf_map__fd(map);
}

int run(const std::string& config_path, const std::string& object_path, std::uint32_t mode_flag) {
    ConfigLoadResult loaded = load_config_file(config_path);
    if (!loaded.config) throw std::runtime_error("the config has errors: check it with gatewayd --check-config");
    const GatewayConfig& config = *loaded.config;
    if (!config.wan_address) throw std::runtime_error("the experiment needs a literal wan.address");
    Interface lan = interface_named(config.lan_interface), wan = interface_named(config.wan_interface);
    EngineSetup setup = engine_setup_from_config(config, *config.wan_address);
    setup.lan_addresses = {Ipv4Address(lan.address)};
    PacketEngine engine(setup);

    bpf_object* object = bpf_object__open_file(object_path.c_str(), nullptr);
    if (!object || bpf_object__load(object) != 0) throw std::runtime_error("cannot load " + object_path);
    std::unique_ptr<bpf_object, void (*)(bpf_object*)> object_owner(object, bpf_object__close);
    struct {
        std::uint32_t lan_address, lan_network, lan_mask, wan_address;
        std::uint16_t first_port, last_port;
    } settings{htonl(lan.address), htonl(lan.address & lan.mask), htonl(lan.mask), htonl(config.wan_address->host_order()),
               config.port_range.first, config.port_range.last};
    std::uint32_t key = 0;
    if (bpf_map_update_elem(bpf_fd_of_map(object, "settings"), &key, &settings, 0) != 0)
        throw std::runtime_error("cannot write the XDP program's settings");
    int lan_program = bpf_program__fd(bpf_object__find_program_by_name(object, "xdp_lan"));
    int wan_program = bpf_program__fd(bpf_object__find_program_by_name(object, "xdp_wan"));
    // The sockets first, then the programs: a program attached before its socket is in the
    // map passes everything to the kernel, which (ip_forward 0) forwards none of it.
    XskPort lan_port(lan.name, mode_flag), wan_port(wan.name, mode_flag);
    int lan_socket = lan_port.fd(), wan_socket = wan_port.fd();
    if (bpf_map_update_elem(bpf_fd_of_map(object, "lan_sockets"), &key, &lan_socket, 0) != 0 ||
        bpf_map_update_elem(bpf_fd_of_map(object, "wan_sockets"), &key, &wan_socket, 0) != 0)
        throw std::runtime_error("cannot put the sockets in the XDP program's maps");
    if (bpf_xdp_attach(lan.index, lan_program, mode_flag, nullptr) != 0)
        throw std::runtime_error("cannot attach the XDP program to " + lan.name);
    Attached lan_attached{lan.index, mode_flag};
    if (bpf_xdp_attach(wan.index, wan_program, mode_flag, nullptr) != 0)
        throw std::runtime_error("cannot attach the XDP program to " + wan.name);
    Attached wan_attached{wan.index, mode_flag};

    Forwarder forwarder(engine, wan, default_gateway(wan.name));
    const Leg outbound{lan_port, wan_port, wan, EnginePath::outbound};
    const Leg inbound{wan_port, lan_port, lan, EnginePath::inbound};
    std::cerr << "afxdp_gateway: forwarding " << lan.name << " <-> " << wan.name << " ("
              << (mode_flag == XDP_FLAGS_DRV_MODE ? "native" : "generic/skb") << " XDP, copy mode)" << std::endl;
    Instant next_expiry = monotonic_instant() + std::chrono::seconds(1);
    std::array<pollfd, 2> fds{{{lan_port.fd(), POLLIN, 0}, {wan_port.fd(), POLLIN, 0}}};
    while (!stop_requested) {
        Instant now = monotonic_instant();
        std::size_t taken = forwarder.forward_batch(outbound, now) + forwarder.forward_batch(inbound, now);
        if (now >= next_expiry) {
            engine.expire_idle(now);
            forwarder.neighbours().refresh_if_stale();
            next_expiry = now + std::chrono::seconds(1);
        }
        // Nothing waiting: sleep in poll() as the NFQUEUE worker sleeps in recv().
        if (taken == 0) poll(fds.data(), fds.size(), 100);
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const Counters& c = forwarder.counters();
    std::cerr << "afxdp_gateway: received " << c.received << ", forwarded " << c.forwarded << ", dropped by the engine "
              << c.dropped_by_engine << ", for the gateway itself (not delivered) " << c.local_not_delivered
              << ", no neighbour " << c.no_neighbour << ", send ring full " << c.send_ring_full << ", malformed "
              << c.malformed << "; " << lan.name << ": " << lan_port.statistics() << "; " << wan.name << ": "
              << wan_port.statistics() << "; CPU user " << seconds_of(usage.ru_utime) << " s, system "
              << seconds_of(usage.ru_stime) << " s" << std::endl;
    return 0;
}

}  // namespace
}  // namespace gw::afxdp

int main(int argc, char** argv) {
    std::string config, object;
    std::uint32_t mode = XDP_FLAGS_DRV_MODE;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string option = argv[i], value = argv[i + 1];
        if (option == "--config") config = value;
        else if (option == "--object") object = value;
        else if (option == "--mode") mode = value == "skb" ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
    }
    if (config.empty() || object.empty()) {
        std::cerr << "usage: afxdp_gateway --config FILE --object xdp_gateway.bpf.o [--mode native|skb]\n";
        return 2;
    }
    std::signal(SIGTERM, gw::afxdp::request_stop);
    std::signal(SIGINT, gw::afxdp::request_stop);
    try {
        return gw::afxdp::run(config, object, mode);
    } catch (const std::exception& e) {
        std::cerr << "afxdp_gateway: " << e.what() << std::endl;
        return 1;
    }
}
