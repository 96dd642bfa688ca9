//! broadsheet: a headless CMS REST API for news publications.
//! See `ARCHITECTURE.md` for the decisions that cut across resources.

pub mod api_keys;
pub mod articles;
pub mod auth;
pub mod authors;
pub mod cli;
pub mod comments;
pub mod config;
pub mod db;
pub mod error;
pub mod feeds;
pub mod health;
pub mod http;
pub mod import;
pub mod jobs;
pub mod json;
pub mod mail;
pub mod mailings;
pub mod media;
pub mod openapi;
pub mod pages;
pub mod pagination;
pub mod patch;
pub mod readers;
pub mod routes;
pub mod series;
pub mod sitemaps;
pub mod slugs;
pub mod startup;
pub mod subscriptions;
pub mod taxonomy;
pub mod telemetry;
pub mod text;
pub mod users;
pub mod validate;
pub mod webhooks;
