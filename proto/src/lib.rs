//! Generated code for the whole MOING API.
//!
//! Every `.proto` under `proto/moing/` is compiled by `build.rs`; the module tree
//! mirrors the proto packages (`moing::auth::v1`, `moing::events::v1`, ...).
//! [`FILE_DESCRIPTOR_SET`] holds every file (including the vendored
//! `google.api` annotations) for server reflection and the gateway's REST
//! transcoding, so there is exactly one source of truth: the protos.

#![allow(clippy::all, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/moing_include.rs"));

/// Encoded `google.protobuf.FileDescriptorSet` of every MOING proto and its imports.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/moing_descriptor.bin"));

/// Fully-qualified names of the public services the gateway may route.
/// Internal services (`*InternalService`) and the event sink are deliberately absent.
pub fn is_public_service(full_name: &str) -> bool {
    full_name.starts_with("moing.")
        && !full_name.ends_with("InternalService")
        && full_name != "moing.events.v1.EventSink"
}
