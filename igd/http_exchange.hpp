// One client connection of the IGD's HTTP front end and the pupnp connection that
// carries its request (http_front_end.cpp's loop owns them all).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "igd/http_request_judge.hpp"
#include "igd/http_request_reader.hpp"
#include "nat/mapping.hpp"

namespace gw {

struct HttpExchange {
    enum class Phase {
        reading,     // the request is arriving
        probing,     // a new SUBSCRIBE: is its callback taking connections?
        waiting,     // judged and accepted; waits for a free place at pupnp
        forwarding,  // at pupnp; its answer is relayed as it comes
        refusing,    // our error answer is being written
        lingering,   // answered: reading what the client still sends until it closes
    };

    explicit HttpExchange(HttpLimits limits) : reader(limits) {}

    std::uint64_t id = 0;
    Phase phase = Phase::reading;
    int client_fd = -1, upstream_fd = -1, probe_fd = -1;
    sockaddr_storage client_socket{}, upstream_local{};
    ClientAddress client;
    Instant started{0}, linger_until{0}, probe_until{0};
    std::size_t lingered = 0;  // bytes read and dropped after our answer
    HttpRequestReader reader;
    bool gena = false;           // a SUBSCRIBE or UNSUBSCRIBE the GENA table admitted
    bool upstream_done = false;  // pupnp closed: its answer is whole
    bool finished = false;       // to be closed
    std::string to_upstream;
    std::size_t sent_upstream = 0;
    std::string answer;  // to the client, from answer_sent on
    std::size_t answer_sent = 0;
    // pupnp's answer head, read as it passes (GENA's SID and TIMEOUT; the 4xx count).
    std::string answer_head;
    bool answer_head_done = false;
    int answer_status = 0;
    std::string answer_sid, answer_timeout;

    std::size_t answer_pending() const { return answer.size() - answer_sent; }
    std::size_t held_bytes() const { return reader.held_bytes() + to_upstream.size() + answer.size(); }
    void reader_release() { to_upstream.clear(); }
    // Appends pupnp's bytes to the answer, reading its head on the way.
    void take_answer(std::string_view bytes);
};

// A non-blocking listening socket bound to `address` (IPv6: V6ONLY, FREEBIND for an
// address still tentative), or why there is none.
Expected<int> open_listener(const sockaddr_storage& address);
ClientAddress client_address_of(const sockaddr_storage& address);  // AF_INET or AF_INET6
std::string client_text(const ClientAddress& client);

}  // namespace gw
