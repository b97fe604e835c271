//! What is wrong with flow records, as data: the bad lines and records a
//! reader skips ([`RecordWarning`]). Worded only when written, in both
//! languages side by side; the English rendering is the text reports have
//! always carried, byte for byte.

use std::fmt;

use crate::report::lang::{IoText, Lang};
use crate::{term, tr};

/// Damage in flow records; the reading goes on past it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordWarning {
    /// A line (or a record starting on it) that was not read as it stands.
    Line { line: u64, problem: LineProblem },
    /// The cap on listed warnings was reached.
    TooMany,
    /// A read failed; the records before it are analysed.
    Read(IoText),
}

/// What was wrong with a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineProblem {
    /// A Zeek record before any `#fields` line.
    BeforeFields,
    /// A Zeek `#separator` that is not one character (as written).
    Separator(String),
    /// A Zeek `#fields` line without a column a conn.log needs.
    MissingColumn(&'static str),
    /// A Zeek `#path` other than conn.
    PathNotConn(String),
    /// An nfdump JSON record nested deeper than the reader follows.
    NestedTooDeep,
    /// An nfdump JSON record over 1 MiB.
    TooLong,
    /// Text between nfdump JSON records.
    TextOutside,
    /// The input ended inside an nfdump JSON record, at this byte.
    EndsInside { at: u64 },
    /// An nfdump CSV record before the header line.
    BeforeCsvHeader,
    /// A record whose fields could not be read: it is skipped.
    Skipped(BadRecord),
}

/// Why a record's fields could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadRecord {
    /// Fewer (or more) fields than the header names; `csv` tells nfdump's
    /// CSV header from Zeek's `#fields`.
    FieldCount {
        have: usize,
        named: usize,
        csv: bool,
    },
    /// A required Zeek field is unset.
    Unset(&'static str),
    /// A field whose value is not what it must be.
    Value {
        field: String,
        value: String,
        want: Want,
    },
    /// An nfdump JSON record with neither address of a side.
    NoAddress(&'static str),
    /// An nfdump JSON record's address that is not an IP address.
    Address { side: &'static str, value: String },
    /// Not a JSON record of the kind (serde's words, in English).
    NotJson { nfdump: bool, detail: String },
}

/// What a field's value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    IpAddress,
    /// Zeek: "port number"; nfdump: "port".
    PortNumber,
    Port,
    Count,
    /// Zeek's ts: seconds since the epoch or ISO 8601.
    ZeekTime,
    /// nfdump JSON's time: YYYY-MM-DDTHH:MM:SS.mmm.
    NfdumpTime,
    /// nfdump CSV's time.
    Time,
    Seconds,
    ZeekProto,
    Protocol,
    ZeekState,
    TcpFlags,
}

impl Want {
    fn render(self, lang: Lang) -> &'static str {
        use Want::*;
        match self {
            IpAddress => term!(lang, "is not an IP address", "は IP アドレスではありません"),
            PortNumber => term!(lang, "is not a port number", "はポート番号ではありません"),
            Port => term!(lang, "is not a port", "はポートではありません"),
            Count => term!(lang, "is not a count", "は件数（整数）ではありません"),
            ZeekTime => term!(
                lang,
                "is not a time (seconds since the epoch, or ISO 8601)",
                "は時刻ではありません（エポックからの秒数か ISO 8601）"
            ),
            NfdumpTime => term!(
                lang,
                "is not a time (YYYY-MM-DDTHH:MM:SS.mmm)",
                "は時刻ではありません（YYYY-MM-DDTHH:MM:SS.mmm）"
            ),
            Time => term!(lang, "is not a time", "は時刻ではありません"),
            Seconds => term!(lang, "is not a number of seconds", "は秒数ではありません"),
            ZeekProto => term!(
                lang,
                "is not tcp, udp, icmp or unknown_transport",
                "は tcp、udp、icmp、unknown_transport のどれでもありません"
            ),
            Protocol => term!(lang, "is not a protocol", "はプロトコルではありません"),
            ZeekState => term!(lang, "is not a Zeek state", "は Zeek の状態ではありません"),
            TcpFlags => term!(lang, "are not TCP flags", "は TCP フラグではありません"),
        }
    }
}

