//! Conversations: decided connections added up per client, server, server
//! port and protocol, in a table whose memory is bounded.
//!
//! Owns: [`ConvKey`], [`Conversation`] (what a verdict and its reason need,
//! kept small: the details of failed attempts live out of line, only for the
//! conversations that have any), and [`ConversationTable`] with its folding
//! beyond the limit, plus the TTLs each host's own packets carried.

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::decode::Transport;
use crate::flow::{ConnRecord, State};

/// Identity of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConvKey {
    pub client: IpAddr,
    pub server: IpAddr,
    pub server_port: u16,
    pub transport: Transport,
}

impl ConvKey {
    /// The conversation a connection belongs to.
    pub fn of(rec: &ConnRecord) -> ConvKey {
        ConvKey {
            client: rec.client,
            server: rec.server,
            server_port: rec.server_port,
            transport: rec.transport,
        }
    }
}

/// A set of TTL values (one bit each).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TtlSet([u64; 4]);

impl TtlSet {
    pub fn insert(&mut self, ttl: u8) {
        self.0[usize::from(ttl >> 6)] |= 1 << (ttl & 63);
    }
    pub fn contains(&self, ttl: u8) -> bool {
        self.0[usize::from(ttl >> 6)] & (1 << (ttl & 63)) != 0
    }
    pub fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
    /// The values, smallest first.
    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=255u8).filter(|t| self.contains(*t))
    }
    pub fn first(&self) -> Option<u8> {
        self.iter().next()
    }
    pub fn extend(&mut self, other: &TtlSet) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }
}

/// What few conversations have, kept out of line: what their failed
/// attempts showed, and the connections folded into them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rare {
    /// SYNs of the failed TCP attempts, unanswered datagrams of UDP ones.
    pub attempts: u64,
    pub first_ns: i64,
    pub last_ns: i64,
    /// The lowest address of the third parties that sent an ICMP unreachable.
    pub icmp_reporter: Option<IpAddr>,
    /// The server itself sent an ICMP unreachable.
    pub icmp_from_server: bool,
    /// TTLs of the RSTs that refused it.
    pub refusal_ttls: TtlSet,
    /// Connections of other clients folded into this one because the
    /// conversation table was full (its client is then the unspecified address).
    pub folded: u32,
}

impl Default for Rare {
    fn default() -> Self {
        Rare {
            attempts: 0,
            first_ns: i64::MAX,
            last_ns: i64::MIN,
            icmp_reporter: None,
            icmp_from_server: false,
            refusal_ttls: TtlSet::default(),
            folded: 0,
        }
    }
}

impl Rare {
    fn merge(&mut self, other: &Rare) {
        self.folded = self.folded.saturating_add(other.folded);
        self.attempts += other.attempts;
        self.first_ns = self.first_ns.min(other.first_ns);
        self.last_ns = self.last_ns.max(other.last_ns);
        self.icmp_reporter = match (self.icmp_reporter, other.icmp_reporter) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.icmp_from_server |= other.icmp_from_server;
        self.refusal_ttls.extend(&other.refusal_ttls);
    }
}

/// The connections of one conversation, added up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    pub key: ConvKey,
    /// Connections by [`State`] (saturating: a count stops at `u32::MAX`).
    pub states: [u32; State::ALL.len()],
    /// Connections whose opening was not captured.
    pub started_before_capture: u32,
    pub first_ns: i64,
    /// When the first connection the server answered began (`i64::MAX`: none).
    pub first_served_ns: i64,
    pub last_ns: i64,
    pub packets: u64,
    pub bytes: u64,
    /// Present once a connection failed (or went unanswered), or was folded in.
    pub rare: Option<Box<Rare>>,
}

impl Conversation {
    pub fn new(key: ConvKey, first_ns: i64) -> Conversation {
        Conversation {
            key,
            states: [0; State::ALL.len()],
            started_before_capture: 0,
            first_ns,
            first_served_ns: i64::MAX,
            last_ns: first_ns,
            packets: 0,
            bytes: 0,
            rare: None,
        }
    }

    /// Connections of other clients folded into this one (see [`Rare::folded`]).
    pub fn folded(&self) -> u32 {
        self.rare.as_ref().map_or(0, |r| r.folded)
    }

    /// Connections in `state`.
    pub fn count(&self, state: State) -> u64 {
        u64::from(self.states[state as usize])
    }

    /// Connections in all.
    pub fn connections(&self) -> u64 {
        self.states.iter().map(|&n| u64::from(n)).sum()
    }

    /// Connections whose server answered (proof it serves the port).
    pub fn served(&self) -> u64 {
        self.count_where(State::is_served)
    }

