//! The one integration-test binary. Each scenario runs on SQLite and on
//! PostgreSQL through `helpers::backend_tests!`.

mod helpers;

mod accounts;
mod articles;
mod auth;
mod cli;
mod comments;
mod contract;
mod editorial;
mod errors;
mod hardening;
mod import;
mod jobs;
mod keys;
mod limits;
mod media;
mod migrations;
mod openapi;
mod outages;
mod ownership;
mod parity;
mod recovery;
mod render_limits;
mod resources;
mod subscriptions;
mod writers;
