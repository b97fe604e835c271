//! The text report (`--format text`): for a person at a terminal, colour
//! only when writing to one.

use std::io::{self, Write};

use super::words::ReasonText;
use super::{Exporter, Outcome, STATES_BY_NAME};
use crate::classify::{Classified, Verdict};

/// The text exporter.
pub struct Text {
    pub color: bool,
}

/// Terminal colours, only when writing to a terminal.
#[derive(Clone, Copy, Debug)]
struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn verdict(&self, v: Verdict) -> String {
        let code = match v {
            Verdict::Blocked => "1;31",
            Verdict::WrongDirection => "1;35",
            Verdict::Unexpected => "1;33",
            Verdict::Expected => "32",
            Verdict::Unlisted => "2",
        };
        self.paint(code, v.as_str())
    }
}

fn heading(v: Verdict) -> &'static str {
    match v {
        Verdict::Blocked => "BLOCKED: a rule allows these, and at least one connection failed",
        Verdict::WrongDirection => "WRONG DIRECTION: only the reverse is allowed",
        Verdict::Unexpected => {
            "UNEXPECTED: a catalog port, but no rule allows it in either direction"
        }
        Verdict::Expected => "EXPECTED: allowed by a rule, and working",
        Verdict::Unlisted => {
            "UNLISTED: not judged (ports in no catalog, shared ports where no host shows the product)"
        }
    }
}

/// "1 established, 2 no_reply".
fn states_text(out: &mut dyn Write, conv: &crate::classify::Conversation) -> io::Result<()> {
    let mut first = true;
    for state in STATES_BY_NAME {
        let n = conv.count(state);
        if n == 0 {
            continue;
        }
        if !first {
            out.write_all(b", ")?;
        }
        first = false;
        write!(out, "{n} {}", state.as_str())?;
    }
    Ok(())
}

impl Exporter for Text {
    fn write(&self, out: &mut dyn Write, o: &Outcome<'_>) -> io::Result<()> {
        let style = Style { color: self.color };
        let t = &o.totals;
        writeln!(out, "{}", style.paint("1", "flowlint report"))?;
        for input in &o.inputs {
            writeln!(
                out,
                "  input  {} ({}, link types {:?}, {} packets)",
                input.path,
                input.format.as_str(),
                input.linktypes,
                input.packets
            )?;
            for w in &input.warnings {
                writeln!(
                    out,
                    "  {} {}: at byte {}: {}",
                    style.paint("33", "warning"),
                    input.path,
                    w.offset,
                    w.message
                )?;
            }
        }
        writeln!(
            out,
            "  {} packets, {} connections, {} conversations: {} blocked, {} wrong direction, {} unexpected, {} expected, {} unlisted",
            t.packets,
            t.connections,
            o.classification.conversations.len(),
            o.count(Verdict::Blocked),
            o.count(Verdict::WrongDirection),
            o.count(Verdict::Unexpected),
            o.count(Verdict::Expected),
            o.count(Verdict::Unlisted)
        )?;
        if t.duplicate_packets > 0 {
            writeln!(
                out,
                "  {} packets were seen by two captures (taps) and counted once",
                t.duplicate_packets
            )?;
        }
        if t.evicted_connections > 0 {
            writeln!(
                out,
                "  {} {} connections were decided early because too many were open at once \
                 (raise --max-connections); their states may be incomplete",
                style.paint("33", "warning"),
                t.evicted_connections
            )?;
        }
        let hosts = &o.classification.hosts;
        let mut listed = hosts.with_roles().peekable();
        if listed.peek().is_some() {
            writeln!(out)?;
            writeln!(out, "{}", style.paint("1", "Hosts"))?;
            for h in listed {
                let roles: Vec<&str> = o.catalogs.role_names(h.roles).collect();
                writeln!(
                    out,
                    "  {:<39} {:<16} {}{}",
                    h.address.to_string(),
                    h.name.as_deref().unwrap_or(""),
                    roles.join(", "),
                    if h.inferred { "  (inferred)" } else { "" }
                )?;
            }
        }
        let conversations = &o.classification.conversations;
        for verdict in Verdict::ALL {
            let list = o.classification.with_verdict(verdict);
            if list.is_empty() {
                continue;
            }
            writeln!(out)?;
            writeln!(
                out,
                "{} ({})",
                style.paint("1", heading(verdict)),
                list.len()
            )?;
            let painted = style.verdict(verdict);
            for c in list {
                self.conversation(out, o, c, &painted)?;
            }
        }
        broadcasts(out, o, &style)?;
        writeln!(out)?;
        writeln!(out, "{}", style.paint("1", "Rule coverage"))?;
        for rule in o.catalogs.rules() {
            let u = o.classification.rules[usize::from(rule.rid.0)];
            let what = format!(
                "{}/{} {}",
                rule.ports,
                rule.protocol.as_str(),
                if rule.en.is_empty() { "" } else { &rule.en }
            );
            let mark = if u.conversations == 0 && u.reversed == 0 {
                style.paint("2", "  no traffic")
            } else {
                format!(
                    "  {} conversation{}{}{}",
                    u.conversations,
                    if u.conversations == 1 { "" } else { "s" },
                    if u.blocked > 0 {
                        style.paint("31", &format!(", {} blocked", u.blocked))
                    } else {
                        String::new()
                    },
                    if u.reversed > 0 {
                        style.paint("35", &format!(", {} reversed", u.reversed))
                    } else {
                        String::new()
                    }
                )
            };
            writeln!(out, "  {:<44} {:<50}{mark}", rule.id, what)?;
        }
        if let Some(b) = &o.baseline {
            writeln!(out)?;
            writeln!(out, "{}", style.paint("1", "Compared with the baseline"))?;
            for &i in &b.new {
                let c = &conversations[i as usize];
                let k = c.conv.key;
                writeln!(
                    out,
                    "  {} {} {} → {} {}/{}",
                    style.paint("31", "new"),
                    style.verdict(c.verdict),
                    k.client,
                    k.server,
                    k.server_port,
                    k.transport.as_str()
                )?;
            }
            for &i in &b.resolved {
                let k = conversations[i as usize].conv.key;
                writeln!(
                    out,
                    "  {} {} → {} {}/{}",
                    style.paint("32", "resolved"),
                    k.client,
                    k.server,
                    k.server_port,
                    k.transport.as_str()
                )?;
            }
            for c in &b.not_seen {
                writeln!(
                    out,
                    "  {} {} {} → {} {}/{} (not in this capture: neither better nor worse)",
                    style.paint("33", "not seen"),
                    c.verdict,
                    c.client,
                    c.server,
                    c.server_port,
                    c.protocol
                )?;
            }
            for r in &b.missing_rules {
                writeln!(
                    out,
                    "  {} rule {r} matched traffic before, none now",
                    style.paint("31", "missing")
                )?;
            }
            if b.new.is_empty()
                && b.resolved.is_empty()
                && b.not_seen.is_empty()
                && b.missing_rules.is_empty()
            {
                writeln!(out, "  no change")?;
            }
        }
        if let Some(live) = &o.live {
            writeln!(out)?;
            writeln!(
                out,
                "Live capture on {}: {:.0} s, {} packets; dropped: kernel {}, interface {}, flowlint {}",
                live.interface,
                live.duration_s,
                live.packets,
                live.kernel_dropped,
                live.interface_dropped,
                live.app_dropped,
            )?;
        }
        Ok(())
    }
}

