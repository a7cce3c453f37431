//! HTTP routes, one file per area, each with its own `router()`.

pub mod admin;
pub mod auth;
pub mod extract;
pub mod operator;
pub mod push;
pub mod reports;
pub mod widget;

pub use crate::validate::{email, field};
pub use extract::{Admin, Body, Operator, Params, Peer};
