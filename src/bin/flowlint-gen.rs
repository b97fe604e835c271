//! `flowlint-gen`: writes the test fixtures and benchmark captures.
//!
//! ```text
//! flowlint-gen fixtures [DIR]        regenerate every fixture (default fixtures/)
//! flowlint-gen bench --packets N --flows N --seed S --format pcap|pcapng --out FILE
//!                    [--mix default|high-cardinality] [--clients N] [--servers N]
//!                    [--servers-per-client N] [--ports-per-client N]
//!                    [--noncatalog-share F] [--ipv6-share F] [--vlan-share F]
//! flowlint-gen flood --flows N [--kind syn|scan] [--format pcap|pcapng] --out FILE
//! flowlint-gen repeat --times N --in FILE --out FILE
//! ```
//!
//! `fixtures` also writes the hostile-input fixtures into `DIR/hostile/`.
//!
//! `bench` shapes: `--mix default` (4 000 clients, 40 servers, the original
//! port tables with about 18 % unlisted sessions, 10 % IPv6, 5 % VLAN) or
//! `--mix high-cardinality` (8 000 clients, 400 servers, 20 % non-catalog,
//! 10 % IPv6, 5 % VLAN); the other knobs override the mix's value. A share
//! `F` is a fraction (`0.2`) or a percentage (`20%`); giving
//! `--noncatalog-share` switches from the original port tables to separate
//! catalog and non-catalog ones.
//!
//! Fixtures are byte-identical on every run: fixed timestamps, fixed ports,
//! no randomness. Next to each capture the generator writes the inventory it
//! was built for and `<name>.expect.json`, the outcome `flowlint check` must
//! report. Those expectations are decided here from SPEC.md alone, as an
//! independent oracle; the built-in catalog files are read only to name the
//! rule each expected conversation matches.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use flowlint::synth::{
    CaptureWriter, Endian, Flow, Host, Link, Net, PacketBuf, PcapOptions, PcapWriter,
    PcapngInterface, PcapngWriter, TcpSeg, Tee, Unreach, Vlan, SECOND,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("fixtures") => {
            let dir = PathBuf::from(args.get(1).map_or("fixtures", String::as_str));
            fixtures::generate_all(&dir)
        }
        Some("bench") => bench::parse_args(&args[1..]).and_then(|o| bench::run(&o)),
        Some("flood") => flood::parse_args(&args[1..]).and_then(|o| flood::run(&o)),
        Some("repeat") => repeat::parse_args(&args[1..]).and_then(|o| repeat::run(&o)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "usage: flowlint-gen fixtures [DIR] | flowlint-gen bench --packets N --flows N --seed S --format pcap|pcapng --out FILE \
             [--mix default|high-cardinality] [--clients N] [--servers N] [--servers-per-client N] [--ports-per-client N] \
             [--noncatalog-share F] [--ipv6-share F] [--vlan-share F] \
             | flowlint-gen flood --flows N [--kind syn|scan] [--format pcap|pcapng] --out FILE \
             | flowlint-gen repeat --times N --in FILE --out FILE",
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flowlint-gen: {e}");
            ExitCode::from(2)
        }
    }
}

#[path = "flowlint-gen/broadcasts.rs"]
mod broadcasts;
#[path = "flowlint-gen/tunnels.rs"]
mod tunnels;

/// Start of every fixture: 2026-11-20T10:00:00Z.
const T0: i64 = 1_795_168_800 * SECOND;
/// `--reply-timeout` default of `flowlint check`.
const REPLY_TIMEOUT: i64 = 3 * SECOND;
/// Milliseconds.
const MS: i64 = 1_000_000;

/// Rule naming: reads the built-in catalog files to find the id of the rule
/// an expected conversation matches. Verdicts are never taken from there.
mod rules {
    use super::*;

    #[derive(Debug)]
    pub struct CatRule {
        pub id: String,
        pub proto: String,
        pub ports: Vec<(u16, u16)>,
        pub clients: Vec<String>,
        pub servers: Vec<String>,
        pub same_host: bool,
    }

    /// The rules of both built-in catalogs, with implied roles, read from
    /// `src/catalog/<name>.toml` of this crate.
    #[derive(Default)]
    pub struct Catalogs {
        pub rules: Vec<CatRule>,
        /// "catalog.role" → roles it implies (qualified).
        pub implies: BTreeMap<String, Vec<String>>,
        pub missing: Vec<String>,
    }

    pub const NAMES: [&str; 2] = ["jp1-itdm", "systemwalker-om"];

    impl Catalogs {
        pub fn load() -> Catalogs {
            let mut c = Catalogs::default();
            for name in NAMES {
                let path =
                    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("src/catalog/{name}.toml"));
                match fs::read_to_string(&path) {
                    Ok(text) => c.add(name, &text),
                    Err(_) => c.missing.push(name.to_string()),
                }
            }
            c
        }

        fn add(&mut self, cat: &str, text: &str) {
            let v: toml::Table = match text.parse() {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("warning: catalog {cat} does not parse: {e}");
                    self.missing.push(cat.to_string());
                    return;
                }
            };
            let q = |r: &toml::Value| format!("{cat}.{}", r.as_str().unwrap_or(""));
            let list = |v: Option<&toml::Value>| -> Vec<String> {
                v.and_then(|x| x.as_array())
                    .map(|a| a.iter().map(q).collect())
                    .unwrap_or_default()
            };
            for role in v
                .get("roles")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
            {
                let name = format!(
                    "{cat}.{}",
                    role.get("name").and_then(|n| n.as_str()).unwrap_or("")
                );
                self.implies.insert(name, list(role.get("implies")));
            }
            for r in v
                .get("rules")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
            {
                let s = |k: &str| r.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                let mut ports = Vec::new();
                for p in r
                    .get("ports")
                    .and_then(|p| p.as_array())
                    .into_iter()
                    .flatten()
                {
                    if let Some(n) = p.as_integer() {
                        ports.push((n as u16, n as u16));
                    } else if let Some(s) = p.as_str() {
                        let (a, b) = s.split_once('-').unwrap_or((s, s));
                        ports.push((a.trim().parse().unwrap_or(0), b.trim().parse().unwrap_or(0)));
                    }
                }
                self.rules.push(CatRule {
                    id: format!("{cat}/{}", s("id")),
                    proto: s("protocol"),
                    ports,
                    clients: list(r.get("clients")),
                    servers: list(r.get("servers")),
                    same_host: s("scope") == "same-host",
                });
            }
        }

        fn expand(&self, roles: &[&str]) -> Vec<String> {
            let mut out: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
            let mut i = 0;
            while i < out.len() {
                for r in self.implies.get(&out[i]).cloned().unwrap_or_default() {
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
                i += 1;
            }
            out
        }

        /// The id of the one rule allowing `client_roles` → `server_roles`
        /// on the catalog's default `port`/`proto` (same-host rules when
        /// `same_host`). Several candidates: the narrowest port range, then
        /// the fewest roles; a remaining tie is a fixture design error.
        pub fn resolve(
            &self,
            client_roles: &[&str],
            server_roles: &[&str],
            port: u16,
            proto: &str,
            same_host: bool,
        ) -> String {
            let cats: Vec<&str> = client_roles
                .iter()
                .chain(server_roles)
                .filter_map(|r| r.split('.').next())
                .collect();
            let cat = cats.first().copied().unwrap_or("?");
            if !self.missing.is_empty() && self.missing.iter().any(|m| cats.contains(&m.as_str())) {
                return format!("{cat}/UNRESOLVED-{port}-{proto}");
            }
            let cr = self.expand(client_roles);
            let sr = self.expand(server_roles);
            let port_ok = |r: &CatRule| {
                r.proto == proto && r.ports.iter().any(|&(a, b)| a <= port && port <= b)
            };
            let roles_ok = |r: &CatRule| {
                r.clients.iter().any(|x| cr.contains(x)) && r.servers.iter().any(|x| sr.contains(x))
            };
            let mut cands: Vec<&CatRule> = self
                .rules
                .iter()
                .filter(|r| port_ok(r) && r.same_host == same_host && roles_ok(r))
                .collect();
            if cands.is_empty() && same_host {
                // Same-host traffic is expected whatever the roles: any
                // same-host rule on that port.
                cands = self
                    .rules
                    .iter()
                    .filter(|r| port_ok(r) && r.same_host)
                    .collect();
            }
            let width = |r: &CatRule| {
                r.ports
                    .iter()
                    .map(|&(a, b)| u32::from(b - a) + 1)
                    .sum::<u32>()
            };
            cands.sort_by_key(|r| (width(r), r.clients.len() + r.servers.len()));
            match cands.as_slice() {
                [] => {
                    eprintln!(
                        "warning: no catalog rule allows {client_roles:?} → {server_roles:?} on {port}/{proto}{}",
                        if same_host { " (same host)" } else { "" }
                    );
                    format!("{cat}/UNRESOLVED-{port}-{proto}")
                }
                [one] => one.id.clone(),
                [a, b, ..]
                    if (width(a), a.clients.len() + a.servers.len())
                        < (width(b), b.clients.len() + b.servers.len()) =>
                {
                    a.id.clone()
                }
                [a, b, ..] => {
                    eprintln!("warning: ambiguous rules {} and {} for {client_roles:?} → {server_roles:?} on {port}/{proto}", a.id, b.id);
                    a.id.clone()
                }
            }
        }
    }
}

/// One fixture: its hosts, the inventory written for it, the expected
/// conversations, and timing checks.
mod fixture {
    use super::*;

    pub struct HostDef {
        pub name: &'static str,
        pub host: Host,
        /// Roles used to name the matching rule; written to the inventory
        /// when `listed`.
        pub roles: Vec<&'static str>,
        pub os: Option<&'static str>,
        pub listed: bool,
    }

    #[derive(Default)]
    pub struct ConvExp {
        pub verdict: Option<&'static str>,
        pub rule: Option<String>,
        pub states: BTreeMap<&'static str, u32>,
        pub blocked_by: Option<IpAddr>,
    }

    type Key = (IpAddr, IpAddr, u16, &'static str);

    pub struct Fx<'c> {
        pub name: String,
        pub cats: &'c rules::Catalogs,
        pub hosts: Vec<HostDef>,
        /// Inventory blocks not tied to one host: (address/CIDR, roles).
        pub blocks: Vec<(&'static str, Vec<&'static str>)>,
        pub features: Vec<&'static str>,
        pub port_changes: Vec<(&'static str, u16)>,
        /// Effective port → catalog default port, for naming rules after a change.
        pub moved: Vec<(u16, u16)>,
        pub convs: BTreeMap<Key, ConvExp>,
        /// Latest attempt that must be decided no_reply / unanswered.
        pub last_failure: i64,
        /// Earliest attempt that must still be pending.
        pub first_pending: i64,
        /// Latest first attempt of a failure whose last retry is close to
        /// the end (decided from its first attempt, SPEC 1.1).
        pub last_first_attempt: i64,
        pub last_packet: i64,
    }

    impl<'c> Fx<'c> {
        pub fn new(name: &str, cats: &'c rules::Catalogs) -> Self {
            Fx {
                name: name.to_string(),
                cats,
                hosts: Vec::new(),
                blocks: Vec::new(),
                features: Vec::new(),
                port_changes: Vec::new(),
                moved: Vec::new(),
                convs: BTreeMap::new(),
                last_failure: i64::MIN,
                first_pending: i64::MAX,
                last_first_attempt: i64::MIN,
                last_packet: i64::MIN,
            }
        }

        /// Declares a host listed in the inventory.
        pub fn host(
            &mut self,
            name: &'static str,
            host: Host,
            roles: &[&'static str],
            os: Option<&'static str>,
        ) {
            self.hosts.push(HostDef {
                name,
                host,
                roles: roles.to_vec(),
                os,
                listed: true,
            });
        }

        /// Declares a host the inventory does not list; `roles` only name rules.
        pub fn unlisted_host(&mut self, name: &'static str, host: Host, roles: &[&'static str]) {
            self.hosts.push(HostDef {
                name,
                host,
                roles: roles.to_vec(),
                os: None,
                listed: false,
            });
        }

        pub fn h(&self, name: &str) -> Host {
            self.def(name).host
        }

        fn def(&self, name: &str) -> &HostDef {
            self.hosts
                .iter()
                .find(|h| h.name == name)
                .unwrap_or_else(|| panic!("{}: no host {name}", self.name))
        }

        fn key(&self, c: &str, s: &str, port: u16, proto: &'static str) -> Key {
            (self.h(c).addr, self.h(s).addr, port, proto)
        }

        /// Records one connection of a conversation in `state`.
        pub fn state(
            &mut self,
            c: &str,
            s: &str,
            port: u16,
            proto: &'static str,
            state: &'static str,
        ) {
            let k = self.key(c, s, port, proto);
            *self
                .convs
                .entry(k)
                .or_default()
                .states
                .entry(state)
                .or_default() += 1;
        }

        /// The verdict of a conversation; for `expected`, `blocked` and
        /// `wrong_direction` the rule is named from the hosts' roles.
        pub fn verdict(
            &mut self,
            c: &str,
            s: &str,
            port: u16,
            proto: &'static str,
            verdict: &'static str,
        ) {
            let k = self.key(c, s, port, proto);
            let (cd, sd) = (self.def(c), self.def(s));
            let same = cd.host.addr == sd.host.addr
                || (cd.host.addr.is_loopback() && sd.host.addr.is_loopback());
            let dport = self
                .moved
                .iter()
                .find(|m| m.0 == port)
                .map_or(port, |m| m.1);
            let rule = match verdict {
                "expected" | "blocked" => {
                    Some(self.cats.resolve(&cd.roles, &sd.roles, dport, proto, same))
                }
                "wrong_direction" => {
                    Some(self.cats.resolve(&sd.roles, &cd.roles, dport, proto, same))
                }
                _ => None,
            };
            let e = self.convs.entry(k).or_default();
            assert!(
                e.verdict.is_none(),
                "{}: verdict of {c}→{s}:{port} declared twice",
                self.name
            );
            e.verdict = Some(verdict);
            e.rule = rule;
        }

        pub fn blocked_by(&mut self, c: &str, s: &str, port: u16, proto: &'static str, by: &str) {
            let k = self.key(c, s, port, proto);
            let addr = self.h(by).addr;
            self.convs.entry(k).or_default().blocked_by = Some(addr);
        }

        fn seen(&mut self, first: i64, last: i64) {
            self.last_packet = self.last_packet.max(last).max(first);
        }

        fn flow<W: CaptureWriter>(&self, net: &mut Net<W>, c: &str, s: &str, port: u16) -> Flow {
            net.flow(self.h(c), self.h(s), port)
        }

        // Scenario wrappers: write the traffic and record the state it must
        // be given. Each returns the time of its last packet.

        pub fn ok<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let end = net.session(&f, t, 120, 400)?;
            self.state(c, s, port, "tcp", "established");
            self.seen(t, end);
            Ok(end)
        }

        pub fn no_reply<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
            retrans: u32,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let end = net.syn_no_answer(&f, t, retrans)?;
            self.state(c, s, port, "tcp", "no_reply");
            self.last_failure = self.last_failure.max(end);
            self.seen(t, end);
            Ok(end)
        }

