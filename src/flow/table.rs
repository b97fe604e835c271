//! The flow table's storage: connections by their sockets, in one
//! open-addressing hash table whose slot for a key can be prefetched.
//!
//! Owns: slots, probing, growth and removal. Nothing here knows what a
//! connection means; [`super::FlowTable`] decides.
//!
//! Why not `std::collections::HashMap`: a large capture has hundreds of
//! thousands of connections open at once (30 MB of entries), so nearly every
//! lookup misses the cache, and that miss was a third of the packet stage
//! (`perf record`, high-cardinality bench mix: `hashbrown::find_inner`). The
//! packets of a batch are known before they are processed, so the caller can
//! ask for the slot of a packet some packets ahead ([`ConnSlots::prefetch`])
//! and the memory fetch overlaps with the work on the packets in between;
//! `HashMap` has no way to say where a key's slot is.
//!
//! The layout: one tag byte per slot (empty, or 7 bits of the hash) in a
//! small array that stays in cache, and the entries beside it. Linear probing
//! over the tags; a removal shifts the entries after it back (no tombstones),
//! so a probe never runs past the end of its cluster. At most 7/8 of the
//! slots are used, as in hashbrown, so the memory is the same.

use super::conn::Conn;
use super::SocketPair;

/// An empty slot's tag; an occupied slot's tag has the high bit set.
const EMPTY: u8 = 0;

/// The smallest number of slots (a power of two).
const MIN_SLOTS: usize = 16;

/// The tag of a hash: seven bits that neither the slot index (the low bits)
/// nor the shard choice (the high bits, [`super::ConnKey::shard`]) uses, so
/// the keys of one shard and one cluster still differ in their tags.
#[inline(always)]
fn tag_of(hash: u64) -> u8 {
    0x80 | ((hash >> 48) as u8 & 0x7f)
}

/// Connections keyed by their sockets.
pub(crate) struct ConnSlots<K> {
    /// One per slot: [`EMPTY`] or the key's [`tag_of`].
    tags: Vec<u8>,
    /// One per slot; an empty slot holds a placeholder, never read.
    entries: Vec<(K, Conn)>,
    /// Slots - 1 (the slot count is a power of two).
    mask: usize,
    len: usize,
}

impl<K: SocketPair> Default for ConnSlots<K> {
    fn default() -> Self {
        ConnSlots::with_slots(MIN_SLOTS)
    }
}

impl<K: SocketPair> ConnSlots<K> {
    fn with_slots(slots: usize) -> ConnSlots<K> {
        debug_assert!(slots.is_power_of_two());
        let mut entries = Vec::with_capacity(slots);
        entries.resize_with(slots, || (K::default(), Conn::placeholder()));
        ConnSlots {
            tags: vec![EMPTY; slots],
            entries,
            mask: slots - 1,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes this table holds (slots and tags; not what connections keep out
    /// of line).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.tags.len() * (1 + std::mem::size_of::<(K, Conn)>())
    }

    /// Makes room for `additional` more connections without growing.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let wanted = self.len.saturating_add(additional);
        let mut slots = self.tags.len();
        while wanted > max_load(slots) {
            slots *= 2;
        }
        if slots != self.tags.len() {
            self.rehash(slots);
        }
    }

    /// Asks the CPU to bring in the slot where `hash`'s key is (or would go),
    /// without waiting for it. Reads only the tags.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        let tag = tag_of(hash);
        let mut i = hash as usize & self.mask;
        // The first slot with the key's tag, or the empty one ending the
        // cluster (where the key would be inserted); a few slots at most.
        for _ in 0..8 {
            let t = self.tags[i];
            if t == tag || t == EMPTY {
                break;
            }
            i = (i + 1) & self.mask;
        }
        prefetch_entry(&self.entries[i]);
    }

