//! What is wrong with a capture, as data: why it cannot be read at all
//! ([`ErrorKind`]) and the damage found while reading it ([`WarningKind`]).
//! Each kind is worded in both languages side by side; the English
//! rendering is the `Display` text that reports and tests compare byte for
//! byte.

use std::fmt;

use crate::report::lang::{IoText, Lang};
use crate::{term, tr};

/// Why a capture file cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Open(IoText),
    Metadata(IoText),
    Directory,
    /// A read failed before the header was complete (the source keeps only
    /// the error's text).
    Read(String),
    Empty,
    TooShort {
        len: usize,
    },
    BadMagic {
        magic: u32,
    },
    PcapHeaderCut {
        have: usize,
        need: usize,
    },
    PcapVersion {
        major: u16,
        minor: u16,
    },
    LinktypeReserved {
        field: u32,
    },
    SectionHeaderCut {
        have: usize,
        need: usize,
    },
    ByteOrderMagic {
        magic: u32,
    },
    SectionHeaderLength {
        len: usize,
    },
    PcapngVersion {
        major: u16,
        minor: u16,
    },
    /// Neither a capture nor flow records: [`ErrorKind::TooShort`] or
    /// [`ErrorKind::BadMagic`] when flow records were looked for too.
    NotAnInput(Box<ErrorKind>),
    /// Captures and flow records among one check's inputs.
    MixedInputs,
}

impl ErrorKind {
    /// The description, without the file and offset.
    pub fn render(&self, lang: Lang) -> String {
        use ErrorKind::*;
        match self {
            Open(e) => tr!(lang, "cannot open: {e}", "開けません: {e}", e = e.render(lang)),
            Metadata(e) => tr!(
                lang,
                "cannot read metadata: {e}",
                "ファイルの情報を読めません: {e}",
                e = e.render(lang)
            ),
            Directory => term!(
                lang,
                "is a directory, not a capture file",
                "ディレクトリです。キャプチャファイルを指定してください"
            )
            .into(),
            Read(e) => tr!(lang, "read error: {e}", "読み取りエラー: {e}", e = e),
            Empty => term!(
                lang,
                "empty file, not a capture",
                "空のファイルです。キャプチャではありません"
            )
            .into(),
            TooShort { len } => tr!(
                lang,
                "not a pcap or pcapng file (only {len} bytes long)",
                "pcap でも pcapng でもありません（長さ {len} バイトしかありません）",
                len = len
            ),
            BadMagic { magic } => tr!(
                lang,
                "not a pcap or pcapng file (magic 0x{magic:08x})",
                "pcap でも pcapng でもありません（先頭のマジック番号 0x{magic:08x}）",
                magic = magic
            ),
            PcapHeaderCut { have, need } => tr!(
                lang,
                "file ends inside the pcap file header ({have} of {need} bytes)",
                "pcap のファイルヘッダの途中でファイルが終わっています（{need} バイト中 {have} バイト）",
                have = have,
                need = need
            ),
            PcapVersion { major, minor } => tr!(
                lang,
                "unsupported pcap version {major}.{minor}",
                "対応していない pcap のバージョン {major}.{minor} です",
                major = major,
                minor = minor
            ),
            LinktypeReserved { field } => tr!(
                lang,
                "link-type field has reserved bits set (0x{field:08x})",
                "リンク種別フィールドの予約ビットが立っています（0x{field:08x}）",
                field = field
            ),
            SectionHeaderCut { have, need } => tr!(
                lang,
                "file ends inside the section header block ({have} of {need} bytes)",
                "セクションヘッダブロックの途中でファイルが終わっています（{need} バイト中 {have} バイト）",
                have = have,
                need = need
            ),
            ByteOrderMagic { magic } => tr!(
                lang,
                "pcapng section header has an unknown byte-order magic 0x{magic:08x}",
                "pcapng のセクションヘッダのバイト順マジック 0x{magic:08x} が不明です",
                magic = magic
            ),
            SectionHeaderLength { len } => tr!(
                lang,
                "pcapng section header block has an invalid length {len}",
                "pcapng のセクションヘッダブロックの長さ {len} が不正です",
                len = len
            ),
            PcapngVersion { major, minor } => tr!(
                lang,
                "unsupported pcapng version {major}.{minor}",
                "対応していない pcapng のバージョン {major}.{minor} です",
                major = major,
                minor = minor
            ),
            NotAnInput(inner) => match **inner {
                TooShort { len } => tr!(
                    lang,
                    "not a pcap or pcapng file, nor a Zeek conn.log or nfdump -o json/csv output (only {len} bytes long)",
                    "pcap でも pcapng でも、Zeek の conn.log でも nfdump -o json/csv の出力でもありません（長さ {len} バイトしかありません）",
                    len = len
                ),
                BadMagic { magic } => tr!(
                    lang,
                    "not a pcap or pcapng file, nor a Zeek conn.log or nfdump -o json/csv output (magic 0x{magic:08x})",
                    "pcap でも pcapng でも、Zeek の conn.log でも nfdump -o json/csv の出力でもありません（先頭のマジック番号 0x{magic:08x}）",
                    magic = magic
                ),
                ref other => other.render(lang),
            },
            MixedInputs => term!(
                lang,
                "packet captures and flow records (Zeek conn.log, nfdump) cannot be mixed in one check (run one check for each kind)",
                "パケットキャプチャとフローレコード（Zeek の conn.log、nfdump）は 1 回の check で混ぜられません（種類ごとに check を実行してください）"
            )
            .into(),
        }
    }