        pub fn pending<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let end = net.syn_no_answer(&f, t, 0)?;
            self.state(c, s, port, "tcp", "pending");
            self.first_pending = self.first_pending.min(t);
            self.seen(t, end);
            Ok(end)
        }

        pub fn refused<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
            rst_ttl: Option<u8>,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let end = net.syn_refused(&f, t, rst_ttl)?;
            self.state(c, s, port, "tcp", "refused");
            self.seen(t, end);
            Ok(end)
        }

        #[allow(clippy::too_many_arguments)]
        pub fn unreachable<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
            by: &str,
            why: Unreach,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let reporter = self.h(by);
            let end = net.syn_unreachable(&f, t, &reporter, why)?;
            self.state(c, s, port, "tcp", "unreachable");
            if reporter.addr != f.server.addr {
                self.blocked_by(c, s, port, "tcp", by);
            }
            self.seen(t, end);
            Ok(end)
        }

        pub fn reset<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let end = net.established_then_reset(&f, t, true)?;
            self.state(c, s, port, "tcp", "reset");
            self.seen(t, end);
            Ok(end)
        }

        /// Midstream: the client port (40001+) is higher than the server's
        /// and on no catalog port, so the server side is unambiguous.
        pub fn midstream<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
        ) -> io::Result<i64> {
            let f = Flow {
                client: self.h(c),
                cport: 40_001,
                server: self.h(s),
                sport: port,
            };
            let end = net.midstream(&f, t, 3)?;
            self.state(c, s, port, "tcp", "midstream");
            self.seen(t, end);
            Ok(end)
        }

        pub fn one_sided<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let end = net.one_sided(&f, t)?;
            self.state(c, s, port, "tcp", "established");
            self.seen(t, end);
            Ok(end)
        }

        pub fn udp_ok<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let end = net.udp_exchange(&f, t, 2)?;
            self.state(c, s, port, "udp", "answered");
            self.seen(t, end);
            Ok(end)
        }

        pub fn udp_silent<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let end = net.udp_unanswered(&f, t, 2, SECOND)?;
            self.state(c, s, port, "udp", "unanswered");
            self.last_failure = self.last_failure.max(end);
            self.seen(t, end);
            Ok(end)
        }

        /// SYNs retried until shortly before the capture ends: `no_reply`,
        /// as the reply timeout counts from the first SYN.
        pub fn no_reply_at_end<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
            retrans: u32,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let end = net.syn_no_answer(&f, t, retrans)?;
            self.state(c, s, port, "tcp", "no_reply");
            self.last_first_attempt = self.last_first_attempt.max(t);
            self.seen(t, end);
            Ok(end)
        }

        /// Datagrams repeated until shortly before the capture ends: `unanswered`.
        pub fn udp_silent_at_end<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let end = net.udp_unanswered(&f, t, 3, 2 * SECOND)?;
            self.state(c, s, port, "udp", "unanswered");
            self.last_first_attempt = self.last_first_attempt.max(t);
            self.seen(t, end);
            Ok(end)
        }

        /// SYNs retried, then answered: `established`.
        pub fn retried_ok<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
            retrans: u32,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let end = net.syn_retried_then_answered(&f, t, retrans)?;
            self.state(c, s, port, "tcp", "established");
            self.seen(t, end);
            Ok(end)
        }

        pub fn udp_unreachable<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
            by: &str,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let reporter = self.h(by);
            let end = net.udp_unreachable(&f, t, &reporter, Unreach::Port)?;
            self.state(c, s, port, "udp", "unreachable");
            if reporter.addr != f.server.addr {
                self.blocked_by(c, s, port, "udp", by);
            }
            self.seen(t, end);
            Ok(end)
        }

        /// Fragmented UDP request and fragmented response (answered).
        pub fn udp_fragmented<W: CaptureWriter>(
            &mut self,
            net: &mut Net<W>,
            t: i64,
            c: &str,
            s: &str,
            port: u16,
        ) -> io::Result<i64> {
            let f = self.flow(net, c, s, port);
            let t1 = net.udp_fragmented(t, &f.client, &f.server, f.cport, f.sport, 1400, 512)?;
            let end = net.udp_fragmented(
                t1 + net.rtt_ns,
                &f.server,
                &f.client,
                f.sport,
                f.cport,
                1800,
                600,
            )?;
            self.state(c, s, port, "udp", "answered");
            self.seen(t, end);
            Ok(end)
        }

        /// Time at which the closing traffic may start: late enough that
        /// every failed attempt is older than the reply timeout.
        pub fn tail_start(&self, t: i64) -> i64 {
            if self.last_failure == i64::MIN {
                t
            } else {
                t.max(self.last_failure + REPLY_TIMEOUT + 2 * SECOND)
            }
        }

        /// Checks the timing, writes the inventory (when `inventory`) and
        /// `<name>.expect.json`.
        pub fn write(
            &self,
            dir: &Path,
            captures: &[&str],
            inventory: bool,
            extra_args: &[&str],
        ) -> io::Result<()> {
            assert!(
                self.last_failure == i64::MIN
                    || self.last_failure + REPLY_TIMEOUT + SECOND <= self.last_packet,
                "{}: a failed attempt is too close to the end",
                self.name
            );
            assert!(
                self.first_pending == i64::MAX
                    || self.first_pending + REPLY_TIMEOUT - SECOND > self.last_packet,
                "{}: a pending attempt is too old",
                self.name
            );
            assert!(
                self.last_first_attempt == i64::MIN
                    || self.last_first_attempt + REPLY_TIMEOUT + SECOND <= self.last_packet,
                "{}: a failed attempt began too close to the end",
                self.name
            );
            let mut args: Vec<String> = Vec::new();
            if inventory {
                let inv = format!("{}.toml", self.name);
                fs::write(dir.join(&inv), self.inventory_toml())?;
                args.push("--inventory".into());
                args.push(format!("fixtures/{inv}"));
            }
            args.extend(extra_args.iter().map(|s| s.to_string()));
            let mut convs = Vec::new();
            let mut exit = 0;
            for ((c, s, port, proto), e) in &self.convs {
                let v = e.verdict.unwrap_or_else(|| {
                    panic!("{}: no verdict for {c}→{s}:{port}/{proto}", self.name)
                });
                assert!(
                    !e.states.is_empty(),
                    "{}: no traffic for {c}→{s}:{port}/{proto}",
                    self.name
                );
                if matches!(v, "blocked" | "wrong_direction" | "unexpected") {
                    exit = 1;
                }
                let mut o = serde_json::json!({
                    "client": c.to_string(),
                    "server": s.to_string(),
                    "server_port": port,
                    "protocol": proto,
                    "verdict": v,
                    "rule": e.rule,
                    "states": e.states,
                });
                if let Some(b) = e.blocked_by {
                    o["blocked_by"] = serde_json::json!(b.to_string());
                }
                convs.push(o);
            }
            let doc = serde_json::json!({
                "args": args,
                "captures": captures.iter().map(|c| format!("fixtures/{c}")).collect::<Vec<_>>(),
                "exit": exit,
                "conversations": convs,
            });
            let mut text = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
            text.push('\n');
            fs::write(dir.join(format!("{}.expect.json", self.name)), text)
        }

        fn inventory_toml(&self) -> String {
            let mut s = format!(
                "# Inventory of fixture {} (written by flowlint-gen).\n",
                self.name
            );
            let q = |v: &[&str]| {
                v.iter()
                    .map(|r| format!("\"{r}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            for h in self.hosts.iter().filter(|h| h.listed) {
                s += &format!(
                    "\n[[hosts]]\nname = \"{}\"\naddress = \"{}\"\nroles = [{}]\n",
                    h.name,
                    h.host.addr,
                    q(&h.roles)
                );
                if let Some(os) = h.os {
                    s += &format!("os = \"{os}\"\n");
                }
            }
            for (addr, roles) in &self.blocks {
                s += &format!(
                    "\n[[hosts]]\naddress = \"{addr}\"\nroles = [{}]\n",
                    q(roles)
                );
            }
            if !self.features.is_empty() {
                s += &format!("\n[systemwalker-om]\nfeatures = [{}]\n", q(&self.features));
            }
            if !self.port_changes.is_empty() {
                s += "\n[ports]\n";
                for (k, v) in &self.port_changes {
                    s += &format!("\"{k}\" = {v}\n");
                }
            }
            s
        }

        /// Rule ids this fixture expects to be matched (expected/blocked).
        pub fn matched_rules(&self) -> Vec<String> {
            self.convs
                .values()
                .filter(|e| matches!(e.verdict, Some("expected" | "blocked")))
                .filter_map(|e| e.rule.clone())
                .collect()
        }
    }
}

mod fixtures {
    use super::fixture::Fx;
    use super::fixtures_spec11::spec11;
    use super::*;

    fn pcap(
        dir: &Path,
        name: &str,
        linktype: u32,
        nanos: bool,
        endian: Endian,
    ) -> io::Result<PcapWriter<File>> {
        let opts = PcapOptions {
            linktype,
            nanos,
            endian,
            snaplen: 262_144,
        };
        PcapWriter::new(File::create(dir.join(name))?, opts)
    }

    pub(super) fn pcapng(
        dir: &Path,
        name: &str,
        endian: Endian,
        ifaces: &[PcapngInterface],
    ) -> io::Result<PcapngWriter<File>> {
        PcapngWriter::new(File::create(dir.join(name))?, endian, ifaces)
    }

    pub(super) fn iface(link: Link, tsresol: u8, tsoffset: Option<i64>) -> PcapngInterface {
        PcapngInterface {
            linktype: link.linktype() as u16,
            snaplen: 262_144,
            tsresol,
            tsoffset,
        }
    }

