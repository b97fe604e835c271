//! Broadcast and multicast datagrams: recognised before the flow table and
//! listed apart, never judged (SPEC "Broadcast and multicast").
//!
//! Owns: which packets are sent to a group rather than to one host — IPv4
//! 255.255.255.255 and 224.0.0.0/4, IPv6 ff00::/8, the broadcast address of
//! an inventory block of /30 or wider ([`SubnetBroadcasts`]), and, for UDP, a
//! link-layer broadcast or multicast destination ([`LinkDest`]) — and the
//! unicast UDP answers to them (from the port the group datagram was sent
//! to, back to its sender's address and port, within the reply timeout of a
//! query). Both go into a bounded table grouped by (sender, destination,
//! destination port, protocol) instead of into conversations.
//!
//! TCP: a segment to an IP broadcast or multicast address cannot be part of
//! a connection, so it is listed here too; a TCP segment to a unicast IP
//! address inside a link-layer multicast frame (Microsoft NLB in multicast
//! mode does that for real connections) stays a connection. An ICMP
//! unreachable quoting a datagram sent to a group counts as a packet of
//! that group (not as a reply).
//!
//! The table is fed on the reader thread in input order, before packets are
//! sharded by connection key (a query and its reply have different keys),
//! so its content does not depend on the thread count. When no group
//! datagram has been seen, a unicast packet costs a few compares and one
//! emptiness check.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rustc_hash::FxHashMap;

use crate::decode::{LinkDest, PacketKind, PacketMeta, Transport};

/// IPv4 broadcast addresses of inventory blocks of /30 or wider, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubnetBroadcasts(Vec<u32>);

impl SubnetBroadcasts {
    pub fn new(addrs: impl IntoIterator<Item = Ipv4Addr>) -> SubnetBroadcasts {
        let mut v: Vec<u32> = addrs.into_iter().map(u32::from).collect();
        v.sort_unstable();
        v.dedup();
        SubnetBroadcasts(v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.0.iter().map(|&a| Ipv4Addr::from(a))
    }

    /// Is `a` one of them? The broadcast address of a /30 or wider block
    /// ends in two one bits: three addresses in four are ruled out at once.
    #[inline]
    pub fn contains(&self, a: u32) -> bool {
        a & 3 == 3 && !self.0.is_empty() && self.0.binary_search(&a).is_ok()
    }
}

/// How the table recognises and bounds.
#[derive(Clone, Debug)]
pub struct BroadcastConfig {
    /// A unicast answer counts as a reply only this long after a query.
    pub reply_timeout_ns: i64,
    pub subnet_broadcasts: SubnetBroadcasts,
    /// Groups kept one by one; beyond, further senders are folded.
    pub max_groups: usize,
    /// Several captures are merged: a packet seen by two taps counts once
    /// (as the flow table does for UDP: same sender port, same payload
    /// length, from another capture, within `dedup_window_ns`).
    pub dedup: bool,
    pub dedup_window_ns: i64,
}

/// Groups kept one by one by default: far more than a real network's
/// broadcast chatter, small enough (a few MB) for a hostile capture.
pub const DEFAULT_MAX_GROUPS: usize = 65_536;

impl BroadcastConfig {
    pub fn new(reply_timeout_ns: i64) -> BroadcastConfig {
        BroadcastConfig {
            reply_timeout_ns: reply_timeout_ns.max(0),
            subnet_broadcasts: SubnetBroadcasts::default(),
            max_groups: DEFAULT_MAX_GROUPS,
            dedup: false,
            dedup_window_ns: reply_timeout_ns.max(1_000_000_000),
        }
    }
}

/// What a group is: who sent to which group address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    /// The sender (`0.0.0.0` / `::` for folded senders).
    pub client: IpAddr,
    /// The broadcast or multicast address (unspecified in the last-resort
    /// fold, see [`BroadcastTable`]).
    pub destination: IpAddr,
    pub port: u16,
    pub transport: Transport,
}

/// One group: its packets (group datagrams, their unicast replies, ICMP
/// errors quoting them) and times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BroadcastGroup {
    pub key: GroupKey,
    /// Every packet of the group, replies included.
    pub packets: u64,
    /// Of those, unicast replies.
    pub replies: u64,
    pub first_ns: i64,
    pub last_ns: i64,
}

/// The table's result: groups sorted like conversations (sender,
/// destination — numeric, IPv4 before IPv6 — port, protocol).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Broadcasts {
    pub groups: Vec<BroadcastGroup>,
    /// Packets of all groups (queries and replies).
    pub packets: u64,
    /// Packets counted in folded groups (too many senders).
    pub folded_packets: u64,
    /// Packets seen by a second tap and not counted again.
    pub duplicates: u64,
}

