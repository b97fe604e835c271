//! The tunnel fixture (issue 11): one pcapng whose interfaces are Ethernet,
//! PPP (9), PPP in HDLC framing (50), 802.11 (105), radiotap (127) and
//! NFLOG (239). Each encapsulation carries one JP1 agent's connection to
//! the manager (31000/tcp); the connections are the inner ones, and the
//! report counts the tunnels by kind in `inputs[].tunnels`.
//!
//! Also: tunnels nested one level too deep (skipped as `tunnel_too_deep`,
//! no conversation), and two plain UDP exchanges on tunnel ports whose
//! payloads start like a VXLAN and a GTP-U header but carry no packet: they
//! must stay outer UDP conversations (unlisted), with no tunnel counted.
//!
//! Next to the conversations, `tunnels.expect.json` holds the expected
//! `tunnels` counts and `skipped` counts, decided here from the packets
//! written in each encapsulation.

use super::fixture::Fx;
use super::*;
use flowlint::synth::tunnel::{Encap, Wrap};

/// Kinds a wrap's packets are counted under, as SPEC-extension names.
fn kinds(w: Wrap) -> &'static [&'static str] {
    match w {
        Wrap::Gre => &["gre"],
        Wrap::ErspanI => &["erspan_i"],
        Wrap::ErspanII => &["erspan_ii"],
        Wrap::ErspanIII => &["erspan_iii"],
        Wrap::Pptp => &["pptp"],
        Wrap::Vxlan => &["vxlan"],
        Wrap::Geneve6 => &["geneve"],
        Wrap::GtpU => &["gtp_u"],
        Wrap::Teredo => &["teredo"],
        Wrap::Ayiya => &["ayiya"],
        Wrap::GreUdp => &["gre_udp"],
        Wrap::VxlanInGre => &["gre", "vxlan"],
        Wrap::Pbb => &["pbb"],
        // four GRE levels are followed, the fifth is too deep
        Wrap::TooDeep => &["gre"],
        Wrap::Plain | Wrap::Ppp | Wrap::PppHdlc | Wrap::Dot11 | Wrap::Radiotap | Wrap::Nflog => &[],
    }
}