    /// Regenerates every fixture under `dir`.
    pub fn generate_all(dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir.join("demo"))?;
        let cats = rules::Catalogs::load();
        for m in &cats.missing {
            eprintln!("warning: catalog {m} not found; its rule ids are left UNRESOLVED");
        }
        let fixtures = vec![
            lab(dir, &cats)?,
            cov_jp1(dir, &cats)?,
            cov_sw(dir, &cats)?,
            cov_local(dir, &cats)?,
            cov_frag(dir, &cats)?,
        ];
        let mut all: Vec<Fx> = fixtures;
        all.extend(conditions(dir, &cats)?);
        all.push(ports(dir, &cats)?);
        all.push(taps(dir, &cats)?);
        all.push(reversed(dir, &cats)?);
        all.push(reversed_noinv(dir, &cats)?);
        all.extend(spec11(dir, &cats)?);
        all.push(super::broadcasts::generate(dir, &cats)?);
        all.push(super::tunnels::generate(dir, &cats)?);
        super::hostile::generate_all(&dir.join("hostile"))?;
        // Every catalog rule must be matched by some fixture.
        let matched: Vec<String> = all.iter().flat_map(|f| f.matched_rules()).collect();
        for r in &cats.rules {
            if !matched.contains(&r.id) {
                eprintln!("warning: rule {} is exercised by no fixture", r.id);
            }
        }
        Ok(())
    }

    /// The demo lab: every verdict and every state, one capture.
    fn lab<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Fx<'c>> {
        let mut fx = Fx::new("demo/lab", cats);
        fx.host(
            "itdm-mgr",
            Host::windows("192.0.2.10"),
            &["jp1-itdm.manager"],
            Some("windows"),
        );
        fx.host(
            "itdm-db",
            Host::windows("192.0.2.11"),
            &["jp1-itdm.db_server"],
            Some("windows"),
        );
        fx.host(
            "itdm-site",
            Host::windows("198.51.100.20"),
            &["jp1-itdm.site_server"],
            Some("windows"),
        );
        fx.host(
            "admin-pc",
            Host::windows("192.0.2.50"),
            &["jp1-itdm.admin_console"],
            Some("windows"),
        );
        fx.host(
            "rc-controller",
            Host::windows("192.0.2.51"),
            &["jp1-itdm.controller"],
            Some("windows"),
        );
        fx.host(
            "printer",
            Host::unix("192.0.2.60"),
            &["jp1-itdm.agentless"],
            None,
        );
        fx.host(
            "sw-server",
            Host::windows("192.0.2.20"),
            &["systemwalker-om.server"],
            Some("windows"),
        );
        fx.host(
            "sw-unix",
            Host::unix("192.0.2.21"),
            &["systemwalker-om.server"],
            Some("unix"),
        );
        fx.host(
            "sw-client1",
            Host::windows("192.0.2.70"),
            &["systemwalker-om.client"],
            Some("windows"),
        );
        fx.host(
            "sw-client2",
            Host::windows("192.0.2.71"),
            &["systemwalker-om.client"],
            Some("windows"),
        );
        fx.host(
            "mail",
            Host::unix("192.0.2.25"),
            &["systemwalker-om.smtp_server"],
            Some("unix"),
        );
        fx.host(
            "remote",
            Host::unix("198.51.100.30"),
            &["systemwalker-om.remote_machine"],
            Some("unix"),
        );
        let agent = ["jp1-itdm.agent", "jp1-itdm.remote_control_agent"];
        fx.blocks.push(("192.0.2.128/25", agent.to_vec()));
        fx.unlisted_host("pc130", Host::windows("192.0.2.130"), &agent);
        fx.unlisted_host("pc131", Host::windows("192.0.2.131"), &agent);
        fx.unlisted_host("pc132", Host::windows("192.0.2.132"), &agent);
        fx.unlisted_host("firewall", Host::parse("203.0.113.1", 255), &[]);
        fx.unlisted_host("stranger", Host::unix("192.0.2.99"), &[]);

        let w = pcapng(
            dir,
            "demo/lab.pcapng",
            Endian::Little,
            &[iface(Link::ETHERNET, 6, None)],
        )?;
        let mut net = Net::new(w, Link::ETHERNET);
        let mut t = T0;
        // Failures first, so that they are long decided when the capture ends.
        fx.no_reply(&mut net, t, "pc130", "itdm-mgr", 31000, 3)?;
        fx.ok(&mut net, t + 500 * MS, "pc130", "itdm-mgr", 31000)?;
        fx.verdict("pc130", "itdm-mgr", 31000, "tcp", "blocked");
        // The site network sits behind a firewall on VLAN 20.
        net.set_interface(
            0,
            Link::Ethernet {
                vlan: Vlan::Dot1Q(20),
                fcs: false,
            },
        );
        fx.unreachable(
            &mut net,
            t + 200 * MS,
            "itdm-mgr",
            "itdm-site",
            31000,
            "firewall",
            Unreach::AdminProhibited,
        )?;
        fx.verdict("itdm-mgr", "itdm-site", 31000, "tcp", "blocked");
        fx.one_sided(&mut net, t + 300 * MS, "pc131", "itdm-site", 31000)?;
        fx.verdict("pc131", "itdm-site", 31000, "tcp", "expected");
        fx.ok(&mut net, t + 350 * MS, "sw-server", "remote", 22)?;
        fx.verdict("sw-server", "remote", 22, "tcp", "expected");
        fx.ok(&mut net, t + 380 * MS, "sw-server", "remote", 135)?;
        fx.verdict("sw-server", "remote", 135, "tcp", "expected");
        fx.ok(&mut net, t + 420 * MS, "sw-server", "remote", 49801)?;
        fx.verdict("sw-server", "remote", 49801, "tcp", "expected");
        net.set_interface(0, Link::ETHERNET);
        fx.refused(&mut net, t + 400 * MS, "itdm-mgr", "pc132", 16992, None)?;
        fx.verdict("itdm-mgr", "pc132", 16992, "tcp", "blocked");
        // A middlebox forges the RST: server's address, TTL 250 instead of 128.
        fx.refused(
            &mut net,
            t + 600 * MS,
            "itdm-mgr",
            "pc131",
            16992,
            Some(250),
        )?;
        fx.verdict("itdm-mgr", "pc131", 16992, "tcp", "blocked");
        fx.udp_silent(&mut net, t + 800 * MS, "itdm-mgr", "printer", 137)?;
        fx.verdict("itdm-mgr", "printer", 137, "udp", "blocked");
        fx.udp_silent(&mut net, t + 1200 * MS, "itdm-mgr", "printer", 138)?;
        fx.verdict("itdm-mgr", "printer", 138, "udp", "expected");
        fx.udp_unreachable(
            &mut net,
            t + 1000 * MS,
            "itdm-mgr",
            "printer",
            445,
            "printer",
        )?;
        fx.verdict("itdm-mgr", "printer", 445, "udp", "blocked");
        fx.udp_ok(&mut net, t + 1100 * MS, "itdm-mgr", "printer", 161)?;
        fx.verdict("itdm-mgr", "printer", 161, "udp", "expected");

        t += 2500 * MS;
        let step = 40 * MS;
        fx.ok(&mut net, t, "admin-pc", "itdm-mgr", 31080)?;
        t += step;
        fx.ok(&mut net, t, "pc131", "itdm-mgr", 31000)?;
        fx.verdict("pc131", "itdm-mgr", 31000, "tcp", "expected");
        t += step;
        fx.reset(&mut net, t, "itdm-mgr", "pc130", 31001)?;
        fx.verdict("itdm-mgr", "pc130", 31001, "tcp", "expected");
        t += step;
        fx.ok(&mut net, t, "pc132", "itdm-mgr", 31001)?;
        fx.verdict("pc132", "itdm-mgr", 31001, "tcp", "wrong_direction");
        t += step;
        fx.ok(&mut net, t, "itdm-db", "itdm-mgr", 31006)?;
        fx.verdict("itdm-db", "itdm-mgr", 31006, "tcp", "expected");
        t += step;
        fx.midstream(&mut net, t, "itdm-mgr", "itdm-db", 31010)?;
        fx.verdict("itdm-mgr", "itdm-db", 31010, "tcp", "expected");
        t += step;
        fx.ok(&mut net, t, "pc130", "pc131", 31007)?;
        fx.verdict("pc130", "pc131", 31007, "tcp", "unexpected");
        t += step;
        fx.ok(&mut net, t, "rc-controller", "pc130", 31016)?;
        fx.verdict("rc-controller", "pc130", 31016, "tcp", "expected");
        t += step;
        fx.ok(&mut net, t, "pc130", "rc-controller", 31018)?;
        fx.verdict("pc130", "rc-controller", 31018, "tcp", "expected");
        t += step;
        fx.ok(&mut net, t, "sw-client1", "sw-server", 9367)?;
        fx.verdict("sw-client1", "sw-server", 9367, "tcp", "expected");
        t += step;
        fx.ok(&mut net, t, "sw-client1", "sw-server", 9352)?;
        fx.verdict("sw-client1", "sw-server", 9352, "tcp", "expected");
        t += step;
        fx.ok(&mut net, t, "sw-client2", "sw-unix", 9371)?;
        fx.verdict("sw-client2", "sw-unix", 9371, "tcp", "unexpected");
        t += step;
        fx.ok(&mut net, t, "sw-server", "sw-client1", 6961)?;
        fx.verdict("sw-server", "sw-client1", 6961, "tcp", "expected");
        t += step;
        fx.ok(&mut net, t, "sw-server", "mail", 25)?;
        fx.verdict("sw-server", "mail", 25, "tcp", "expected");
        t += step;
        fx.ok(&mut net, t, "sw-server", "sw-client1", 2685)?;
        fx.verdict("sw-server", "sw-client1", 2685, "tcp", "unexpected");
        t += step;
        fx.ok(&mut net, t, "sw-server", "sw-unix", 9368)?;
        fx.verdict("sw-server", "sw-unix", 9368, "tcp", "unexpected");
        t += step;
        fx.ok(&mut net, t, "sw-server", "sw-client1", 9367)?;
        fx.verdict("sw-server", "sw-client1", 9367, "tcp", "wrong_direction");
        t += step;
        fx.ok(&mut net, t, "stranger", "itdm-mgr", 31000)?;
        fx.verdict("stranger", "itdm-mgr", 31000, "tcp", "unexpected");
        t += step;
        fx.ok(&mut net, t, "pc130", "stranger", 443)?;
        fx.verdict("pc130", "stranger", 443, "tcp", "unlisted");
        t += step;
        fx.udp_ok(&mut net, t, "pc130", "stranger", 53)?;
        fx.verdict("pc130", "stranger", 53, "udp", "unlisted");

        // The end: a pending attempt, then the last packets one second later.
        let t = fx.tail_start(t + SECOND);
        fx.pending(&mut net, t, "sw-client2", "sw-server", 4013)?;
        fx.verdict("sw-client2", "sw-server", 4013, "tcp", "expected");
        fx.ok(&mut net, t + SECOND, "admin-pc", "itdm-mgr", 31080)?;
        fx.verdict("admin-pc", "itdm-mgr", 31080, "tcp", "expected");
        net.finish()?;
        fx.write(dir, &["demo/lab.pcapng"], true, &[])?;
        Ok(fx)
    }

    /// Every network rule of jp1-itdm; pcapng with an Ethernet/802.1Q
    /// interface (µs) and an SLL2 interface (ns, with if_tsoffset) carrying
    /// IPv6; one datagram as a simple packet block.
    fn cov_jp1<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Fx<'c>> {
        let mut fx = Fx::new("cov-jp1", cats);
        fx.host(
            "mgr",
            Host::windows("192.0.2.10"),
            &["jp1-itdm.manager"],
            None,
        );
        fx.host(
            "db",
            Host::windows("192.0.2.11"),
            &["jp1-itdm.db_server"],
            None,
        );
        fx.host(
            "site",
            Host::windows("198.51.100.20"),
            &["jp1-itdm.site_server"],
            None,
        );
        fx.host(
            "agent",
            Host::windows("192.0.2.130"),
            &["jp1-itdm.agent"],
            None,
        );
        fx.host(
            "dev",
            Host::unix("192.0.2.60"),
            &["jp1-itdm.agentless"],
            None,
        );
        fx.host(
            "mgr6",
            Host::windows("2001:db8:1::10"),
            &["jp1-itdm.manager"],
            None,
        );
        fx.host(
            "agent6",
            Host::windows("2001:db8:1::130"),
            &["jp1-itdm.agent"],
            None,
        );
        fx.host(
            "console6",
            Host::windows("2001:db8:1::50"),
            &["jp1-itdm.admin_console"],
            None,
        );
        fx.host(
            "ctl6",
            Host::windows("2001:db8:1::51"),
            &["jp1-itdm.controller"],
            None,
        );
        fx.host(
            "rca6",
            Host::windows("2001:db8:1::131"),
            &["jp1-itdm.remote_control_agent"],
            None,
        );

        let eth = Link::Ethernet {
            vlan: Vlan::Dot1Q(10),
            fcs: false,
        };
        let w = pcapng(
            dir,
            "cov-jp1.pcapng",
            Endian::Little,
            &[
                iface(eth, 6, None),
                iface(Link::Sll2, 9, Some(1_700_000_000)),
            ],
        )?;
        let mut net = Net::new(w, eth);
        let mut t = T0;
        fx.udp_silent(&mut net, t, "mgr", "dev", 138)?;
        fx.verdict("mgr", "dev", 138, "udp", "expected");
        t += 100 * MS;
        let v4 = [
            ("site", "mgr", 31000),
            ("agent", "site", 31000),
            ("mgr", "site", 31000),
            ("db", "mgr", 31006),
            ("mgr", "db", 31010),
            ("mgr", "dev", 445),
            ("mgr", "dev", 139),
        ];
        for (c, s, p) in v4 {
            fx.ok(&mut net, t, c, s, p)?;
            fx.verdict(c, s, p, "tcp", "expected");
            t += 30 * MS;
        }
        for (c, s, p) in [
            ("mgr", "dev", 137),
            ("mgr", "dev", 161),
            ("site", "dev", 161),
        ] {
            fx.udp_ok(&mut net, t, c, s, p)?;
            fx.verdict(c, s, p, "udp", "expected");
            t += 30 * MS;
        }
        // 445/udp: the reply is a simple packet block (no timestamp).
        let f = net.flow(fx.h("mgr"), fx.h("dev"), 445);
        net.udp(t, &f.client, &f.server, f.cport, 445, 80)?;
        net.writer.set_simple(true);
        net.udp(t + net.rtt_ns, &f.server, &f.client, 445, f.cport, 120)?;
        net.writer.set_simple(false);
        fx.state("mgr", "dev", 445, "udp", "answered");
        fx.verdict("mgr", "dev", 445, "udp", "expected");
        t += 30 * MS;

        net.set_interface(1, Link::Sll2);
        let v6 = [
            ("console6", "mgr6", 31080),
            ("agent6", "mgr6", 31000),
            ("mgr6", "agent6", 31001),
            ("mgr6", "agent6", 16992),
            ("ctl6", "rca6", 31016),
            ("ctl6", "rca6", 31017),
            ("ctl6", "rca6", 31018),
            ("rca6", "ctl6", 31018),
            ("rca6", "ctl6", 31019),
            ("rca6", "ctl6", 31020),
        ];
        for (c, s, p) in v6 {
            fx.ok(&mut net, t, c, s, p)?;
            fx.verdict(c, s, p, "tcp", "expected");
            t += 30 * MS;
        }
        let t = fx.tail_start(t);
        fx.ok(&mut net, t, "agent6", "mgr6", 31000)?;
        net.finish()?;
        fx.write(dir, &["cov-jp1.pcapng"], true, &[])?;
        Ok(fx)
    }

    /// Every network rule of systemwalker-om, both features enabled; pcap
    /// µs big-endian, QinQ-tagged Ethernet with FCS.
    fn cov_sw<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Fx<'c>> {
        let mut fx = Fx::new("cov-sw", cats);
        fx.host(
            "srv",
            Host::windows("192.0.2.20"),
            &["systemwalker-om.server"],
            Some("windows"),
        );
        fx.host(
            "srv2",
            Host::windows("192.0.2.22"),
            &["systemwalker-om.server"],
            Some("windows"),
        );
        fx.host(
            "cl",
            Host::windows("192.0.2.70"),
            &["systemwalker-om.client"],
            None,
        );
        fx.host(
            "jr",
            Host::unix("192.0.2.80"),
            &["systemwalker-om.job_requester"],
            None,
        );
        fx.host(
            "je",
            Host::unix("192.0.2.81"),
            &["systemwalker-om.job_executor"],
            None,
        );
        fx.host(
            "es",
            Host::unix("192.0.2.82"),
            &["systemwalker-om.event_source"],
            None,
        );
        fx.host(
            "et",
            Host::unix("192.0.2.83"),
            &["systemwalker-om.event_target"],
            None,
        );
        fx.host(
            "mon",
            Host::unix("192.0.2.84"),
            &["systemwalker-om.monitoring_host"],
            None,
        );
        fx.host(
            "mond",
            Host::unix("192.0.2.85"),
            &["systemwalker-om.monitored_host"],
            None,
        );
        fx.host(
            "mail",
            Host::unix("192.0.2.25"),
            &["systemwalker-om.smtp_server"],
            None,
        );
        fx.host(
            "centric",
            Host::unix("192.0.2.90"),
            &["systemwalker-om.centric_manager"],
            None,
        );
        fx.host(
            "web",
            Host::windows("192.0.2.91"),
            &["systemwalker-om.web_client"],
            None,
        );
        fx.host(
            "rm",
            Host::unix("198.51.100.30"),
            &["systemwalker-om.remote_machine"],
            Some("unix"),
        );
        fx.features = vec!["business-linkage", "bulk-power-control"];

        let link = Link::Ethernet {
            vlan: Vlan::QinQ {
                outer: 100,
                inner: 42,
            },
            fcs: true,
        };
        let w = pcap(dir, "cov-sw.pcap", link.linktype(), false, Endian::Big)?;
        let mut net = Net::new(w, link);
        let mut t = T0;
        fx.udp_silent(&mut net, t, "srv", "cl", 1952)?;
        fx.verdict("srv", "cl", 1952, "udp", "expected");
        t += 100 * MS;
        let tcp = [
            ("cl", "srv", 9367),
            ("cl", "srv", 9352),
            ("cl", "srv", 9368),
            ("cl", "srv", 9297),
            ("cl", "srv", 4013),
            ("cl", "srv", 9371),
            ("cl", "srv", 9369),
            ("cl", "srv", 9370),
            ("jr", "je", 9352),
            ("je", "jr", 9352),
            ("es", "et", 9352),
            ("srv", "srv2", 9368),
            ("mon", "mond", 9297),
            ("mond", "mon", 9297),
            ("jr", "je", 9327),
            ("srv", "cl", 6961),
            ("srv", "mail", 25),
            ("srv", "cl", 2685),
            ("srv", "cl", 1952),
            ("centric", "srv", 9373),
            ("web", "srv", 9900),
            ("srv", "rm", 22),
            ("srv", "rm", 135),
            ("srv", "rm", 49800),
        ];
        for (c, s, p) in tcp {
            fx.ok(&mut net, t, c, s, p)?;
            fx.verdict(c, s, p, "tcp", "expected");
            t += 30 * MS;
        }
        let t = fx.tail_start(t);
        fx.ok(&mut net, t, "cl", "srv", 9367)?;
        net.finish()?;
        fx.write(dir, &["cov-sw.pcap"], true, &[])?;
        Ok(fx)
    }

    /// Internal-only (same-host) ports of both catalogs over loopback and
    /// within one address; BSD NULL link type, pcap ns little-endian, no
    /// inventory (same-host traffic is expected whatever the roles).
    fn cov_local<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Fx<'c>> {
        let mut fx = Fx::new("cov-local", cats);
        let any = [
            "jp1-itdm.manager",
            "systemwalker-om.server",
            "systemwalker-om.client",
        ];
        fx.unlisted_host("lo", Host::windows("127.0.0.1"), &any);
        fx.unlisted_host("lo6", Host::windows("::1"), &any);
        fx.unlisted_host("db", Host::windows("192.0.2.11"), &["jp1-itdm.db_server"]);
        fx.unlisted_host(
            "site",
            Host::windows("198.51.100.20"),
            &["jp1-itdm.site_server"],
        );

        let link = Link::Null { af_inet6: 30 };
        let w = pcap(dir, "cov-local.pcap", link.linktype(), true, Endian::Little)?;
        let mut net = Net::new(w, link);
        let mut t = T0;
        let mut tcp = vec![("lo", 31011), ("lo", 2681), ("lo", 2684), ("lo", 2686)];
        tcp.extend((9901..=9908).map(|p| ("lo", p)));
        tcp.extend([
            ("lo6", 31006),
            ("lo6", 31009),
            ("lo6", 31012),
            ("db", 31007),
            ("site", 31010),
        ]);
        for (h, p) in tcp {
            fx.ok(&mut net, t, h, h, p)?;
            fx.verdict(h, h, p, "tcp", "expected");
            t += 20 * MS;
        }
        net.finish()?;
        fx.write(dir, &["cov-local.pcap"], false, &[])?;
        Ok(fx)
    }

    /// Fragmented UDP over IPv4 and IPv6 (the later fragments carry bytes
    /// that would read as port 31000 if taken for a UDP header), ICMPv6
    /// from a firewall; raw IP (101), pcap µs little-endian.
    fn cov_frag<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Fx<'c>> {
        let mut fx = Fx::new("cov-frag", cats);
        fx.host(
            "mgr",
            Host::windows("192.0.2.10"),
            &["jp1-itdm.manager"],
            None,
        );
        fx.host(
            "dev",
            Host::unix("192.0.2.60"),
            &["jp1-itdm.agentless"],
            None,
        );
        fx.host(
            "mgr6",
            Host::windows("2001:db8:1::10"),
            &["jp1-itdm.manager"],
            None,
        );
        fx.host(
            "dev6",
            Host::unix("2001:db8:1::60"),
            &["jp1-itdm.agentless"],
            None,
        );
        fx.host(
            "agent6",
            Host::windows("2001:db8:1::130"),
            &["jp1-itdm.agent"],
            None,
        );
        fx.unlisted_host("fw6", Host::parse("2001:db8:ffff::1", 255), &[]);

        let w = pcap(
            dir,
            "cov-frag.pcap",
            Link::Raw.linktype(),
            false,
            Endian::Little,
        )?;
        let mut net = Net::new(w, Link::Raw);
        net.pkt.set_pattern(&[0x79, 0x18]);
        let mut t = T0;
        fx.udp_fragmented(&mut net, t, "mgr", "dev", 161)?;
        fx.verdict("mgr", "dev", 161, "udp", "expected");
        t += 50 * MS;
        fx.udp_fragmented(&mut net, t, "mgr6", "dev6", 445)?;
        fx.verdict("mgr6", "dev6", 445, "udp", "expected");
        t += 50 * MS;
        fx.ok(&mut net, t, "mgr6", "dev6", 139)?;
        fx.verdict("mgr6", "dev6", 139, "tcp", "expected");
        t += 50 * MS;
        fx.unreachable(
            &mut net,
            t,
            "agent6",
            "mgr6",
            31000,
            "fw6",
            Unreach::AdminProhibited,
        )?;
        fx.verdict("agent6", "mgr6", 31000, "tcp", "blocked");
        net.finish()?;
        fx.write(dir, &["cov-frag.pcap"], true, &[])?;
        Ok(fx)
    }

    /// Rule conditions (note 1 UNIX servers, note 2 bulk power control,
    /// note 3 business linkage, internal-only ports, the RPC companion rule,
    /// UDP rules with and without an expected reply). One capture (Linux
    /// SLL, pcap ns big-endian), two inventories: without and with features.
    fn conditions<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Vec<Fx<'c>>> {
        let mut out = Vec::new();
        for with_features in [false, true] {
            let name = if with_features {
                "conditions-features"
            } else {
                "conditions"
            };
            let mut fx = Fx::new(name, cats);
            fx.host(
                "sw-win",
                Host::windows("192.0.2.20"),
                &["systemwalker-om.server"],
                Some("windows"),
            );
            fx.host(
                "sw-unix",
                Host::unix("192.0.2.21"),
                &["systemwalker-om.server"],
                Some("unix"),
            );
            fx.host(
                "cl1",
                Host::windows("192.0.2.70"),
                &["systemwalker-om.client"],
                None,
            );
            fx.host(
                "cl2",
                Host::windows("192.0.2.71"),
                &["systemwalker-om.client"],
                None,
            );
            fx.host(
                "rm1",
                Host::unix("198.51.100.30"),
                &["systemwalker-om.remote_machine"],
                None,
            );
            fx.host(
                "rm2",
                Host::unix("198.51.100.31"),
                &["systemwalker-om.remote_machine"],
                None,
            );
            fx.host(
                "mgr",
                Host::windows("192.0.2.10"),
                &["jp1-itdm.manager"],
                None,
            );
            fx.host(
                "db",
                Host::windows("192.0.2.11"),
                &["jp1-itdm.db_server"],
                None,
            );
            fx.host(
                "agent",
                Host::windows("192.0.2.130"),
                &["jp1-itdm.agent"],
                None,
            );
            fx.host(
                "dev",
                Host::unix("192.0.2.60"),
                &["jp1-itdm.agentless"],
                None,
            );
            if with_features {
                fx.features = vec!["business-linkage", "bulk-power-control"];
            }
            let feat = if with_features {
                "expected"
            } else {
                "unexpected"
            };

            let w = pcap(
                dir,
                "conditions.pcap",
                Link::Sll.linktype(),
                true,
                Endian::Big,
            )?;
            let mut net = Net::new(w, Link::Sll);
            let mut t = T0;
            fx.udp_silent(&mut net, t, "mgr", "dev", 138)?;
            fx.verdict("mgr", "dev", 138, "udp", "expected");
            fx.udp_silent(&mut net, t + 100 * MS, "mgr", "dev", 161)?;
            fx.verdict("mgr", "dev", 161, "udp", "blocked");
            fx.udp_ok(&mut net, t + 200 * MS, "sw-win", "cl1", 1952)?;
            fx.verdict("sw-win", "cl1", 1952, "udp", feat);
            t += 300 * MS;
            let tcp = [
                ("cl1", "sw-unix", 9371, "unexpected"),
                ("cl1", "sw-unix", 9369, "unexpected"),
                ("sw-unix", "cl1", 6961, "unexpected"),
                ("cl1", "sw-win", 9371, "expected"),
                ("sw-win", "sw-unix", 9368, feat),
                ("sw-win", "cl1", 2685, feat),
                ("sw-win", "cl1", 1952, feat),
                ("sw-win", "sw-win", 9905, "expected"),
                ("cl1", "sw-win", 9905, "unexpected"),
                ("cl1", "cl2", 2681, "unexpected"),
                ("sw-unix", "sw-unix", 2684, "expected"),
                ("sw-win", "rm1", 135, "expected"),
                ("sw-win", "rm1", 50123, "expected"),
                ("sw-win", "rm2", 50124, "unlisted"),
                ("db", "mgr", 31006, "expected"),
                ("agent", "mgr", 31006, "unexpected"),
                ("mgr", "db", 31010, "expected"),
                ("agent", "mgr", 31008, "unexpected"),
            ];
            for (c, s, p, v) in tcp {
                fx.ok(&mut net, t, c, s, p)?;
                fx.verdict(c, s, p, "tcp", v);
                t += 30 * MS;
            }
            let t = fx.tail_start(t);
            fx.ok(&mut net, t, "cl1", "sw-win", 9371)?;
            net.finish()?;
            fx.write(dir, &["conditions.pcap"], true, &[])?;
            out.push(fx);
        }
        Ok(out)
    }

    /// Port changes: inventory `[ports]` moves jp1-itdm 31000/tcp to 31100
    /// and jmnet to 9452, a services file moves smtp_mpaosfb to 2525; the old
    /// ports are then unlisted. pcapng with LINKTYPE_IPV4 and LINKTYPE_IPV6
    /// interfaces.
    fn ports<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Fx<'c>> {
        let mut fx = Fx::new("ports", cats);
        fx.host(
            "mgr",
            Host::windows("192.0.2.10"),
            &["jp1-itdm.manager"],
            None,
        );
        fx.host(
            "site",
            Host::windows("198.51.100.20"),
            &["jp1-itdm.site_server"],
            None,
        );
        fx.host(
            "agent",
            Host::windows("192.0.2.130"),
            &["jp1-itdm.agent"],
            None,
        );
        fx.host(
            "srv",
            Host::windows("192.0.2.20"),
            &["systemwalker-om.server"],
            Some("windows"),
        );
        fx.host(
            "cl",
            Host::windows("192.0.2.70"),
            &["systemwalker-om.client"],
            None,
        );
        fx.host(
            "mail",
            Host::unix("192.0.2.25"),
            &["systemwalker-om.smtp_server"],
            None,
        );
        fx.host(
            "mgr6",
            Host::windows("2001:db8:1::10"),
            &["jp1-itdm.manager"],
            None,
        );
        fx.host(
            "agent6",
            Host::windows("2001:db8:1::130"),
            &["jp1-itdm.agent"],
            None,
        );
        fx.port_changes = vec![
            ("jp1-itdm/31000/tcp", 31100),
            ("systemwalker-om/jmnet", 9452),
        ];
        fx.moved = vec![(31100, 31000), (9452, 9352), (2525, 25)];
        fs::write(
            dir.join("ports.services"),
            "# services file for fixture ports (written by flowlint-gen)\n\
             smtp              25/tcp    mail\n\
             smtp_mpaosfb    2525/tcp           # Systemwalker mail action via the relay\n",
        )?;

        let w = pcapng(
            dir,
            "ports.pcapng",
            Endian::Little,
            &[iface(Link::Ipv4, 6, None), iface(Link::Ipv6, 6, None)],
        )?;
        let mut net = Net::new(w, Link::Ipv4);
        let mut t = T0;
        let v4 = [
            ("agent", "mgr", 31100, "expected"),
            ("agent", "mgr", 31000, "unlisted"),
            ("agent", "site", 31100, "expected"),
            ("cl", "srv", 9452, "expected"),
            ("cl", "srv", 9352, "unlisted"),
            ("srv", "mail", 2525, "expected"),
            ("srv", "mail", 25, "unlisted"),
        ];
        for (c, s, p, v) in v4 {
            fx.ok(&mut net, t, c, s, p)?;
            fx.verdict(c, s, p, "tcp", v);
            t += 30 * MS;
        }
        net.set_interface(1, Link::Ipv6);
        for (c, s, p, v) in [
            ("agent6", "mgr6", 31100, "expected"),
            ("agent6", "mgr6", 31000, "unlisted"),
        ] {
            fx.ok(&mut net, t, c, s, p)?;
            fx.verdict(c, s, p, "tcp", v);
            t += 30 * MS;
        }
        net.finish()?;
        fx.write(
            dir,
            &["ports.pcapng"],
            true,
            &["--services", "fixtures/ports.services"],
        )?;
        Ok(fx)
    }

    /// Two taps on the same link: tap A until 12 s, tap B from 4 s with its
    /// clock 0.4 s ahead. Connections seen by both count once.
    fn taps<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Fx<'c>> {
        let mut fx = Fx::new("taps", cats);
        fx.host(
            "mgr",
            Host::windows("192.0.2.10"),
            &["jp1-itdm.manager"],
            None,
        );
        fx.host(
            "agent1",
            Host::windows("192.0.2.130"),
            &["jp1-itdm.agent"],
            None,
        );
        fx.host(
            "agent2",
            Host::windows("192.0.2.131"),
            &["jp1-itdm.agent"],
            None,
        );
        fx.host(
            "dev",
            Host::unix("192.0.2.60"),
            &["jp1-itdm.agentless"],
            None,
        );
        let a = pcap(dir, "taps-a.pcap", 1, false, Endian::Little)?;
        let b = pcapng(
            dir,
            "taps-b.pcapng",
            Endian::Little,
            &[iface(Link::ETHERNET, 9, None)],
        )?;
        let tee = Tee {
            a,
            b,
            a_until_ns: T0 + 12 * SECOND,
            b_from_ns: T0 + 4 * SECOND,
            b_offset_ns: 400 * MS,
        };
        let mut net = Net::new(tee, Link::ETHERNET);
        let s = |x: i64| T0 + x * MS;
        fx.ok(&mut net, s(1000), "agent1", "mgr", 31000)?; // A only
        fx.ok(&mut net, s(2000), "mgr", "agent2", 31001)?; // A only
        fx.no_reply(&mut net, s(5000), "agent2", "mgr", 31000, 2)?; // both
        fx.ok(&mut net, s(6000), "agent1", "mgr", 31000)?; // both
        fx.udp_ok(&mut net, s(7000), "mgr", "dev", 161)?; // both
        fx.ok(&mut net, s(11_995), "agent1", "mgr", 31000)?; // handshake in both, the rest in B
        fx.ok(&mut net, s(13_000), "mgr", "agent2", 31001)?; // B only
        fx.ok(&mut net, s(14_000), "agent1", "mgr", 31000)?; // B only
        fx.verdict("agent1", "mgr", 31000, "tcp", "expected");
        fx.verdict("mgr", "agent2", 31001, "tcp", "expected");
        fx.verdict("agent2", "mgr", 31000, "tcp", "blocked");
        fx.verdict("mgr", "dev", 161, "udp", "expected");
        let tee = net.finish()?;
        tee.a.into_inner()?;
        tee.b.into_inner()?;
        fx.write(dir, &["taps-a.pcap", "taps-b.pcapng"], true, &[])?;
        Ok(fx)
    }

    /// Reversed connections with an inventory (Ethernet, pcap µs).
    fn reversed<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Fx<'c>> {
        let mut fx = Fx::new("reversed", cats);
        fx.host(
            "mgr",
            Host::windows("192.0.2.10"),
            &["jp1-itdm.manager"],
            None,
        );
        fx.host(
            "agent",
            Host::windows("192.0.2.130"),
            &["jp1-itdm.agent"],
            None,
        );
        fx.host(
            "console",
            Host::windows("192.0.2.50"),
            &["jp1-itdm.admin_console"],
            None,
        );
        fx.host(
            "ctl",
            Host::windows("192.0.2.51"),
            &["jp1-itdm.controller"],
            None,
        );
        fx.host(
            "rca",
            Host::windows("192.0.2.131"),
            &["jp1-itdm.remote_control_agent"],
            None,
        );
        fx.host(
            "sw",
            Host::windows("192.0.2.20"),
            &["systemwalker-om.server"],
            Some("windows"),
        );
        fx.host(
            "swcl",
            Host::windows("192.0.2.70"),
            &["systemwalker-om.client"],
            None,
        );
        let w = pcap(dir, "reversed.pcap", 1, false, Endian::Little)?;
        let mut net = Net::new(w, Link::ETHERNET);
        let mut t = T0;
        let tcp = [
            ("console", "mgr", 31080, "expected"),
            ("mgr", "console", 31080, "wrong_direction"),
            ("mgr", "agent", 31001, "expected"),
            ("agent", "mgr", 31001, "wrong_direction"),
            ("agent", "mgr", 31000, "expected"),
            ("rca", "ctl", 31016, "wrong_direction"),
            ("ctl", "rca", 31018, "expected"),
            ("rca", "ctl", 31018, "expected"),
            ("ctl", "rca", 31019, "wrong_direction"),
            ("sw", "swcl", 9367, "wrong_direction"),
            ("swcl", "sw", 6961, "wrong_direction"),
        ];
        for (c, s, p, v) in tcp {
            fx.ok(&mut net, t, c, s, p)?;
            fx.verdict(c, s, p, "tcp", v);
            t += 30 * MS;
        }
        net.finish()?;
        fx.write(dir, &["reversed.pcap"], true, &[])?;
        Ok(fx)
    }

    /// Reversed and blocked connections without an inventory (roles
    /// inferred); OpenBSD LOOP link type, pcap ns little-endian. Reversed
    /// attempts are refused, so they teach the inference nothing.
    fn reversed_noinv<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Fx<'c>> {
        let mut fx = Fx::new("reversed-noinv", cats);
        // Roles here only name rules: the manager, agent and Systemwalker
        // server are inferred from what they serve, the others have none
        // and so match any role.
        fx.unlisted_host("mgr", Host::windows("192.0.2.10"), &["jp1-itdm.manager"]);
        fx.unlisted_host("agent", Host::windows("192.0.2.130"), &["jp1-itdm.agent"]);
        fx.unlisted_host(
            "console",
            Host::windows("192.0.2.50"),
            &["jp1-itdm.admin_console"],
        );
        fx.unlisted_host(
            "sw",
            Host::windows("192.0.2.20"),
            &["systemwalker-om.server"],
        );
        fx.unlisted_host(
            "swcl",
            Host::windows("192.0.2.70"),
            &["systemwalker-om.client"],
        );
        fx.unlisted_host("d", Host::windows("192.0.2.98"), &["jp1-itdm.manager"]);
        fx.unlisted_host("e", Host::windows("192.0.2.97"), &["jp1-itdm.agent"]);
        fx.unlisted_host("web", Host::unix("192.0.2.99"), &[]);
        let w = pcap(
            dir,
            "reversed-noinv.pcap",
            Link::Loop.linktype(),
            true,
            Endian::Little,
        )?;
        let mut net = Net::new(w, Link::Loop);
        let t = T0;
        fx.no_reply(&mut net, t, "swcl", "sw", 4013, 2)?;
        fx.verdict("swcl", "sw", 4013, "tcp", "blocked");
        fx.no_reply(&mut net, t + 100 * MS, "d", "e", 16992, 2)?;
        fx.verdict("d", "e", 16992, "tcp", "blocked");
        fx.ok(&mut net, t + 200 * MS, "console", "mgr", 31080)?;
        fx.verdict("console", "mgr", 31080, "tcp", "expected");
        fx.ok(&mut net, t + 300 * MS, "mgr", "agent", 31001)?;
        fx.verdict("mgr", "agent", 31001, "tcp", "expected");
        fx.ok(&mut net, t + 400 * MS, "swcl", "sw", 9367)?;
        fx.verdict("swcl", "sw", 9367, "tcp", "expected");
        fx.ok(&mut net, t + 500 * MS, "swcl", "web", 443)?;
        fx.verdict("swcl", "web", 443, "tcp", "unlisted");
        let t = fx.tail_start(t + SECOND);
        fx.refused(&mut net, t, "agent", "mgr", 31001, None)?;
        fx.verdict("agent", "mgr", 31001, "tcp", "wrong_direction");
        fx.refused(&mut net, t + 100 * MS, "sw", "swcl", 9367, None)?;
        fx.verdict("sw", "swcl", 9367, "tcp", "wrong_direction");
        net.finish()?;
        fx.write(dir, &["reversed-noinv.pcap"], false, &[])?;
        Ok(fx)
    }
}

