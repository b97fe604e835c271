//! Fixes: the next step for a blocked conversation, as typed data first and
//! as firewall commands when a report writes them.
//!
//! Owns: which fix a blocked conversation gets ([`Fix::of`]: the server's
//! own firewall when the server refused or stayed silent, the device on the
//! path when a third party answered or a reset was forged), merging the
//! fixes of one finding ([`merge`]), and the command lines of each firewall
//! tool ([`Powershell`], [`Netsh`], [`Nft`], [`FirewallCmd`]), which
//! `flowlint plan` writes too. Every value that comes from a catalog or an
//! inventory is reduced to a safe set of characters before it goes into a
//! command line ([`safe`]), so that a pasted line does nothing but what it
//! says.

use std::fmt::{self, Display, Formatter};
use std::net::IpAddr;

use ipnet::IpNet;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::lang::Lang;
use super::text::group::Failure;
use super::{Addr, AsText, Outcome};
use crate::catalog::{Os, PortSet, Rule};
use crate::classify::{Classified, Reason, Refusal, Verdict};
use crate::decode::Transport;
use crate::{term, tr, trw};

/// An inbound opening on a host's own firewall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opening {
    /// The host (or inventory block of hosts) whose firewall must allow it.
    pub server: IpNet,
    pub server_name: Option<String>,
    /// The server's OS as the inventory gives it (`None`: not given).
    pub os: Option<Os>,
    pub protocol: Transport,
    pub ports: PortSet,
    /// The clients: addresses or the inventory blocks that give them their
    /// role, sorted and without duplicates.
    pub remotes: Vec<IpNet>,
    /// The catalog rules it serves: (id, purpose), in first-seen order.
    pub rules: Vec<(String, String)>,
}

/// What a device on the path showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// It sent an ICMP destination unreachable.
    IcmpUnreachable,
    /// A reset came with the server's address but another TTL.
    ForgedReset { rst_ttl: u8, usual_ttl: u8 },
}

/// The next step for one blocked conversation (or one finding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fix {
    /// The server refused (`refused`: a RST or an ICMP error from the
    /// server itself) or stayed silent: open its own firewall.
    HostFirewall { opening: Opening, refused: bool },
    /// A third party answered: open that device for the 5-tuple.
    Device {
        /// Who answered (`None`: a device between them, address unknown).
        device: Option<IpAddr>,
        evidence: Evidence,
        client: IpAddr,
        server: IpAddr,
        server_port: u16,
        protocol: Transport,
        rule: String,
    },
}

/// The firewall family a host's OS calls for: Windows for Windows and for
/// an OS the inventory does not give.
pub fn is_windows(os: Option<Os>) -> bool {
    os != Some(Os::Unix)
}

/// A single address as an `IpNet` of its full length.
pub fn host_net(addr: IpAddr) -> IpNet {
    IpNet::from(addr)
}

/// "192.0.2.10" for a single address, "192.0.2.128/25" for a block.
pub struct Net(pub IpNet);

impl Display for Net {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            Addr(self.0.addr()).fmt(f)
        } else {
            self.0.fmt(f)
        }
    }
}

