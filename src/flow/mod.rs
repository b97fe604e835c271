//! Connections: tracks every TCP connection and UDP exchange.