mod fixtures_spec11 {
    use super::fixture::Fx;
    use super::fixtures::{iface, pcapng};
    use super::*;

    /// SPEC 1.1 on one pcapng with Ethernet, Linux cooked (SLL) and SLL2
    /// interfaces (IPv4 and IPv6), with and without an inventory: the reply
    /// timeout counts from the first attempt; shared
    /// ports (SMB, NetBIOS, SNMP, SSH) are judged only where a host shows
    /// the product; RPC dynamic ports only after an endpoint mapper that
    /// answered before them.
    pub fn spec11<'c>(dir: &Path, cats: &'c rules::Catalogs) -> io::Result<Vec<Fx<'c>>> {
        let mut out = Vec::new();
        for with_inventory in [true, false] {
            let name = if with_inventory {
                "spec11"
            } else {
                "spec11-noinv"
            };
            let mut fx = Fx::new(name, cats);
            let host = |fx: &mut Fx<'c>, n: &'static str, addr: &str, roles: &[&'static str]| {
                if with_inventory && !roles.is_empty() {
                    fx.host(n, Host::windows(addr), roles, None);
                } else {
                    fx.unlisted_host(n, Host::windows(addr), roles);
                }
            };
            host(&mut fx, "mgr", "192.0.2.10", &["jp1-itdm.manager"]);
            host(&mut fx, "agent", "192.0.2.130", &["jp1-itdm.agent"]);
            host(&mut fx, "agent2", "192.0.2.131", &["jp1-itdm.agent"]);
            host(&mut fx, "dev", "192.0.2.60", &["jp1-itdm.agentless"]);
            host(&mut fx, "sw", "192.0.2.20", &["systemwalker-om.server"]);
            host(&mut fx, "swcl", "192.0.2.70", &["systemwalker-om.client"]);
            host(
                &mut fx,
                "rm1",
                "198.51.100.30",
                &["systemwalker-om.remote_machine"],
            );
            host(
                &mut fx,
                "rm2",
                "198.51.100.31",
                &["systemwalker-om.remote_machine"],
            );
            host(
                &mut fx,
                "rm3",
                "198.51.100.32",
                &["systemwalker-om.remote_machine"],
            );
            // Hosts of no product: a file server, a PC, an admin's machine.
            host(&mut fx, "fs", "192.0.2.90", &[]);
            host(&mut fx, "pc", "192.0.2.91", &[]);
            host(&mut fx, "admin", "192.0.2.92", &[]);
            host(&mut fx, "mgr6", "2001:db8::10", &["jp1-itdm.manager"]);
            host(&mut fx, "agent6", "2001:db8::130", &["jp1-itdm.agent"]);
            // Never listed; the role only names the rule it falls under
            // where the manager shows the product (no inventory).
            fx.unlisted_host(
                "fs6",
                Host::windows("2001:db8::90"),
                &["jp1-itdm.agentless"],
            );
            host(&mut fx, "pc6", "2001:db8::91", &[]);
            let w = pcapng(
                dir,
                &format!("{name}.pcapng"),
                Endian::Little,
                &[
                    iface(Link::ETHERNET, 6, None),
                    iface(Link::Sll, 6, None),
                    iface(Link::Sll2, 9, None),
                ],
            )?;
            let mut net = Net::new(w, Link::ETHERNET);
            let mut t = T0;
            let mut next = || {
                t += 100 * MS;
                t
            };
            // Servers show their roles on ports of their own (what inference
            // goes by without an inventory).
            fx.ok(&mut net, next(), "agent", "mgr", 31000)?;
            fx.verdict("agent", "mgr", 31000, "tcp", "expected");
            fx.ok(&mut net, next(), "swcl", "sw", 9367)?;
            fx.verdict("swcl", "sw", 9367, "tcp", "expected");
            // The manager's SMB to an agentless device: the manager shows it.
            fx.ok(&mut net, next(), "mgr", "dev", 445)?;
            fx.verdict("mgr", "dev", 445, "tcp", "expected");
            // A PC and a file server: none of the products' business.
            for port in [445, 139] {
                fx.ok(&mut net, next(), "pc", "fs", port)?;
                fx.verdict("pc", "fs", port, "tcp", "unlisted");
            }
            for port in [137, 161] {
                fx.udp_silent(&mut net, next(), "pc", "fs", port)?;
                fx.verdict("pc", "fs", port, "udp", "unlisted");
            }
            fx.no_reply(&mut net, next(), "pc", "fs", 445, 1)?;
            // An admin's SSH to a remote machine.
            fx.ok(&mut net, next(), "admin", "rm1", 22)?;
            fx.verdict("admin", "rm1", 22, "tcp", "unlisted");
            // IPv6: SMB between hosts of no role, and from the manager to a
            // host the inventory does not list (no role with an inventory;
            // without one, the manager shows the product and the other host
            // may be anything).
            fx.ok(&mut net, next(), "agent6", "mgr6", 31000)?;
            fx.verdict("agent6", "mgr6", 31000, "tcp", "expected");
            fx.ok(&mut net, next(), "pc6", "fs6", 445)?;
            fx.verdict("pc6", "fs6", 445, "tcp", "unlisted");
            fx.no_reply(&mut net, next(), "mgr6", "fs6", 445, 1)?;
            fx.verdict(
                "mgr6",
                "fs6",
                445,
                "tcp",
                if with_inventory {
                    "unlisted"
                } else {
                    "blocked"
                },
            );
            // RPC, as `tcpdump -i any` records it: a SYN scan of the endpoint
            // mapper, then dynamic ports.
            net.set_interface(1, Link::Sll);
            let scan = next();
            fx.no_reply(&mut net, scan, "sw", "rm1", 135, 1)?;
            fx.verdict("sw", "rm1", 135, "tcp", "blocked");
            fx.no_reply(&mut net, scan + 50 * MS, "sw", "rm1", 49200, 1)?;
            fx.verdict("sw", "rm1", 49200, "tcp", "unlisted");
            // The endpoint mapper answered, then the dynamic port.
            let at = next();
            fx.ok(&mut net, at, "sw", "rm2", 135)?;
            fx.verdict("sw", "rm2", 135, "tcp", "expected");
            fx.ok(&mut net, at + 50 * MS, "sw", "rm2", 49201)?;
            fx.verdict("sw", "rm2", 49201, "tcp", "expected");
            // The dynamic port first, the endpoint mapper only after it.
            let at = next();
            fx.ok(&mut net, at, "sw", "rm3", 49202)?;
            fx.verdict("sw", "rm3", 49202, "tcp", "unlisted");
            fx.ok(&mut net, at + 50 * MS, "sw", "rm3", 135)?;
            fx.verdict("sw", "rm3", 135, "tcp", "expected");
            // SYNs retried, then answered: established.
            net.set_interface(2, Link::Sll2);
            fx.retried_ok(&mut net, next(), "agent6", "mgr6", 31000, 2)?;
            // The end: attempts retried until just before the capture stops
            // (their last retry is < 3 s old, their first > 3 s).
            let tail = fx.tail_start(t + SECOND);
            fx.no_reply_at_end(&mut net, tail, "agent2", "mgr", 31000, 3)?;
            fx.verdict("agent2", "mgr", 31000, "tcp", "blocked");
            fx.udp_silent_at_end(&mut net, tail + 3 * SECOND, "mgr", "dev", 161)?;
            fx.verdict("mgr", "dev", 161, "udp", "blocked");
            fx.ok(
                &mut net,
                tail + 7 * SECOND + 200 * MS,
                "agent",
                "mgr",
                31000,
            )?;
            net.finish()?;
            fx.write(dir, &[&format!("{name}.pcapng")], with_inventory, &[])?;
            out.push(fx);
        }
        Ok(out)
    }
}