/// Groups the text report shows one by one; the JSON report lists all.
const BROADCAST_LINES: usize = 10;

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The broadcast and multicast section: a count, then the busiest groups.
fn broadcasts(out: &mut dyn Write, o: &Outcome<'_>, style: &Style) -> io::Result<()> {
    let b = &o.broadcasts;
    if b.groups.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}: {}, {} in {}",
        style.paint("1", "Broadcast and multicast (not judged)"),
        plural(b.senders() as u64, "sender", "senders"),
        plural(b.packets, "packet", "packets"),
        plural(b.groups.len() as u64, "group", "groups"),
    )?;
    let mut top: Vec<&crate::broadcast::BroadcastGroup> = b.groups.iter().collect();
    // Busiest first; the sorted order breaks ties.
    top.sort_by_key(|g| std::cmp::Reverse(g.packets));
    for g in top.iter().take(BROADCAST_LINES) {
        let k = g.key;
        write!(
            out,
            "  {} → {} {}/{}  {}",
            k.client,
            k.destination,
            k.port,
            k.transport.as_str(),
            plural(g.packets, "packet", "packets")
        )?;
        if g.replies > 0 {
            write!(out, ", {}", plural(g.replies, "reply", "replies"))?;
        }
        out.write_all(b"\n")?;
    }
    if top.len() > BROADCAST_LINES {
        writeln!(
            out,
            "  … and {} more {} (all are in the JSON report)",
            top.len() - BROADCAST_LINES,
            if top.len() - BROADCAST_LINES == 1 {
                "group"
            } else {
                "groups"
            }
        )?;
    }
    if b.folded_packets > 0 {
        writeln!(
            out,
            "  {} from further senders are folded under 0.0.0.0/:: (too many groups)",
            plural(b.folded_packets, "packet", "packets")
        )?;
    }
    Ok(())
}

impl Text {
    fn conversation(
        &self,
        out: &mut dyn Write,
        o: &Outcome<'_>,
        c: &Classified,
        painted_verdict: &str,
    ) -> io::Result<()> {
        let k = c.conv.key;
        write!(
            out,
            "  {painted_verdict} {} → {} {}/{}  [",
            k.client,
            k.server,
            k.server_port,
            k.transport.as_str()
        )?;
        states_text(out, &c.conv)?;
        out.write_all(b"]")?;
        if let Some(rule) = c.rule {
            write!(out, "  rule {}", o.catalogs.rule_by_id(rule).id)?;
        }
        out.write_all(b"\n")?;
        if c.verdict != Verdict::Unlisted {
            writeln!(
                out,
                "      {}",
                ReasonText {
                    words: o.words(),
                    conv: c
                }
            )?;
        }
        if let Some(by) = c.conv.icmp_reporter() {
            writeln!(out, "      blocked by {by}")?;
        }
        Ok(())
    }
}
