//! Synthetic captures: a pcap/pcapng writer and packet builders, used by the
//! fixture generator (`flowlint-gen`) and the benchmarks.
