//! The system inventory: `systems.toml`, reviewed in git like the mappings.
//! It lists the systems in scope (register.rs), says where systems show up
//! in the evidence (`[[observe]]` rules, observe.rs), and so lets Quarterdeck
//! compute drift (drift.rs): systems the evidence shows that the inventory
//! does not list, retired systems still active, in-scope systems that a
//! control applying to them has no evidence for, an overdue review. The
//! values each rule and spec reads are kept per 15-minute bucket at ingest
//! (kept.rs), so a report reads them rather than the evidence.

pub mod check;
pub mod drift;
pub mod kept;
pub mod observe;
pub mod register;
pub mod scan;

pub use register::{Inventory, ObserveRule, System};

pub const SYSTEMS_FILE: &str = "systems.toml";

crate::vocabulary::vocabulary! {
    /// What a system is, in the inventory's words.
    pub enum Kind {
        Service = "service",
        Datastore = "datastore",
        Saas = "saas",
        CloudAccount = "cloud-account",
        Repository = "repository",
        EndpointFleet = "endpoint-fleet",
    }
}

/// Why the inventory could not be judged against the evidence.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// systems.toml has a problem `check` reports: the first one.
    #[error("{0} (run `quarterdeck check` for every problem)")]
    Invalid(String),
    #[error(transparent)]
    Population(#[from] crate::workspace::population::PopulationError),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Query(#[from] crate::workspace::query::QueryError),
    #[error(transparent)]
    Warehouse(#[from] crate::warehouse::WarehouseError),
}

impl crate::error::Kind for InventoryError {
    fn kind(&self) -> crate::error::ErrorKind {
        match self {
            Self::Invalid(_) | Self::Refused(_) => crate::error::ErrorKind::BadInput,
            Self::Population(e) => e.kind(),
            Self::Query(e) => e.kind(),
            Self::Warehouse(e) => e.kind(),
        }
    }
}
