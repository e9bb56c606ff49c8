//! The real Exchange side: EWS over HTTPS.

mod client;
pub mod wire;

pub use client::{ClientError, EwsClient, PAGE_SIZE, http_client_builder, retry_after_delay};
