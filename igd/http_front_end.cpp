#include "http_front_end.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "base/log.hpp"
#include "base/startup_error.hpp"
#include "igd/engine_clock.hpp"
#include "igd/http_exchange.hpp"
#include "igd/refusal_log.hpp"

namespace gw {
namespace {

constexpr std::uint64_t listener_tag = 1ULL << 62, wake_tag = 1ULL << 61;
// An exchange's sockets: its id, shifted, and which of its sockets.
constexpr std::uint64_t client_kind = 0, upstream_kind = 1, probe_kind = 2;
std::uint64_t tag(const HttpExchange& x, std::uint64_t kind) { return (x.id << 2) | kind; }

std::string errno_text() { return std::strerror(errno); }

}  // namespace

class HttpFrontEnd::Loop {
public:
    Loop(const HttpFrontEndConfig& config, ForwardedClients& clients, HttpFrontEndCounters& counters,
         std::atomic<std::size_t>& subscriptions_held, GenaSubscriptions& gena)
        : config_(config), clients_(clients), counters_(counters), subscriptions_held_(subscriptions_held),
          gena_(gena) {}
    ~Loop() {
        closing_ = true;  // no waiting request is started on the way out
        for (auto& [id, exchange] : exchanges_) close_exchange(*exchange);
        for (int fd : listeners_) close(fd);
        if (wake_fd_ >= 0) close(wake_fd_);
        if (epoll_fd_ >= 0) close(epoll_fd_);
    }

    void open() {
        epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
        wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (epoll_fd_ < 0 || wake_fd_ < 0) throw StartupError("UPnP HTTP front end: " + errno_text());
        watch(wake_fd_, EPOLLIN, wake_tag);
        std::vector<sockaddr_storage> addresses;
        sockaddr_storage v4{};
        auto& in = reinterpret_cast<sockaddr_in&>(v4);
        in.sin_family = AF_INET;
        in.sin_port = htons(config_.addresses.http_port);
        in.sin_addr.s_addr = htonl(config_.addresses.lan_address.host_order());
        addresses.push_back(v4);
        if (config_.upstream_v6) {
            for (const auto& address : config_.addresses.lan_ipv6_addresses) {
                sockaddr_storage v6{};
                auto& in6 = reinterpret_cast<sockaddr_in6&>(v6);
                in6.sin6_family = AF_INET6;
                in6.sin6_port = htons(config_.addresses.http_port);
                std::memcpy(&in6.sin6_addr, address.bytes().data(), 16);
                if (address.is_link_local()) in6.sin6_scope_id = config_.lan_interface_index;
                addresses.push_back(v6);
            }
        }
        for (const auto& address : addresses) {
            Expected<int> fd = open_listener(address);
            if (!fd)
                throw StartupError("UPnP HTTP front end: cannot listen on " + client_text(client_address_of(address)) + " port " +
                                   std::to_string(config_.addresses.http_port) + ": " + fd.error().message);
            watch(*fd, EPOLLIN, listener_tag | listeners_.size());
            listeners_.push_back(*fd);
        }
    }

    void wake() {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
    }

    void run(const std::atomic<bool>& stopping) {
        epoll_event events[64];
        while (!stopping.load()) {
            int n = epoll_wait(epoll_fd_, events, 64, 200);
            Instant now = monotonic_now();
            for (int i = 0; i < n; ++i) dispatch(events[i], now);
            sweep(now);
        }
    }

private:
    void watch(int fd, std::uint32_t events, std::uint64_t tag, int op = EPOLL_CTL_ADD) {
        epoll_event e{};
        e.events = events;
        e.data.u64 = tag;
        epoll_ctl(epoll_fd_, op, fd, &e);
    }

    void dispatch(const epoll_event& e, Instant now) {
        if (e.data.u64 == wake_tag) return;
        if (e.data.u64 & listener_tag) return accept_all(listeners_[e.data.u64 & ~listener_tag], now);
        auto it = exchanges_.find(e.data.u64 >> 2);
        if (it == exchanges_.end()) return;
        HttpExchange& x = *it->second;
        switch (e.data.u64 & 3) {
            case upstream_kind: on_upstream(x, e.events, now); break;
            case probe_kind: on_probe(x, now); break;
            default: on_client(x, e.events, now);
        }
        if (x.finished) {
            close_exchange(x);
            exchanges_.erase(it);
        }
    }

