//! meso-services: long-running services on meso, speaking Marathon's REST API v2.
//!
//! The pure cores: `app` (the app definition and its JSON), `validation` (its rules),
//! `ids` (app paths and task ids), `constraints` (the seven operators), `placement`
//! (which offers take which instances), `rolling` (the rollout step, scale-down order and
//! launch backoff).

pub mod app;
pub mod constraints;
pub mod ids;
pub mod placement;
pub mod rolling;
pub mod validation;
