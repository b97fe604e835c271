//! The default capture filter: the effective catalog's ports plus ICMP, so
//! the kernel drops irrelevant traffic before it costs a copy.

use crate::catalog::{CatalogSet, PortSet};
use crate::decode::Transport;

/// Builds the default BPF filter of a catalog set.
///
/// Every rule's ports count, companion rules too (the dynamic RPC range
/// 49152-65535/tcp goes in as one `portrange`). Ports are matched in either
/// direction (`port`, not `dst port`): SYN-ACKs and RSTs come *from* the
/// catalog port. Adjacent ports merge into ranges to keep the program short.
/// ICMP and ICMPv6 are kept whole: destination-unreachable messages quote
/// the failed packet. The expression is repeated behind `vlan` because a
/// mirror port often delivers 802.1Q-tagged frames, and a plain `tcp port`
/// test does not look past the tag (`vlan` shifts the offsets of what follows).
pub fn default_filter(catalogs: &CatalogSet) -> String {
    let mut tcp = PortSet::default();
    let mut udp = PortSet::default();
    for rule in catalogs.rules() {
        let set = match rule.protocol {
            Transport::Tcp => &mut tcp,
            Transport::Udp => &mut udp,
        };
        for &(a, b) in &rule.ports.ranges {
            set.insert_range(a, b);
        }
    }
    let mut terms = Vec::new();
    for (name, set) in [("tcp", &tcp), ("udp", &udp)] {
        let ports = merged(&set.ranges);
        if ports.is_empty() {
            continue;
        }
        let list: Vec<String> = ports
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    format!("port {a}")
                } else {
                    format!("portrange {a}-{b}")
                }
            })
            .collect();
        terms.push(format!("({name} and ({}))", list.join(" or ")));
    }
    terms.push("icmp".to_string());
    terms.push("icmp6".to_string());
    let x = terms.join(" or ");
    format!("{x} or (vlan and ({x}))")
}

/// Sorted, merged ranges (overlapping or adjacent ones joined).
fn merged(ranges: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(sorted.len());
    for (a, b) in sorted {
        match out.last_mut() {
            Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_adjacent_and_overlapping_ranges() {
        assert_eq!(
            merged(&[(10, 12), (1, 1), (13, 13), (2, 3), (11, 20), (30, 30)]),
            vec![(1, 3), (10, 20), (30, 30)]
        );
        assert_eq!(
            merged(&[(65535, 65535), (65534, 65535)]),
            vec![(65534, 65535)]
        );
    }

    #[test]
    fn default_filter_covers_the_catalogs_and_compiles() {
        let catalogs = CatalogSet::load(&[]).unwrap();
        let f = default_filter(&catalogs);
        assert!(f.contains("portrange 49152-65535"), "{f}");
        assert!(f.contains("portrange 31000-31001"), "{f}");
        assert!(f.contains("port 161"), "{f}");
        assert!(f.contains("icmp6"), "{f}");
        assert!(f.contains("or (vlan and ("), "{f}");
        assert!(!f.contains("dst port"), "{f}");
        let dead = pcap::Capture::dead(pcap::Linktype::ETHERNET).unwrap();
        dead.compile(&f, true).unwrap();
    }
}
