#include "tcp_timeout.hpp"

#include "wire_headers.hpp"

namespace gw {

TimeoutClass tcp_timeout_after(TcpProgress& progress, std::uint8_t flags, Direction direction) {
    using wire::TcpHeader;
    bool syn = flags & TcpHeader::syn;
    if (direction == Direction::outbound && syn && !(flags & TcpHeader::ack)) {
        // A new connection from this internal endpoint starts its history afresh.
        progress = TcpProgress{};
        progress.syn_from_inside = true;
    }
    if (flags & (TcpHeader::fin | TcpHeader::rst)) progress.closing = true;
    if (direction == Direction::inbound) progress.reply_from_outside = true;
    // Established once the outside has answered and segments without SYN flow; a
    // mapping picked up mid-connection (after a restart) gets there the same way.
    bool established = progress.reply_from_outside && !syn && !progress.closing;
    return established ? TimeoutClass::tcp_established : TimeoutClass::tcp_transitory;
}

}  // namespace gw
