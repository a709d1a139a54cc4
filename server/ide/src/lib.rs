//! The editor features of cudalens as plain data, the way rust-analyzer's
//! `ide` crate sits below its LSP layer: each feature is a function of a
//! [`Snapshot`] (plus a position or range) returning spans, strings and
//! small structs. Nothing here knows LSP types; nothing here does I/O except
//! reading headers through the [`SourceProvider`] it is given.
//!
//! - [`pipeline`]: text + settings → model + analysis (shared with the CLI).
//! - [`settings`]: the `cudalens.*` settings, declared once.
//! - [`commands`]: the `workspace/executeCommand` commands and their arguments.
//! - features: [`hover`], [`inlay_hints`], [`code_lens`], [`code_actions`],
//!   [`definition`], [`symbols`].
//! - for the GPU and plugin services: [`kernels`] (which kernel a command
//!   means), [`plugin_model`] (the model plugins receive), [`tune`] (the
//!   `tune` request).
//!
//! [`SourceProvider`]: cudalens_syntax::preprocess::include::SourceProvider

pub mod code_actions;
pub mod code_lens;
pub mod commands;
pub mod definition;
pub mod hover;
pub mod inlay_hints;
pub mod kernels;
pub mod pipeline;
pub mod plugin_model;
pub mod settings;
mod snapshot;
pub mod symbols;
mod text;
pub mod tune;

#[cfg(test)]
mod fixture;

pub use settings::Settings;
pub use snapshot::{PluginFindings, Snapshot};
