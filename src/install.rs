//! `driftguard install` and `driftguard uninstall`: the git pre-commit hook.
//!
//! The hook is `hooks/pre-commit`, a plain POSIX sh script embedded here as is. Its marker line
//! tells our hook from a foreign one. [`git`](crate::git) says where the hooks folder is
//! (`core.hooksPath`, linked worktrees); this module only decides and moves files.
//!
//! A hook is never lost: a foreign `pre-commit` is kept as `pre-commit.legacy`, which our
//! script runs first (the pre-commit framework's convention), and `uninstall` puts it back.
//! `install` leaves a note beside it (`pre-commit.driftguard-kept`) so that `uninstall` puts
//! back only what `install` moved: a stray `pre-commit.legacy` that no hook ran before stays
//! where it is, inactive. When `pre-commit.legacy` is already taken the foreign hook cannot be
//! kept, so `install` refuses unless `--force`.
//!
//! An edit is never lost either: our hook with the marker line but other text than a script
//! driftguard wrote has been edited by hand, so `install` (which replaces it) and `uninstall`
//! (which removes it) first keep it as `pre-commit.driftguard-edited` (`.1`, `.2` … when taken). A repository that uses the pre-commit framework
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

/// Scripts earlier versions of driftguard wrote: replaced without keeping a copy.
const PREVIOUS_SCRIPTS: &[&str] = &[];

const HOOK: &str = "pre-commit";
const LEGACY: &str = "pre-commit.legacy";
/// Beside `pre-commit.legacy` when `install` put it there.
const KEPT: &str = "pre-commit.driftguard-kept";
/// Where an edited copy of our hook is kept.
const EDITED: &str = "pre-commit.driftguard-edited";
const PRE_COMMIT_CONFIG: &str = ".pre-commit-config.yaml";

/// What is in the hooks folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookState {
    pub hook: Existing,
    /// `pre-commit.legacy` exists.
    pub legacy: bool,
    /// `install` moved it there (its note `pre-commit.driftguard-kept` exists).
    pub kept: bool,
}

