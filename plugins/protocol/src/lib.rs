//! Protocol types and framing for cudalens optimizer plugins.
//!
//! Plugins are separate executables that speak JSON-RPC 2.0 over stdio with LSP-style
//! `Content-Length` framing; `plugins/PROTOCOL.md` is the normative description. This crate
//! gives Rust plugin authors (and the host) the message types, a blocking framing
//! reader/writer, an optional synchronous server loop ([`plugin::serve_stdio`]), and the
//! typed requests both ends use ([`requests`]: method, params and result of each).

pub mod framing;
pub mod jsonrpc;
pub mod plugin;
pub mod requests;
pub mod text;
pub mod types;

pub use framing::{FramingError, read_message, write_message};
pub use jsonrpc::{Message, RpcError, error_codes};
pub use plugin::{HostLink, Plugin, serve, serve_stdio};
pub use requests::{Notification, Request};
pub use types::*;
