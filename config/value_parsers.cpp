#include "config/value_parsers.hpp"

#include <algorithm>
#include <charconv>

namespace gw {

// A value quoted whole would let one line of megabytes make a megabyte message.
std::string quoted(std::string_view text) {
    constexpr std::size_t longest = 120;
    if (text.size() <= longest) return "'" + std::string(text) + "'";
    std::size_t cut = longest - 20;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;  // not inside a UTF-8 character
    return "'" + std::string(text.substr(0, cut)) + "\u2026' (" + std::to_string(text.size()) + " bytes)";
}

// `udp: "300"`, `udp: yes` or `udp: 1e3` must not silently mean something else.
Expected<std::int64_t> read_integer(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    // yaml-cpp tags every quoted scalar "!", every plain one "?", and keeps explicit tags.
    if (node.Tag() == "!") return refused("expected an integer, got the quoted string \"" + text + "\"");
    if (node.Tag() != "?" && node.Tag() != "tag:yaml.org,2002:int") {
        return refused("expected an integer, got a value tagged " + node.Tag());
    }
    bool flag = false;
    if (YAML::convert<bool>::decode(node, flag)) return refused("expected an integer, got the boolean " + quoted(text));
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) return refused(quoted(text) + " is too large");
    if (ec != std::errc() || end != text.data() + text.size()) return refused("expected an integer, got " + quoted(text));
    return value;
}

// YAML 1.1's yes/no/on/off are refused: `log: no` reading as false is how "Norway" bugs start.
Expected<bool> read_boolean(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    if (node.Tag() == "!") return refused("expected true or false, got the quoted string \"" + text + "\"");
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    return refused("expected true or false, got " + quoted(text));
}

Expected<void> store_boolean(const YAML::Node& node, bool& field) {
    auto parsed = read_boolean(node);
    if (!parsed) return unexpected(parsed.error());
    field = *parsed;
    return {};
}

std::string show_bool(bool value) {
    return value ? "true" : "false";
}

// The names Linux accepts, per dev_valid_name() in net/core/dev.c: 1..IFNAMSIZ-1 bytes,
// not "." or "..", and no '/', ':' (alias syntax) or whitespace.
Expected<std::string> read_interface_name(const YAML::Node& node) {
    const std::string& name = node.Scalar();
    if (name.empty()) return refused("an interface name cannot be empty");
    if (name.size() > 15) {
        return refused(quoted(name) + " has " + std::to_string(name.size()) +
                                  " characters; Linux interface names have at most 15");
    }
    if (name == "." || name == "..") return refused(quoted(name) + " is not a valid interface name");
    for (char c : name) {
        if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r')) {
            return refused(quoted(name) + " contains a character Linux refuses in interface names ('/', ':' or whitespace)");
        }
    }
    return name;
}

// Kept to what reads cleanly in a log line and a gatewayctl table.
Expected<std::string> read_item_name(const YAML::Node& node) {
    const std::string& name = node.Scalar();
    auto allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.';
    };
    if (name.empty() || name.size() > 63 || !std::all_of(name.begin(), name.end(), allowed)) {
        return refused(quoted(name) + " is not a valid name: use 1 to 63 letters, digits, '-', '_' or '.'");
    }
    return name;
}

std::optional<std::string_view> unusable_host_address(Ipv4Address address) {
    std::uint32_t a = address.host_order();
    if (a >> 24 == 0) return "it is in 0.0.0.0/8, \"this network\" (RFC 1122 3.2.1.3)";
    if (a >> 24 == 127) return "it is a loopback address";
    if (a >> 28 == 0xe) return "it is a multicast address";
    if (a == 0xffffffff) return "it is the limited broadcast address";
    return std::nullopt;
}

Expected<Ipv4Address> read_host_address(std::string_view text) {
    auto address = Ipv4Address::parse(text);
    if (!address) return refused("expected an IPv4 address such as 192.168.50.20, got " + quoted(text));
    if (auto why = unusable_host_address(*address)) {
        return refused(quoted(text) + " cannot be a host's address: " + std::string(*why));
    }
    return *address;
}

// Host bits are refused rather than masked: "192.168.50.7/24" is more often a typo for
// /32 than a way to write the /24, and the operator should say which.
Expected<Ipv4Network> read_network(const YAML::Node& node) {
    return parse_network(node.Scalar());
}

Expected<Ipv4Network> parse_network(std::string_view text) {
    auto network = Ipv4Network::parse(text);
    if (!network) {
        return refused("expected an IPv4 network such as 192.168.50.0/24 or an address such as 192.168.50.20, got " +
                    quoted(text));
    }
    std::uint32_t base = network->base.host_order();
    if ((base & network->mask()) != base) {
        Ipv4Network masked{Ipv4Address(base & network->mask()), network->prefix_length};
        return refused(quoted(text) + " has host bits set; write the network as " + masked.to_string() +
                                  " or the single address as " + network->base.to_string() + "/32");
    }
    return *network;
}

Expected<Ipv6Network> parse_ipv6_network(std::string_view text) {
    auto network = Ipv6Network::parse(text);
    if (!network) {
        return refused("expected an IPv6 network such as 2001:db8:1::/64 or an address such as 2001:db8:1::10, got " +
                    quoted(text));
    }
    Ipv6Address::Bytes masked = network->base.bytes();
    for (unsigned bit = network->prefix_length; bit < 128; ++bit) masked[bit / 8] &= std::uint8_t(~(0x80u >> (bit % 8)));
    if (masked != network->base.bytes()) {
        Ipv6Network fixed{Ipv6Address(masked), network->prefix_length};
        return refused(quoted(text) + " has host bits set; write the network as " + fixed.to_string() +
                                  " or the single address as " + network->base.to_string() + "/128");
    }
    return *network;
}

Expected<PortRange> read_port_range(const YAML::Node& node, std::uint16_t lowest) {
    return parse_port_range(node.Scalar(), lowest);
}

Expected<PortRange> parse_port_range(std::string_view text, std::uint16_t lowest) {
    auto range = PortRange::parse(text);
    if (!range || range->first < lowest) {
        return refused("expected a port from " + std::to_string(lowest) +
                                  " to 65535 or a range \"first-last\" of them, got " + quoted(text));
    }
    return *range;
}

}  // namespace gw