    /// Connections in the states `which` picks.
    pub fn count_where(&self, which: impl Fn(State) -> bool) -> u64 {
        State::ALL
            .iter()
            .filter(|s| which(**s))
            .map(|s| self.count(*s))
            .sum()
    }

    /// The third party that reported the conversation unreachable (the lowest address).
    pub fn icmp_reporter(&self) -> Option<IpAddr> {
        self.rare.as_ref().and_then(|f| f.icmp_reporter)
    }

    /// Adds one decided connection.
    pub fn add(&mut self, rec: &ConnRecord) {
        let n = &mut self.states[rec.state as usize];
        *n = n.saturating_add(1);
        self.packets += rec.packets;
        self.bytes += rec.bytes;
        self.first_ns = self.first_ns.min(rec.first_ns);
        self.last_ns = self.last_ns.max(rec.last_ns);
        if rec.state.is_served() {
            self.first_served_ns = self.first_served_ns.min(rec.first_ns);
        }
        self.started_before_capture = self
            .started_before_capture
            .saturating_add(u32::from(rec.started_before_capture));
        // Failed attempts, and unanswered ones (a failure where the rule expects a reply).
        if !(rec.state.is_failure() || rec.state == State::Unanswered) {
            return;
        }
        let f = self.rare.get_or_insert_with(Box::default);
        f.attempts += u64::from(match rec.transport {
            Transport::Tcp => rec.syns.max(1),
            Transport::Udp => rec.unanswered_datagrams.max(1),
        });
        f.first_ns = f.first_ns.min(rec.attempt_first_ns);
        f.last_ns = f.last_ns.max(rec.attempt_last_ns);
        match rec.state {
            State::Unreachable => {
                if let Some(by) = rec.failed_by {
                    if by == rec.server {
                        f.icmp_from_server = true;
                    } else {
                        f.icmp_reporter = Some(f.icmp_reporter.map_or(by, |r| r.min(by)));
                    }
                }
            }
            State::Refused => {
                if let Some(ttl) = rec.rst_ttl {
                    f.refusal_ttls.insert(ttl);
                }
            }
            _ => {}
        }
    }

    /// Adds another conversation's connections.
    pub fn merge(&mut self, other: &Conversation) {
        for (a, b) in self.states.iter_mut().zip(other.states) {
            *a = a.saturating_add(b);
        }
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.first_ns = self.first_ns.min(other.first_ns);
        self.first_served_ns = self.first_served_ns.min(other.first_served_ns);
        self.last_ns = self.last_ns.max(other.last_ns);
        self.started_before_capture = self
            .started_before_capture
            .saturating_add(other.started_before_capture);
        if let Some(o) = &other.rare {
            self.rare.get_or_insert_with(Box::default).merge(o);
        }
    }
}

/// Conversations in chunks of fixed capacity, found through a hash index of
/// their positions.
///
/// Why not a `HashMap<ConvKey, Conversation>`: its buckets hold the key a
/// second time and leave a quarter to a half of them empty, and growing
/// copies the whole table (old and new held at once). Here each
/// conversation is stored once, chunks never move, and the index holds
/// four bytes per slot; when it grows, only the index is rebuilt.
#[derive(Clone, Debug, Default)]
pub struct ConvStore {
    index: hashbrown::HashTable<u32>,
    chunks: Vec<Vec<Conversation>>,
    len: usize,
}

/// Conversations per chunk (2 MB chunks).
const CHUNK_BITS: u32 = 14;
const CHUNK: usize = 1 << CHUNK_BITS;

/// The index's hash of a key: one folded 64×64→128-bit multiply per
/// 128 bits of key (the derived `Hash` through `FxHasher` takes a round
/// per field, discriminants and lengths included). Only the index sees it:
/// the conversations' order is their order of arrival either way.
fn key_hash(key: &ConvKey) -> u64 {
    const K1: u64 = 0x9e37_79b9_7f4a_7c15;
    const K2: u64 = 0xc2b2_ae3d_27d4_eb4f;
    #[inline]
    fn fold(a: u64, b: u64) -> u64 {
        let p = u128::from(a ^ K1) * u128::from(b ^ K2);
        (p as u64) ^ ((p >> 64) as u64)
    }
    let tail = u64::from(key.server_port) << 8 | key.transport as u64;
    match (key.client, key.server) {
        (IpAddr::V4(c), IpAddr::V4(s)) => fold(
            u64::from(u32::from(c)) << 32 | u64::from(u32::from(s)),
            tail,
        ),
        (c, s) => {
            let wide = |ip: IpAddr| match ip {
                IpAddr::V4(a) => u128::from(u32::from(a)) | 1 << 64,
                IpAddr::V6(a) => u128::from(a),
            };
            let (c, s) = (wide(c), wide(s));
            let h = fold(c as u64, (c >> 64) as u64);
            let h = fold(h ^ s as u64, (s >> 64) as u64 ^ K1);
            fold(h, tail | 1 << 32)
        }
    }
}

