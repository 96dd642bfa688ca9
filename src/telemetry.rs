//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`).
//!
//! `LOG_FORMAT=json` writes one JSON object per line (for log shippers);
//! anything else (default `text`) writes plain lines, with ANSI colours only
//! when stderr is a terminal. Requests are logged by
//! `http::metrics::MetricsLayer`: a 4xx is one short line at `debug`, a 5xx
//! one line at `error`.

use std::io::IsTerminal;

/// Installs the global subscriber; later calls are no-ops.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,html5ever=error"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.trim().eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).with_current_span(false).with_span_list(false).try_init()
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).try_init()
    };
}