/// Text from a catalog or an inventory, safe inside any quoting of the
/// command lines below: ASCII letters, digits, blanks and `._/:+,()[]-`
/// kept, anything else written as `_`; at most `max` characters.
pub fn safe(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ._/:+,()[]-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Text from a catalog or an inventory for a comment line of a script:
/// control characters (a line break would end the comment) written as
/// blanks; at most `max` characters.
pub fn comment(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl Fix {
    /// The fix of a blocked conversation; `None` for any other verdict.
    pub fn of(o: &Outcome<'_>, c: &Classified) -> Option<Fix> {
        if c.verdict != Verdict::Blocked {
            return None;
        }
        let Reason::Blocked { rule, evidence } = &c.reason else {
            return None;
        };
        let rule = o.catalogs.rule_by_id(*rule);
        let k = c.conv.key;
        let device = |device, evidence| Fix::Device {
            device,
            evidence,
            client: k.client,
            server: k.server,
            server_port: k.server_port,
            protocol: k.transport,
            rule: rule.id.clone(),
        };
        let (failure, blocker) = Failure::of(evidence);
        Some(match (failure, blocker, evidence.refused) {
            (Failure::Unreachable, Some(by), _) => device(Some(by), Evidence::IcmpUnreachable),
            (Failure::MiddleboxReset, _, Some(Refusal::Middlebox { rst_ttl, usual_ttl })) => {
                device(None, Evidence::ForgedReset { rst_ttl, usual_ttl })
            }
            _ => {
                let hosts = &o.classification.hosts;
                let server = c.hosts[1].map(|id| hosts.host(id));
                Fix::HostFirewall {
                    refused: matches!(failure, Failure::Refused | Failure::Unreachable),
                    opening: Opening {
                        server: host_net(k.server),
                        server_name: server.and_then(|h| h.name.clone()),
                        os: server.and_then(|h| h.os),
                        protocol: k.transport,
                        ports: PortSet::single(k.server_port),
                        remotes: vec![client_block(o, k.client, rule)],
                        rules: vec![(rule.id.clone(), rule.en.clone())],
                    },
                }
            }
        })
    }
}

/// The client's inventory block that gives it a role the rule names on the
/// client side (the narrowest such block), else the client's address.
fn client_block(o: &Outcome<'_>, client: IpAddr, rule: &Rule) -> IpNet {
    let Some(inventory) = o.inventory else {
        return host_net(client);
    };
    inventory
        .hosts
        .iter()
        .filter(|h| h.net.contains(&client))
        .filter(|h| {
            o.catalogs
                .expand_roles(&h.roles)
                .iter()
                .any(|r| rule.clients.contains(r))
        })
        .max_by_key(|h| h.net.prefix_len())
        .map_or_else(|| host_net(client), |h| h.net)
}

/// The fixes of one finding's conversations, merged: host-firewall
/// openings on the same host, protocol and port become one (with every
/// client), device fixes stay one per conversation. In first-seen order.
pub fn merge(fixes: impl IntoIterator<Item = Fix>) -> Vec<Fix> {
    let mut out: Vec<Fix> = Vec::new();
    for fix in fixes {
        if let Fix::HostFirewall { opening: new, .. } = &fix {
            let same = out.iter_mut().find_map(|f| match f {
                Fix::HostFirewall { opening: o, .. }
                    if o.server == new.server
                        && o.protocol == new.protocol
                        && o.ports == new.ports =>
                {
                    Some(o)
                }
                _ => None,
            });
            if let Some(o) = same {
                for r in &new.remotes {
                    if let Err(at) = o.remotes.binary_search(r) {
                        o.remotes.insert(at, *r);
                    }
                }
                for r in &new.rules {
                    if !o.rules.contains(r) {
                        o.rules.push(r.clone());
                    }
                }
                continue;
            }
        }
        if !out.contains(&fix) {
            out.push(fix);
        }
    }
    out
}

/// A firewall rule's name: "flowlint jp1-itdm/agent-to-manager 31000/tcp".
struct RuleName<'a>(&'a Opening);

impl Display for RuleName<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let o = self.0;
        f.write_str("flowlint ")?;
        match o.rules.as_slice() {
            [] => {}
            [(id, _)] => write!(f, "{} ", safe(id, 80))?,
            [(id, _), rest @ ..] => write!(f, "{} +{} ", safe(id, 80), rest.len())?,
        }
        write!(f, "{}/{}", o.ports, o.protocol.as_str())
    }
}

/// The rules' purposes, joined: "agent contacting the manager; …".
fn purposes(o: &Opening) -> String {
    let mut list: Vec<&str> = Vec::new();
    for (_, p) in &o.rules {
        if !p.is_empty() && !list.contains(&p.as_str()) {
            list.push(p);
        }
    }
    safe(&list.join("; "), 200)
}

fn remote_list(o: &Opening) -> String {
    o.remotes
        .iter()
        .map(|n| Net(*n).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// PowerShell (Windows Defender Firewall): one `New-NetFirewallRule` line,
/// with the rules' purposes as its description.
pub struct Powershell<'a>(pub &'a Opening);

/// [`Powershell`] without the description (the text report's fix line).
pub struct PowershellBrief<'a>(pub &'a Opening);

impl Display for Powershell<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        powershell(f, self.0, true)
    }
}

impl Display for PowershellBrief<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        powershell(f, self.0, false)
    }
}

fn powershell(f: &mut Formatter<'_>, o: &Opening, description: bool) -> fmt::Result {
    {
        write!(
            f,
            "New-NetFirewallRule -DisplayName '{}' -Direction Inbound -Action Allow -Protocol {} -LocalPort ",
            RuleName(o),
            o.protocol.as_str().to_ascii_uppercase()
        )?;
        for (i, &(a, b)) in o.ports.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if a == b {
                write!(f, "{a}")?;
            } else {
                write!(f, "'{a}-{b}'")?;
            }
        }
        write!(f, " -RemoteAddress {}", remote_list(o))?;
        let purpose = purposes(o);
        if description && !purpose.is_empty() {
            write!(f, " -Description '{purpose}'")?;
        }
        Ok(())
    }
}