    /// The slot holding `key` (`Ok`), or the empty slot where it would be
    /// inserted (`Err`).
    #[inline]
    pub(crate) fn find(&self, key: &K, hash: u64) -> Result<usize, usize> {
        let tag = tag_of(hash);
        let mut i = hash as usize & self.mask;
        loop {
            let t = self.tags[i];
            if t == EMPTY {
                return Err(i);
            }
            if t == tag && self.entries[i].0 == *key {
                return Ok(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The key and connection in an occupied slot.
    #[inline]
    pub(crate) fn get_mut(&mut self, slot: usize) -> (&K, &mut Conn) {
        let (key, conn) = &mut self.entries[slot];
        (key, conn)
    }

    /// Puts a new connection in the slot [`ConnSlots::find`] returned as
    /// empty for its key (nothing inserted or removed since). Grows first
    /// when the table is full, so the slot may change.
    pub(crate) fn insert(&mut self, empty: usize, key: K, hash: u64, conn: Conn) {
        debug_assert_eq!(self.tags[empty], EMPTY);
        let slot = if self.len + 1 > max_load(self.tags.len()) {
            self.rehash(self.tags.len() * 2);
            self.empty_slot_for(hash)
        } else {
            empty
        };
        self.tags[slot] = tag_of(hash);
        self.entries[slot] = (key, conn);
        self.len += 1;
    }

    /// The first empty slot on `hash`'s probe path.
    fn empty_slot_for(&self, hash: u64) -> usize {
        let mut i = hash as usize & self.mask;
        while self.tags[i] != EMPTY {
            i = (i + 1) & self.mask;
        }
        i
    }

    fn rehash(&mut self, slots: usize) {
        let old_tags = std::mem::replace(&mut self.tags, vec![EMPTY; slots]);
        let mut fresh = Vec::with_capacity(slots);
        fresh.resize_with(slots, || (K::default(), Conn::placeholder()));
        let old_entries = std::mem::replace(&mut self.entries, fresh);
        self.mask = slots - 1;
        for (tag, (key, conn)) in old_tags.into_iter().zip(old_entries) {
            if tag != EMPTY {
                let hash = key.key_hash();
                let slot = self.empty_slot_for(hash);
                self.tags[slot] = tag;
                self.entries[slot] = (key, conn);
            }
        }
    }

    /// Takes the connection out of an occupied slot, shifting back the
    /// entries after it whose probe path runs through it.
    fn remove_at(&mut self, slot: usize) -> (K, Conn) {
        let removed =
            std::mem::replace(&mut self.entries[slot], (K::default(), Conn::placeholder()));
        self.tags[slot] = EMPTY;
        self.len -= 1;
        let mut hole = slot;
        let mut j = (slot + 1) & self.mask;
        while self.tags[j] != EMPTY {
            let home = self.entries[j].0.key_hash() as usize & self.mask;
            // The entry at j may move to the hole when the hole lies on its
            // path from home to j (distances taken around the ring).
            if (j.wrapping_sub(home) & self.mask) >= (j.wrapping_sub(hole) & self.mask) {
                self.tags[hole] = self.tags[j];
                self.tags[j] = EMPTY;
                self.entries.swap(hole, j);
                hole = j;
            }
            j = (j + 1) & self.mask;
        }
        removed
    }

    /// Keeps the connections for which `keep` says true. `keep` may be asked
    /// twice about a connection it keeps (one that a removal moved back past
    /// the end of the slots), so it must answer the same both times.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut Conn) -> bool) {
        let mut i = 0;
        while i < self.tags.len() {
            if self.tags[i] != EMPTY {
                let (key, conn) = &mut self.entries[i];
                if !keep(key, conn) {
                    self.remove_at(i);
                    // An entry may have moved into this slot: look again.
                    continue;
                }
            }
            i += 1;
        }
    }

    /// Every connection, in slot order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Conn> {
        self.tags
            .iter()
            .zip(&self.entries)
            .filter(|(t, _)| **t != EMPTY)
            .map(|(_, (_, conn))| conn)
    }

    /// Takes every connection out, in slot order, and shrinks to the minimum.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = (K, Conn)> {
        let old = std::mem::take(self);
        old.tags
            .into_iter()
            .zip(old.entries)
            .filter(|(t, _)| *t != EMPTY)
            .map(|(_, entry)| entry)
    }
}

/// How many connections `slots` slots hold at most.
#[inline]
fn max_load(slots: usize) -> usize {
    slots / 8 * 7
}

/// Brings an entry's cache lines in.
#[inline(always)]
fn prefetch_entry<K>(entry: &(K, Conn)) {
    let start = (entry as *const (K, Conn)).cast::<i8>();
    let size = std::mem::size_of::<(K, Conn)>();
    // Each cache line of the entry once (an 88-byte entry spans two or three).
    let first_line = start as usize & !63;
    let last_line = (start as usize + size - 1) & !63;
    let mut line = first_line;
    while line <= last_line {
        prefetch_address(start.wrapping_add(line.wrapping_sub(start as usize)));
        line += 64;
    }
}

#[inline(always)]
fn prefetch_address(address: *const i8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: `_mm_prefetch` is unsafe only for its `target_feature =
        // "sse"`, and SSE is part of every x86_64 CPU (the baseline this
        // target is built for). The instruction is a hint: it reads no
        // memory the program sees and never faults, whatever the address;
        // the callers' addresses are inside one of the table's entries or
        // tags anyway (`wrapping_add` asserts nothing about them).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(address) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Transport;
    use std::collections::HashMap;
    use std::net::{IpAddr, Ipv4Addr};

    fn key(n: u32) -> super::super::Sockets {
        let a = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (n >> 8)));
        let b = IpAddr::V4(Ipv4Addr::from(0xc0a8_0001));
        super::super::ConnKey::from_sockets((a, (n & 0xff) as u16 + 1024), (b, 80), Transport::Tcp)
            .sockets
    }