impl Broadcasts {
    /// Distinct senders (a folded group counts as one).
    pub fn senders(&self) -> usize {
        let mut v: Vec<IpAddr> = self.groups.iter().map(|g| g.key.client).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    }
}

/// The socket a query came from and the port it went to: what a reply
/// answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct QueryKey {
    sender: IpAddr,
    sender_port: u16,
    port: u16,
}

/// The groups of an analysis, bounded.
///
/// At most `max_groups` groups are kept one by one; a datagram of a further
/// (sender, destination, port, protocol) is counted under the sender
/// `0.0.0.0`/`::` for its destination, port and protocol; once those folded
/// groups have also taken `max_groups / 4 + 16` more slots, under one group
/// per family and protocol with the unspecified destination and port 0. The
/// open queries a reply may answer are bounded by `max_groups` too (expired
/// ones are dropped; a query that finds no room is not awaited).
#[derive(Debug)]
pub struct BroadcastTable {
    config: BroadcastConfig,
    index: FxHashMap<GroupKey, u32>,
    groups: Vec<BroadcastGroup>,
    queries: FxHashMap<QueryKey, (u32, i64)>,
    last_prune_ns: Option<i64>,
    /// Recent packets of each group (parallel to `groups`), only when
    /// several captures are merged.
    rings: Vec<Ring>,
    packets: u64,
    folded_packets: u64,
    duplicates: u64,
}

/// The last few packets of a group, to recognise one seen by two taps.
#[derive(Clone, Copy, Debug, Default)]
struct Ring {
    slots: [Seen; RING],
    next: u8,
    filled: u8,
}

const RING: usize = 8;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Seen {
    input: u16,
    sport: u16,
    reply: bool,
    len: u32,
    ts: i64,
}

impl Ring {
    /// Is `p` one already seen through another capture? Records it otherwise.
    fn duplicate(&mut self, p: Seen, window_ns: i64) -> bool {
        let filled = usize::from(self.filled);
        let hit = self.slots[..filled].iter().position(|o| {
            o.input != p.input
                && o.input != u16::MAX
                && (o.sport, o.reply, o.len) == (p.sport, p.reply, p.len)
                && o.ts.abs_diff(p.ts) <= window_ns.unsigned_abs()
        });
        if let Some(i) = hit {
            // Consumed: a repeated datagram seen by both taps counts once per pair.
            self.slots[i].input = u16::MAX;
            return true;
        }
        self.slots[usize::from(self.next)] = p;
        self.next = ((usize::from(self.next) + 1) % RING) as u8;
        self.filled = (filled + 1).min(RING) as u8;
        false
    }
}

impl BroadcastTable {
    pub fn new(config: BroadcastConfig) -> BroadcastTable {
        BroadcastTable {
            config: BroadcastConfig {
                max_groups: config.max_groups.max(1),
                ..config
            },
            index: FxHashMap::default(),
            groups: Vec::new(),
            queries: FxHashMap::default(),
            last_prune_ns: None,
            rings: Vec::new(),
            packets: 0,
            folded_packets: 0,
            duplicates: 0,
        }
    }