/// `netsh advfirewall firewall add rule` (Windows, cmd.exe).
pub struct Netsh<'a>(pub &'a Opening);

impl Display for Netsh<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(
            f,
            "netsh advfirewall firewall add rule name=\"{}\" dir=in action=allow protocol={} localport={} remoteip={}",
            RuleName(o),
            o.protocol.as_str().to_ascii_uppercase(),
            o.ports,
            remote_list(o)
        )
    }
}

/// nftables: the rule(s) of one opening, without the `add rule` prefix
/// (one per address family of its clients). Appended to `inet filter input`.
pub struct Nft<'a>(pub &'a Opening);

impl Nft<'_> {
    /// Each rule as it goes into a chain: "ip saddr … tcp dport … accept comment …".
    pub fn rules(&self) -> Vec<String> {
        let o = self.0;
        let ports = if o.ports.ranges.len() == 1 {
            o.ports.to_string()
        } else {
            format!("{{ {} }}", o.ports.to_string().replace(',', ", "))
        };
        let comment = match o.rules.as_slice() {
            [] => String::new(),
            [(id, _)] => safe(id, 100),
            [(id, _), rest @ ..] => format!("{} +{}", safe(id, 100), rest.len()),
        };
        let mut out = Vec::new();
        for (family, v6) in [("ip", false), ("ip6", true)] {
            let nets: Vec<String> = o
                .remotes
                .iter()
                .filter(|n| matches!(n, IpNet::V6(_)) == v6)
                .map(|n| Net(*n).to_string())
                .collect();
            let saddr = match nets.as_slice() {
                [] => continue,
                [one] => one.clone(),
                many => format!("{{ {} }}", many.join(", ")),
            };
            out.push(format!(
                "{family} saddr {saddr} {} dport {ports} accept comment \"{comment}\"",
                o.protocol.as_str()
            ));
        }
        out
    }
}

impl Display for Nft<'_> {
    /// One command line per rule: `nft add rule inet filter input …`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, rule) in self.rules().iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "nft add rule inet filter input {rule}")?;
        }
        Ok(())
    }
}

/// firewalld: one `firewall-cmd --permanent --add-rich-rule` per client
/// and port range, then a reload.
pub struct FirewallCmd<'a>(pub &'a Opening);

impl Display for FirewallCmd<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let o = self.0;
        for remote in &o.remotes {
            let family = match remote {
                IpNet::V4(_) => "ipv4",
                IpNet::V6(_) => "ipv6",
            };
            for &(a, b) in &o.ports.ranges {
                let port = if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                };
                writeln!(
                    f,
                    "firewall-cmd --permanent --add-rich-rule='rule family=\"{family}\" source address=\"{}\" port port=\"{port}\" protocol=\"{}\" accept'",
                    Net(*remote),
                    o.protocol.as_str()
                )?;
            }
        }
        f.write_str("firewall-cmd --reload")
    }
}

/// "itdm-mgr 192.0.2.10", "each host of 192.0.2.128/25".
struct Server<'a>(&'a Opening, Lang);

impl Display for Server<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let o = self.0;
        let block = o.server.prefix_len() != o.server.max_prefix_len();
        if block && self.1 == Lang::En {
            f.write_str("each host of ")?;
        }
        if let Some(name) = &o.server_name {
            write!(f, "{name} ")?;
        }
        Net(o.server).fmt(f)?;
        if block && self.1 == Lang::Ja {
            f.write_str(" の各ホスト")?;
        }
        Ok(())
    }
}

/// "the Windows firewall", "its firewall (nftables or firewalld)".
fn firewall(os: Option<Os>, lang: Lang) -> &'static str {
    match os {
        Some(Os::Windows) => term!(lang, "Windows firewall", "Windows ファイアウォール"),
        Some(Os::Unix) => term!(
            lang,
            "firewall (nftables or firewalld)",
            "ファイアウォール（nftables または firewalld）"
        ),
        None => term!(
            lang,
            "host firewall (no os in the inventory: Windows assumed)",
            "ホストのファイアウォール（インベントリに os がないため Windows とみなします）"
        ),
    }
}

/// The fix as one sentence a person can act on, in a language (the JSON
/// reports' `fix.text` is the English one).
pub struct Sentence<'a>(pub &'a Fix, pub Lang);