impl BadRecord {
    pub fn render(&self, lang: Lang) -> String {
        use BadRecord::*;
        match self {
            FieldCount {
                have,
                named,
                csv: false,
            } => tr!(
                lang,
                "{have} fields where #fields names {named}",
                "フィールドが {have} 個あります（#fields では {named} 個）",
                have = have,
                named = named
            ),
            FieldCount {
                have,
                named,
                csv: true,
            } => tr!(
                lang,
                "{have} fields where the header names {named}",
                "フィールドが {have} 個あります（ヘッダでは {named} 個）",
                have = have,
                named = named
            ),
            Unset(field) => tr!(lang, "{field} is unset", "{field} が空です", field = field),
            // The field's name and value as the input spells them, then
            // what it must be: "proto \"x\" is not …", 「proto "x" は…」.
            Value { field, value, want } => format!("{field} {value:?} {}", want.render(lang)),
            NoAddress(side) => tr!(
                lang,
                "no {side}4_addr or {side}6_addr",
                "{side}4_addr も {side}6_addr もありません",
                side = side
            ),
            Address { side, value } => tr!(
                lang,
                "{side} address {value:?} is not an IP address",
                "{side} のアドレス {value:?} は IP アドレスではありません",
                side = side,
                value = value
            ),
            NotJson {
                nfdump: false,
                detail,
            } => tr!(
                lang,
                "not a conn.log JSON record ({detail})",
                "conn.log の JSON レコードではありません（{detail}）",
                detail = detail
            ),
            NotJson {
                nfdump: true,
                detail,
            } => tr!(
                lang,
                "not an nfdump flow record ({detail})",
                "nfdump のフローレコードではありません（{detail}）",
                detail = detail
            ),
        }
    }
}

impl LineProblem {
    pub fn render(&self, lang: Lang) -> String {
        use LineProblem::*;
        match self {
            BeforeFields => term!(
                lang,
                "a record before any #fields header line; the record is skipped \
                 (give the log with its header lines)",
                "#fields のヘッダ行より前にレコードがあります。このレコードは読み飛ばしました\
                 （ヘッダ行ごとログを指定してください）"
            )
            .into(),
            Separator(s) => tr!(
                lang,
                "#separator {s:?} is not one character; a tab is assumed",
                "#separator {s:?} が 1 文字ではありません。タブとして読みます",
                s = s
            ),
            MissingColumn(column) => tr!(
                lang,
                "#fields has no {column} column; the records of this block are \
                 skipped (a conn.log needs ts, id.orig_h, id.orig_p, id.resp_h, \
                 id.resp_p and proto)",
                "#fields に {column} 列がありません。このブロックのレコードは読み飛ばしました\
                 （conn.log には ts、id.orig_h、id.orig_p、id.resp_h、id.resp_p、proto が必要です）",
                column = column
            ),
            PathNotConn(path) => tr!(
                lang,
                "#path is {path:?}, not conn; its records are read as conn.log records",
                "#path が conn ではなく {path:?} です。レコードは conn.log のものとして読みます",
                path = path
            ),
            NestedTooDeep => term!(
                lang,
                "a record nested too deep; it is skipped",
                "入れ子が深すぎるレコードです。読み飛ばしました"
            )
            .into(),
            TooLong => term!(
                lang,
                "a record longer than 1 MiB; it is skipped",
                "1 MiB を超えるレコードです。読み飛ばしました"
            )
            .into(),
            TextOutside => term!(
                lang,
                "text outside a record; it is skipped (give nfdump -o json output)",
                "レコードの外に文字があります。読み飛ばしました（nfdump -o json の出力を指定してください）"
            )
            .into(),
            EndsInside { at } => tr!(
                lang,
                "the input ends inside a record (at byte {at}); the record is skipped",
                "レコードの途中で入力が終わっています（{at} バイト目）。このレコードは読み飛ばしました",
                at = at
            ),
            BeforeCsvHeader => term!(
                lang,
                "a record before the CSV header line; it is skipped",
                "CSV のヘッダ行より前にレコードがあります。読み飛ばしました"
            )
            .into(),
            Skipped(why) => tr!(
                lang,
                "{why}; the record is skipped",
                "{why}。このレコードは読み飛ばしました",
                why = why.render(lang)
            ),
        }
    }
}

impl RecordWarning {
    /// The description, without the file and offset.
    pub fn render(&self, lang: Lang) -> String {
        match self {
            RecordWarning::Line { line, problem } => tr!(
                lang,
                "line {line}: {problem}",
                "{line} 行目: {problem}",
                line = line,
                problem = problem.render(lang)
            ),
            RecordWarning::TooMany => term!(
                lang,
                "too many warnings; further bad records are not listed",
                "警告が多すぎます。これ以降の不正なレコードは一覧にしません"
            )
            .into(),
            RecordWarning::Read(e) => tr!(
                lang,
                "read error: {e} (the records before it are analysed)",
                "読み取りエラー: {e}（それより前のレコードは分析しました）",
                e = e.render(lang)
            ),
        }
    }
}

impl fmt::Display for RecordWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

/// A field whose value is not what it must be.
pub(crate) fn bad(field: &str, value: &str, want: Want) -> BadRecord {
    BadRecord::Value {
        field: field.to_string(),
        value: value.to_string(),
        want,
    }
}