    /// Is `addr` a broadcast or multicast address at the IP layer?
    #[inline]
    pub fn is_group_address(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => {
                a.is_multicast()
                    || a.is_broadcast()
                    || self.config.subnet_broadcasts.contains(u32::from(a))
            }
            IpAddr::V6(a) => a.is_multicast(),
        }
    }

    /// Takes the packet (of capture `input`) when it belongs to a group (a
    /// datagram sent to one, a unicast reply to one, an ICMP error quoting
    /// one): then it must not reach the flow table.
    #[inline]
    pub fn take(&mut self, pkt: &PacketMeta, input: u16) -> bool {
        let to_group = self.is_group_address(pkt.dst)
            || (pkt.transport == Transport::Udp
                && pkt.link_dest != LinkDest::Unicast
                && matches!(pkt.kind, PacketKind::Transport));
        if to_group {
            self.query(pkt, input);
            return true;
        }
        if self.queries.is_empty()
            || pkt.transport != Transport::Udp
            || !matches!(pkt.kind, PacketKind::Transport)
        {
            return false;
        }
        self.reply(pkt, input)
    }

    fn query(&mut self, pkt: &PacketMeta, input: u16) {
        let key = GroupKey {
            client: pkt.src,
            destination: pkt.dst,
            port: pkt.dst_port,
            transport: pkt.transport,
        };
        let g = self.group(key, pkt.ts_ns);
        let datagram = matches!(pkt.kind, PacketKind::Transport);
        if datagram && self.duplicate(g, pkt, input, false) {
            return;
        }
        if self.groups[g as usize].key.client.is_unspecified() && !key.client.is_unspecified() {
            self.folded_packets += 1;
        }
        self.count(g, pkt.ts_ns);
        if pkt.transport == Transport::Udp && datagram {
            self.await_reply(
                QueryKey {
                    sender: pkt.src,
                    sender_port: pkt.src_port,
                    port: pkt.dst_port,
                },
                g,
                pkt.ts_ns,
            );
        }
    }

    fn reply(&mut self, pkt: &PacketMeta, input: u16) -> bool {
        let q = QueryKey {
            sender: pkt.dst,
            sender_port: pkt.dst_port,
            port: pkt.src_port,
        };
        let Some(&(g, at)) = self.queries.get(&q) else {
            return false;
        };
        if pkt.ts_ns.saturating_sub(at) > self.config.reply_timeout_ns {
            return false;
        }
        if self.duplicate(g, pkt, input, true) {
            return true;
        }
        self.count(g, pkt.ts_ns);
        self.groups[g as usize].replies += 1;
        true
    }

    /// Seen by another tap already? (Only when several captures are merged.)
    fn duplicate(&mut self, g: u32, pkt: &PacketMeta, input: u16, reply: bool) -> bool {
        if !self.config.dedup {
            return false;
        }
        let g = g as usize;
        if self.rings.len() <= g {
            self.rings.resize(g + 1, Ring::default());
        }
        let seen = Seen {
            input,
            sport: pkt.src_port,
            reply,
            len: pkt.payload_len,
            ts: pkt.ts_ns,
        };
        let dup = self.rings[g].duplicate(seen, self.config.dedup_window_ns);
        self.duplicates += u64::from(dup);
        dup
    }

    /// The group of `key` (created or folded as the bounds say).
    fn group(&mut self, key: GroupKey, ts: i64) -> u32 {
        let g = match self.index.get(&key) {
            Some(&g) => g,
            None => {
                let max = self.config.max_groups;
                if self.groups.len() < max {
                    self.insert(key, ts)
                } else {
                    let folded = GroupKey {
                        client: unspecified(key.client),
                        ..key
                    };
                    match self.index.get(&folded) {
                        Some(&g) => g,
                        None if self.groups.len() < max + max / 4 + 16 => self.insert(folded, ts),
                        None => {
                            let last = GroupKey {
                                client: unspecified(key.client),
                                destination: unspecified(key.destination),
                                port: 0,
                                transport: key.transport,
                            };
                            match self.index.get(&last) {
                                Some(&g) => g,
                                None => self.insert(last, ts),
                            }
                        }
                    }
                }
            }
        };
        g
    }

    fn insert(&mut self, key: GroupKey, ts: i64) -> u32 {
        let g = self.groups.len() as u32;
        self.groups.push(BroadcastGroup {
            key,
            packets: 0,
            replies: 0,
            first_ns: ts,
            last_ns: ts,
        });
        self.index.insert(key, g);
        g
    }

    #[inline]
    fn count(&mut self, g: u32, ts: i64) {
        let group = &mut self.groups[g as usize];
        group.packets += 1;
        group.first_ns = group.first_ns.min(ts);
        group.last_ns = group.last_ns.max(ts);
        self.packets += 1;
    }

    fn await_reply(&mut self, q: QueryKey, g: u32, ts: i64) {
        if let Some(open) = self.queries.get_mut(&q) {
            *open = (g, ts);
            return;
        }
        let max = self.config.max_groups;
        if self.queries.len() >= max {
            // At most one pass per reply timeout of capture time, so a
            // flood of live queries costs no pass per packet.
            let timeout = self.config.reply_timeout_ns;
            if self
                .last_prune_ns
                .is_none_or(|p| ts.saturating_sub(p) >= timeout.max(1))
            {
                self.last_prune_ns = Some(ts);
                self.queries
                    .retain(|_, (_, at)| ts.saturating_sub(*at) <= timeout);
            }
            if self.queries.len() >= max {
                return;
            }
        }
        self.queries.insert(q, (g, ts));
    }

    /// The groups, sorted.
    pub fn finish(self) -> Broadcasts {
        let mut groups = self.groups;
        groups.sort_unstable_by_key(|g| g.key);
        Broadcasts {
            groups,
            packets: self.packets,
            folded_packets: self.folded_packets,
            duplicates: self.duplicates,
        }
    }

    /// The groups so far, sorted, leaving the table as it is (live's
    /// periodic checkpoints).
    pub fn snapshot(&self) -> Broadcasts {
        let mut groups = self.groups.clone();
        groups.sort_unstable_by_key(|g| g.key);
        Broadcasts {
            groups,
            packets: self.packets,
            folded_packets: self.folded_packets,
            duplicates: self.duplicates,
        }
    }

    /// Packets taken so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Groups kept (for memory accounting and tests).
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Queries awaiting a reply.
    pub fn open_queries(&self) -> usize {
        self.queries.len()
    }
}

