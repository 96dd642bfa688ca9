//! The one integration-test binary. Each scenario runs on SQLite and on
//! PostgreSQL through `helpers::backend_tests!`.

mod helpers;

mod accounts;
mod articles;
mod auth;
mod breakit;
mod cache;
mod cli;
mod comments;
mod contract;
mod disqus;
mod distribution;
mod editorial;
mod errors;
mod frontends;
mod hardening;
mod import;
mod jobs;
mod keys;
mod limits;
mod listing;
mod mailings;
mod media;
mod migrations;
mod openapi;
mod outages;
mod ownership;
mod pages;
mod parity;
mod recovery;
mod render_limits;
mod resources;
mod subscriber_import;
mod subscriptions;
mod taxonomy;
mod titles;
mod webhooks;
mod wpimport;
mod wpmedia;
mod writers;
