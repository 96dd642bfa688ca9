//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`).
//!
//! `LOG_FORMAT=json` writes one JSON object per line (for log shippers);
//! anything else (default `text`) writes plain lines, with ANSI colours only
//! when stderr is a terminal. Requests are logged by
//! `http::metrics::MetricsLayer`: a 4xx is one short line at `debug`, a 5xx
//! one line at `error`.

use std::io::IsTerminal;

/// Installs the global subscriber; later calls are no-ops.
///
/// `RUST_LOG` is read as [`Targets`](tracing_subscriber::filter::Targets):
/// comma-separated `level` and `target=level` directives (`warn`,
/// `info,broadsheet=debug`); a value that does not parse falls back to the
/// default. tracing-subscriber's `EnvFilter` (span and field directives
/// too) pulls in `matchers`, which turns on regex-automata's full-DFA
/// builder for every regex in the process, actix's route patterns included:
/// each HTTP worker spent about half its start-up building those DFAs
/// (callgrind, 2026-12-05).
pub fn init() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = parse_filter(std::env::var("RUST_LOG").ok().as_deref());
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.trim().eq_ignore_ascii_case("json"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        registry.with(fmt.json().flatten_event(true).with_current_span(false).with_span_list(false)).try_init()
    } else {
        registry.with(fmt.with_ansi(std::io::stderr().is_terminal())).try_init()
    };
}

/// The default when `RUST_LOG` is unset, empty or malformed.
const DEFAULT_FILTER: &str = "info,html5ever=error";

fn parse_filter(rust_log: Option<&str>) -> tracing_subscriber::filter::Targets {
    rust_log
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| DEFAULT_FILTER.parse().expect("the default filter parses"))
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::parse_filter;

    #[test]
    fn rust_log_sets_levels_per_target_and_a_bad_value_falls_back_to_the_default() {
        let cases: [(Option<&str>, &str, Option<Level>); 8] = [
            (None, "broadsheet::http", Some(Level::INFO)),
            (None, "html5ever::tree_builder", Some(Level::ERROR)),
            (Some(""), "broadsheet", Some(Level::INFO)),
            (Some("warn"), "broadsheet", Some(Level::WARN)),
            (Some("info,broadsheet=debug"), "broadsheet::jobs", Some(Level::DEBUG)),
            (Some("info,broadsheet=debug"), "actix_server", Some(Level::INFO)),
            (Some("broadsheet=error"), "actix_server", None),
            (Some("info,=[bad"), "broadsheet", Some(Level::INFO)),
        ];
        for (rust_log, target, want) in cases {
            let filter = parse_filter(rust_log);
            let got = [Level::TRACE, Level::DEBUG, Level::INFO, Level::WARN, Level::ERROR]
                .into_iter()
                .find(|level| filter.would_enable(target, level));
            assert_eq!(got, want, "RUST_LOG={rust_log:?}, target {target}");
        }
    }
}