    void accept_all(int listener, Instant now) {
        for (;;) {
            sockaddr_storage peer{};
            socklen_t length = sizeof peer;
            int fd = accept4(listener, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;
            ClientAddress client = client_address_of(peer);
            std::optional<HttpRefusal> refusal;
            if (exchanges_.size() >= config_.max_connections) refusal = HttpRefusal::connections_total;
            else if (auto it = per_client_.find(client);
                     it != per_client_.end() && it->second >= config_.max_connections_per_client)
                refusal = HttpRefusal::connections_per_client;
            if (refusal) {
                // Told at once, without reading: the answer fits any socket buffer.
                auto answer = http_refusal_answer(*refusal);
                [[maybe_unused]] auto n = send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
                close(fd);
                count(*refusal, client, now);
                continue;
            }
            auto x = std::make_unique<HttpExchange>(config_.limits);
            x->id = next_id_++;
            x->client_fd = fd;
            x->client_socket = peer;
            x->client = client;
            x->started = now;
            ++per_client_[client];
            watch(fd, EPOLLIN, tag(*x, client_kind));
            exchanges_.emplace(x->id, std::move(x));
        }
    }

    std::size_t buffered_bytes() const {
        std::size_t total = 0;
        for (const auto& [id, x] : exchanges_) total += x->held_bytes();
        return total;
    }

    void on_client(HttpExchange& x, std::uint32_t events, Instant now) {
        if (x.phase == HttpExchange::Phase::reading) return read_request(x, now);
        if (x.phase == HttpExchange::Phase::lingering) {
            // At most 64 KB is read and dropped: a client that pushes on regardless is cut
            // off (a reset) rather than costing the loop its whole bandwidth.
            char sink[16384];
            ssize_t n = recv(x.client_fd, sink, sizeof sink, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN) || (x.lingered += std::size_t(std::max<ssize_t>(n, 0))) > 65536)
                x.finished = true;
            return;
        }
        if (events & (EPOLLERR | EPOLLHUP)) return abandon(x);
        if (events & EPOLLOUT) flush_to_client(x);
    }

    void read_request(HttpExchange& x, Instant now) {
        char buffer[4096];
        ssize_t n = recv(x.client_fd, buffer, sizeof buffer, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN)) return abandon(x);
        if (n < 0) return;
        if (buffered_bytes() + std::size_t(n) > config_.max_buffered_bytes)
            return refuse(x, HttpRefusal::memory, now);
        auto state = x.reader.feed({buffer, std::size_t(n)});
        if (state == HttpRequestReader::State::refused) return refuse(x, x.reader.refusal(), now);
        if (state == HttpRequestReader::State::complete) return judge(x, now);
    }

    void judge(HttpExchange& x, Instant now) {
        HttpRequest& request = x.reader.request();
        auto refusal = judge_request(request, x.client, config_.addresses);
        if (!refusal) refusal = gena_.admit(request, x.client, now);
        subscriptions_held_.store(gena_.held(), std::memory_order_relaxed);
        if (refusal) return refuse(x, *refusal, now);
        x.gena = request.method == "SUBSCRIBE" || request.method == "UNSUBSCRIBE";
        x.to_upstream = canonical_request_text(request);
        watch(x.client_fd, 0, tag(x, client_kind), EPOLL_CTL_MOD);  // nothing more is read from the client
        if (request.method == "SUBSCRIBE" && !request.header("sid")) return probe_callback(x, now);
        queue_for_upstream(x, now);
    }

    void queue_for_upstream(HttpExchange& x, Instant now) {
        x.phase = HttpExchange::Phase::waiting;
        waiting_.push_back(x.id);
        start_waiting(now);
    }

