//! The HTTP layer below the resources: shared state, typed extractors and
//! middleware. Resources import from here (and from `db` and `error`), never
//! from `startup`, which only wires things together.

pub mod cache;
pub mod client;
pub mod extract;
pub mod limit;
pub mod metrics;
pub mod middleware;
pub mod state;

pub use client::client_ip;
pub use extract::Id;
pub use limit::{Key, Limits, Policy};
pub use state::AppState;

/// Largest accepted JSON body, in bytes (1 MiB).
pub const JSON_LIMIT: usize = 1024 * 1024;
