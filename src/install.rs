//! `driftguard install` and `driftguard uninstall`: the git pre-commit hook.
//!
//! The hook is `hooks/pre-commit`, a plain POSIX sh script embedded here as is. Its marker line
//! tells our hook from a foreign one. [`git`](crate::git) says where the hooks folder is
//! (`core.hooksPath`, linked worktrees); this module only decides and moves files.
//!
//! A hook is never lost: a foreign `pre-commit` is kept as `pre-commit.legacy`, which our
//! script runs first (the pre-commit framework's convention), and `uninstall` puts it back.
//! When `pre-commit.legacy` is already taken the foreign hook cannot be kept, so `install`
//! refuses unless `--force`. A repository that uses the pre-commit framework
//! (`.pre-commit-config.yaml`) gets the snippet to add there instead of a hook that the
//! framework's own `pre-commit install` would push aside.
//!
//! The decisions are pure functions of what is in the hooks folder ([`plan_install`],
//! [`plan_uninstall`]); the file moves follow them. Messages are returned, never printed.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::git::Repo;

/// The hook script `install` writes.
pub const HOOK_SCRIPT: &str = include_str!("../hooks/pre-commit");

/// The line that marks a hook as ours.
pub const MARKER: &str = "# driftguard-managed-hook";

const HOOK: &str = "pre-commit";
const LEGACY: &str = "pre-commit.legacy";
const PRE_COMMIT_CONFIG: &str = ".pre-commit-config.yaml";

/// What is in the hooks folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookState {
    pub hook: Existing,
    /// `pre-commit.legacy` exists.
    pub legacy: bool,
}