/// The benchmark generator: a large deterministic "enterprise mix" written
/// in a stream with a bounded set of concurrent flows.
mod bench {
    use super::*;

    /// The shape of the traffic: who talks to whom, on which ports, over
    /// which link. `DEFAULT` is the mix every figure in the README and in
    /// `benches/compare.sh` was first measured on; it is reproduced byte for
    /// byte (same seed, same file) whatever else the generator learns.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Mix {
        /// Size of the client pool.
        pub clients: u32,
        /// Size of the server farm. Each client has a home server (clients
        /// spread evenly over the farm) and talks to it and to the next
        /// `servers_per_client - 1` servers.
        pub servers: u32,
        pub servers_per_client: u32,
        /// Catalog services one client uses: consecutive entries of the
        /// (weighted) port table from a per-client offset.
        pub ports_per_client: u32,
        /// Share of sessions on a non-catalog port, in millionths. `None`:
        /// the original port tables, where unlisted ports are mixed in by
        /// repetition (about 18 % of sessions).
        pub noncatalog_ppm: Option<u32>,
        /// Shares of IPv6 and of 802.1Q-tagged sessions, in millionths.
        pub ipv6_ppm: u32,
        pub vlan_ppm: u32,
        /// Data packets of a TCP session (UDP rounds: half of it):
        /// 4 + uniform below this.
        pub data_spread: u32,
    }

    impl Mix {
        /// The original enterprise mix: 4 000 clients, 40 servers.
        pub const DEFAULT: Mix = Mix {
            clients: 4_000,
            servers: 40,
            servers_per_client: 2,
            ports_per_client: 3,
            noncatalog_ppm: None,
            ipv6_ppm: 100_000,
            vlan_ppm: 50_000,
            data_spread: 12,
        };

        /// A SPAN port of a larger site: 8 000 clients, 400 servers, each
        /// client on several catalog services of a few servers, plus 20 %
        /// of sessions on non-catalog ports anywhere in the farm, sessions a
        /// little longer than the default's. With `--flows 20000 --seed 1`,
        /// 10 M packets hold 354 755 conversations and 639 049 connections
        /// (`flowlint check --max-conversations 5000000`; the default mix:
        /// 74 701 and 789 831).
        pub const HIGH_CARDINALITY: Mix = Mix {
            clients: 8_000,
            servers: 400,
            servers_per_client: 4,
            ports_per_client: 4,
            noncatalog_ppm: Some(200_000),
            ipv6_ppm: 100_000,
            vlan_ppm: 50_000,
            data_spread: 19,
        };
    }

    pub struct Opts {
        pub packets: u64,
        pub flows: usize,
        pub seed: u64,
        pub pcapng: bool,
        pub out: PathBuf,
        pub mix: Mix,
    }

    /// One `--clients`, `--ipv6-share`… given on the command line.
    type Knob = Box<dyn Fn(&mut Mix)>;

    /// `--mix` names.
    pub const MIXES: &str = "default|high-cardinality";

    pub fn parse_args(args: &[String]) -> io::Result<Opts> {
        let bad = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let mut o = Opts {
            packets: 1_000_000,
            flows: 1000,
            seed: 1,
            pcapng: false,
            out: PathBuf::new(),
            mix: Mix::DEFAULT,
        };
        // Knobs given one by one override the preset of `--mix`, in
        // whatever order they come.
        let mut knobs: Vec<Knob> = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut val = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| bad(format!("{a} needs a value")))
            };
            let num = |v: String| {
                v.parse::<u64>()
                    .map_err(|_| bad(format!("{a}: not a number: {v}")))
            };
            let count = |v: String, max: u32| {
                num(v).and_then(|n| match u32::try_from(n) {
                    Ok(n) if (1..=max).contains(&n) => Ok(n),
                    _ => Err(bad(format!("{a}: from 1 to {max}, not {n}"))),
                })
            };
            // A share: a fraction from 0 to 1 (`0.2`) or a percentage
            // (`20%`), kept in millionths.
            let share = |v: String| {
                let (s, scale) = match v.strip_suffix('%') {
                    Some(p) => (p, 100.0),
                    None => (v.as_str(), 1.0),
                };
                match s.trim().parse::<f64>() {
                    Ok(f) if (0.0..=1.0).contains(&(f / scale)) => {
                        Ok((f / scale * 1e6).round() as u32)
                    }
                    _ => Err(bad(format!(
                        "{a}: a share from 0 to 1 (or 0% to 100%), not {v}"
                    ))),
                }
            };
            match a.as_str() {
                "--packets" => o.packets = num(val()?)?,
                "--flows" => o.flows = num(val()?)?.max(1) as usize,
                "--seed" => o.seed = num(val()?)?,
                "--format" => {
                    o.pcapng = match val()?.as_str() {
                        "pcap" => false,
                        "pcapng" => true,
                        f => return Err(bad(format!("--format: pcap or pcapng, not {f}"))),
                    }
                }
                "--out" => o.out = PathBuf::from(val()?),
                "--mix" => {
                    o.mix = match val()?.as_str() {
                        "default" => Mix::DEFAULT,
                        "high-cardinality" => Mix::HIGH_CARDINALITY,
                        m => return Err(bad(format!("--mix: {MIXES}, not {m}"))),
                    }
                }
                "--clients" => {
                    let n = count(val()?, MAX_CLIENTS)?;
                    knobs.push(Box::new(move |m| m.clients = n));
                }
                "--servers" => {
                    let n = count(val()?, MAX_SERVERS)?;
                    knobs.push(Box::new(move |m| m.servers = n));
                }
                "--servers-per-client" => {
                    let n = count(val()?, MAX_SERVERS)?;
                    knobs.push(Box::new(move |m| m.servers_per_client = n));
                }
                "--ports-per-client" => {
                    let n = count(val()?, 64)?;
                    knobs.push(Box::new(move |m| m.ports_per_client = n));
                }
                "--noncatalog-share" => {
                    let n = share(val()?)?;
                    knobs.push(Box::new(move |m| m.noncatalog_ppm = Some(n)));
                }
                "--ipv6-share" => {
                    let n = share(val()?)?;
                    knobs.push(Box::new(move |m| m.ipv6_ppm = n));
                }
                "--vlan-share" => {
                    let n = share(val()?)?;
                    knobs.push(Box::new(move |m| m.vlan_ppm = n));
                }
                _ => return Err(bad(format!("unknown option {a}"))),
            }
        }
        for k in knobs {
            k(&mut o.mix);
        }
        if o.out.as_os_str().is_empty() {
            return Err(bad("--out FILE is required".into()));
        }
        Ok(o)
    }

    /// SplitMix64: small, fast, good enough, and seedable.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
        }
    }

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Kind {
        /// Handshake, `data` segments, FIN exchange.
        Session,
        /// SYN retransmitted, never answered.
        NoAnswer,
        /// SYN answered by RST.
        Refused,
        /// SYN answered by ICMP from a firewall.
        Firewalled,
        /// UDP request/response pairs.
        Udp,
        /// UDP answered by ICMP port unreachable.
        UdpClosed,
    }

    #[derive(Clone, Copy)]
    struct Slot {
        kind: Kind,
        client: Host,
        server: Host,
        cport: u16,
        sport: u16,
        link: Link,
        step: u32,
        /// Packets of data after the handshake (Session) or rounds (Udp).
        data: u32,
        cseq: u32,
        sseq: u32,
    }

    /// Catalog ports and some unlisted ones, weighted by repetition: the
    /// port tables of `Mix::DEFAULT` (`noncatalog_ppm: None`).
    const TCP_PORTS: [u16; 16] = [
        31000, 31000, 31000, 31001, 31080, 9352, 9352, 9367, 9297, 445, 139, 443, 443, 80, 22, 135,
    ];
    const UDP_PORTS: [u16; 6] = [161, 137, 138, 445, 53, 1952];

    /// With an explicit non-catalog share: the catalog services clients
    /// use (JP1/IT Desktop Management 2 and Systemwalker Operation Manager,
    /// cross-host rules, weighted by repetition) and ports no built-in
    /// catalog lists (web, RDP, SQL Server, WinRM, LDAP, DNS, NTP, syslog).
    /// The `port_tables_match_the_catalogs` test holds them to the catalog
    /// files.
    const CATALOG_TCP: [u16; 15] = [
        31000, 31000, 31080, 31001, 31016, 445, 139, 9367, 9352, 9368, 9297, 9371, 9369, 4013, 135,
    ];
    const CATALOG_UDP: [u16; 5] = [161, 137, 138, 445, 1952];
    const NONCATALOG_TCP: [u16; 8] = [443, 443, 80, 8080, 3389, 1433, 5985, 389];
    const NONCATALOG_UDP: [u16; 5] = [53, 53, 123, 514, 389];

    /// Limits of `--clients` and `--servers`: clients are numbered from
    /// 10.16.0.1, servers from 10.0.0.1, below the firewall 10.255.255.254.
    const MAX_CLIENTS: u32 = 15_000_000;
    const MAX_SERVERS: u32 = 1_000_000;

    struct Gen {
        rng: Rng,
        mix: Mix,
        firewall: Host,
        firewall6: Host,
        next_port: u16,
    }

    impl Gen {
        /// Like an enterprise network, a bounded set of clients each talks
        /// to a home server (and a few of its neighbours), so conversations
        /// saturate while connections keep coming.
        fn home_server(&mut self, client_n: u32) -> u32 {
            let m = &self.mix;
            let home = u64::from(client_n) * u64::from(m.servers) / u64::from(m.clients);
            let n = home + self.rng.below(u64::from(m.servers_per_client));
            (n % u64::from(m.servers)) as u32
        }

        fn host_n(&mut self, n: u32, server: bool, v6: bool) -> Host {
            let ttl = if n % 3 == 0 { 64 } else { 128 };
            let addr: IpAddr = if v6 {
                let net: u128 = if server {
                    0xfd00_0000_0000_0001
                } else {
                    0xfd00_0000_0000_0002
                };
                IpAddr::V6(((net << 64) | (u128::from(n) + 1)).into())
            } else {
                let base: u32 = if server { 0x0a00_0000 } else { 0x0a10_0000 };
                IpAddr::V4((base + n + 1).into())
            };
            Host::new(addr, ttl)
        }

        /// True with probability `ppm` millionths. For `ppm` = 10⁶/k this
        /// is exactly `below(k) == 0` (both are `next() < 2⁶⁴/k`).
        fn chance(&mut self, ppm: u32) -> bool {
            self.rng.below(1_000_000) < u64::from(ppm)
        }

        fn new_slot(&mut self) -> Slot {
            let m = self.mix;
            let v6 = self.chance(m.ipv6_ppm);
            let client_n = self.rng.below(u64::from(m.clients)) as u32;
            let vlan = self.chance(m.vlan_ppm);
            let r = self.rng.below(100);
            let kind = match r {
                0..=69 => Kind::Session,
                70..=73 => Kind::NoAnswer,
                74..=76 => Kind::Refused,
                77..=78 => Kind::Firewalled,
                79..=97 => Kind::Udp,
                _ => Kind::UdpClosed,
            };
            let udp = matches!(kind, Kind::Udp | Kind::UdpClosed);
            // Each client uses a few services (of its role), not all of them.
            let ppc = u64::from(m.ports_per_client);
            let pick = |rng: &mut Rng, table: &[u16]| {
                let i = u64::from(client_n) * ppc + rng.below(ppc);
                table[(i % table.len() as u64) as usize]
            };
            let (sport, noncatalog) = match m.noncatalog_ppm {
                None => (
                    pick(&mut self.rng, if udp { &UDP_PORTS } else { &TCP_PORTS }),
                    false,
                ),
                Some(ppm) if self.chance(ppm) => {
                    let t: &[u16] = if udp {
                        &NONCATALOG_UDP
                    } else {
                        &NONCATALOG_TCP
                    };
                    (t[self.rng.below(t.len() as u64) as usize], true)
                }
                Some(_) => (
                    pick(&mut self.rng, if udp { &CATALOG_UDP } else { &CATALOG_TCP }),
                    false,
                ),
            };
            self.next_port = if self.next_port >= 65_000 {
                49_200
            } else {
                self.next_port + 1
            };
            // Non-catalog services (intranet web, file shares, databases)
            // are anywhere in the farm.
            let server_n = if noncatalog {
                self.rng.below(u64::from(m.servers)) as u32
            } else {
                self.home_server(client_n)
            };
            Slot {
                kind,
                client: self.host_n(client_n, false, v6),
                server: self.host_n(server_n, true, v6),
                cport: self.next_port,
                sport,
                link: Link::Ethernet {
                    vlan: if vlan {
                        Vlan::Dot1Q(100 + (sport % 7))
                    } else {
                        Vlan::None
                    },
                    fcs: false,
                },
                step: 0,
                data: 4 + self.rng.below(u64::from(m.data_spread)) as u32,
                cseq: self.rng.next() as u32,
                sseq: self.rng.next() as u32,
            }
        }

        /// Builds the slot's next packet into `pkt`; returns false when the
        /// flow is over (nothing built).
        fn step(&mut self, s: &mut Slot, pkt: &mut PacketBuf) -> bool {
            use flowlint::synth::tcp_flags as F;
            let i = s.step;
            s.step += 1;
            let seg = |to_server: bool, seq: u32, ack: u32, flags: u8, len: usize| {
                let (sport, dport) = if to_server {
                    (s.cport, s.sport)
                } else {
                    (s.sport, s.cport)
                };
                TcpSeg {
                    sport,
                    dport,
                    seq,
                    ack,
                    flags,
                    window: 0,
                    payload_len: len,
                }
            };
            let (c, sv, link) = (s.client, s.server, s.link);
            match s.kind {
                Kind::Session => {
                    let d = s.data;
                    match i {
                        0 => pkt.tcp(&link, &c, &sv, &seg(true, s.cseq, 0, F::SYN, 0)),
                        1 => pkt.tcp(
                            &link,
                            &sv,
                            &c,
                            &seg(false, s.sseq, s.cseq + 1, F::SYN | F::ACK, 0),
                        ),
                        2 => {
                            s.cseq += 1;
                            s.sseq += 1;
                            pkt.tcp(&link, &c, &sv, &seg(true, s.cseq, s.sseq, F::ACK, 0))
                        }
                        _ if i < 3 + d => {
                            // Alternating request/response; responses larger.
                            let len = if i % 2 == 1 {
                                self.rng.below(500) as usize
                            } else {
                                600 + self.rng.below(860) as usize
                            };
                            let to_server = i % 2 == 1;
                            let p = if to_server {
                                pkt.tcp(
                                    &link,
                                    &c,
                                    &sv,
                                    &seg(true, s.cseq, s.sseq, F::PSH | F::ACK, len),
                                )
                            } else {
                                pkt.tcp(
                                    &link,
                                    &sv,
                                    &c,
                                    &seg(false, s.sseq, s.cseq, F::PSH | F::ACK, len),
                                )
                            };
                            if to_server {
                                s.cseq = s.cseq.wrapping_add(len as u32);
                            } else {
                                s.sseq = s.sseq.wrapping_add(len as u32);
                            }
                            p
                        }
                        _ if i == 3 + d => pkt.tcp(
                            &link,
                            &c,
                            &sv,
                            &seg(true, s.cseq, s.sseq, F::FIN | F::ACK, 0),
                        ),
                        _ if i == 4 + d => pkt.tcp(
                            &link,
                            &sv,
                            &c,
                            &seg(false, s.sseq, s.cseq + 1, F::FIN | F::ACK, 0),
                        ),
                        _ if i == 5 + d => pkt.tcp(
                            &link,
                            &c,
                            &sv,
                            &seg(true, s.cseq + 1, s.sseq + 1, F::ACK, 0),
                        ),
                        _ => return false,
                    };
                }
                Kind::NoAnswer if i < 3 => {
                    pkt.tcp(&link, &c, &sv, &seg(true, s.cseq, 0, F::SYN, 0));
                }
                Kind::Refused if i < 2 => {
                    if i == 0 {
                        pkt.tcp(&link, &c, &sv, &seg(true, s.cseq, 0, F::SYN, 0));
                    } else {
                        pkt.tcp(
                            &link,
                            &sv,
                            &c,
                            &seg(false, 0, s.cseq + 1, F::RST | F::ACK, 0),
                        );
                    }
                }
                Kind::Firewalled if i < 2 => {
                    pkt.tcp(&link, &c, &sv, &seg(true, s.cseq, 0, F::SYN, 0));
                    if i == 1 {
                        let fw = if c.addr.is_ipv6() {
                            self.firewall6
                        } else {
                            self.firewall
                        };
                        pkt.icmp_unreachable(&link, &fw, &c, Unreach::AdminProhibited);
                    }
                }
                Kind::Udp if i < 2 * (s.data / 2).max(1) => {
                    if i % 2 == 0 {
                        pkt.udp(
                            &link,
                            &c,
                            &sv,
                            s.cport,
                            s.sport,
                            40 + self.rng.below(200) as usize,
                        );
                    } else {
                        pkt.udp(
                            &link,
                            &sv,
                            &c,
                            s.sport,
                            s.cport,
                            200 + self.rng.below(1200) as usize,
                        );
                    }
                }
                Kind::UdpClosed if i < 2 => {
                    pkt.udp(&link, &c, &sv, s.cport, s.sport, 60);
                    if i == 1 {
                        pkt.icmp_unreachable(&link, &sv, &c, Unreach::Port);
                    }
                }
                _ => return false,
            }
            true
        }
    }

    pub fn run(o: &Opts) -> io::Result<()> {
        let file = File::create(&o.out)?;
        let start = std::time::Instant::now();
        if o.pcapng {
            let w = PcapngWriter::new(file, Endian::Little, &[PcapngInterface::new(1)])?;
            generate(o, w)?;
        } else {
            generate(o, PcapWriter::new(file, PcapOptions::new(1))?)?;
        }
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "flowlint-gen: {} packets in {secs:.2} s ({:.0} packets/s) → {}",
            o.packets,
            o.packets as f64 / secs,
            o.out.display()
        );
        Ok(())
    }

    fn generate<W: CaptureWriter>(o: &Opts, mut w: W) -> io::Result<()> {
        let mut g = Gen {
            rng: Rng(o.seed),
            mix: o.mix,
            firewall: Host::parse("10.255.255.254", 255),
            firewall6: Host::parse("fd00::fffe", 255),
            next_port: 49_200,
        };
        let mut slots: Vec<Slot> = (0..o.flows).map(|_| g.new_slot()).collect();
        let mut pkt = PacketBuf::new();
        let mut ts = T0;
        let mut written = 0u64;
        while written < o.packets {
            let k = g.rng.below(slots.len() as u64) as usize;
            if !g.step(&mut slots[k], &mut pkt) {
                slots[k] = g.new_slot();
                continue;
            }
            // ~10 µs between packets on average: 100 k packets/s of capture.
            ts += 1_000 + g.rng.below(18_000) as i64;
            let f = pkt.frame();
            w.write_packet(0, ts, f, f.len() as u32)?;
            written += 1;
        }
        w.flush()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn listed(c: &rules::Catalogs, port: u16, proto: &str, cross_host: bool) -> bool {
            c.rules.iter().any(|r| {
                r.proto == proto
                    && !(cross_host && r.same_host)
                    && r.ports.iter().any(|&(a, b)| a <= port && port <= b)
            })
        }

        /// The catalog tables hold ports of cross-host rules of the built-in
        /// catalogs; the non-catalog ones, ports no rule of them lists.
        #[test]
        fn port_tables_match_the_catalogs() {
            let c = rules::Catalogs::load();
            assert!(c.missing.is_empty(), "catalogs missing: {:?}", c.missing);
            for (table, proto) in [(&CATALOG_TCP[..], "tcp"), (&CATALOG_UDP[..], "udp")] {
                for &p in table {
                    assert!(listed(&c, p, proto, true), "{p}/{proto} is in no catalog");
                }
            }
            for (table, proto) in [(&NONCATALOG_TCP[..], "tcp"), (&NONCATALOG_UDP[..], "udp")] {
                for &p in table {
                    assert!(!listed(&c, p, proto, false), "{p}/{proto} is in a catalog");
                }
            }
        }

        /// `chance(10⁶/k)` draws exactly what `below(k) == 0` drew before
        /// the shares became knobs, so the default mix is unchanged.
        #[test]
        fn shares_reproduce_the_old_draws() {
            let mut probe = Rng(42);
            for _ in 0..100_000 {
                let x = probe.next();
                for (ppm, k) in [(100_000u64, 10u64), (50_000, 20)] {
                    let old = ((u128::from(x) * u128::from(k)) >> 64) == 0;
                    let new = ((u128::from(x) * 1_000_000) >> 64) < u128::from(ppm);
                    assert_eq!(old, new, "x = {x:#x}");
                }
            }
            // And at the edges of the ranges where they switch.
            for k in [10u128, 20] {
                let edge = ((1u128 << 64) / k) as u64;
                for x in [edge - 1, edge, edge + 1] {
                    let old = ((u128::from(x) * k) >> 64) == 0;
                    let new = ((u128::from(x) * 1_000_000) >> 64) < 1_000_000 / k;
                    assert_eq!(old, new, "k = {k}, x = {x:#x}");
                }
            }
        }

        fn parse(args: &[&str]) -> io::Result<Opts> {
            let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            parse_args(&v)
        }

        #[test]
        fn knobs_override_the_mix_in_any_order() {
            let o = parse(&["--out", "x"]).unwrap();
            assert_eq!(o.mix, Mix::DEFAULT);
            let o = parse(&[
                "--vlan-share",
                "0",
                "--mix",
                "high-cardinality",
                "--out",
                "x",
            ])
            .unwrap();
            assert_eq!(
                o.mix,
                Mix {
                    vlan_ppm: 0,
                    ..Mix::HIGH_CARDINALITY
                }
            );
            let o = parse(&[
                "--clients",
                "100",
                "--servers",
                "7",
                "--noncatalog-share",
                "20%",
                "--ipv6-share",
                "0.25",
                "--out",
                "x",
            ])
            .unwrap();
            assert_eq!(
                o.mix,
                Mix {
                    clients: 100,
                    servers: 7,
                    noncatalog_ppm: Some(200_000),
                    ipv6_ppm: 250_000,
                    ..Mix::DEFAULT
                }
            );
            for bad in [
                &["--ipv6-share", "1.5", "--out", "x"][..],
                &["--vlan-share", "-1%", "--out", "x"],
                &["--clients", "0", "--out", "x"],
                &["--mix", "huge", "--out", "x"],
            ] {
                assert!(parse(bad).is_err(), "{bad:?} accepted");
            }
        }
    }
}

