// STUN Binding (RFC 5389): the request's bytes, and every way an answer is taken or
// refused. Answers are built by a small builder, attribute by attribute.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "nat/stun_message.hpp"

namespace gw::test {
namespace {

const StunTransactionId transaction{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
const Endpoint public_endpoint{*Ipv4Address::parse("198.51.100.7"), Port{40001}};

// A STUN message written field by field; the length is filled in by bytes().
class StunBuilder {
public:
    explicit StunBuilder(std::uint16_t type, const StunTransactionId& id = transaction) {
        put16(type);
        put16(0);
        put32(stun_magic_cookie);
        bytes_.insert(bytes_.end(), id.begin(), id.end());
    }
    StunBuilder& attribute(std::uint16_t type, std::vector<std::uint8_t> value, std::uint8_t pad_byte = 0) {
        put16(type);
        put16(std::uint16_t(value.size()));
        bytes_.insert(bytes_.end(), value.begin(), value.end());
        while (bytes_.size() % 4) bytes_.push_back(pad_byte);
        return *this;
    }
    StunBuilder& address(std::uint16_t type, Endpoint e, bool xored, std::uint8_t family = 1) {
        std::uint16_t port = e.port.value;
        std::uint32_t a = e.address.host_order();
        if (xored) {
            port ^= std::uint16_t(stun_magic_cookie >> 16);
            a ^= stun_magic_cookie;
        }
        return attribute(type, {0, family, std::uint8_t(port >> 8), std::uint8_t(port), std::uint8_t(a >> 24),
                                std::uint8_t(a >> 16), std::uint8_t(a >> 8), std::uint8_t(a)});
    }
    StunBuilder& error(int code, const std::string& reason) {
        std::vector<std::uint8_t> v{0, 0, std::uint8_t(code / 100), std::uint8_t(code % 100)};
        v.insert(v.end(), reason.begin(), reason.end());
        return attribute(0x0009, v);
    }
    // FINGERPRINT (RFC 5389 15.5) over everything so far, with the length already counting it.
    StunBuilder& fingerprint(std::uint32_t tamper = 0) {
        set_length(bytes_.size() - stun_header_bytes + 8);
        std::uint32_t crc = 0xffffffff;
        for (std::uint8_t byte : bytes_) {
            crc ^= byte;
            for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320 & (0u - (crc & 1)));
        }
        std::uint32_t value = (~crc ^ 0x5354554e) ^ tamper;
        fingerprinted_ = true;
        return attribute(0x8028, {std::uint8_t(value >> 24), std::uint8_t(value >> 16), std::uint8_t(value >> 8),
                                  std::uint8_t(value)});
    }
    std::vector<std::uint8_t> bytes() {
        if (!fingerprinted_) set_length(bytes_.size() - stun_header_bytes);
        return bytes_;
    }

private:
    void put16(std::uint16_t v) {
        bytes_.push_back(std::uint8_t(v >> 8));
        bytes_.push_back(std::uint8_t(v));
    }
    void put32(std::uint32_t v) {
        put16(std::uint16_t(v >> 16));
        put16(std::uint16_t(v));
    }
    void set_length(std::size_t n) {
        bytes_[2] = std::uint8_t(n >> 8);
        bytes_[3] = std::uint8_t(n);
    }
    std::vector<std::uint8_t> bytes_;
    bool fingerprinted_ = false;
};

constexpr std::uint16_t success = 0x0101, error_class = 0x0111;
constexpr std::uint16_t mapped = 0x0001, xor_mapped = 0x0020, changed = 0x0005, other = 0x802C;

StunProblem problem_of(const std::vector<std::uint8_t>& datagram) {
    auto result = decode_stun_binding_response(datagram, transaction);
    REQUIRE(std::holds_alternative<StunFailure>(result));
    return std::get<StunFailure>(result).problem;
}

StunBindingSuccess success_of(const std::vector<std::uint8_t>& datagram) {
    auto result = decode_stun_binding_response(datagram, transaction);
    if (auto* f = std::get_if<StunFailure>(&result)) FAIL(describe(*f));
    return std::get<StunBindingSuccess>(result);
}

}  // namespace

TEST_CASE("a Binding Request is a bare header with the magic cookie and the caller's transaction id") {
    auto request = encode_stun_binding_request(transaction);
    std::vector<std::uint8_t> expected{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    CHECK(request == expected);
}

TEST_CASE("a Binding Request asking to change address and port carries CHANGE-REQUEST (RFC 5780 7.2)") {
    auto request = encode_stun_binding_request(transaction, StunChangeRequest{true, true});
    REQUIRE(request.size() == 28);
    CHECK(request[3] == 8);  // message length: one attribute
    CHECK(std::vector<std::uint8_t>(request.begin() + 20, request.end()) ==
          std::vector<std::uint8_t>{0x00, 0x03, 0x00, 0x04, 0, 0, 0, 0x06});
    auto port_only = encode_stun_binding_request(transaction, StunChangeRequest{false, true});
    CHECK(port_only.back() == 0x02);
}

TEST_CASE("a success response's XOR-MAPPED-ADDRESS is the public endpoint (RFC 5389 15.2)") {
    auto s = success_of(StunBuilder(success).address(xor_mapped, public_endpoint, true).bytes());
    CHECK(s.mapped == public_endpoint);
    CHECK(s.xor_mapped);
    CHECK_FALSE(s.other_address);
}

TEST_CASE("an RFC 3489 server's MAPPED-ADDRESS is taken, with its CHANGED-ADDRESS") {
    Endpoint alternate{*Ipv4Address::parse("203.0.113.3"), Port{3479}};
    auto s = success_of(StunBuilder(success).address(mapped, public_endpoint, false).address(changed, alternate, false).bytes());
    CHECK(s.mapped == public_endpoint);
    CHECK_FALSE(s.xor_mapped);
    CHECK(s.other_address == alternate);
}

TEST_CASE("XOR-MAPPED-ADDRESS wins over MAPPED-ADDRESS, which a NAT rewriting payloads may have changed") {
    Endpoint rewritten{*Ipv4Address::parse("10.0.0.2"), Port{5000}};
    auto s = success_of(StunBuilder(success)
                            .address(mapped, rewritten, false)
                            .address(xor_mapped, public_endpoint, true)
                            .address(other, public_endpoint, false)
                            .bytes());
    CHECK(s.mapped == public_endpoint);
    CHECK(s.other_address == public_endpoint);
}

TEST_CASE("the pre-RFC XOR-MAPPED-ADDRESS (0x8020) is read as one") {
    auto s = success_of(StunBuilder(success).address(0x8020, public_endpoint, true).bytes());
    CHECK(s.mapped == public_endpoint);
    CHECK(s.xor_mapped);
}

TEST_CASE("attributes are padded to four bytes, whatever the padding holds") {
    auto s = success_of(StunBuilder(success)
                            .attribute(0x8022, {'s', 't', 'u', 'n', 'd'}, 0xAA)  // SOFTWARE, 3 bytes of padding
                            .address(xor_mapped, public_endpoint, true)
                            .bytes());
    CHECK(s.mapped == public_endpoint);
}

TEST_CASE("unknown comprehension-optional attributes are skipped, unknown required ones refuse the answer (RFC 5389 7.3.3)") {
    CHECK(success_of(StunBuilder(success).attribute(0xC001, {1, 2, 3}).address(xor_mapped, public_endpoint, true).bytes())
              .mapped == public_endpoint);
    CHECK(problem_of(StunBuilder(success).attribute(0x7FFF, {1, 2, 3, 4}).address(xor_mapped, public_endpoint, true).bytes()) ==
          StunProblem::unknown_required_attribute);
}

TEST_CASE("a correct FINGERPRINT passes; a wrong one, or one not last, refuses the answer") {
    CHECK(success_of(StunBuilder(success).address(xor_mapped, public_endpoint, true).fingerprint().bytes()).mapped ==
          public_endpoint);
    CHECK(problem_of(StunBuilder(success).address(xor_mapped, public_endpoint, true).fingerprint(1).bytes()) ==
          StunProblem::bad_fingerprint);
    CHECK(problem_of(StunBuilder(success).attribute(0x8028, {0, 0, 0, 0}).address(xor_mapped, public_endpoint, true).bytes()) ==
          StunProblem::bad_fingerprint);
}

TEST_CASE("an error response gives the server's code and reason") {
    auto result = decode_stun_binding_response(StunBuilder(error_class).error(420, "Unknown Attribute").bytes(), transaction);
    REQUIRE(std::holds_alternative<StunFailure>(result));
    const auto& f = std::get<StunFailure>(result);
    CHECK(f.problem == StunProblem::error_response);
    CHECK(f.error_code == 420);
    CHECK(f.reason == "Unknown Attribute");
    CHECK(describe(f) == "error_response 420 Unknown Attribute");
    CHECK(problem_of(StunBuilder(error_class).bytes()) == StunProblem::error_response);
}

TEST_CASE("an answer to another transaction, or without our magic cookie, is refused") {
    StunTransactionId other_id = transaction;
    other_id[11] ^= 1;
    CHECK(problem_of(StunBuilder(success, other_id).address(xor_mapped, public_endpoint, true).bytes()) ==
          StunProblem::wrong_transaction);
    auto no_cookie = StunBuilder(success).address(xor_mapped, public_endpoint, true).bytes();
    no_cookie[4] = 0;
    CHECK(problem_of(no_cookie) == StunProblem::wrong_transaction);
}

TEST_CASE("a datagram that is not a Binding response is refused with its reason") {
    CHECK(problem_of({0x01, 0x01, 0x00}) == StunProblem::too_short);
    auto rtp_like = StunBuilder(success).bytes();
    rtp_like[0] = 0x80;  // top bits set: RTP, not STUN
    CHECK(problem_of(rtp_like) == StunProblem::not_stun);
    auto odd_length = StunBuilder(success).bytes();
    odd_length[3] = 2;
    CHECK(problem_of(odd_length) == StunProblem::not_stun);
    auto longer = StunBuilder(success).address(xor_mapped, public_endpoint, true).bytes();
    longer.insert(longer.end(), {0, 0, 0, 0});
    CHECK(problem_of(longer) == StunProblem::length_mismatch);
    CHECK(problem_of(StunBuilder(0x0001).bytes()) == StunProblem::not_a_binding_response);  // a request
    CHECK(problem_of(StunBuilder(0x0011).bytes()) == StunProblem::not_a_binding_response);  // an indication
    CHECK(problem_of(StunBuilder(success).attribute(0x8022, {'x'}).bytes()) == StunProblem::no_mapped_address);
}

TEST_CASE("an attribute running past the message is refused as truncated") {
    auto header_only = StunBuilder(success).attribute(0x8022, {'a', 'b', 'c', 'd'}).bytes();
    header_only[22] = 0;
    header_only[23] = 8;  // SOFTWARE claims 8 bytes, 4 follow
    CHECK(problem_of(header_only) == StunProblem::truncated_attribute);
    auto short_error = StunBuilder(error_class).attribute(0x0009, {0, 0}).bytes();
    CHECK(problem_of(short_error) == StunProblem::truncated_attribute);
}

TEST_CASE("a mapped address of the wrong length or of the IPv6 family is refused") {
    CHECK(problem_of(StunBuilder(success).attribute(xor_mapped, {0, 1, 0, 0}).bytes()) == StunProblem::bad_address_attribute);
    CHECK(problem_of(StunBuilder(success).address(xor_mapped, public_endpoint, true, 2).bytes()) ==
          StunProblem::bad_address_attribute);
}

}  // namespace gw::test