fn at(chunks: &[Vec<Conversation>], i: u32) -> &Conversation {
    &chunks[(i >> CHUNK_BITS) as usize][i as usize & (CHUNK - 1)]
}

impl ConvStore {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, key: &ConvKey) -> Option<&Conversation> {
        let chunks = &self.chunks;
        self.index
            .find(key_hash(key), |&i| at(chunks, i).key == *key)
            .map(|&i| at(chunks, i))
    }

    pub fn contains_key(&self, key: &ConvKey) -> bool {
        self.get(key).is_some()
    }

    /// The conversation with this key, made by `make` if there is none.
    pub fn get_or_insert_with(
        &mut self,
        key: ConvKey,
        make: impl FnOnce() -> Conversation,
    ) -> &mut Conversation {
        let hash = key_hash(&key);
        let chunks = &self.chunks;
        let i = match self.index.find(hash, |&i| at(chunks, i).key == key) {
            Some(&i) => i,
            None => {
                let i = self.len as u32;
                if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
                    self.chunks.push(Vec::with_capacity(CHUNK));
                }
                let conv = make();
                debug_assert_eq!(conv.key, key);
                self.chunks.last_mut().expect("pushed").push(conv);
                self.len += 1;
                let chunks = &self.chunks;
                self.index
                    .insert_unique(hash, i, |&j| key_hash(&at(chunks, j).key));
                i
            }
        };
        &mut self.chunks[(i >> CHUNK_BITS) as usize][i as usize & (CHUNK - 1)]
    }

    /// Every conversation, moved out chunk by chunk (each freed as it goes).
    pub fn into_iter_chunks(self) -> impl Iterator<Item = Conversation> {
        self.chunks.into_iter().flatten()
    }
}

/// Conversations kept one by one at most, by default; beyond, new clients
/// of a server port are folded into one conversation (see [`ConversationTable`]).
pub const DEFAULT_MAX_CONVERSATIONS: usize = 2_500_000;

/// TTL values kept per host at most (a host's packets carry one or two).
const TTLS_PER_HOST: u32 = 8;

/// Connections grouped into conversations, plus what hosts revealed about themselves.
///
/// Memory follows the number of conversations; a flood from millions of
/// spoofed sources would make millions. Beyond `limit`, a connection of a
/// conversation not seen yet is folded into the conversation of its server
/// port whose client is the unspecified address (`0.0.0.0` or `::`), and
/// counted in [`Conversation::folded`].
#[derive(Clone, Debug)]
pub struct ConversationTable {
    pub conversations: ConvStore,
    /// TTLs each host's own packets carried (other than RSTs): a few distinct values.
    pub host_ttls: FxHashMap<IpAddr, TtlSet>,
    pub connections: u64,
    /// Connections folded because the table was full.
    pub folded_connections: u64,
    limit: usize,
}

impl Default for ConversationTable {
    fn default() -> Self {
        ConversationTable::with_limit(DEFAULT_MAX_CONVERSATIONS)
    }
}

impl ConversationTable {
    pub fn with_limit(limit: usize) -> ConversationTable {
        ConversationTable {
            conversations: ConvStore::default(),
            host_ttls: FxHashMap::default(),
            connections: 0,
            folded_connections: 0,
            limit: limit.max(1),
        }
    }

    /// The key a conversation is counted under: itself, or its fold when full.
    fn slot(&self, key: ConvKey) -> (ConvKey, bool) {
        if self.conversations.len() < self.limit || self.conversations.contains_key(&key) {
            return (key, false);
        }
        let client = match key.server {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        };
        (ConvKey { client, ..key }, true)
    }

    /// Adds one decided connection.
    pub fn add(&mut self, rec: &ConnRecord) {
        self.connections += 1;
        let (key, folded) = self.slot(ConvKey::of(rec));
        let conv = self
            .conversations
            .get_or_insert_with(key, || Conversation::new(key, rec.first_ns));
        conv.add(rec);
        if folded {
            let rare = conv.rare.get_or_insert_with(Box::default);
            rare.folded = rare.folded.saturating_add(1);
            self.folded_connections += 1;
        }
        for (host, ttl) in [(rec.server, rec.server_ttl), (rec.client, rec.client_ttl)] {
            if let Some(ttl) = ttl {
                self.note_ttl(host, ttl);
            }
        }
    }

