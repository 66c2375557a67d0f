//! meso-services: long-running services on meso, speaking Marathon's REST API v2.
//!
//! Pure cores: `app` (the app definition), `parse` (reading it from JSON), `validation`
//! (its rules), `deployment` (a rollout's record and plan), `ids`
//! (app paths and task ids), `constraints` (the seven operators), `placement` (which
//! offers take which instances), `readiness` (readiness checks: their
//! rules and what an answer means), `rolling` (the rollout step, scale-down order, launch
//! backoff), `state` (apps, instances, deployments; offers and status updates in, kills
//! and launches out), `ops` (the API's changes with Marathon's refusals), `views` (the
//! JSON answers), `api` (the `/v2` routes as a function), `launch` (an instance's
//! `TaskInfo`), `labels` (label selectors), `timestamps`, `access` (which
//! realm of the master's HTTP authentication guards a `/v2` request).
//!
//! The shell: `framework` runs it all as the `v2` process on the leading master, with a
//! scheduler driver registered like any framework's and its records stored through the
//! registry's Raft log, so a new leader resumes every deployment.

pub mod access;
pub mod api;
pub mod app;
pub mod constraints;
pub mod deployment;
pub mod framework;
pub mod ids;
pub mod labels;
pub mod launch;
pub mod ops;
pub mod parse;
pub mod ping;
pub mod placement;
pub mod readiness;
pub mod rolling;
pub mod state;
pub mod timestamps;
pub mod validation;
pub mod views;