/// `flowlint-gen flood`: a SYN flood or port scan with millions of distinct
/// sources, streamed (memory does not depend on `--flows`), for measuring
/// that `check` stays within the connection limit.
mod flood {
    use super::*;

    pub struct Opts {
        pub flows: u64,
        /// `syn`: every flow a new source address and port to one server
        /// port; `scan`: a few scanners sweep every port of many hosts.
        pub scan: bool,
        pub pcapng: bool,
        pub out: PathBuf,
    }

    pub fn parse_args(args: &[String]) -> io::Result<Opts> {
        let bad = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let mut o = Opts {
            flows: 1_000_000,
            scan: false,
            pcapng: false,
            out: PathBuf::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut val = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| bad(format!("{a} needs a value")))
            };
            match a.as_str() {
                "--flows" => {
                    let v = val()?;
                    o.flows = v
                        .parse()
                        .map_err(|_| bad(format!("--flows: not a number: {v}")))?;
                }
                "--kind" => {
                    o.scan = match val()?.as_str() {
                        "syn" => false,
                        "scan" => true,
                        k => return Err(bad(format!("--kind: syn or scan, not {k}"))),
                    }
                }
                "--format" => {
                    o.pcapng = match val()?.as_str() {
                        "pcap" => false,
                        "pcapng" => true,
                        f => return Err(bad(format!("--format: pcap or pcapng, not {f}"))),
                    }
                }
                "--out" => o.out = PathBuf::from(val()?),
                _ => return Err(bad(format!("unknown option {a}"))),
            }
        }
        if o.out.as_os_str().is_empty() {
            return Err(bad("--out FILE is required".into()));
        }
        Ok(o)
    }

    pub fn run(o: &Opts) -> io::Result<()> {
        let file = File::create(&o.out)?;
        if o.pcapng {
            let w = PcapngWriter::new(file, Endian::Little, &[PcapngInterface::new(1)])?;
            generate(o, w)
        } else {
            generate(o, PcapWriter::new(file, PcapOptions::new(1))?)
        }
    }

    /// Flow `i` of the flood: (client, client port, server, server port).
    /// SYN flood: a new source address (16.0.0.0 + i, spoofed) and port for
    /// every flow, all to one catalog port of one server, so every flow is a
    /// connection and a conversation of its own. Scan: 64 scanners sweep
    /// ports 1–65535 of consecutive hosts in 172.16.0.0/12.
    fn endpoints(o: &Opts, i: u64) -> (Host, u16, Host, u16) {
        if o.scan {
            let scanner = Host::new(IpAddr::V4((0xc633_6400 + (i % 64) as u32).into()), 64);
            let target = i / 65_535;
            let server = Host::new(IpAddr::V4((0xac10_0000 + target as u32).into()), 128);
            let port = (i % 65_535) as u16 + 1;
            (scanner, 40_000 + (target % 20_000) as u16, server, port)
        } else {
            let client = Host::new(IpAddr::V4((0x1000_0000 + i as u32).into()), 64);
            let port = 1024 + (i % 64_000) as u16;
            let server = Host::parse("192.0.2.10", 128);
            (client, port, server, 31000)
        }
    }

    fn generate<W: CaptureWriter>(o: &Opts, mut w: W) -> io::Result<()> {
        use flowlint::synth::tcp_flags as F;
        let mut pkt = PacketBuf::new();
        let link = Link::ETHERNET;
        for i in 0..o.flows {
            let (c, cport, s, sport) = endpoints(o, i);
            // 1 M SYNs a second: a flood, and within every idle timeout, so
            // only the connection limit bounds the table.
            let ts = T0 + (i as i64) * 1_000;
            let seg = TcpSeg {
                sport: cport,
                dport: sport,
                seq: (i as u32).wrapping_mul(2_654_435_761),
                ack: 0,
                flags: F::SYN,
                window: 1024,
                payload_len: 0,
            };
            let f = pkt.tcp(&link, &c, &s, &seg);
            w.write_packet(0, ts, f, f.len() as u32)?;
        }
        w.flush()
    }
}

