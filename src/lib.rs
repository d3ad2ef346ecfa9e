//! Quarterdeck: SOC 2 audit preparation over a DuckDB evidence workspace.
//! Domain first: `workspace` and `audit` know nothing of the command line.

pub mod audit;
pub mod cli;
pub mod connectors;
pub mod demo;
pub mod error;
pub mod fuzzy;
pub mod packet;
pub mod progress;
pub mod text;
pub mod tui;
pub mod vocabulary;
pub mod warehouse;
pub mod workspace;