/// The `pre-commit` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Absent,
    /// Ours; `current` when it is byte for byte the script this version writes.
    Ours {
        current: bool,
    },
    Foreign,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallPlan {
    /// Our current script is in place.
    Nothing,
    /// Write our script. `keep` moves the foreign hook to `pre-commit.legacy` first, after
    /// removing an existing one when `replace_legacy` (`--force`).
    Write {
        keep: bool,
        replace_legacy: bool,
        update: bool,
    },
    /// A foreign hook and a `pre-commit.legacy`: the hook cannot be kept.
    Refuse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UninstallPlan {
    NotInstalled,
    /// `pre-commit` is not ours: leave it alone.
    Foreign,
    /// Remove our hook, and put `pre-commit.legacy` back when `restore`.
    Remove {
        restore: bool,
    },
}

pub fn plan_install(state: HookState, force: bool) -> InstallPlan {
    match state.hook {
        Existing::Ours { current: true } => InstallPlan::Nothing,
        Existing::Ours { current: false } => InstallPlan::Write {
            keep: false,
            replace_legacy: false,
            update: true,
        },
        Existing::Absent => InstallPlan::Write {
            keep: false,
            replace_legacy: false,
            update: false,
        },
        Existing::Foreign if !state.legacy || force => InstallPlan::Write {
            keep: true,
            replace_legacy: state.legacy,
            update: false,
        },
        Existing::Foreign => InstallPlan::Refuse,
    }
}

pub fn plan_uninstall(state: HookState) -> UninstallPlan {
    match state.hook {
        Existing::Absent => UninstallPlan::NotInstalled,
        Existing::Foreign => UninstallPlan::Foreign,
        Existing::Ours { .. } => UninstallPlan::Remove {
            restore: state.legacy,
        },
    }
}

/// Whether a hook's text is ours.
pub fn is_ours(text: &[u8]) -> bool {
    text.split(|&b| b == b'\n')
        .any(|line| line.starts_with(MARKER.as_bytes()))
}

/// The lines to add to `.pre-commit-config.yaml`.
pub fn pre_commit_snippet() -> String {
    format!(
        "  - repo: {}\n    rev: v{}\n    hooks:\n      - id: driftguard  # builds driftguard with cargo; or `driftguard-system` to use the one on PATH\n",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION")
    )
}

/// The repository, its hooks folder and what is in it.
struct Hooks {
    root: PathBuf,
    dir: PathBuf,
    state: HookState,
}

impl Hooks {
    fn find(path: &Path) -> Result<Hooks, Error> {
        let repo = Repo::discover(path).ok_or_else(|| {
            Error::Usage(format!(
                "`{}` is not inside a git repository with a work tree; run this in the repository whose commits driftguard should check",
                path.display()
            ))
        })?;
        let dir = repo.hooks_dir()?;
        let hook = match std::fs::symlink_metadata(dir.join(HOOK)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Existing::Absent,
            Err(e) => {
                return Err(Error::io_at(
                    format!("cannot read {}", dir.join(HOOK).display()),
                    e,
                ));
            }
            // A broken symlink or an unreadable file is someone else's hook.
            Ok(_) => match std::fs::read(dir.join(HOOK)) {
                Ok(text) if is_ours(&text) => Existing::Ours {
                    current: text == HOOK_SCRIPT.as_bytes(),
                },
                _ => Existing::Foreign,
            },
        };
        let legacy = std::fs::symlink_metadata(dir.join(LEGACY)).is_ok();
        Ok(Hooks {
            root: repo.root().to_path_buf(),
            dir,
            state: HookState { hook, legacy },
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A hook file's path for messages: relative to the work tree root when inside it.
    fn shown(&self, name: &str) -> String {
        let full = self.path(name);
        full.strip_prefix(&self.root)
            .unwrap_or(&full)
            .display()
            .to_string()
    }
}

/// `driftguard install`: returns what was done, for stdout.
pub fn install(path: &Path, force: bool) -> Result<String, Error> {
    let hooks = Hooks::find(path)?;
    if hooks.root.join(PRE_COMMIT_CONFIG).is_file() {
        return Ok(pre_commit_message(&hooks.root));
    }
    let hook = hooks.shown(HOOK);
    let legacy = hooks.shown(LEGACY);
    match plan_install(hooks.state, force) {
        InstallPlan::Nothing => Ok(format!(
            "driftguard's pre-commit hook is already installed in {hook}; nothing to do.\n"
        )),
        InstallPlan::Refuse => Err(Error::Usage(format!(
            "{hook} is another tool's hook and {legacy} already exists, so driftguard cannot keep that hook as {legacy}. Move one of them away and run `driftguard install` again, or pass --force to keep {hook} as {legacy} and delete the current {legacy}"
        ))),
        InstallPlan::Write {
            keep,
            replace_legacy,
            update,
        } => {
            std::fs::create_dir_all(&hooks.dir)
                .map_err(|e| Error::io_at(format!("cannot create {}", hooks.dir.display()), e))?;
            // Written aside first: a failure leaves the hooks folder as it was.
            let staged = stage_hook(&hooks.dir)?;
            let mut message = String::new();
            if replace_legacy {
                std::fs::remove_file(hooks.path(LEGACY))
                    .map_err(|e| Error::io_at(format!("cannot remove {legacy}"), e))?;
                message.push_str(&format!("Deleted the previous {legacy} (--force).\n"));
            }
            if keep {
                std::fs::rename(hooks.path(HOOK), hooks.path(LEGACY))
                    .map_err(|e| Error::io_at(format!("cannot move {hook} to {legacy}"), e))?;
                message.push_str(&format!(
                    "Kept the existing hook as {legacy}; driftguard's hook runs it first, and `driftguard uninstall` puts it back.\n"
                ));
            } else if hooks.state.legacy {
                message.push_str(&format!(
                    "{legacy} exists and runs before driftguard's check.\n"
                ));
            }
            std::fs::rename(&staged, hooks.path(HOOK))
                .map_err(|e| Error::io_at(format!("cannot write {hook}"), e))?;
            let verb = if update { "Updated" } else { "Installed" };
            message.push_str(&format!(
                "{verb} driftguard's pre-commit hook in {hook}: each commit now runs `driftguard check --staged`.\n"
            ));
            Ok(message)
        }
    }
}

/// `driftguard uninstall`: returns what was done, for stdout.
pub fn uninstall(path: &Path) -> Result<String, Error> {
    let hooks = Hooks::find(path)?;
    let hook = hooks.shown(HOOK);
    let legacy = hooks.shown(LEGACY);
    match plan_uninstall(hooks.state) {
        UninstallPlan::NotInstalled => Ok(format!(
            "driftguard's pre-commit hook is not installed ({hook} does not exist); nothing to do.\n"
        )),
        UninstallPlan::Foreign => Ok(format!(
            "{hook} is not driftguard's hook; left it alone.{}\n",
            if hooks.root.join(PRE_COMMIT_CONFIG).is_file() {
                format!(" To stop running driftguard here, remove it from {PRE_COMMIT_CONFIG}.")
            } else {
                String::new()
            }
        )),
        UninstallPlan::Remove { restore } => {
            std::fs::remove_file(hooks.path(HOOK))
                .map_err(|e| Error::io_at(format!("cannot remove {hook}"), e))?;
            let mut message = format!("Removed driftguard's pre-commit hook from {hook}.\n");
            if restore {
                std::fs::rename(hooks.path(LEGACY), hooks.path(HOOK))
                    .map_err(|e| Error::io_at(format!("cannot move {legacy} back to {hook}"), e))?;
                message.push_str(&format!("Restored the previous hook from {legacy}.\n"));
            }
            Ok(message)
        }
    }
}

fn pre_commit_message(root: &Path) -> String {
    let listed = std::fs::read_to_string(root.join(PRE_COMMIT_CONFIG))
        .is_ok_and(|text| text.contains("id: driftguard"));
    if listed {
        return format!(
            "This repository uses the pre-commit framework and {PRE_COMMIT_CONFIG} already lists driftguard; no git hook written. Run `pre-commit install` if you have not.\n"
        );
    }
    format!(
        "This repository uses the pre-commit framework, so driftguard wrote no git hook (`pre-commit install` would replace it).\nAdd this to the `repos:` list in {PRE_COMMIT_CONFIG}, then run `pre-commit install`:\n\n{}",
        pre_commit_snippet()
    )
}

/// Writes our script, executable, next to where it goes; returns its path.
fn stage_hook(dir: &Path) -> Result<PathBuf, Error> {
    let staged = dir.join("pre-commit.driftguard-tmp");
    std::fs::write(&staged, HOOK_SCRIPT)
        .map_err(|e| Error::io_at(format!("cannot write {}", staged.display()), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io_at(format!("cannot make {} executable", staged.display()), e))?;
    }
    Ok(staged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(hook: Existing, legacy: bool) -> HookState {
        HookState { hook, legacy }
    }

    #[test]
    fn the_script_carries_the_marker_and_runs_the_staged_check() {
        assert!(is_ours(HOOK_SCRIPT.as_bytes()));
        assert!(HOOK_SCRIPT.starts_with("#!/bin/sh\n"));
        assert!(HOOK_SCRIPT.contains("check --staged \"$@\""));
        assert!(!is_ours(b"#!/bin/sh\nexec pre-commit hook-impl\n"));
        assert!(!is_ours(b"echo '# driftguard-managed-hook'\n"));
    }

    #[test]
    fn install_decisions() {
        let write = |keep, replace_legacy, update| InstallPlan::Write {
            keep,
            replace_legacy,
            update,
        };
        let current = Existing::Ours { current: true };
        let old = Existing::Ours { current: false };
        assert_eq!(
            plan_install(state(Existing::Absent, false), false),
            write(false, false, false)
        );
        assert_eq!(
            plan_install(state(Existing::Absent, true), false),
            write(false, false, false)
        );
        assert_eq!(
            plan_install(state(current, true), false),
            InstallPlan::Nothing
        );
        assert_eq!(
            plan_install(state(current, false), true),
            InstallPlan::Nothing
        );
        assert_eq!(
            plan_install(state(old, true), false),
            write(false, false, true)
        );
        assert_eq!(
            plan_install(state(Existing::Foreign, false), false),
            write(true, false, false)
        );
        assert_eq!(
            plan_install(state(Existing::Foreign, true), false),
            InstallPlan::Refuse
        );
        assert_eq!(
            plan_install(state(Existing::Foreign, true), true),
            write(true, true, false)
        );
    }

    #[test]
    fn uninstall_decisions() {
        assert_eq!(
            plan_uninstall(state(Existing::Absent, true)),
            UninstallPlan::NotInstalled
        );
        assert_eq!(
            plan_uninstall(state(Existing::Foreign, true)),
            UninstallPlan::Foreign
        );
        assert_eq!(
            plan_uninstall(state(Existing::Ours { current: false }, true)),
            UninstallPlan::Remove { restore: true }
        );
        assert_eq!(
            plan_uninstall(state(Existing::Ours { current: true }, false)),
            UninstallPlan::Remove { restore: false }
        );
    }

    #[test]
    fn the_snippet_pins_this_version() {
        let snippet = pre_commit_snippet();
        assert!(snippet.contains(&format!("rev: v{}", env!("CARGO_PKG_VERSION"))));
        assert!(snippet.contains("id: driftguard"));
    }
}