/// Hostile fixtures (`fixtures/hostile/`, written by `flowlint-gen fixtures`):
/// crafted packets and records no honest stack writes, each capture with
/// `<name>.outcome.json`, the exact outcome `flowlint check` must report:
/// exit status, skipped records by reason, every warning (offset and the
/// words it must contain), and every conversation with its states. The
/// outcomes are decided here from SPEC.md and the formats' rules; all server
/// ports are in no catalog, so verdicts are `unlisted` without an inventory.
mod hostile {
    use super::*;
    use flowlint::synth::craft::{
        self, V4Opts, ETHERTYPE_IPV4, ETHERTYPE_IPV6, PROTO_TCP, PROTO_UDP,
    };
    use flowlint::synth::tcp_flags::{ACK, FIN, PSH, SYN};
    use serde_json::{json, Value};

    const CLIENT: [u8; 4] = [10, 0, 0, 1];
    const SERVER: [u8; 4] = [10, 0, 0, 2];
    const V6_CLIENT: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const V6_SERVER: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    /// A pcap file being built in memory, so record offsets are known.
    struct File_ {
        bytes: Vec<u8>,
        warnings: Vec<Value>,
        convs: Vec<Value>,
        skipped: BTreeMap<&'static str, u64>,
        packets: u64,
    }

    impl File_ {
        fn new() -> File_ {
            File_ {
                bytes: craft::pcap_header(262_144, 1),
                warnings: Vec::new(),
                convs: Vec::new(),
                skipped: BTreeMap::new(),
                packets: 0,
            }
        }

        /// Appends one honest record; returns its offset.
        fn frame(&mut self, ts: i64, frame: &[u8]) -> u64 {
            let len = frame.len() as u32;
            self.raw(ts, len, len, frame)
        }

        /// Appends a record whose length fields may lie; returns its offset.
        fn raw(&mut self, ts: i64, caplen: u32, orig_len: u32, data: &[u8]) -> u64 {
            let at = self.bytes.len() as u64;
            self.bytes
                .extend(craft::pcap_record(ts, caplen, orig_len, data));
            self.packets += 1;
            at
        }

        fn skip(&mut self, reason: &'static str) {
            *self.skipped.entry(reason).or_default() += 1;
        }

        fn warn(&mut self, offset: u64, contains: &str) {
            self.warnings
                .push(json!({"offset": offset, "contains": contains}));
        }

        fn conv(&mut self, client: &str, server: &str, port: u16, proto: &str, states: Value) {
            self.convs.push(json!({
                "client": client, "server": server, "server_port": port,
                "protocol": proto, "verdict": "unlisted", "states": states,
            }));
        }

        fn write(self, dir: &Path, name: &str, what: &str) -> io::Result<()> {
            fs::write(dir.join(format!("{name}.pcap")), &self.bytes)?;
            let doc = json!({
                "about": what,
                "args": [],
                "captures": [format!("fixtures/hostile/{name}.pcap")],
                "exit": 0,
                "packets": self.packets,
                "skipped": self.skipped,
                "warnings": self.warnings,
                "conversations": self.convs,
            });
            let mut text = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
            text.push('\n');
            fs::write(dir.join(format!("{name}.outcome.json")), text)
        }
    }

    fn v4_tcp(src: [u8; 4], dst: [u8; 4], seg: Vec<u8>) -> Vec<u8> {
        craft::eth(
            ETHERTYPE_IPV4,
            &[],
            &craft::ipv4(src, dst, PROTO_TCP, &seg, V4Opts::default()),
        )
    }

    /// SYN, SYN-ACK, ACK of `cport` → `sport` between CLIENT and SERVER from
    /// `t`, 1 ms apart, each frame passed through `wrap` (tags, headers).
    fn handshake(
        f: &mut File_,
        t: i64,
        cport: u16,
        sport: u16,
        wrap: &dyn Fn(bool, Vec<u8>) -> Vec<u8>,
    ) {
        f.frame(t, &wrap(true, craft::tcp(cport, sport, 100, 0, SYN, 5, 0)));
        f.frame(
            t + MS,
            &wrap(false, craft::tcp(sport, cport, 900, 101, SYN | ACK, 5, 0)),
        );
        f.frame(
            t + 2 * MS,
            &wrap(true, craft::tcp(cport, sport, 101, 901, ACK, 5, 0)),
        );
    }

    fn plain(to_server: bool, seg: Vec<u8>) -> Vec<u8> {
        if to_server {
            v4_tcp(CLIENT, SERVER, seg)
        } else {
            v4_tcp(SERVER, CLIENT, seg)
        }
    }

    pub fn generate_all(dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        ihl(dir)?;
        tcp_doff(dir)?;
        ipv6_ext(dir)?;
        fragments(dir)?;
        icmp_icmp(dir)?;
        vlan(dir)?;
        records(dir)?;
        clock(dir)?;
        clock_reset(dir)
    }

    /// IHL 0, 4, and 15 with a total length shorter than that header.
    fn ihl(dir: &Path) -> io::Result<()> {
        let mut f = File_::new();
        handshake(&mut f, T0, 40_000, 8080, &plain);
        let syn = craft::tcp(40_001, 8081, 1, 0, SYN, 5, 0);
        for (i, (ihl, total)) in [(0u8, None), (4, None), (15, Some(40u16))]
            .into_iter()
            .enumerate()
        {
            let o = V4Opts {
                ihl: Some(ihl),
                total_len: total,
                ..V4Opts::default()
            };
            let ip = craft::ipv4([10, 0, 0, 3], SERVER, PROTO_TCP, &syn, o);
            f.frame(
                T0 + SECOND + i as i64 * MS,
                &craft::eth(ETHERTYPE_IPV4, &[], &ip),
            );
            f.skip("malformed");
        }
        f.conv(
            "10.0.0.1",
            "10.0.0.2",
            8080,
            "tcp",
            json!({"established": 1}),
        );
        f.write(dir, "ihl", "IPv4 header length below 5 words or beyond the total length: skipped as malformed, no conversation")
    }

    /// TCP data offset 0 and 4 (below the 5-word minimum), and 15 (60 bytes)
    /// in a segment of 20.
    fn tcp_doff(dir: &Path) -> io::Result<()> {
        let mut f = File_::new();
        handshake(&mut f, T0, 40_000, 8080, &plain);
        for (i, doff) in [0u8, 4, 15].into_iter().enumerate() {
            let mut seg = craft::tcp(40_001, 8081, 1, 0, SYN, 5, 0);
            seg[12] = doff << 4;
            f.frame(
                T0 + SECOND + i as i64 * MS,
                &v4_tcp([10, 0, 0, 3], SERVER, seg),
            );
            f.skip("malformed");
        }
        f.conv(
            "10.0.0.1",
            "10.0.0.2",
            8080,
            "tcp",
            json!({"established": 1}),
        );
        f.write(
            dir,
            "tcp-doff",
            "TCP data offset below 5 or beyond the segment: skipped as malformed",
        )
    }

    /// 127 Destination Options headers (the decoder's limit: 128 headers in
    /// all, the upper layer included) decode; 128 do not.
    fn ipv6_ext(dir: &Path) -> io::Result<()> {
        let mut f = File_::new();
        // `n` Destination Options headers in front of every segment
        let wrap = |n: usize| {
            move |to_server: bool, seg: Vec<u8>| {
                let (s, d) = if to_server {
                    (V6_CLIENT, V6_SERVER)
                } else {
                    (V6_SERVER, V6_CLIENT)
                };
                craft::eth(ETHERTYPE_IPV6, &[], &craft::ipv6(s, d, PROTO_TCP, &seg, n))
            }
        };
        handshake(&mut f, T0, 40_000, 8080, &wrap(127));
        let long = wrap(128)(true, craft::tcp(40_001, 8081, 1, 0, SYN, 5, 0));
        f.frame(T0 + SECOND, &long);
        f.skip("malformed");
        f.conv(
            "2001:db8::1",
            "2001:db8::2",
            8080,
            "tcp",
            json!({"established": 1}),
        );
        f.write(
            dir,
            "ipv6-ext",
            "IPv6 extension-header chains: 127 headers decode, 128 are beyond the limit",
        )
    }