pub fn generate<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Fx<'c>> {
    let mut fx = Fx::new("tunnels", cats);
    fx.host(
        "mgr",
        Host::windows("192.0.2.10"),
        &["jp1-itdm.manager"],
        Some("windows"),
    );
    fx.host(
        "mgr6",
        Host::windows("2001:db8::10"),
        &["jp1-itdm.manager"],
        Some("windows"),
    );
    let agent = ["jp1-itdm.agent"];
    fx.blocks.push(("192.0.2.128/26", agent.to_vec()));
    fx.blocks.push(("2001::/32", agent.to_vec()));
    fx.unlisted_host("resolver", Host::unix("198.51.100.53"), &[]);
    fx.unlisted_host("gtp-peer", Host::unix("198.51.100.52"), &[]);
    fx.unlisted_host("pc", Host::windows("192.0.2.200"), &[]);

    let linktypes = [1u32, 9, 50, 105, 127, 239];
    let ifaces: Vec<PcapngInterface> = linktypes
        .iter()
        .map(|&l| PcapngInterface::new(l as u16))
        .collect();
    let w = PcapngWriter::new(
        File::create(dir.join("tunnels.pcapng"))?,
        Endian::Little,
        &ifaces,
    )?;
    let mut net = Net::new(Encap::new(w, linktypes.to_vec()), Link::Raw);
    let mut t = T0;

    use Wrap::*;
    let plan: [(Wrap, &'static str, &'static str); 18] = [
        (Gre, "agent-gre", "192.0.2.131"),
        (ErspanI, "agent-erspan1", "192.0.2.132"),
        (ErspanII, "agent-erspan2", "192.0.2.133"),
        (ErspanIII, "agent-erspan3", "192.0.2.134"),
        (Pptp, "agent-pptp", "192.0.2.135"),
        (Vxlan, "agent-vxlan", "192.0.2.136"),
        (Geneve6, "agent-geneve", "192.0.2.137"),
        (GtpU, "agent-gtp", "192.0.2.138"),
        (
            Teredo,
            "agent-teredo",
            "2001:0:cb00:7101:8000:f227:3fff:fdfe",
        ),
        (Ayiya, "agent-ayiya", "192.0.2.139"),
        (GreUdp, "agent-greudp", "192.0.2.140"),
        (VxlanInGre, "agent-nested", "192.0.2.141"),
        (Pbb, "agent-pbb", "192.0.2.142"),
        (Ppp, "agent-ppp", "192.0.2.143"),
        (PppHdlc, "agent-hdlc", "192.0.2.144"),
        (Dot11, "agent-wifi", "192.0.2.145"),
        (Radiotap, "agent-radiotap", "192.0.2.146"),
        (Nflog, "agent-nflog", "192.0.2.147"),
    ];
    for (i, (wrap, name, addr)) in plan.iter().enumerate() {
        fx.unlisted_host(name, Host::windows(addr), &agent);
        let mgr = if addr.contains(':') { "mgr6" } else { "mgr" };
        net.writer.mode = *wrap;
        // a few failures among the connections, so states come through too
        match i {
            3 => {
                fx.refused(&mut net, t, name, mgr, 31000, None)?;
                fx.verdict(name, mgr, 31000, "tcp", "blocked");
            }
            7 => {
                fx.no_reply(&mut net, t, name, mgr, 31000, 1)?;
                fx.verdict(name, mgr, 31000, "tcp", "blocked");
            }
            _ => {
                fx.ok(&mut net, t, name, mgr, 31000)?;
                fx.verdict(name, mgr, 31000, "tcp", "expected");
            }
        }
        t += 300 * MS;
    }

    // One level too deep: the packets are skipped, no conversation.
    net.writer.mode = TooDeep;
    let deep = net.flow(fx.h("pc"), fx.h("mgr"), 31000);
    let deep_end = net.session(&deep, t, 120, 400)?;
    let too_deep = net.writer.written.last().map_or(0, |w| w.1);
    t = deep_end + 100 * MS;

    // Tunnel ports without a tunnel: payloads that start like a VXLAN and a
    // GTP-U header, followed by no packet that parses.
    net.writer.mode = Plain;
    let pc = fx.h("pc");
    let resolver = fx.h("resolver");
    net.pkt
        .set_pattern(b"\x08\x00\x00\x00\x00\x00\x01\x00not an ethernet frame at all....");
    net.udp(t, &pc, &resolver, 4789, 53, 40)?;
    net.udp(t + 2 * MS, &resolver, &pc, 53, 4789, 60)?;
    fx.state("pc", "resolver", 53, "udp", "answered");
    fx.verdict("pc", "resolver", 53, "udp", "unlisted");
    let gtp_peer = fx.h("gtp-peer");
    net.pkt
        .set_pattern(b"\x30\xff\x00\x20\x00\x00\x00\x01flowlint synthetic payload ");
    net.udp(t + 10 * MS, &pc, &gtp_peer, 50_152, 2152, 40)?;
    net.udp(t + 12 * MS, &gtp_peer, &pc, 2152, 50_152, 40)?;
    fx.state("pc", "gtp-peer", 2152, "udp", "answered");
    fx.verdict("pc", "gtp-peer", 2152, "udp", "unlisted");
    net.pkt.set_pattern(b"flowlint synthetic payload ");
    // the capture goes on long enough for the no_reply to be decided: a
    // second connection of the GRE agent
    net.writer.mode = Gre;
    fx.ok(&mut net, t + 4 * SECOND, plan[0].1, "mgr", 31000)?;

    let encap = net.finish()?;
    encap.inner.into_inner()?;
    fx.write(dir, &["tunnels.pcapng"], true, &[])?;

    // Expected tunnel counts, from the packets written in each mode.
    let mut tunnels: BTreeMap<&str, u64> = BTreeMap::new();
    for (w, n) in &encap.written {
        for k in kinds(*w) {
            *tunnels.entry(k).or_default() += n;
        }
    }
    let path = dir.join("tunnels.expect.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path)?).map_err(io::Error::other)?;
    doc["tunnels"] = serde_json::json!(tunnels);
    doc["skipped"] = serde_json::json!({ "tunnel_too_deep": too_deep });
    let mut text = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
    text.push('\n');
    fs::write(path, text)?;
    Ok(fx)
}