/// The `pre-commit` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Absent,
    /// Ours; `current` when it is byte for byte the script this version writes, else a script
    /// an earlier version wrote.
    Ours {
        current: bool,
    },
    /// Ours, edited by hand: carries the marker but is no script driftguard wrote.
    Edited,
    Foreign,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallPlan {
    /// Our current script is in place.
    Nothing,
    /// Write our script. `keep` moves the foreign hook to `pre-commit.legacy` first, after
    /// removing an existing one when `replace_legacy` (`--force`); `save_edited` keeps an
    /// edited copy of our hook as `pre-commit.driftguard-edited`.
    Write {
        keep: bool,
        replace_legacy: bool,
        update: bool,
        save_edited: bool,
    },
    /// A foreign hook and a `pre-commit.legacy`: the hook cannot be kept.
    Refuse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UninstallPlan {
    NotInstalled,
    /// `pre-commit` is not ours: leave it alone.
    Foreign,
    /// Remove our hook (keeping an edited one as `pre-commit.driftguard-edited` when
    /// `save_edited`), and put `pre-commit.legacy` back when `restore`.
    Remove {
        restore: bool,
        save_edited: bool,
    },
}

pub fn plan_install(state: HookState, force: bool) -> InstallPlan {
    let write = |keep, replace_legacy, update, save_edited| InstallPlan::Write {
        keep,
        replace_legacy,
        update,
        save_edited,
    };
    match state.hook {
        Existing::Ours { current: true } => InstallPlan::Nothing,
        Existing::Ours { current: false } => write(false, false, true, false),
        Existing::Edited => write(false, false, true, true),
        Existing::Absent => write(false, false, false, false),
        Existing::Foreign if !state.legacy || force => write(true, state.legacy, false, false),
        Existing::Foreign => InstallPlan::Refuse,
    }
}

pub fn plan_uninstall(state: HookState) -> UninstallPlan {
    let restore = state.legacy && state.kept;
    match state.hook {
        Existing::Absent => UninstallPlan::NotInstalled,
        Existing::Foreign => UninstallPlan::Foreign,
        Existing::Ours { .. } => UninstallPlan::Remove {
            restore,
            save_edited: false,
        },
        Existing::Edited => UninstallPlan::Remove {
            restore,
            save_edited: true,
        },
    }
}

/// What a hook file's text is.
pub fn classify_hook(text: &[u8]) -> Existing {
    if text == HOOK_SCRIPT.as_bytes() {
        Existing::Ours { current: true }
    } else if PREVIOUS_SCRIPTS.iter().any(|s| s.as_bytes() == text) {
        Existing::Ours { current: false }
    } else if is_ours(text) {
        Existing::Edited
    } else {
        Existing::Foreign
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
                Ok(text) => classify_hook(&text),
                Err(_) => Existing::Foreign,
            },
        };
        let legacy = std::fs::symlink_metadata(dir.join(LEGACY)).is_ok();
        let kept = std::fs::symlink_metadata(dir.join(KEPT)).is_ok();
        Ok(Hooks {
            root: repo.root().to_path_buf(),
            dir,
            state: HookState { hook, legacy, kept },
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Moves our edited hook aside, to the first free `pre-commit.driftguard-edited[.N]`;
    /// returns that name as shown.
    fn save_edited(&self) -> Result<String, Error> {
        let mut name = EDITED.to_string();
        let mut n = 0;
        while std::fs::symlink_metadata(self.path(&name)).is_ok() {
            n += 1;
            name = format!("{EDITED}.{n}");
        }
        std::fs::rename(self.path(HOOK), self.path(&name)).map_err(|e| {
            Error::io_at(
                format!("cannot keep the edited hook as {}", self.shown(&name)),
                e,
            )
        })?;
        Ok(self.shown(&name))
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
            save_edited,
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
            if save_edited {
                let saved = hooks.save_edited()?;
                message.push_str(&format!(
                    "{hook} was driftguard's hook with your edits: kept it as {saved}.\n"
                ));
            }
            if keep {
                std::fs::rename(hooks.path(HOOK), hooks.path(LEGACY))
                    .map_err(|e| Error::io_at(format!("cannot move {hook} to {legacy}"), e))?;
                std::fs::write(
                    hooks.path(KEPT),
                    "`driftguard install` moved the pre-commit hook to pre-commit.legacy; `driftguard uninstall` puts it back.\n",
                )
                .map_err(|e| Error::io_at(format!("cannot write {}", hooks.shown(KEPT)), e))?;
                message.push_str(&format!(
                    "Kept the existing hook as {legacy}; driftguard's hook runs it first, and `driftguard uninstall` puts it back.\n"
                ));
            } else if hooks.state.legacy && !hooks.state.kept {
                message.push_str(&format!(
                    "{legacy} exists (no hook ran it until now) and runs before driftguard's check; `driftguard uninstall` leaves it where it is.\n"
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
        UninstallPlan::Remove {
            restore,
            save_edited,
        } => {
            let mut message = if save_edited {
                let saved = hooks.save_edited()?;
                format!(
                    "Removed driftguard's pre-commit hook from {hook}; it had your edits, so it is kept as {saved}.\n"
                )
            } else {
                std::fs::remove_file(hooks.path(HOOK))
                    .map_err(|e| Error::io_at(format!("cannot remove {hook}"), e))?;
                format!("Removed driftguard's pre-commit hook from {hook}.\n")
            };
            if restore {
                std::fs::rename(hooks.path(LEGACY), hooks.path(HOOK))
                    .map_err(|e| Error::io_at(format!("cannot move {legacy} back to {hook}"), e))?;
                message.push_str(&format!("Restored the previous hook from {legacy}.\n"));
            } else if hooks.state.legacy {
                message.push_str(&format!(
                    "Left {legacy} where it is: driftguard did not put it there, and no hook runs it now.\n"
                ));
            }
            if hooks.state.kept {
                std::fs::remove_file(hooks.path(KEPT))
                    .map_err(|e| Error::io_at(format!("cannot remove {}", hooks.shown(KEPT)), e))?;
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
        HookState {
            hook,
            legacy,
            kept: legacy,
        }
    }

    #[test]
    fn the_script_carries_the_marker_and_runs_the_staged_check() {
        assert!(is_ours(HOOK_SCRIPT.as_bytes()));
        assert!(HOOK_SCRIPT.starts_with("#!/bin/sh\n"));
        assert!(HOOK_SCRIPT.contains("check --staged \"$@\""));
        assert!(!is_ours(b"#!/bin/sh\nexec pre-commit hook-impl\n"));
        assert!(!is_ours(b"echo '# driftguard-managed-hook'\n"));
        assert_eq!(
            classify_hook(HOOK_SCRIPT.as_bytes()),
            Existing::Ours { current: true }
        );
        let edited = format!("{HOOK_SCRIPT}echo mine\n");
        assert_eq!(classify_hook(edited.as_bytes()), Existing::Edited);
        assert_eq!(classify_hook(b"#!/bin/sh\n"), Existing::Foreign);
    }

    #[test]
    fn install_decisions() {
        let write = |keep, replace_legacy, update, save_edited| InstallPlan::Write {
            keep,
            replace_legacy,
            update,
            save_edited,
        };
        let current = Existing::Ours { current: true };
        let old = Existing::Ours { current: false };
        assert_eq!(
            plan_install(state(Existing::Absent, false), false),
            write(false, false, false, false)
        );
        assert_eq!(
            plan_install(state(Existing::Absent, true), false),
            write(false, false, false, false)
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
            write(false, false, true, false)
        );
        assert_eq!(
            plan_install(state(Existing::Edited, false), false),
            write(false, false, true, true)
        );
        assert_eq!(
            plan_install(state(Existing::Foreign, false), false),
            write(true, false, false, false)
        );
        assert_eq!(
            plan_install(state(Existing::Foreign, true), false),
            InstallPlan::Refuse
        );
        assert_eq!(
            plan_install(state(Existing::Foreign, true), true),
            write(true, true, false, false)
        );
    }

    #[test]
    fn uninstall_decisions() {
        let remove = |restore, save_edited| UninstallPlan::Remove {
            restore,
            save_edited,
        };
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
            remove(true, false)
        );
        assert_eq!(
            plan_uninstall(state(Existing::Ours { current: true }, false)),
            remove(false, false)
        );
        assert_eq!(
            plan_uninstall(state(Existing::Edited, true)),
            remove(true, true)
        );
        // A stray pre-commit.legacy that install did not move stays inactive.
        let stray = HookState {
            hook: Existing::Ours { current: true },
            legacy: true,
            kept: false,
        };
        assert_eq!(plan_uninstall(stray), remove(false, false));
    }

    #[test]
    fn the_snippet_pins_this_version() {
        let snippet = pre_commit_snippet();
        assert!(snippet.contains(&format!("rev: v{}", env!("CARGO_PKG_VERSION"))));
        assert!(snippet.contains("id: driftguard"));
    }
}
