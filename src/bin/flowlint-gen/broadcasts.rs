//! The broadcast fixture (SPEC "Broadcast and multicast"): Windows and
//! home-network chatter to broadcast and multicast destinations, IPv4 and
//! IPv6, on Ethernet, Linux cooked (SLL, SLL2) and raw-IP interfaces of one
//! pcapng, among ordinary unicast conversations. Every group datagram and
//! every unicast answer to one must be listed in `broadcasts`, none may
//! become a conversation, and the exit status is 0: broadcasts are never
//! findings.
//!
//! Next to `broadcasts.expect.json` (conversations, as every fixture) the
//! generator writes the expected `broadcasts` groups into the same file; the
//! port numbers here are the well-known ones of each protocol, and the
//! library is never told them.

use super::fixture::Fx;
use super::*;
use flowlint::synth::broadcast::{broadcast, group_udp, multicast};

/// One expected group: (client, destination, port, packets, replies).
type Group = (&'static str, &'static str, u16, u64, u64);

pub fn generate<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Fx<'c>> {
    let mut fx = Fx::new("broadcasts", cats);
    fx.host(
        "mgr",
        Host::windows("192.168.10.10"),
        &["jp1-itdm.manager"],
        Some("windows"),
    );
    let agent = ["jp1-itdm.agent"];
    // The /24 block makes 192.168.10.255 a broadcast address by inventory.
    fx.blocks.push(("192.168.10.0/24", agent.to_vec()));
    fx.unlisted_host("pc31", Host::windows("192.168.10.31"), &agent);
    fx.unlisted_host("pc40", Host::windows("192.168.10.40"), &agent);
    let pc31 = fx.h("pc31");
    let pc40 = fx.h("pc40");
    let responder = Host::windows("192.168.10.5");
    let tv = Host::unix("192.168.10.60");
    let dhcp_server = Host::parse("192.168.10.1", 255);
    let dhcp_client = Host::windows("0.0.0.0");
    let elsewhere = Host::windows("10.20.30.40");
    let pc31_v6 = Host::windows("fe80::31");
    let responder_v6 = Host::windows("fe80::5");

    let eth = Link::ETHERNET;
    let links = [eth, Link::Sll, Link::Sll2, Link::Raw];
    let ifaces: Vec<PcapngInterface> = links
        .iter()
        .map(|l| PcapngInterface {
            linktype: l.linktype() as u16,
            snaplen: 262_144,
            tsresol: 6,
            tsoffset: None,
        })
        .collect();
    let w = PcapngWriter::new(
        File::create(dir.join("broadcasts.pcapng"))?,
        Endian::Little,
        &ifaces,
    )?;
    let mut net = Net::new(w, eth);
    let t = T0;

    // Unicast work: an agent reports to the manager.
    fx.ok(&mut net, t, "pc31", "mgr", 31000)?;
    fx.verdict("pc31", "mgr", 31000, "tcp", "expected");

    // NetBIOS name query to the subnet broadcast (Ethernet ff:ff:…), three
    // tries 750 ms apart; a host answers the second one unicast, from 137
    // back to the querier's 137: four packets, one reply.
    let nb_bcast = broadcast("192.168.10.255");
    for i in 0..3 {
        group_udp(
            &mut net,
            0,
            t + (100 + 750 * i) * MS,
            &pc31,
            &nb_bcast,
            137,
            137,
            50,
        )?;
        if i == 1 {
            net.udp(t + 860 * MS, &responder, &pc31, 137, 137, 62)?;
        }
    }
    // Browser announcement (mailslot) to the same broadcast address.
    group_udp(&mut net, 0, t + 2000 * MS, &pc31, &nb_bcast, 138, 138, 180)?;
    // The same on a subnet the inventory does not know: only the Ethernet
    // destination says it is a broadcast.
    group_udp(
        &mut net,
        0,
        t + 2100 * MS,
        &elsewhere,
        &broadcast("10.20.30.255"),
        138,
        138,
        180,
    )?;
    // SSDP search to its multicast group, twice; a device answers unicast
    // from 1900 to the searcher's port.
    let ssdp = multicast("239.255.255.250");
    group_udp(&mut net, 0, t + 2200 * MS, &pc40, &ssdp, 50_010, 1900, 120)?;
    group_udp(&mut net, 0, t + 2300 * MS, &pc40, &ssdp, 50_010, 1900, 120)?;
    net.udp(t + 2350 * MS, &tv, &pc40, 1900, 50_010, 300)?;
    // LLMNR over IPv6 to ff02::1:3, answered unicast from 5355.
    let llmnr = multicast("ff02::1:3");
    group_udp(
        &mut net,
        0,
        t + 2500 * MS,
        &pc31_v6,
        &llmnr,
        50_011,
        5355,
        40,
    )?;
    net.udp(t + 2510 * MS, &responder_v6, &pc31_v6, 5355, 50_011, 60)?;
    group_udp(
        &mut net,
        0,
        t + 2600 * MS,
        &pc31_v6,
        &llmnr,
        50_011,
        5355,
        40,
    )?;

    // Linux cooked v1: mDNS, packet type multicast.
    net.set_interface(1, Link::Sll);
    let mdns = multicast("224.0.0.251");
    group_udp(&mut net, 1, t + 3000 * MS, &pc40, &mdns, 5353, 5353, 90)?;
    group_udp(&mut net, 1, t + 4000 * MS, &pc40, &mdns, 5353, 5353, 90)?;

    // Linux cooked v2: DHCP discover and offer to 255.255.255.255 (packet
    // type broadcast), then mDNS over IPv6 (multicast).
    net.set_interface(2, Link::Sll2);
    let all = broadcast("255.255.255.255");
    group_udp(&mut net, 2, t + 3500 * MS, &dhcp_client, &all, 68, 67, 300)?;
    group_udp(&mut net, 2, t + 3510 * MS, &dhcp_server, &all, 67, 68, 300)?;
    group_udp(
        &mut net,
        2,
        t + 3600 * MS,
        &pc31_v6,
        &multicast("ff02::fb"),
        5353,
        5353,
        90,
    )?;

    // Raw IP: a browser announcement to the subnet broadcast that only the
    // inventory's /24 block reveals.
    net.set_interface(3, Link::Raw);
    group_udp(&mut net, 3, t + 4500 * MS, &pc40, &nb_bcast, 138, 138, 180)?;

    // More unicast work, back on Ethernet: the manager reaches an agent.
    net.set_interface(0, eth);
    let end = fx.ok(&mut net, t + 5000 * MS, "mgr", "pc40", 31001)?;
    fx.verdict("mgr", "pc40", 31001, "tcp", "expected");
    let _ = end;
    net.finish()?;
    fx.write(dir, &["broadcasts.pcapng"], true, &[])?;

    let groups: [Group; 10] = [
        ("0.0.0.0", "255.255.255.255", 67, 1, 0),
        ("10.20.30.40", "10.20.30.255", 138, 1, 0),
        ("192.168.10.1", "255.255.255.255", 68, 1, 0),
        ("192.168.10.31", "192.168.10.255", 137, 4, 1),
        ("192.168.10.31", "192.168.10.255", 138, 1, 0),
        ("192.168.10.40", "192.168.10.255", 138, 1, 0),
        ("192.168.10.40", "224.0.0.251", 5353, 2, 0),
        ("192.168.10.40", "239.255.255.250", 1900, 3, 1),
        ("fe80::31", "ff02::fb", 5353, 1, 0),
        ("fe80::31", "ff02::1:3", 5355, 3, 1),
    ];
    add_broadcasts(dir, "broadcasts", &groups)?;
    Ok(fx)
}

/// Adds the expected groups to `<name>.expect.json`, as `broadcasts`.
fn add_broadcasts(dir: &Path, name: &str, groups: &[Group]) -> io::Result<()> {
    let path = dir.join(format!("{name}.expect.json"));
    let mut doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path)?).map_err(io::Error::other)?;
    let list: Vec<serde_json::Value> = groups
        .iter()
        .map(|&(client, destination, port, packets, replies)| {
            serde_json::json!({
                "client": client,
                "destination": destination,
                "port": port,
                "protocol": "udp",
                "packets": packets,
                "replies": replies,
            })
        })
        .collect();
    let total: u64 = groups.iter().map(|g| g.3).sum();
    doc["broadcasts"] = serde_json::Value::Array(list);
    doc["broadcast_packets"] = serde_json::json!(total);
    let mut text = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
    text.push('\n');
    fs::write(path, text)
}
