//! flowlint: checks packet captures against vendor port catalogs.
//!
//! Data flows one way, one module per stage:
//!
//! ```text
//! capture (records from pcap/pcapng files) → decode (typed views → PacketMeta)
//!   → flow (connections and their states) → classify (conversations, roles, verdicts)
//!   → report (outcome model → text, JSON, JSONL exporters; baseline)
//! ```
//!
//! `broadcast` takes broadcast and multicast datagrams (and their replies)
//! out of the stream before `flow`, to be listed apart.
//! `catalog` and `inventory` hold the configuration the classifier works with;
//! `analysis` wires capture, decode and flow together for `check`; `time` writes
//! times as reports do; `listing` prints catalogs and plans; `synth` writes
//! captures for fixtures and benchmarks.

pub mod analysis;
pub mod broadcast;
pub mod capture;
pub mod catalog;
pub mod classify;
pub mod decode;
pub mod flow;
pub mod inventory;
pub mod listing;
#[cfg(feature = "live")]
pub mod live;
pub mod records;
pub mod report;
pub mod synth;
pub mod time;
