// libFuzzer harness for NAT-PMP (igd/natpmp_message.hpp, igd/natpmp_responder.hpp): any
// datagram from any of four LAN hosts is answered against one mapping policy kept across
// inputs. Input: records of [client 0-3][clock advance, seconds][length][datagram].
// What must hold: a response is nothing or a well-formed one (version 0, opcode 128+op,
// 8, 12 or 16 bytes, a known result code); a grant is the requester's own, described as
// NAT-PMP, on a port the response names; what is reported removed is gone; the policy's
// limits hold.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "igd/natpmp_responder.hpp"

namespace {

using namespace std::chrono_literals;

[[noreturn]] void invariant_broken(const char* what, const std::string& detail = "") {
    std::fprintf(stderr, "natpmp invariant broken: %s %s\n", what, detail.c_str());
    std::abort();
}

gw::IgdConfig policy_config() {
    gw::IgdConfig config;
    config.permissions = {gw::UpnpPermission{true, gw::PortRange{1024, 65535},
                                             *gw::Ipv4Network::parse("192.168.50.0/24"), gw::PortRange{1024, 65535}}};
    config.per_client_limit = 16;
    config.max_mappings = 40;
    config.max_lease_seconds = 7200;
    return config;
}

void check_answer(const gw::NatPmpAnswer& a, std::span<const std::uint8_t> request, gw::Ipv4Address client,
                  const gw::MappingPolicy& policy, gw::Instant now) {
    const auto& r = a.response;
    if (!r.empty()) {
        if (r.size() != 8 && r.size() != 12 && r.size() != 16) invariant_broken("response size", std::to_string(r.size()));
        if (r[0] != 0 || !(r[1] & 0x80)) invariant_broken("response header");
        if (request.size() >= 2 && r[1] != (0x80 | (request[1] & 0x7f))) invariant_broken("opcode not 128 + request's");
        if (((r[2] << 8) | r[3]) >= int(gw::natpmp_result_count)) invariant_broken("result code");
    } else if (request.size() >= 2 && !(request[1] & 0x80) && request[0] == 0 && request[1] == 0) {
        invariant_broken("an external address request went unanswered");
    }
    for (const auto& m : a.changes.granted) {
        if (m.owner != client || m.internal.address != client) invariant_broken("granted to someone else");
        if (!gw::is_natpmp_mapping(m)) invariant_broken("grant not described as NAT-PMP", m.description);
        if (r.size() != 16 || ((r[10] << 8) | r[11]) != m.external.value) invariant_broken("response names another port");
        if (!policy.find(m.protocol, m.external, std::nullopt, now)) invariant_broken("grant not held");
    }
    for (const auto& m : a.changes.removed) {
        const gw::PortMapping* held = policy.find(m.protocol, m.external, std::nullopt, now);
        bool regranted = false;
        for (const auto& g : a.changes.granted) regranted |= g.protocol == m.protocol && g.external == m.external;
        if (held && !regranted) invariant_broken("reported removed, still held");
        if (m.owner != client) invariant_broken("removed someone else's mapping");
    }
    if (policy.size() > 40) invariant_broken("max_mappings exceeded");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static gw::MappingPolicy policy(policy_config(), {{gw::Protocol::tcp, gw::PortRange{3389, 3389}}});
    static gw::Instant now = 1000s;
    const gw::PortControlContext context{gw::Ipv4Address::from_octets(203, 0, 113, 1), 42};
    std::size_t at = 0;
    while (at + 3 <= size) {
        auto client = gw::Ipv4Address::from_octets(192, 168, 50, std::uint8_t(10 + data[at] % 4));
        now += std::chrono::seconds(data[at + 1]);
        std::size_t length = std::min<std::size_t>(data[at + 2], size - at - 3);
        std::span<const std::uint8_t> request(data + at + 3, length);
        at += 3 + length;
        policy.expire(now);
        gw::NatPmpAnswer answer = gw::answer_natpmp(request, client, context, policy, now);
        check_answer(answer, request, client, policy, now);
    }
    return 0;
}
