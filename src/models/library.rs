//! What driftguard knows of widely used libraries whose base classes give a project's models
//! their table name and columns, versioned with driftguard.
//!
//! A `User(SQLAlchemyBaseUserTableUUID, Base)` of FastAPI Users is the `user` table with the
//! columns the library declares; a Flask-AppBuilder app's `MyUser(User)` is `ab_user` with
//! Flask-AppBuilder's columns and its own. driftguard never reads virtual environments or
//! `site-packages` (the result must not depend on what a machine has installed), so these
//! libraries are described here instead, as small Python modules in `library/` that the model
//! extractor reads like any other file: the classes, their `__tablename__` and their columns,
//! checked against each library's source (each file says which releases).
//!
//! | library | module | what it gives |
//! | --- | --- | --- |
//! | fastapi-users-db-sqlalchemy | `fastapi_users_db_sqlalchemy`, `.access_token` | `user`, `oauth_account`, `accesstoken` base tables |
//! | Flask-AppBuilder | `flask_appbuilder`, `.models.sqla`, `.models.mixins`, `.security.sqla.models` | the abstract `Model` base; `AuditMixin`'s four columns; the `ab_*` security tables |
//! | Flask-Login | `flask_login` | `UserMixin`, `AnonymousUserMixin`: no column |
//! | Flask-Security | `flask_security` | core `UserMixin`, `RoleMixin`: no column |
//! | SQLAlchemy-Utils | `sqlalchemy_utils` | `Timestamp`: `created`, `updated` |
//!
//! The project pass ([`super::resolve`]) reads them after the project's own files: a module of
//! the project with the same name (a vendored copy under `python_roots`) wins. A library class
//! is never a table of its own in the report — it is a base the project's classes build on —
//! and a column it contributes points at the project's class. A base class from any other
//! library is reported as unread, with the setting to use.

use std::sync::OnceLock;

use super::FileModels;
use crate::source::SourceFile;

/// The path prefix of the library modules: never a path of the project (the control character
/// keeps it from ever matching one) and never shown (locations are moved to the project's
/// classes).
pub(crate) const LIBRARY_PREFIX: &str = "\u{1}library/";

/// (dotted module, description).
const MODULES: &[(&str, &str)] = &[
    (
        "fastapi_users_db_sqlalchemy",
        include_str!("library/fastapi_users_db_sqlalchemy.py"),
    ),
    (
        "fastapi_users_db_sqlalchemy.access_token",
        include_str!("library/fastapi_users_db_sqlalchemy_access_token.py"),
    ),
    (
        "flask_appbuilder",
        include_str!("library/flask_appbuilder.py"),
    ),
    (
        "flask_appbuilder.models.sqla",
        include_str!("library/flask_appbuilder_models_sqla.py"),
    ),
    (
        "flask_appbuilder.models.mixins",
        include_str!("library/flask_appbuilder_models_mixins.py"),
    ),
    (
        "flask_appbuilder.security.sqla.models",
        include_str!("library/flask_appbuilder_security_sqla_models.py"),
    ),
    ("flask_login", include_str!("library/flask_login.py")),
    ("flask_security", include_str!("library/flask_security.py")),
    (
        "sqlalchemy_utils",
        include_str!("library/sqlalchemy_utils.py"),
    ),
];

/// Whether an import may reach a library module: an import as written (not relative) of a
/// package one of them belongs to. The resolver reaches the library through such imports only.
pub(crate) fn may_name(import: &crate::pyeval::modules::ImportBinding) -> bool {
    fn package(dotted: &str) -> &str {
        dotted.split('.').next().unwrap_or(dotted)
    }
    !import.rooted
        && MODULES
            .iter()
            .any(|(module, _)| package(module) == package(&import.target))
}

/// The library modules, read once: (dotted module, its per-file form).
pub(crate) fn modules() -> &'static [(&'static str, FileModels)] {
    static READ: OnceLock<Vec<(&'static str, FileModels)>> = OnceLock::new();
    READ.get_or_init(|| {
        MODULES
            .iter()
            .map(|(module, text)| {
                let path = format!("{LIBRARY_PREFIX}{}/__init__.py", module.replace('.', "/"));
                (*module, super::extract_file(&SourceFile::new(path, *text)))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_library_module_reads_without_warnings() {
        for (module, models) in modules() {
            assert!(
                models.warnings.is_empty(),
                "{module}: {:#?}",
                models.warnings
            );
            assert!(
                !models.classes.is_empty() || !models.imports.is_empty(),
                "{module} declares nothing"
            );
        }
    }
}
