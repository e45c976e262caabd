//! SQLAlchemy, read from syntax: what its `Column(…)` calls and its types say.
//!
//! Both sides of the comparison write SQLAlchemy: the models ([`crate::models`]) and the
//! Alembic revisions ([`crate::migrations::alembic`]). What the two readers must agree on
//! lives here, once, so that they cannot drift apart: [`column`](mod@column) sorts the
//! arguments of a `Column(…)`/`mapped_column(…)` call, [`default`] renders a `server_default=`
//! as SQL, [`enums`] says which labels a Python enum class gives an `Enum(…)`, and
//! [`types`] maps a SQLAlchemy or
//! Python type to the [`SqlType`](crate::postgres_type::SqlType) PostgreSQL would create.
//!
//! Nothing here walks a file or resolves a name: callers hand in expressions from
//! [`crate::pyast`] and say what their names stand for, after following imports or bindings
//! as far as they can.

pub mod column;
pub mod default;
pub mod enums;
pub mod types;
