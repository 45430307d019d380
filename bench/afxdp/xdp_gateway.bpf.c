// The issue 17 AF_XDP experiment's XDP program (bench/afxdp/README.md): hands the IPv4
// frames the gateway forwards to its user-space socket, and passes everything else to the
// kernel (ARP, the gateway's own traffic, IPv6, broadcasts). Two entry points, one per
// interface, each with its own socket map indexed by receive queue.
//
// Fail-closed: with no socket in the map, bpf_redirect_map falls back to XDP_PASS, and the
// kernel, whose ip_forward stays 0 in this mode, forwards nothing.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// Written once by afxdp_gateway before it attaches the program. Addresses in network order,
// ports in host order.
struct gateway_settings {
    __u32 lan_address, lan_network, lan_mask;
    __u32 wan_address;
    __u16 first_port, last_port;  // nat.port_range: WAN packets to these ports are NAT's
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct gateway_settings);
} settings SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u32);
} lan_sockets SEC(".maps"), wan_sockets SEC(".maps");

static __always_inline struct iphdr* ipv4_of(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* end = (void*)(long)ctx->data_end;
    struct ethhdr* eth = data;
    if ((void*)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) return 0;
    struct iphdr* ip = (void*)(eth + 1);
    if ((void*)(ip + 1) > end || ip->ihl < 5) return 0;
    return ip;
}

static __always_inline struct gateway_settings* settings_now(void) {
    __u32 key = 0;
    return bpf_map_lookup_elem(&settings, &key);
}

SEC("xdp")
int xdp_lan(struct xdp_md* ctx) {
    struct iphdr* ip = ipv4_of(ctx);
    struct gateway_settings* s = settings_now();
    if (!ip || !s) return XDP_PASS;
    // To the gateway itself (hairpinning is left out of the experiment), to the LAN itself
    // (its broadcast included), multicast and limited broadcast: the kernel's.
    if (ip->daddr == s->lan_address || ip->daddr == s->wan_address) return XDP_PASS;
    if ((ip->daddr & s->lan_mask) == s->lan_network) return XDP_PASS;
    if ((bpf_ntohl(ip->daddr) >> 28) >= 14) return XDP_PASS;
    // A packet that would expire here: the kernel, which answers nothing while not forwarding.
    if (ip->ttl <= 1) return XDP_PASS;
    return bpf_redirect_map(&lan_sockets, ctx->rx_queue_index, XDP_PASS);
}

SEC("xdp")
int xdp_wan(struct xdp_md* ctx) {
    struct iphdr* ip = ipv4_of(ctx);
    struct gateway_settings* s = settings_now();
    if (!ip || !s || ip->daddr != s->wan_address) return XDP_PASS;
    if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP) return XDP_PASS;
    if (ip->frag_off & bpf_htons(0x1fff)) return XDP_PASS;  // a later fragment: no ports to judge by
    if (ip->ttl <= 1) return XDP_PASS;
    __u32 header_length = ip->ihl * 4;
    __u8* l4 = (__u8*)ip + header_length;
    if ((void*)(l4 + 4) > (void*)(long)ctx->data_end) return XDP_PASS;
    __u16 port = ((__u16)l4[2] << 8) | l4[3];
    // Outside the NAT's range: the gateway's own sockets (the kernel's ephemeral ports).
    if (port < s->first_port || port > s->last_port) return XDP_PASS;
    return bpf_redirect_map(&wan_sockets, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