    /// Is it about the file as a whole, so that a byte offset says nothing?
    pub fn whole_file(&self) -> bool {
        matches!(
            self,
            ErrorKind::Open(_) | ErrorKind::Metadata(_) | ErrorKind::Directory | ErrorKind::Empty
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

/// The pcapng block a malformed-options warning is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionsBlock {
    SectionHeader,
    InterfaceDescription,
}

/// Why a pcapng block was found damaged before the reader looked for the
/// next plausible block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockDamage {
    ByteOrderMagic,
    InvalidLength { len: usize },
    BeyondEnd { len: usize, have: usize },
    LengthMismatch { len: usize, trailer: usize },
    OversizedPacket { len: usize, caplen: usize },
}

impl BlockDamage {
    fn render(&self, lang: Lang) -> String {
        use BlockDamage::*;
        match self {
            ByteOrderMagic => term!(
                lang,
                "section header block with an unknown byte-order magic",
                "セクションヘッダブロックのバイト順マジックが不明です"
            )
            .into(),
            InvalidLength { len } => tr!(
                lang,
                "block has an invalid length {len}",
                "ブロックの長さ {len} が不正です",
                len = len
            ),
            BeyondEnd { len, have } => tr!(
                lang,
                "block claims {len} bytes but the file ends {have} bytes in",
                "ブロックは {len} バイトとありますが、{have} バイトでファイルが終わっています",
                len = len,
                have = have
            ),
            LengthMismatch { len, trailer } => length_mismatch(lang, *len, *trailer),
            OversizedPacket { len, caplen } => tr!(
                lang,
                "packet block claims {len} bytes for {caplen} captured bytes",
                "パケットブロックは取り込み {caplen} バイトに対して {len} バイトとあります",
                len = len,
                caplen = caplen
            ),
        }
    }
}

fn length_mismatch(lang: Lang, len: usize, trailer: usize) -> String {
    tr!(
        lang,
        "block length {len} does not match its trailing copy {trailer}",
        "ブロックの長さ {len} が末尾の写し {trailer} と一致しません",
        len = len,
        trailer = trailer
    )
}

/// Damage found while reading; the reading goes on where it can.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WarningKind {
    /// The cap on listed warnings was reached.
    TooMany,
    Read(String),
    RecordCut {
        have: usize,
        need: usize,
    },
    /// A pcap record with an implausible captured length, and where the
    /// next plausible record was found.
    ImplausibleRecordSkipped {
        caplen: u32,
        skipped: usize,
        next: u64,
    },
    ImplausibleRecordStopped {
        caplen: u32,
        scanned: usize,
    },
    /// A damaged pcapng block, and where the next plausible block was found.
    BlockSkipped {
        why: BlockDamage,
        skipped: usize,
        next: u64,
    },
    BlockStopped {
        why: BlockDamage,
        scanned: usize,
    },
    LengthMismatch {
        len: usize,
        trailer: usize,
    },
    UnpaddedLength {
        len: usize,
        padded: usize,
    },
    MalformedOptions(OptionsBlock),
    SectionHeaderTooShort {
        len: usize,
    },
    SectionVersion {
        major: u16,
        minor: u16,
    },
    InterfaceTooShort {
        len: usize,
    },
    PacketBeforeInterface,
    UnknownInterface {
        id: u32,
        declared: usize,
    },
    PacketBlockTooShort {
        len: usize,
    },
    PacketCaplen {
        caplen: u32,
        holds: usize,
    },
    /// A record whose timestamp jumps far from its neighbours' (found by
    /// the analysis, not the reader): its time and the time it was taken as.
    ClockOutlier {
        ts: i64,
        taken: i64,
    },
    /// Past the outliers listed one by one: how many there were in all.
    ClockOutliers {
        count: u64,
    },
    /// A live capture stopped by an error; the text is libpcap's (or the
    /// capture thread's), in English whatever the language.
    LiveCapture(String),
    /// Damage in flow records (Zeek conn.log, nfdump output).
    Records(crate::records::RecordWarning),
}

