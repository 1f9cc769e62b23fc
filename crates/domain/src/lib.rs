//! The domain core of Attest: the vocabulary of DOMAIN.md as types, and the rules over them.
//!
//! Nothing here performs I/O or knows about HTTP or SQL; every other crate depends on this one.

pub mod audit;
pub mod control;
pub mod coverage;
pub mod engagement;
pub mod evidence;
pub mod framework;
pub mod id;
pub mod internal_audit;
pub mod manifest;
pub mod mapping;
pub mod nonconformity;
pub mod objective;
pub mod org;
pub mod policy;
pub mod risk;
pub mod role;
pub mod sampling;
pub mod soa;
pub mod timestamp;

pub use id::*;
pub use timestamp::Timestamp;