fn unspecified(like: IpAddr) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;

    const S: i64 = 1_000_000_000;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn udp(ts: i64, src: &str, sp: u16, dst: &str, dp: u16) -> PacketMeta {
        PacketMeta {
            ts_ns: ts,
            kind: PacketKind::Transport,
            transport: Transport::Udp,
            src: ip(src),
            dst: ip(dst),
            src_port: sp,
            dst_port: dp,
            tcp_flags: TcpFlags::NONE,
            seq: 0,
            ack: 0,
            payload_len: 50,
            wire_len: 92,
            ttl: 128,
            link_dest: LinkDest::Unicast,
            tunnels: Default::default(),
        }
    }

    fn table(subnets: &[&str]) -> BroadcastTable {
        let mut c = BroadcastConfig::new(3 * S);
        c.subnet_broadcasts = SubnetBroadcasts::new(subnets.iter().map(|s| s.parse().unwrap()));
        BroadcastTable::new(c)
    }

    #[test]
    fn group_addresses() {
        let t = table(&["192.168.10.255"]);
        for a in [
            "255.255.255.255",
            "224.0.0.251",
            "239.255.255.250",
            "192.168.10.255",
            "ff02::fb",
            "ff02::1:3",
            "ff05::c",
        ] {
            assert!(t.is_group_address(ip(a)), "{a}");
        }
        for a in [
            "192.168.10.31",
            "192.168.11.255",
            "240.0.0.1",
            "223.255.255.255",
            "2001:db8::ff",
            "fe80::1",
        ] {
            assert!(!t.is_group_address(ip(a)), "{a}");
        }
        // without an inventory, a subnet broadcast is only known by its link layer
        assert!(!table(&[]).is_group_address(ip("192.168.10.255")));
    }

    #[test]
    fn a_query_and_its_unicast_reply_are_one_group() {
        let mut t = table(&["192.168.10.255"]);
        let q = udp(10 * S, "192.168.10.31", 137, "192.168.10.255", 137);
        assert!(t.take(&q, 0));
        assert!(t.take(
            &udp(10 * S + S / 2, "192.168.10.31", 137, "192.168.10.255", 137),
            0
        ));
        // the answer: from the queried port back to the sender's socket
        let a = udp(11 * S, "192.168.10.5", 137, "192.168.10.31", 137);
        assert!(t.take(&a, 0));
        // too late, wrong port, wrong sender port: not replies
        assert!(!t.take(
            &udp(14 * S + 1, "192.168.10.5", 137, "192.168.10.31", 137),
            0
        ));
        assert!(!t.take(&udp(11 * S, "192.168.10.5", 138, "192.168.10.31", 137), 0));
        assert!(!t.take(&udp(11 * S, "192.168.10.5", 137, "192.168.10.31", 49152), 0));
        // unrelated unicast traffic is left alone
        assert!(!t.take(&udp(11 * S, "192.168.10.31", 50000, "192.168.10.5", 161), 0));
        let b = t.finish();
        assert_eq!(b.packets, 3);
        assert_eq!(
            b.groups,
            [BroadcastGroup {
                key: GroupKey {
                    client: ip("192.168.10.31"),
                    destination: ip("192.168.10.255"),
                    port: 137,
                    transport: Transport::Udp,
                },
                packets: 3,
                replies: 1,
                first_ns: 10 * S,
                last_ns: 11 * S,
            }]
        );
    }

    #[test]
    fn link_layer_class_counts_for_udp_only() {
        let mut t = table(&[]);
        let mut p = udp(S, "10.0.0.1", 5000, "10.0.0.255", 5000);
        p.link_dest = LinkDest::Broadcast;
        assert!(t.take(&p, 0));
        p.link_dest = LinkDest::Multicast;
        assert!(t.take(&p, 0));
        // TCP to a unicast address in a multicast frame (NLB): a connection
        let mut tcp = PacketMeta {
            transport: Transport::Tcp,
            tcp_flags: TcpFlags::SYN,
            dst: ip("10.0.0.80"),
            ..p
        };
        assert!(!t.take(&tcp, 0));
        // TCP to an IP multicast address is not a connection
        tcp.dst = ip("224.0.0.1");
        assert!(t.take(&tcp, 0));
        let b = t.finish();
        assert_eq!(
            b.groups
                .iter()
                .map(|g| (g.key.transport, g.packets))
                .collect::<Vec<_>>(),
            [(Transport::Udp, 2), (Transport::Tcp, 1)]
        );
    }

    #[test]
    fn an_icmp_error_quoting_a_group_datagram_belongs_to_it() {
        let mut t = table(&["192.168.10.255"]);
        let q = udp(S, "192.168.10.31", 138, "192.168.10.255", 138);
        assert!(t.take(&q, 0));
        let icmp = PacketMeta {
            kind: PacketKind::Unreachable {
                reporter: ip("192.168.10.7"),
                icmp_type: 3,
                code: 3,
            },
            ts_ns: 2 * S,
            ..q
        };
        assert!(t.take(&icmp, 0));
        let b = t.finish();
        assert_eq!(
            (b.groups.len(), b.groups[0].packets, b.groups[0].replies),
            (1, 2, 0)
        );
    }

    #[test]
    fn groups_sort_like_conversations() {
        let mut t = table(&[]);
        for (src, dst) in [
            ("fe80::2", "ff02::fb"),
            ("192.168.10.40", "224.0.0.251"),
            ("192.168.10.31", "255.255.255.255"),
            ("192.168.10.31", "224.0.0.251"),
            ("10.0.0.9", "239.255.255.250"),
        ] {
            assert!(t.take(&udp(S, src, 5353, dst, 5353), 0));
        }
        let keys: Vec<(IpAddr, IpAddr)> = t
            .finish()
            .groups
            .iter()
            .map(|g| (g.key.client, g.key.destination))
            .collect();
        assert_eq!(
            keys,
            [
                (ip("10.0.0.9"), ip("239.255.255.250")),
                (ip("192.168.10.31"), ip("224.0.0.251")),
                (ip("192.168.10.31"), ip("255.255.255.255")),
                (ip("192.168.10.40"), ip("224.0.0.251")),
                (ip("fe80::2"), ip("ff02::fb")),
            ]
        );
    }

    /// A hostile capture: a million multicast senders, each to its own
    /// group address, stays within the bound and every packet is counted.
    #[test]
    fn a_million_senders_stay_within_the_bound() {
        let mut c = BroadcastConfig::new(3 * S);
        c.max_groups = 1000;
        let mut t = BroadcastTable::new(c);
        let n: u32 = 1_000_000;
        for i in 0..n {
            let src = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            let dst = IpAddr::V4(Ipv4Addr::from(0xe000_0000 + (i % 50_000)));
            let p = PacketMeta {
                src,
                dst,
                ..udp(i64::from(i) * 1000, "10.0.0.1", 5000, "224.0.0.1", 5000)
            };
            assert!(t.take(&p, 0));
            assert!(t.len() <= 1000 + 1000 / 4 + 16 + 4);
            assert!(t.open_queries() <= 1000);
        }
        let b = t.finish();
        assert_eq!(b.packets, u64::from(n));
        assert_eq!(
            b.groups.iter().map(|g| g.packets).sum::<u64>(),
            u64::from(n)
        );
        assert_eq!(b.folded_packets, u64::from(n) - 1000);
        assert!(b.groups.iter().any(|g| g.key.destination.is_unspecified()));
    }

    #[test]
    fn a_packet_seen_by_two_taps_counts_once() {
        let mut c = BroadcastConfig::new(3 * S);
        c.subnet_broadcasts = SubnetBroadcasts::new(["192.168.10.255".parse().unwrap()]);
        c.dedup = true;
        let mut t = BroadcastTable::new(c);
        // three tries 750 ms apart, each seen by tap 0 and, 200 ms later, tap 1
        for i in 0..3 {
            let at = 10 * S + i * 750_000_000;
            let q = udp(at, "192.168.10.31", 137, "192.168.10.255", 137);
            assert!(t.take(&q, 0));
            assert!(t.take(
                &PacketMeta {
                    ts_ns: at + S / 5,
                    ..q
                },
                1
            ));
        }
        // the answer, through both taps too
        let a = udp(11 * S, "192.168.10.5", 137, "192.168.10.31", 137);
        assert!(t.take(&a, 1));
        assert!(t.take(
            &PacketMeta {
                ts_ns: 11 * S + S / 10,
                ..a
            },
            0
        ));
        let b = t.finish();
        assert_eq!((b.packets, b.duplicates), (4, 4));
        assert_eq!((b.groups[0].packets, b.groups[0].replies), (4, 1));
    }
}