impl WarningKind {
    /// The description, without the file and offset.
    pub fn render(&self, lang: Lang) -> String {
        use WarningKind::*;
        match self {
            TooMany => term!(
                lang,
                "too many warnings; further damage is not listed",
                "警告が多すぎます。これ以降の損傷は一覧にしません"
            )
            .into(),
            Read(e) => tr!(lang, "read error: {e}", "読み取りエラー: {e}", e = e),
            RecordCut { have, need } => tr!(
                lang,
                "file ends inside a record ({have} of {need} bytes)",
                "レコードの途中でファイルが終わっています（{need} バイト中 {have} バイト）",
                have = have,
                need = need
            ),
            ImplausibleRecordSkipped {
                caplen,
                skipped,
                next,
            } => tr!(
                lang,
                "record claims {caplen} captured bytes (implausible); \
                 skipped {skipped} bytes to the next plausible record at byte {next}",
                "レコードの取り込み長 {caplen} バイトはありえない値です。\
                 {skipped} バイト読み飛ばし、{next} バイト目の次のもっともらしいレコードから読みました",
                caplen = caplen,
                skipped = skipped,
                next = next
            ),
            ImplausibleRecordStopped { caplen, scanned } => tr!(
                lang,
                "record claims {caplen} captured bytes (implausible); \
                 no plausible record in the next {scanned} bytes, reading stopped",
                "レコードの取り込み長 {caplen} バイトはありえない値です。\
                 続く {scanned} バイトにもっともらしいレコードがなく、読み取りを止めました",
                caplen = caplen,
                scanned = scanned
            ),
            BlockSkipped {
                why,
                skipped,
                next,
            } => tr!(
                lang,
                "{why}; skipped {skipped} bytes to the next plausible block at byte {next}",
                "{why}。{skipped} バイト読み飛ばし、{next} バイト目の次のもっともらしいブロックから読みました",
                why = why.render(lang),
                skipped = skipped,
                next = next
            ),
            BlockStopped { why, scanned } => tr!(
                lang,
                "{why}; no plausible block in the next {scanned} bytes, reading stopped",
                "{why}。続く {scanned} バイトにもっともらしいブロックがなく、読み取りを止めました",
                why = why.render(lang),
                scanned = scanned
            ),
            LengthMismatch { len, trailer } => length_mismatch(lang, *len, *trailer),
            UnpaddedLength { len, padded } => tr!(
                lang,
                "block length {len} is not a multiple of 4 (read as {padded})",
                "ブロックの長さ {len} が 4 の倍数ではありません（{padded} として読みました）",
                len = len,
                padded = padded
            ),
            MalformedOptions(OptionsBlock::SectionHeader) => term!(
                lang,
                "malformed options in section header block: options ignored",
                "セクションヘッダブロックのオプションが壊れています。オプションは無視しました"
            )
            .into(),
            MalformedOptions(OptionsBlock::InterfaceDescription) => term!(
                lang,
                "malformed options in interface description block: options ignored",
                "インタフェース記述ブロックのオプションが壊れています。オプションは無視しました"
            )
            .into(),
            SectionHeaderTooShort { len } => tr!(
                lang,
                "section header block too short ({len} bytes): skipped",
                "セクションヘッダブロックが短すぎます（{len} バイト）。読み飛ばしました",
                len = len
            ),
            SectionVersion { major, minor } => tr!(
                lang,
                "section with unsupported pcapng version {major}.{minor}: reading stopped",
                "対応していない pcapng のバージョン {major}.{minor} のセクションです。読み取りを止めました",
                major = major,
                minor = minor
            ),
            InterfaceTooShort { len } => tr!(
                lang,
                "interface description block too short ({len} bytes): skipped",
                "インタフェース記述ブロックが短すぎます（{len} バイト）。読み飛ばしました",
                len = len
            ),
            PacketBeforeInterface => term!(
                lang,
                "packet before any interface description block in its section: skipped",
                "セクション内でインタフェース記述ブロックより前にパケットがあります。読み飛ばしました"
            )
            .into(),
            UnknownInterface { id, declared } => tr!(
                lang,
                "packet names interface {id}, but the section declares {declared}: skipped",
                "パケットはインタフェース {id} を指していますが、セクションで宣言されているのは {declared} 個です。読み飛ばしました",
                id = id,
                declared = declared
            ),
            PacketBlockTooShort { len } => tr!(
                lang,
                "packet block too short ({len} bytes): skipped",
                "パケットブロックが短すぎます（{len} バイト）。読み飛ばしました",
                len = len
            ),
            PacketCaplen { caplen, holds } => tr!(
                lang,
                "packet block claims {caplen} captured bytes but holds {holds}: skipped",
                "パケットブロックは取り込み {caplen} バイトとありますが、{holds} バイトしかありません。読み飛ばしました",
                caplen = caplen,
                holds = holds
            ),
            ClockOutlier { ts, taken } => tr!(
                lang,
                "timestamp {ts} is out of line with the neighbouring records; taken as {taken}",
                "タイムスタンプ {ts} が前後のレコードとかけ離れています。{taken} として扱いました",
                ts = crate::time::rfc3339(*ts),
                taken = crate::time::rfc3339(*taken)
            ),
            ClockOutliers { count } => tr!(
                lang,
                "{count} records in all had a timestamp out of line with their neighbours",
                "タイムスタンプが前後のレコードとかけ離れたレコードは全部で {count} 件ありました",
                count = count
            ),
            LiveCapture(e) => match lang {
                Lang::En => e.clone(),
                Lang::Ja => tr!(lang, "capture: {e}", "キャプチャのエラー: {e}", e = e),
            },
            Records(w) => w.render(lang),
        }
    }
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}