impl Display for Sentence<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let lang = self.1;
        match self.0 {
            Fix::HostFirewall {
                opening: o,
                refused,
            } => {
                let port = format!("{}/{}", o.ports, o.protocol.as_str());
                let from = match o.remotes.as_slice() {
                    [one] => Net(*one).to_string(),
                    many => tr!(
                        lang,
                        "its {n} clients",
                        "クライアント {n} 台",
                        n = many.len()
                    ),
                };
                let (server, firewall) = (Server(o, lang), firewall(o.os, lang));
                if *refused {
                    trw!(
                        f,
                        lang,
                        "start the service on {port} of {server}, or allow it from {from} in its {firewall}",
                        "{server} の {port} でサービスを起動するか、その {firewall} で {from} からの通信を許可してください",
                        port = port,
                        server = server,
                        from = from,
                        firewall = firewall
                    )
                } else {
                    trw!(
                        f,
                        lang,
                        "allow {port} from {from} in the {firewall} of {server}",
                        "{server} の {firewall} で {from} からの {port} を許可してください",
                        port = port,
                        from = from,
                        firewall = firewall,
                        server = server
                    )
                }
            }
            Fix::Device {
                device,
                evidence,
                client,
                server,
                server_port,
                protocol,
                rule,
            } => {
                let tuple = tr!(
                    lang,
                    "{protocol} from {client} (any port) to {server} port {server_port}",
                    "{client}（任意のポート）から {server} のポート {server_port} への {protocol}",
                    protocol = protocol.as_str(),
                    client = Addr(*client),
                    server = Addr(*server),
                    server_port = server_port
                );
                match (device, evidence) {
                    (Some(by), _) => trw!(
                        f,
                        lang,
                        "open {tuple} on the router or firewall {by} (it answered with ICMP unreachable; rule {rule})",
                        "ルータまたはファイアウォール {by} で {tuple} を開放してください（ICMP 到達不能を返しました。ルール {rule}）",
                        tuple = tuple,
                        by = Addr(*by),
                        rule = rule
                    ),
                    (None, Evidence::ForgedReset { rst_ttl, usual_ttl }) => trw!(
                        f,
                        lang,
                        "open {tuple} on the firewall between them (its reset came with TTL {rst_ttl}, the server's packets with {usual_ttl}; rule {rule})",
                        "両者の間のファイアウォールで {tuple} を開放してください（リセットの TTL は {rst_ttl}、サーバのパケットは {usual_ttl}。ルール {rule}）",
                        tuple = tuple,
                        rst_ttl = rst_ttl,
                        usual_ttl = usual_ttl,
                        rule = rule
                    ),
                    (None, Evidence::IcmpUnreachable) => trw!(
                        f,
                        lang,
                        "open {tuple} on the firewall between them (rule {rule})",
                        "両者の間のファイアウォールで {tuple} を開放してください（ルール {rule}）",
                        tuple = tuple,
                        rule = rule
                    ),
                }
            }
        }
    }
}

/// The fix as the JSON report and JSONL write it (`fix`).
pub struct FixView<'a>(pub &'a Fix, pub Lang);

impl Serialize for FixView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self.0 {
            Fix::HostFirewall { opening: o, .. } => {
                m.serialize_entry("kind", "host_firewall")?;
                m.serialize_entry("on", &AsText(Net(o.server)))?;
                if let Some(name) = &o.server_name {
                    m.serialize_entry("on_name", name)?;
                }
                m.serialize_entry("os", &o.os.map(Os::as_str))?;
                m.serialize_entry("protocol", o.protocol.as_str())?;
                m.serialize_entry("ports", &AsText(&o.ports))?;
                m.serialize_entry(
                    "remote",
                    &o.remotes
                        .iter()
                        .map(|n| Net(*n).to_string())
                        .collect::<Vec<_>>(),
                )?;
                m.serialize_entry("text", &AsText(Sentence(self.0, self.1)))?;
                if is_windows(o.os) {
                    m.serialize_entry("powershell", &AsText(Powershell(o)))?;
                    m.serialize_entry("netsh", &AsText(Netsh(o)))?;
                } else {
                    m.serialize_entry("nft", &AsText(Nft(o)))?;
                    m.serialize_entry("firewall_cmd", &AsText(FirewallCmd(o)))?;
                }
            }
            Fix::Device {
                device,
                evidence,
                client,
                server,
                server_port,
                protocol,
                ..
            } => {
                m.serialize_entry("kind", "network_device")?;
                m.serialize_entry("on", &device.map(|d| Addr(d).to_string()))?;
                m.serialize_entry(
                    "evidence",
                    match evidence {
                        Evidence::IcmpUnreachable => "icmp_unreachable",
                        Evidence::ForgedReset { .. } => "forged_reset",
                    },
                )?;
                m.serialize_entry("protocol", protocol.as_str())?;
                m.serialize_entry("client", &AsText(Addr(*client)))?;
                m.serialize_entry("client_port", "any")?;
                m.serialize_entry("server", &AsText(Addr(*server)))?;
                m.serialize_entry("server_port", server_port)?;
                m.serialize_entry("text", &AsText(Sentence(self.0, self.1)))?;
            }
        }
        m.end()
    }
}