    fn note_ttl(&mut self, host: IpAddr, ttl: u8) {
        if self.host_ttls.len() >= self.limit && !self.host_ttls.contains_key(&host) {
            return;
        }
        let set = self.host_ttls.entry(host).or_default();
        if set.len() < TTLS_PER_HOST {
            set.insert(ttl);
        }
    }

    /// Takes a conversation from another table (e.g. a copy for one
    /// verdict); one already there with its key stays.
    pub fn insert(&mut self, conv: Conversation) {
        if self.conversations.contains_key(&conv.key) {
            return;
        }
        self.connections += conv.connections();
        self.conversations.get_or_insert_with(conv.key, || conv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn rec(client: u8, state: State, first_ns: i64) -> ConnRecord {
        ConnRecord {
            transport: Transport::Tcp,
            client: IpAddr::V4(Ipv4Addr::new(10, 0, 0, client)),
            client_port: 40000,
            server: IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)),
            server_port: 31000,
            state,
            started_before_capture: false,
            first_ns,
            last_ns: first_ns + 5,
            packets: 3,
            bytes: 180,
            syns: 2,
            unanswered_datagrams: 0,
            attempt_first_ns: first_ns,
            attempt_last_ns: first_ns + 3,
            failed_by: None,
            rst_ttl: Some(64),
            server_ttl: Some(128),
            client_ttl: Some(64),
            zeek: None,
            completeness: 1,
        }
    }

    #[test]
    fn a_conversation_is_small_and_its_failures_live_apart() {
        assert!(
            std::mem::size_of::<Conversation>() <= 128,
            "Conversation is {} bytes",
            std::mem::size_of::<Conversation>()
        );
        let mut t = ConversationTable::with_limit(10);
        t.add(&rec(1, State::Established, 10));
        let key = ConvKey::of(&rec(1, State::Established, 10));
        assert!(t.conversations.get(&key).unwrap().rare.is_none());
        t.add(&rec(1, State::Refused, 5));
        let c = &t.conversations.get(&key).unwrap();
        assert_eq!(c.connections(), 2);
        assert_eq!(c.first_ns, 5);
        let f = c.rare.as_deref().unwrap();
        assert_eq!((f.attempts, f.first_ns, f.last_ns), (2, 5, 8));
        assert_eq!(f.refusal_ttls.iter().collect::<Vec<_>>(), vec![64]);
    }

    #[test]
    fn beyond_the_limit_new_clients_fold_per_server_port() {
        let mut t = ConversationTable::with_limit(1);
        t.add(&rec(1, State::Established, 1));
        t.add(&rec(2, State::NoReply, 2));
        t.add(&rec(3, State::NoReply, 3));
        t.add(&rec(1, State::Established, 4));
        assert_eq!(t.conversations.len(), 2);
        assert_eq!(t.folded_connections, 2);
        let fold = ConvKey {
            client: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            ..ConvKey::of(&rec(1, State::NoReply, 0))
        };
        assert_eq!(t.conversations.get(&fold).unwrap().folded(), 2);
        assert_eq!(t.conversations.get(&fold).unwrap().count(State::NoReply), 2);
    }

    #[test]
    fn the_store_finds_every_conversation_across_chunks_and_index_growth() {
        let mut t = ConversationTable::with_limit(usize::MAX);
        let n = 3 * CHUNK + 17;
        let key_of = |i: usize| ConvKey {
            client: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i as u32)),
            ..ConvKey::of(&rec(1, State::Established, 0))
        };
        for i in 0..n {
            let mut r = rec(1, State::Established, i as i64);
            r.client = key_of(i).client;
            t.add(&r);
        }
        assert_eq!(t.conversations.len(), n);
        for i in [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 5, n - 1] {
            let c = t.conversations.get(&key_of(i)).expect("found");
            assert_eq!((c.key, c.first_ns), (key_of(i), i as i64));
        }
        assert!(t.conversations.get(&key_of(n)).is_none());
        let moved: Vec<i64> = t
            .conversations
            .into_iter_chunks()
            .map(|c| c.first_ns)
            .collect();
        assert_eq!(moved, (0..n as i64).collect::<Vec<_>>());
    }

    #[test]
    fn ttl_sets_keep_distinct_values_in_order() {
        let mut s = TtlSet::default();
        for t in [255, 1, 64, 64, 128] {
            s.insert(t);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 64, 128, 255]);
        assert_eq!(s.len(), 4);
        assert_eq!(s.first(), Some(1));
    }
}
