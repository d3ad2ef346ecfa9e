//! End-to-end tests: the real `quarterdeck` binary on real workspaces, over
//! the real DuckDB. One test binary, so DuckDB is linked once.

mod common;

mod actor;
mod audit;
mod check;
mod dates;
mod demo;
mod demo_inventory;
mod documents;
mod formats;
mod ingest;
mod lake;
mod packet;
mod population_rows;
mod pull;
mod query;
mod real_data;
mod review;
mod spark;
mod systems;
mod tour;
mod trino;
pub(crate) mod tui;
mod unix;
mod warehouse;
mod workspace;