/// The fix line of a finding in the text report: the sentence, then the
/// command a person would paste (PowerShell for Windows, nft for Unix);
/// more fixes (several servers) are counted, the JSON report has each.
pub fn text_line(fixes: &[Fix], lang: Lang) -> Option<String> {
    let first = fixes.first()?;
    let mut s = Sentence(first, lang).to_string();
    if let Fix::HostFirewall { opening: o, .. } = first {
        if o.remotes.len() <= 4 {
            let command = if is_windows(o.os) {
                PowershellBrief(o).to_string()
            } else {
                Nft(o).to_string().replace('\n', "; ")
            };
            s = format!("{s}: {command}");
        }
    }
    if fixes.len() > 1 {
        s.push_str(&tr!(
            lang,
            " (and {n} more like it: the JSON report has each conversation's fix)",
            "（ほか同様に {n} 件。各通信の対処は JSON レポートにあります）",
            n = fixes.len() - 1
        ));
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opening(remotes: &[&str], ports: PortSet, os: Option<Os>) -> Opening {
        Opening {
            server: "192.0.2.10/32".parse().unwrap(),
            server_name: Some("itdm-mgr".into()),
            os,
            protocol: Transport::Tcp,
            ports,
            remotes: remotes.iter().map(|r| r.parse().unwrap()).collect(),
            rules: vec![(
                "jp1-itdm/agent-to-manager".into(),
                "agent contacting the manager".into(),
            )],
        }
    }

    #[test]
    fn windows_lines_name_the_rule_port_and_clients() {
        let o = opening(&["192.0.2.128/25"], PortSet::single(31000), None);
        assert_eq!(
            Powershell(&o).to_string(),
            "New-NetFirewallRule -DisplayName 'flowlint jp1-itdm/agent-to-manager 31000/tcp' \
             -Direction Inbound -Action Allow -Protocol TCP -LocalPort 31000 \
             -RemoteAddress 192.0.2.128/25 -Description 'agent contacting the manager'"
        );
        assert_eq!(
            Netsh(&o).to_string(),
            "netsh advfirewall firewall add rule name=\"flowlint jp1-itdm/agent-to-manager 31000/tcp\" \
             dir=in action=allow protocol=TCP localport=31000 remoteip=192.0.2.128/25"
        );
    }

    #[test]
    fn nft_splits_families_and_lists_ranges() {
        let mut ports = PortSet::single(31006);
        ports.insert_range(31006, 31012);
        ports.insert_range(31100, 31100);
        let o = opening(
            &["192.0.2.1/32", "2001:db8::1/128", "192.0.2.128/25"],
            ports,
            Some(Os::Unix),
        );
        assert_eq!(
            Nft(&o).rules(),
            [
                "ip saddr { 192.0.2.1, 192.0.2.128/25 } tcp dport { 31006-31012, 31100 } accept comment \"jp1-itdm/agent-to-manager\"",
                "ip6 saddr 2001:db8::1 tcp dport { 31006-31012, 31100 } accept comment \"jp1-itdm/agent-to-manager\"",
            ]
        );
    }

    #[test]
    fn hostile_text_cannot_leave_its_quotes() {
        assert_eq!(
            safe("a'; Remove-Item C:\\ -Recurse #\"%PATH%$x`", 100),
            "a__ Remove-Item C:_ -Recurse ___PATH__x_"
        );
        let mut o = opening(&["192.0.2.1/32"], PortSet::single(1), None);
        o.rules = vec![("x/'\"bad".into(), "it's \"fine\"".into())];
        let ps = Powershell(&o).to_string();
        assert_eq!(ps.matches('\'').count(), 4, "{ps}");
        assert_eq!(Netsh(&o).to_string().matches('"').count(), 2);
    }
}
