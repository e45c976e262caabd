//! driftguard: proves statically that every column SQLAlchemy models map is created by the
//! repository's migrations.

pub mod config;
pub mod finding;
pub mod migrations;
pub mod models;
pub mod pyast;
pub mod rules;
pub mod satype;
pub mod schema;
pub mod source;
pub mod sqltype;