    /// A UDP datagram in a tiny first fragment (the UDP header alone),
    /// overlapping later fragments and a repeated first fragment; a TCP first
    /// fragment too short for the flags.
    fn fragments(dir: &Path) -> io::Result<()> {
        let mut f = File_::new();
        let frag = |offset: u16, more: bool, payload: &[u8]| {
            let o = V4Opts {
                frag_offset: offset,
                more_fragments: more,
                id: 77,
                ..V4Opts::default()
            };
            craft::eth(
                ETHERTYPE_IPV4,
                &[],
                &craft::ipv4(CLIENT, SERVER, PROTO_UDP, payload, o),
            )
        };
        let head = craft::udp(40_000, 8080, 0, Some(1008));
        f.frame(T0, &frag(0, true, &head));
        // later fragments: at 8 bytes, then one overlapping it, then the last
        f.frame(T0 + MS, &frag(1, true, &[0; 800]));
        f.skip("later_fragment");
        f.frame(T0 + 2 * MS, &frag(50, true, &[0xff; 400]));
        f.skip("later_fragment");
        f.frame(T0 + 3 * MS, &frag(100, false, &[0; 200]));
        f.skip("later_fragment");
        // the first fragment again (a retransmission or an overlap attack):
        // the same exchange, not a new one
        f.frame(T0 + 4 * MS, &frag(0, true, &head));
        let reply = craft::udp(8080, 40_000, 20, None);
        let ip = craft::ipv4(SERVER, CLIENT, PROTO_UDP, &reply, V4Opts::default());
        f.frame(T0 + 10 * MS, &craft::eth(ETHERTYPE_IPV4, &[], &ip));
        // TCP first fragment of 8 bytes: ports and sequence, no flags
        let seg = craft::tcp(40_001, 8081, 1, 0, SYN, 5, 0);
        let o = V4Opts {
            more_fragments: true,
            id: 78,
            ..V4Opts::default()
        };
        let ip = craft::ipv4(CLIENT, SERVER, PROTO_TCP, &seg[..8], o);
        f.frame(T0 + 20 * MS, &craft::eth(ETHERTYPE_IPV4, &[], &ip));
        f.skip("malformed");
        f.conv("10.0.0.1", "10.0.0.2", 8080, "udp", json!({"answered": 1}));
        f.write(dir, "fragments", "tiny and overlapping IPv4 fragments: later fragments make no flow, a repeated first fragment is the same exchange")
    }

    /// An ICMP unreachable quoting an ICMP unreachable: an error about an
    /// error belongs to no connection; a plain one still does.
    fn icmp_icmp(dir: &Path) -> io::Result<()> {
        let mut f = File_::new();
        let udp_ip = |sport: u16, dport: u16| {
            craft::ipv4(
                CLIENT,
                SERVER,
                PROTO_UDP,
                &craft::udp(sport, dport, 32, None),
                V4Opts::default(),
            )
        };
        let send = |f: &mut File_, t: i64, ip: &[u8]| {
            f.frame(t, &craft::eth(ETHERTYPE_IPV4, &[], ip));
        };
        send(&mut f, T0, &udp_ip(40_000, 8080));
        // 10.0.0.2 complains to 10.0.0.9 about an unreachable 10.0.0.9 sent
        // it, which quotes the datagram above
        let inner = craft::icmp4_unreachable(3, &udp_ip(40_000, 8080)[..28]);
        let inner_ip = craft::ipv4(
            [10, 0, 0, 9],
            SERVER,
            craft::PROTO_ICMP,
            &inner,
            V4Opts::default(),
        );
        let outer = craft::icmp4_unreachable(3, &inner_ip[..28 + 8]);
        let outer_ip = craft::ipv4(
            SERVER,
            [10, 0, 0, 9],
            craft::PROTO_ICMP,
            &outer,
            V4Opts::default(),
        );
        send(&mut f, T0 + 10 * MS, &outer_ip);
        f.skip("other_protocol");
        // a plain port unreachable for another datagram
        send(&mut f, T0 + 20 * MS, &udp_ip(40_002, 8082));
        let refusal = craft::icmp4_unreachable(3, &udp_ip(40_002, 8082)[..28]);
        let plain_ip = craft::ipv4(
            SERVER,
            CLIENT,
            craft::PROTO_ICMP,
            &refusal,
            V4Opts::default(),
        );
        send(&mut f, T0 + 30 * MS, &plain_ip);
        // time passes beyond the reply timeout
        handshake(&mut f, T0 + 10 * SECOND, 40_003, 8083, &plain);
        f.conv(
            "10.0.0.1",
            "10.0.0.2",
            8080,
            "udp",
            json!({"unanswered": 1}),
        );
        f.conv(
            "10.0.0.1",
            "10.0.0.2",
            8082,
            "udp",
            json!({"unreachable": 1}),
        );
        f.conv(
            "10.0.0.1",
            "10.0.0.2",
            8083,
            "tcp",
            json!({"established": 1}),
        );
        f.write(
            dir,
            "icmp-icmp",
            "an ICMP error quoting an ICMP error is nobody's answer",
        )
    }

    /// VLAN stacks of 3 and 8 tags (the decoder's limit) decode; 9 do not.
    fn vlan(dir: &Path) -> io::Result<()> {
        let mut f = File_::new();
        for (i, tags) in [3usize, 8].into_iter().enumerate() {
            let ids: Vec<u16> = (1..=tags as u16).collect();
            let wrap = move |to_server: bool, seg: Vec<u8>| {
                let (s, d) = if to_server {
                    (CLIENT, SERVER)
                } else {
                    (SERVER, CLIENT)
                };
                craft::eth(
                    ETHERTYPE_IPV4,
                    &ids,
                    &craft::ipv4(s, d, PROTO_TCP, &seg, V4Opts::default()),
                )
            };
            let port = 8080 + tags as u16;
            handshake(
                &mut f,
                T0 + i as i64 * SECOND,
                40_000 + tags as u16,
                port,
                &wrap,
            );
            f.conv(
                "10.0.0.1",
                "10.0.0.2",
                port,
                "tcp",
                json!({"established": 1}),
            );
        }
        let ids: Vec<u16> = (1..=9).collect();
        let ip = craft::ipv4(
            CLIENT,
            SERVER,
            PROTO_TCP,
            &craft::tcp(40_009, 8089, 1, 0, SYN, 5, 0),
            V4Opts::default(),
        );
        f.frame(T0 + 3 * SECOND, &craft::eth(ETHERTYPE_IPV4, &ids, &ip));
        f.skip("malformed");
        f.write(
            dir,
            "vlan",
            "VLAN stacks deeper than two: up to 8 tags decode, 9 are malformed",
        )
    }

    /// Zero-length records, a record of the largest accepted length, a
    /// record header claiming 0xFFFFFFF0 bytes (skipped by resynchronising
    /// on the next record), and a file cut inside its last record.
    fn records(dir: &Path) -> io::Result<()> {
        let mut f = File_::new();
        handshake(&mut f, T0, 40_000, 8080, &plain);
        f.raw(T0 + 10 * MS, 0, 0, &[]);
        f.skip("malformed");
        f.raw(T0 + 11 * MS, 0, 60, &[]);
        f.skip("malformed");
        // 262144 bytes captured (the reader's floor for any snaplen): a
        // segment offload left the IP total length 0.
        let mut big = v4_tcp(
            CLIENT,
            SERVER,
            craft::tcp(40_000, 8080, 101, 901, PSH | ACK, 5, 0),
        );
        big[16..18].copy_from_slice(&[0, 0]);
        big.resize(262_144, 0x5a);
        f.frame(T0 + 20 * MS, &big);
        // a record header that claims nearly 4 GiB: not a record
        let bogus = f.raw(T0 + 30 * MS, 0xffff_fff0, 0xffff_fff0, &[]);
        f.packets -= 1;
        f.warn(bogus, "record claims 4294967280 captured bytes");
        f.frame(
            T0 + 40 * MS,
            &plain(true, craft::tcp(40_000, 8080, 101, 901, FIN | ACK, 5, 0)),
        );
        f.frame(
            T0 + 41 * MS,
            &plain(false, craft::tcp(8080, 40_000, 901, 102, FIN | ACK, 5, 0)),
        );
        // the last record is cut short: 30 of 54 bytes
        let last = plain(true, craft::tcp(40_000, 8080, 102, 902, ACK, 5, 0));
        let at = f.raw(
            T0 + 42 * MS,
            last.len() as u32,
            last.len() as u32,
            &last[..30],
        );
        f.packets -= 1;
        f.warn(at, "file ends inside a record");
        f.conv(
            "10.0.0.1",
            "10.0.0.2",
            8080,
            "tcp",
            json!({"established": 1}),
        );
        f.write(dir, "records", "zero-length and maximum-length records, an impossible record length, a cut-off last record")
    }

    /// Timestamps: lone records years ahead and years behind in the middle
    /// of open connections are taken as their neighbours' time, so they
    /// neither split nor decide anything (the ClockGuard of the analysis).
    fn clock(dir: &Path) -> io::Result<()> {
        const YEAR: i64 = 365 * 86_400 * SECOND;
        let mut f = File_::new();
        let other = |to_server: bool, seg: Vec<u8>| {
            if to_server {
                v4_tcp([10, 0, 0, 6], SERVER, seg)
            } else {
                v4_tcp(SERVER, [10, 0, 0, 6], seg)
            }
        };
        handshake(&mut f, T0, 40_000, 8080, &plain);
        handshake(&mut f, T0 + 500 * MS, 40_004, 8085, &other);
        let mut seq = 101u32;
        for s in 1..=10i64 {
            let ts = match s {
                5 => T0 + 3 * YEAR,
                7 => T0 - 2 * YEAR,
                _ => T0 + s * SECOND,
            };
            let at = f.frame(
                ts,
                &plain(true, craft::tcp(40_000, 8080, seq, 901, PSH | ACK, 5, 10)),
            );
            if s == 5 || s == 7 {
                f.warn(at, "out of line with the neighbouring records");
            }
            seq += 10;
            f.frame(
                T0 + s * SECOND + 100 * MS,
                &other(true, craft::tcp(40_004, 8085, 101, 901, ACK, 5, 0)),
            );
        }
        f.frame(
            T0 + 11 * SECOND,
            &plain(true, craft::tcp(40_000, 8080, seq, 901, FIN | ACK, 5, 0)),
        );
        f.frame(
            T0 + 11 * SECOND + MS,
            &plain(
                false,
                craft::tcp(8080, 40_000, 901, seq + 1, FIN | ACK, 5, 0),
            ),
        );
        f.frame(
            T0 + 11 * SECOND + 2 * MS,
            &plain(true, craft::tcp(40_000, 8080, seq + 1, 902, ACK, 5, 0)),
        );
        // the open connection (no FIN) is still one connection at the end
        f.conv(
            "10.0.0.1",
            "10.0.0.2",
            8080,
            "tcp",
            json!({"established": 1}),
        );
        f.conv(
            "10.0.0.6",
            "10.0.0.2",
            8085,
            "tcp",
            json!({"established": 1}),
        );
        f.write(
            dir,
            "clock",
            "lone timestamps years ahead and behind inside open connections: smoothed, nothing split or decided",
        )
    }

    /// A confirmed step back of a day (the capture's clock was reset, the
    /// following records agree): what was open before is over and decided
    /// once, not kept; the attempt made just before the reset had the 20 s of
    /// capture after it to be answered, so it is `no_reply`, not `pending`.
    fn clock_reset(dir: &Path) -> io::Result<()> {
        let mut f = File_::new();
        handshake(&mut f, T0, 40_000, 8080, &plain);
        f.frame(
            T0 + SECOND,
            &plain(true, craft::tcp(40_000, 8080, 101, 901, ACK, 5, 0)),
        );
        f.frame(
            T0 + 2 * SECOND,
            &v4_tcp(
                [10, 0, 0, 3],
                SERVER,
                craft::tcp(40_001, 8081, 1, 0, SYN, 5, 0),
            ),
        );
        let back = T0 - 86_400 * SECOND;
        let third = |to_server: bool, seg: Vec<u8>| {
            if to_server {
                v4_tcp([10, 0, 0, 4], SERVER, seg)
            } else {
                v4_tcp(SERVER, [10, 0, 0, 4], seg)
            }
        };
        handshake(&mut f, back, 40_002, 8082, &third);
        for s in 1..=20i64 {
            f.frame(
                back + s * SECOND,
                &third(true, craft::tcp(40_002, 8082, 101, 901, ACK, 5, 0)),
            );
        }
        f.conv(
            "10.0.0.1",
            "10.0.0.2",
            8080,
            "tcp",
            json!({"established": 1}),
        );
        f.conv("10.0.0.3", "10.0.0.2", 8081, "tcp", json!({"no_reply": 1}));
        f.conv(
            "10.0.0.4",
            "10.0.0.2",
            8082,
            "tcp",
            json!({"established": 1}),
        );
        f.write(
            dir,
            "clock-reset",
            "the clock steps back a day and stays there: the old era is over, its unanswered attempt failed",
        )
    }
}

/// `flowlint-gen repeat --times N --in FILE --out FILE`: the records of a
/// capture N times over, each copy shifted in time past the previous one,
/// streamed. The copies hold the same conversations, so a large file made
/// this way grows the packets and connections, not the conversations: it
/// measures streaming alone (a 20 GB file should need the memory of 2 GB).
mod repeat {
    use super::*;
    use flowlint::capture::CaptureReader;

    pub struct Opts {
        pub times: u64,
        pub input: PathBuf,
        pub out: PathBuf,
    }

    pub fn parse_args(args: &[String]) -> io::Result<Opts> {
        let bad = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let mut o = Opts {
            times: 1,
            input: PathBuf::new(),
            out: PathBuf::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let v = it
                .next()
                .cloned()
                .ok_or_else(|| bad(format!("{a} needs a value")))?;
            match a.as_str() {
                "--times" => {
                    o.times = v
                        .parse()
                        .map_err(|_| bad(format!("--times: not a number: {v}")))?
                }
                "--in" => o.input = PathBuf::from(v),
                "--out" => o.out = PathBuf::from(v),
                _ => return Err(bad(format!("unknown option {a}"))),
            }
        }
        if o.input.as_os_str().is_empty() || o.out.as_os_str().is_empty() {
            return Err(bad("--in FILE and --out FILE are required".into()));
        }
        Ok(o)
    }

    pub fn run(o: &Opts) -> io::Result<()> {
        let open = || CaptureReader::open(&o.input).map_err(io::Error::other);
        // The first pass finds the time span and the link type.
        let mut r = open()?;
        let (mut first, mut last, mut linktype) = (None, i64::MIN, 1);
        while let Some(p) = r.next_packet() {
            first.get_or_insert(p.ts_ns);
            last = last.max(p.ts_ns);
            linktype = p.linktype;
        }
        let Some(first) = first else {
            return Err(io::Error::other("the input holds no packets"));
        };
        // A gap longer than every idle timeout between copies, so no
        // connection of one copy runs into the next.
        let shift = last - first + 3600 * SECOND;
        let mut w = PcapWriter::new(File::create(&o.out)?, PcapOptions::new(linktype))?;
        for n in 0..o.times {
            let mut r = open()?;
            let offset = shift * n as i64;
            while let Some(p) = r.next_packet() {
                w.write_packet(0, p.ts_ns + offset, p.data, p.orig_len)?;
            }
        }
        w.flush()
    }
}
