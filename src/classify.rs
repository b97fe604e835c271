//! Conversations and verdicts.
