// libFuzzer harness for the IGD's HTTP front end's judgement (issue 14): the bytes of one
// client connection, cut into reads where the input says, through HttpRequestReader,
// judge_request (which runs the expat XML vetting on a body), the GENA table and the
// canonical form pupnp would be given.
//
// Input: the first byte picks the client (IPv4 or IPv6 LAN host); then the connection's
// bytes, where each 0xFF byte ends a read (a head split over segments).
// What must hold: the reader holds no more than the head and body limits; a complete
// request's canonical form reads back (http-parser again) as the same request; a body
// that passed the vetting is at most 16 KB; nothing crashes, leaks or reads out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "igd/gena_subscriptions.hpp"
#include "igd/http_request_judge.hpp"
#include "igd/http_request_reader.hpp"
#include "igd/xml_vetting.hpp"

namespace {

using namespace gw;

const FrontEndAddresses gateway{Ipv4Address::from_octets(192, 168, 1, 1), 49152,
                                {*Ipv6Address::parse("fe80::1"), *Ipv6Address::parse("2001:db8::1")}};

void require(bool condition) {
    if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    ClientAddress client = data[0] & 1 ? ClientAddress(*Ipv6Address::parse("fe80::10"))
                                       : ClientAddress(Ipv4Address::from_octets(192, 168, 1, 10));
    std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    HttpLimits limits;
    HttpRequestReader reader(limits);
    while (!bytes.empty() && reader.state() == HttpRequestReader::State::incomplete) {
        auto cut = bytes.find('\xff');
        reader.feed(bytes.substr(0, cut));
        bytes.remove_prefix(cut == std::string_view::npos ? bytes.size() : cut + 1);
        require(reader.held_bytes() <= limits.max_head_bytes + limits.max_body_bytes);
    }
    if (reader.state() != HttpRequestReader::State::complete) return 0;
    HttpRequest& request = reader.request();
    auto refusal = judge_request(request, client, gateway);
    static GenaSubscriptions gena;  // kept across inputs, like the front end's
    if (!refusal) refusal = gena.admit(request, client, Instant(0));
    if (refusal) return 0;
    require(request.body.size() <= xml_max_bytes);
    // What pupnp would be given parses back to the same request, whole, in one go.
    std::string canonical = canonical_request_text(request);
    HttpRequestReader again(limits);
    require(again.feed(canonical) == HttpRequestReader::State::complete);
    require(again.request().method == request.method && again.request().target == request.target &&
            again.request().body == request.body);
    if (request.method == "SUBSCRIBE" || request.method == "UNSUBSCRIBE")
        gena.answered(request, client, 200, "uuid:fuzz", "Second-1800", Instant(0));
    return 0;
}