    // A new subscription's callback must take a connection now: pupnp 1.8.4 (Debian builds
    // it with blocking connects) would hold a thread of its send pool for the kernel's whole
    // SYN timeout on every NOTIFY to a callback that black-holes.
    void probe_callback(HttpExchange& x, Instant now) {
        auto port = first_callback_port(*x.reader.request().header("callback"));
        sockaddr_storage callback = x.client_socket;
        reinterpret_cast<sockaddr_in&>(callback).sin_port = htons(port.value_or(80));
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || (connect(fd, reinterpret_cast<const sockaddr*>(&callback), sizeof(sockaddr_in)) != 0 &&
                       errno != EINPROGRESS)) {
            if (fd >= 0) close(fd);
            return refuse(x, HttpRefusal::callback_unreachable, now);
        }
        x.probe_fd = fd;
        x.probe_until = now + config_.callback_probe_timeout;
        x.phase = HttpExchange::Phase::probing;
        watch(fd, EPOLLOUT, tag(x, probe_kind));
    }

    void on_probe(HttpExchange& x, Instant now) {
        if (x.phase != HttpExchange::Phase::probing) return;
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(x.probe_fd, SOL_SOCKET, SO_ERROR, &error, &length);
        close_probe(x);
        if (error != 0) return refuse(x, HttpRefusal::callback_unreachable, now);
        queue_for_upstream(x, now);
    }

    void close_probe(HttpExchange& x) {
        if (x.probe_fd < 0) return;
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, x.probe_fd, nullptr);
        close(x.probe_fd);
        x.probe_fd = -1;
    }

    // The GENA table hears how an admitted SUBSCRIBE or UNSUBSCRIBE ended, once
    // (status 0: pupnp never answered it).
    void release_gena(HttpExchange& x, Instant now) {
        if (!x.gena) return;
        x.gena = false;
        gena_.answered(x.reader.request(), x.client, x.answer_status, x.answer_sid, x.answer_timeout, now);
        subscriptions_held_.store(gena_.held(), std::memory_order_relaxed);
    }

    void start_waiting(Instant now) {
        while (upstream_count_ < config_.max_upstream && !waiting_.empty()) {
            auto it = exchanges_.find(waiting_.front());
            waiting_.pop_front();
            if (it == exchanges_.end() || it->second->phase != HttpExchange::Phase::waiting) continue;
            connect_upstream(*it->second, now);
        }
    }

    void connect_upstream(HttpExchange& x, Instant now) {
        const auto& upstream = std::holds_alternative<Ipv4Address>(x.client) ? config_.upstream_v4 : config_.upstream_v6;
        if (!upstream) return refuse(x, HttpRefusal::upstream_unreachable, now);
        int fd = socket(upstream->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return refuse(x, HttpRefusal::upstream_unreachable, now);
        socklen_t length = upstream->ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        // The local end is chosen by connect(); it goes into the directory before pupnp
        // can accept (the handshake needs this loop's next turn at the earliest).
        if (connect(fd, reinterpret_cast<const sockaddr*>(&*upstream), length) != 0 && errno != EINPROGRESS) {
            close(fd);
            return refuse(x, HttpRefusal::upstream_unreachable, now);
        }
        socklen_t local_length = sizeof x.upstream_local;
        getsockname(fd, reinterpret_cast<sockaddr*>(&x.upstream_local), &local_length);
        clients_.add(x.upstream_local, x.client_socket);
        x.upstream_fd = fd;
        x.phase = HttpExchange::Phase::forwarding;
        ++upstream_count_;
        watch(fd, EPOLLOUT, tag(x, upstream_kind));
    }

    void on_upstream(HttpExchange& x, std::uint32_t events, Instant now) {
        if (x.phase != HttpExchange::Phase::forwarding) return;
        if (x.sent_upstream < x.to_upstream.size()) {
            if (events & (EPOLLERR | EPOLLHUP)) return fail_upstream(x, now);
            ssize_t n = send(x.upstream_fd, x.to_upstream.data() + x.sent_upstream,
                             x.to_upstream.size() - x.sent_upstream, MSG_NOSIGNAL);
            if (n < 0) return errno == EAGAIN ? void() : fail_upstream(x, now);
            x.sent_upstream += std::size_t(n);
            if (x.sent_upstream == x.to_upstream.size()) {
                counters_.forwarded.fetch_add(1, std::memory_order_relaxed);
                watch(x.upstream_fd, EPOLLIN, tag(x, upstream_kind), EPOLL_CTL_MOD);
            }
            return;
        }
        char buffer[16384];
        ssize_t n = recv(x.upstream_fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            x.upstream_done = true;
            release_upstream(x, now);
        } else {
            x.take_answer({buffer, std::size_t(n)});
            if (x.answer_pending() > 65536)  // the client reads slowly: pupnp waits
                watch(x.upstream_fd, 0, tag(x, upstream_kind), EPOLL_CTL_MOD);
        }
        watch(x.client_fd, EPOLLOUT, tag(x, client_kind), EPOLL_CTL_MOD);
        flush_to_client(x);
    }

    void flush_to_client(HttpExchange& x) {
        while (x.answer_pending() > 0) {
            ssize_t n = send(x.client_fd, x.answer.data() + x.answer_sent, x.answer_pending(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno != EAGAIN) abandon(x);
                return;
            }
            x.answer_sent += std::size_t(n);
        }
        x.answer.clear();
        x.answer_sent = 0;
        if (x.phase == HttpExchange::Phase::refusing || (x.phase == HttpExchange::Phase::forwarding && x.upstream_done)) {
            // Lingering close: the client reads the answer before our close can reset it.
            shutdown(x.client_fd, SHUT_WR);
            x.phase = HttpExchange::Phase::lingering;
            x.linger_until = monotonic_now() + std::chrono::seconds(1);
            watch(x.client_fd, EPOLLIN, tag(x, client_kind), EPOLL_CTL_MOD);
        } else if (x.upstream_fd >= 0 && !x.upstream_done) {
            // All relayed so far: wait for pupnp again, not for a writable client.
            watch(x.client_fd, 0, tag(x, client_kind), EPOLL_CTL_MOD);
            watch(x.upstream_fd, EPOLLIN, tag(x, upstream_kind), EPOLL_CTL_MOD);
        }
    }

    void release_upstream(HttpExchange& x, Instant now) {
        if (x.upstream_fd < 0) return;
        release_gena(x, now);
        if (x.answer_status >= 400 && x.answer_status < 500) counters_.answered_4xx.fetch_add(1, std::memory_order_relaxed);
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, x.upstream_fd, nullptr);
        close(x.upstream_fd);
        clients_.remove(x.upstream_local);
        x.upstream_fd = -1;
        --upstream_count_;
        if (!closing_) start_waiting(now);
    }

    void fail_upstream(HttpExchange& x, Instant now) {
        release_upstream(x, now);
        refuse(x, HttpRefusal::upstream_unreachable, now);
    }

    void refuse(HttpExchange& x, HttpRefusal refusal, Instant now) {
        close_probe(x);
        release_gena(x, now);
        count(refusal, x.client, now);
        x.phase = HttpExchange::Phase::refusing;
        x.answer.assign(http_refusal_answer(refusal));
        x.answer_sent = 0;
        x.reader_release();
        watch(x.client_fd, EPOLLOUT, tag(x, client_kind), EPOLL_CTL_MOD);
        flush_to_client(x);
    }

    void abandon(HttpExchange& x) { x.finished = true; }

    void close_exchange(HttpExchange& x) {
        if (x.upstream_fd >= 0) release_upstream(x, monotonic_now());
        close_probe(x);
        release_gena(x, monotonic_now());
        if (x.client_fd >= 0) {
            epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, x.client_fd, nullptr);
            close(x.client_fd);
            x.client_fd = -1;
            if (auto it = per_client_.find(x.client); it != per_client_.end() && --it->second == 0) per_client_.erase(it);
        }
    }

    void sweep(Instant now) {
        for (auto it = exchanges_.begin(); it != exchanges_.end();) {
            HttpExchange& x = *it->second;
            if (x.phase == HttpExchange::Phase::reading && now - x.started > config_.request_deadline)
                refuse(x, HttpRefusal::deadline, now);
            else if (x.phase == HttpExchange::Phase::probing && now > x.probe_until)
                refuse(x, HttpRefusal::callback_unreachable, now);
            else if (x.phase == HttpExchange::Phase::lingering && now > x.linger_until)
                x.finished = true;
            else if (now - x.started > config_.exchange_deadline)
                x.finished = true;
            if (x.finished) {
                close_exchange(x);
                it = exchanges_.erase(it);
            } else {
                ++it;
            }
        }
    }

    void count(HttpRefusal refusal, const ClientAddress& client, Instant now) {
        counters_.count(refusal);
        refusal_log_.write("UPnP HTTP: refused a request from " + client_text(client) + ": " +
                               std::string(http_refusal_name(refusal)) + " (" +
                               std::to_string(http_refusal_status(refusal)) + ")",
                           now);
    }

    const HttpFrontEndConfig& config_;
    ForwardedClients& clients_;
    HttpFrontEndCounters& counters_;
    std::atomic<std::size_t>& subscriptions_held_;
    GenaSubscriptions& gena_;
    int epoll_fd_ = -1, wake_fd_ = -1;
    std::vector<int> listeners_;
    std::unordered_map<std::uint64_t, std::unique_ptr<HttpExchange>> exchanges_;
    std::map<ClientAddress, std::size_t> per_client_;
    std::deque<std::uint64_t> waiting_;
    std::size_t upstream_count_ = 0;
    bool closing_ = false;
    std::uint64_t next_id_ = 1;
    RefusalLog refusal_log_;
};

HttpFrontEnd::HttpFrontEnd(HttpFrontEndConfig config, ForwardedClients& clients)
    : config_(std::move(config)), clients_(clients), gena_(config_.gena) {}

HttpFrontEnd::~HttpFrontEnd() { stop(); }

void HttpFrontEnd::start() {
    stop();
    auto loop = std::make_unique<Loop>(config_, clients_, counters_, subscriptions_held_, gena_);
    loop->open();  // throws; the Loop's destructor closes what was opened
    loop_ = std::move(loop);
    stopping_.store(false);
    thread_ = std::thread([this] { loop_->run(stopping_); });
}

void HttpFrontEnd::stop() {
    if (!loop_) return;
    stopping_.store(true);
    loop_->wake();
    if (thread_.joinable()) thread_.join();
    loop_.reset();
}

}  // namespace gw