    fn conn(mark: i64) -> Conn {
        let mut c = Conn::placeholder();
        c.first_ns = mark;
        c
    }

    /// A model-checked run: inserts, lookups, removals by `retain` and
    /// growth agree with a `HashMap` at every step.
    #[test]
    fn behaves_as_a_map_through_growth_and_removals() {
        let mut slots: ConnSlots<super::super::Sockets> = ConnSlots::default();
        let mut model: HashMap<u32, i64> = HashMap::new();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for step in 0..40_000i64 {
            // Few distinct keys at first (many hits), then more.
            let n = (next() % if step < 5000 { 300 } else { 20_000 }) as u32;
            let k = key(n);
            let h = k.key_hash();
            slots.prefetch(h);
            match (slots.find(&k, h), model.get(&n)) {
                (Ok(i), Some(&mark)) => {
                    let (found, c) = slots.get_mut(i);
                    assert_eq!(*found, k);
                    assert_eq!(c.first_ns, mark);
                    c.first_ns = step;
                    model.insert(n, step);
                }
                (Err(i), None) => {
                    slots.insert(i, k, h, conn(step));
                    model.insert(n, step);
                }
                (found, expected) => panic!("step {step}: {found:?} vs {expected:?}"),
            }
            if step % 997 == 0 {
                // Remove about a third, by an answer that depends only on the entry.
                let mut asked = 0;
                slots.retain(|_, c| {
                    asked += 1;
                    c.first_ns % 3 != 0
                });
                model.retain(|_, mark| *mark % 3 != 0);
                assert!(asked >= model.len());
            }
            assert_eq!(slots.len(), model.len());
        }
        let mut seen: Vec<i64> = slots.values().map(|c| c.first_ns).collect();
        let mut expected: Vec<i64> = model.values().copied().collect();
        seen.sort_unstable();
        expected.sort_unstable();
        assert_eq!(seen, expected);
        let drained = slots.drain().count();
        assert_eq!(drained, model.len());
        assert_eq!(slots.len(), 0);
    }

    #[test]
    fn reserve_avoids_growth_and_memory_is_counted() {
        let mut slots: ConnSlots<super::super::Sockets> = ConnSlots::default();
        slots.reserve(1000);
        let before = slots.memory_bytes();
        assert!(before >= 1000 * std::mem::size_of::<(super::super::Sockets, Conn)>());
        for n in 0..1000 {
            let k = key(n);
            let h = k.key_hash();
            let empty = slots.find(&k, h).unwrap_err();
            slots.insert(empty, k, h, conn(0));
        }
        assert_eq!(slots.memory_bytes(), before);
        assert_eq!(slots.len(), 1000);
    }
}
