//! driftguard: proves statically that every column SQLAlchemy models map is created by the
//! repository's migrations.

pub mod migrations;
pub mod source;
pub mod sqltype;
pub mod pyast;
pub mod finding;
pub mod models;
