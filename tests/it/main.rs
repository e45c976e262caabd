//! End-to-end tests: the real `driftguard` binary on real git repositories in temp dirs.
//!
//! One test binary for all of them, so that a change to the library links one executable, not
//! one per file. A module per command or concern; `common` holds the helpers.

mod common;

mod cache;
mod cache_world;
mod check;
mod dbdiff;
mod environments;
mod fix;
mod formats;
mod hostile;
mod install;
mod migration_files;
mod one_database;
mod reading;
mod robust;
mod rule_scope;
mod schema;
