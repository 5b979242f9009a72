//! Reveille: watches a software distributor's fleet of installations and tells the right
//! person first. See ARCHITECTURE.md for the map; a report flows
//! ingest → store → evaluate → alert → notify.

pub use reveille_core::{alerts, fleet, i18n, names, report};

pub mod alerting;
pub mod api;
pub mod app;
pub mod board;
pub mod chat_codes;
pub mod cli;
pub mod client_report;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod http;
pub mod import;
pub mod ingest;
pub mod live;
pub mod metrics;
pub mod notify;
pub mod pipeline;
pub mod plugin_set;
pub mod plugins;
pub mod postmortem;
pub mod probe;
pub mod replay;
pub mod routes;
pub mod schedule;
pub mod server;
pub mod staff;
pub mod store;
pub mod tasks;
pub mod text;
pub mod vitals;
pub mod web;
