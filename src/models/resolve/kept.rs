//! A resolution kept between runs: a new edit decides again only the classes it can change.
//!
//! A pre-commit check of a new edit resolves every model class of the project although the
//! edit touched one file: at 5,000 classes that was most of the check. Here each model file's
//! classes are decided by a resolver of their own, which remembers what it read
//! ([`Reads`]): the project files it looked into (through [`Resolver::file`], the per-file
//! name tables and the modules the evaluator found: [`crate::pyeval::modules::recording_reads`]),
//! the class names it looked up project-wide, whether the evaluator found one of the project's
//! other modules (not a model file) and whether it scanned every file for a
//! `Base.metadata.schema = …`. What each file decided, its warnings and its reads are kept
//! ([`Kept`]) with the identity of every model file (path and blob id).
//!
//! The next resolution over the same model files (same paths in the same order, the same
//! library modules) takes a file's kept decisions when:
//!
//! - the file itself is unchanged, and so is every file its resolver read;
//! - no class name it looked up project-wide is declared in a changed file (before or after
//!   the change): such a lookup's answer depends on which classes have that name;
//! - its evaluations found none of the project's other modules and missed none, unless
//!   those modules are unchanged (same paths and blob ids);
//! - it did not scan for metadata schemas, unless no changed file assigns one (before or
//!   after).
//!
//! Every other file is decided again, then the tables are assembled as a full resolution
//! assembles them (single-table subclasses, `Table(…)` calls). The result is exactly a full
//! resolution's (a property test edits projects at random and compares). A resolution whose
//! cycle or depth guard answered, or whose files' column helpers were expanded from other
//! modules, is neither kept nor taken from a kept one.

use foldhash::{HashMap, HashSet, HashSetExt};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::{ClassId, Decided, Mapping, Resolver};
use crate::cache::CacheBytes;
use crate::finding::Warning;
use crate::lazy::with_backing;
use crate::models::{FileModels, ModelTable};
use crate::pyeval::modules::recording_reads;
use crate::source::{Direction, with_shared_paths};

/// Bumped whenever what is kept changes shape or meaning.
const FORMAT: u32 = 6;

/// A changed model file's classes are decided one by one, each by a resolver of its own, when
/// at most this many model files changed: what each class read is then kept apart, and the
/// next edit of the file decides again only the classes it reaches. More changed files (a
/// branch switched, a first check) are decided file by file, each resolver reading a file's
/// shared bases once.
const ALONE_FILES: usize = 8;

/// A resolution that decided a file's classes one by one when the kept one had them decided
/// together is kept whatever it decided again, in a project of at most this many classes:
/// encoding it costs ~2 µs a class, and the next edit of the file then decides again only
/// the classes it reaches (~10 µs a class it does not). A larger project keeps it as before,
/// from the caller's count of classes decided again.
const ALONE_KEEP_UP_TO: usize = 1024;

/// What a resolver read of the project.
#[derive(Debug, Default)]
pub(in crate::models) struct Reads {
    /// The project files read whole (their values, tables, what the evaluator found in
    /// them), as a bit set of their indexes.
    files: Vec<u64>,
    /// The project files whose names were read (module-level names, imports, star imports:
    /// what [`shape`] digests), as a bit set.
    shapes: Vec<u64>,
    /// The project classes read.
    classes: HashSet<(u32, u32)>,
    /// Class names looked up project-wide (an import whose module the project lacks).
    pub names: HashSet<Box<str>>,
    /// The evaluator found one of the project's other modules (not a model file), or looked
    /// for a module the project lacks.
    pub others: bool,
    /// Every file was scanned for `X.metadata.schema = …`.
    pub scans: bool,
}

fn set_bit(bits: &mut Vec<u64>, f: usize) {
    let word = f / 64;
    if bits.len() <= word {
        bits.resize(word + 1, 0);
    }
    bits[word] |= 1 << (f % 64);
}

fn bit_list(bits: &[u64]) -> Vec<u32> {
    let mut out = Vec::new();
    for (w, &bits) in bits.iter().enumerate() {
        let mut bits = bits;
        while bits != 0 {
            let b = bits.trailing_zeros() as usize;
            out.push((w * 64 + b) as u32);
            bits &= bits - 1;
        }
    }
    out
}

impl Reads {
    pub fn file(&mut self, f: usize) {
        set_bit(&mut self.files, f);
    }

    pub fn shape(&mut self, f: usize) {
        set_bit(&mut self.shapes, f);
    }

    pub fn class(&mut self, (f, c): ClassId) {
        self.classes.insert((f as u32, c as u32));
    }

    /// What is kept of them.
    fn kept(self) -> ReadSet {
        let mut classes: Vec<(u32, u32)> = self.classes.into_iter().collect();
        classes.sort_unstable();
        let mut names: Vec<String> = self.names.into_iter().map(String::from).collect();
        names.sort_unstable();
        ReadSet {
            files: bit_list(&self.files),
            shapes: bit_list(&self.shapes),
            classes,
            names,
            others: self.others,
            scans: self.scans,
        }
    }
}

/// What a resolver read, as kept ([`Reads`]).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct ReadSet {
    files: Vec<u32>,
    shapes: Vec<u32>,
    classes: Vec<(u32, u32)>,
    names: Vec<String>,
    others: bool,
    scans: bool,
}

impl ReadSet {
    /// What any of `sets` read.
    fn union<'s>(sets: impl Iterator<Item = &'s ReadSet>) -> ReadSet {
        let mut out = ReadSet::default();
        for set in sets {
            out.files.extend(&set.files);
            out.shapes.extend(&set.shapes);
            out.classes.extend(&set.classes);
            out.names.extend(set.names.iter().cloned());
            out.others |= set.others;
            out.scans |= set.scans;
        }
        out.files.sort_unstable();
        out.files.dedup();
        out.shapes.sort_unstable();
        out.shapes.dedup();
        out.classes.sort_unstable();
        out.classes.dedup();
        out.names.sort_unstable();
        out.names.dedup();
        out
    }
}

/// A digest of what names in a file resolve through: its module-level names (values,
/// aliases, assigned `Table(…)` calls and classes, in order: the later binds a name), its
/// imports and its star imports. A resolver reads them through [`Resolver::locals_of`],
/// [`Resolver::imports_of`] and [`Resolver::stars_of`]; what a name leads to in the file
/// is read through [`Resolver::file`] or [`Resolver::class`].
pub(super) fn shape(file: &FileModels) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    fn list<T: Hash>(items: impl ExactSizeIterator<Item = T>, hasher: &mut impl Hasher) {
        items.len().hash(hasher);
        for item in items {
            item.hash(hasher);
        }
    }
    let mut hasher = foldhash::quality::FixedState::with_seed(0x5eed_5a9e).build_hasher();
    list(file.values.iter().map(|v| &v.name), &mut hasher);
    list(file.aliases.iter().map(|a| &a.name), &mut hasher);
    list(file.tables.iter().map(|t| &t.assigned_to), &mut hasher);
    list(file.classes.iter().map(|c| &c.name), &mut hasher);
    list(
        file.imports.iter().map(|i| (&i.local, &i.target, i.rooted)),
        &mut hasher,
    );
    list(
        file.star_imports.iter().map(|s| (&s.module, s.rooted)),
        &mut hasher,
    );
    hasher.finish()
}

/// The identity of what a resolution reads, from the caller.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// Each model file's blob id, in the order the files are given; `None` when unknown
    /// (such a file is always decided again).
    pub files: Vec<Option<Vec<u8>>>,
    /// A digest of the identities of the other modules the evaluator may import; `None`
    /// when one is unknown.
    pub others: Option<u64>,
}

/// A kept resolution (see the module doc).
#[derive(Debug)]
pub struct Kept {
    format: u32,
    paths: Vec<String>,
    ids: Vec<Option<Vec<u8>>>,
    others: Option<u64>,
    /// How many library modules the resolution read ([`super::super::library`]).
    library: u32,
    files: Vec<KeptFile>,
}

/// One model file's part of a kept resolution.
#[derive(Debug, Default, Serialize, Deserialize)]
struct KeptFile {
    class_names: Vec<String>,
    assigns_schema: bool,
    /// The file's [`shape`] and its classes' digests ([`FileModels::class_digests`]).
    shape: Option<u64>,
    digests: Vec<u64>,
    decided: Vec<(u32, KeptMapping, Option<ModelTable>)>,
    warnings: Vec<Warning>,
    reads: ReadSet,
    /// Each class's own reads and warnings, in class order, when the file's classes were
    /// decided one by one (each by a resolver of its own); empty otherwise.
    alone: Vec<(ReadSet, Vec<Warning>)>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum KeptMapping {
    NotMapped,
    Own,
    External,
    Single(u32, u32),
}

impl From<Mapping> for KeptMapping {
    fn from(mapping: Mapping) -> KeptMapping {
        match mapping {
            Mapping::NotMapped => KeptMapping::NotMapped,
            Mapping::Own => KeptMapping::Own,
            Mapping::External => KeptMapping::External,
            Mapping::Single((f, c)) => KeptMapping::Single(f as u32, c as u32),
        }
    }
}

impl From<KeptMapping> for Mapping {
    fn from(mapping: KeptMapping) -> Mapping {
        match mapping {
            KeptMapping::NotMapped => Mapping::NotMapped,
            KeptMapping::Own => Mapping::Own,
            KeptMapping::External => Mapping::External,
            KeptMapping::Single(f, c) => Mapping::Single((f as usize, c as usize)),
        }
    }
}

/// What a kept resolution's encoding starts with.
const MAGIC: &[u8] = b"driftguard kept resolution\n";

/// Model classes per chunk of a kept resolution's encoding (whole files, dealt round robin):
/// the chunks are decoded side by side. At 5,000 model classes one thread decoding them all
/// was 10 ms of a new edit's check, while the other cores waited for it. Counted in classes,
/// not files: a project keeps 5,000 classes in 200 files or in 5,000.
const CHUNK_CLASSES: usize = 256;

/// The first part of a kept resolution's encoding.
#[derive(Serialize, Deserialize)]
struct Head {
    format: u32,
    others: Option<u64>,
    library: u32,
    /// How many model files the chunks hold.
    files: u64,
    /// How many chunks hold them (at most one per file, at least one).
    chunks: u64,
}

/// One model file in a chunk, as written: its path, blob id and kept part.
type FileOut<'k> = (&'k str, Option<&'k [u8]>, &'k KeptFile);
/// … and as read.
type FileIn = (String, Option<Vec<u8>>, KeptFile);

/// How many chunks hold the model files of `kept`.
fn chunk_count(kept: &Kept) -> usize {
    let classes: usize = kept.files.iter().map(|f| f.decided.len()).sum();
    classes.div_ceil(CHUNK_CLASSES).min(kept.files.len()).max(1)
}

/// The bytes of a kept resolution: [`Head`], then the model files in chunks, dealt round robin
/// (a project's large files are often neighbours; dealt, no chunk holds them all), each
/// location's path written once per chunk ([`with_shared_paths`]), each model table's columns
/// as bytes of their own ([`crate::lazy::LazyList`]: read back, they are decoded only when
/// read, and written again as they were read until then).
pub fn encode(kept: &Kept) -> Option<Vec<u8>> {
    use rayon::prelude::*;
    let files = kept.files.len();
    if kept.paths.len() != files || kept.ids.len() != files {
        return None;
    }
    let count = chunk_count(kept);
    let head = postcard::to_allocvec(&Head {
        format: kept.format,
        others: kept.others,
        library: kept.library,
        files: files as u64,
        chunks: count as u64,
    })
    .ok()?;
    let chunks: Vec<Vec<u8>> = (0..count)
        .into_par_iter()
        .map(|k| {
            let dealt: Vec<FileOut> = (k..files)
                .step_by(count)
                .map(|f| {
                    (
                        kept.paths[f].as_str(),
                        kept.ids[f].as_deref(),
                        &kept.files[f],
                    )
                })
                .collect();
            with_shared_paths(Direction::Encode, || postcard::to_allocvec(&dealt).ok())
        })
        .collect::<Option<_>>()?;
    let mut parts = Vec::with_capacity(count + 1);
    parts.push(head);
    parts.extend(chunks);
    Some(crate::cache::framed(MAGIC, &parts))
}

/// A kept resolution from [`encode`]'s bytes, its chunks decoded side by side
/// ([`crate::cache::decode_parts`]), each model table's columns left as their bytes (in place
/// in a mapped entry, [`with_backing`]) until read; `None` for bytes of another format or
/// damaged ones.
pub fn decode<B: Into<CacheBytes>>(bytes: B) -> Option<Kept> {
    let bytes = Arc::new(bytes.into());
    let parts = crate::cache::frames(&bytes, MAGIC)?;
    let (head, chunks) = parts.split_first()?;
    let head: Head = postcard::from_bytes(bytes.get(head.clone())?).ok()?;
    let files = usize::try_from(head.files).ok()?;
    let count = chunks.len();
    if head.format != FORMAT || head.chunks != count as u64 || count > files.max(1) {
        return None;
    }
    let backing = Arc::clone(&bytes);
    let decoded: Vec<Vec<FileIn>> =
        crate::cache::decode_parts(Arc::clone(&bytes), chunks.to_vec(), move |k, chunk| {
            let dealt: Vec<FileIn> = with_backing(&backing, || {
                with_shared_paths(Direction::Decode, || postcard::from_bytes(chunk).ok())
            })?;
            // Chunk `k` holds the files `k`, `k + count`, … below `files`.
            (dealt.len() == files.saturating_sub(k).div_ceil(count)).then_some(dealt)
        })?;
    let mut paths = Vec::with_capacity(files);
    let mut ids = Vec::with_capacity(files);
    let mut kept_files = Vec::with_capacity(files);
    let mut dealt: Vec<std::vec::IntoIter<FileIn>> =
        decoded.into_iter().map(Vec::into_iter).collect();
    for f in 0..files {
        let (path, id, file) = dealt.get_mut(f % count)?.next()?;
        paths.push(path);
        ids.push(id);
        kept_files.push(file);
    }
    Some(Kept {
        format: head.format,
        paths,
        ids,
        others: head.others,
        library: head.library,
        files: kept_files,
    })
}

/// What was decided again of a file: its decisions (one, for a class decided alone) and
/// warnings, what the resolver read, and whether a guard answered.
type Fresh = (Vec<Decided>, Vec<Warning>, ReadSet, bool);

/// What [`Resolver::tables_kept`] returns.
pub(super) struct KeptTables {
    pub tables: Vec<ModelTable>,
    /// The bytes to keep: `None` when the kept resolution is this one already, or when fewer
    /// classes than asked were decided again.
    pub keep: Option<Vec<u8>>,
    /// The model files some of whose classes were decided again.
    pub decided_again: usize,
    /// The classes decided again.
    pub classes_again: usize,
    /// The kept resolution the tables went on from and the one the cache holds after this
    /// one, for the rules' memo ([`crate::rules::scope`]).
    pub bases: crate::rules::scope::ResolutionBases,
}

/// What identifies a resolution's kept state: its files' paths and ids, the other modules'
/// digest and how many library modules it read. One token, one resolution.
fn token<'p>(
    paths: impl Iterator<Item = &'p str>,
    ids: impl Iterator<Item = Option<&'p [u8]>>,
    others: Option<u64>,
    library: u32,
) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut hasher = foldhash::quality::FixedState::with_seed(0x5eed_0005).build_hasher();
    (FORMAT, others, library).hash(&mut hasher);
    for path in paths {
        path.hash(&mut hasher);
    }
    for id in ids {
        id.hash(&mut hasher);
    }
    hasher.finish()
}

impl<'a> Resolver<'a> {
    /// [`Resolver::tables`], each file's classes decided by a resolver of its own or taken
    /// from `kept` where nothing they read changed; a changed file's classes one by one, each
    /// taken from `kept` where nothing it read changed (see [`ALONE_FILES`]). `None` when a
    /// cycle or depth guard answered: the caller resolves in one piece and keeps nothing.
    pub(super) fn tables_kept(
        &mut self,
        identity: &Identity,
        kept: Option<Kept>,
        keep_from: usize,
    ) -> Option<KeptTables> {
        use rayon::prelude::*;
        let project = self.library_start;
        let files: Vec<_> = self.files[..project].to_vec();
        // Compared in place: the lists of paths and ids are built only for a resolution to
        // keep (5,000 allocations each otherwise).
        let id = |f: usize| identity.files.get(f).and_then(Option::as_deref);
        let library = (self.files.len() - project) as u32;
        let kept = kept.filter(|k| {
            k.format == FORMAT
                && k.library == library
                && k.paths.len() == project
                && k.paths.iter().zip(&files).all(|(p, f)| *p == f.path)
                && k.ids.len() == project
                && k.files.len() == project
        });
        let changed: Vec<bool> = match &kept {
            Some(k) => (0..project)
                .map(|f| id(f).is_none() || k.ids[f].as_deref() != id(f))
                .collect(),
            None => vec![true; project],
        };
        let same = kept
            .as_ref()
            .is_some_and(|k| !changed.iter().any(|&c| c) && k.others == identity.others);
        // A changed file whose names are as kept: its classes are compared one by one.
        let shape_same: Vec<bool> = match &kept {
            Some(k) => (0..project)
                .map(|f| changed[f] && k.files[f].shape == Some(shape(files[f])))
                .collect(),
            None => vec![false; project],
        };
        let class_same = |f: usize, c: usize| {
            kept.as_ref().is_some_and(|k| {
                shape_same.get(f).copied().unwrap_or(false)
                    && matches!(
                        (k.files[f].digests.get(c), files[f].class_digests.get(c)),
                        (Some(a), Some(b)) if a == b
                    )
            })
        };
        let mut changed_names: HashSet<&str> = HashSet::new();
        let mut schema_assigned = false;
        let others_changed = kept
            .as_ref()
            .is_none_or(|k| identity.others.is_none() || k.others != identity.others);
        if let Some(k) = &kept {
            for f in (0..project).filter(|&f| changed[f]) {
                // A file with the same names declares the same classes.
                if !shape_same[f] {
                    changed_names.extend(k.files[f].class_names.iter().map(String::as_str));
                    changed_names.extend(files[f].classes.iter().map(|c| c.name.as_str()));
                }
                schema_assigned |=
                    k.files[f].assigns_schema || !files[f].metadata_schemas.is_empty();
            }
        }
        // Whether what a resolver read is as it was when it was kept.
        let holds = |set: &ReadSet| {
            let is_changed = |g: u32| changed.get(g as usize).copied().unwrap_or(true);
            set.files.iter().all(|&g| !is_changed(g))
                && set.shapes.iter().all(|&g| {
                    !is_changed(g) || shape_same.get(g as usize).copied().unwrap_or(false)
                })
                && set
                    .classes
                    .iter()
                    .all(|&(g, c)| !is_changed(g) || class_same(g as usize, c as usize))
                && set
                    .names
                    .iter()
                    .all(|n| !changed_names.contains(n.as_str()))
                && !(set.others && others_changed)
                && !(set.scans && schema_assigned)
        };
        let reusable: Vec<bool> = match &kept {
            Some(k) => (0..project)
                .map(|f| !changed[f] && holds(&k.files[f].reads))
                .collect(),
            None => vec![false; project],
        };
        // The files whose kept classes can be taken one by one: kept class by class, with the
        // same names.
        let alone_kept: Vec<bool> = match &kept {
            Some(k) => (0..project)
                .map(|f| {
                    let unit = &k.files[f];
                    let classes = files[f].classes.len();
                    !reusable[f]
                        && classes > 0
                        && (!changed[f] || shape_same[f])
                        && unit.alone.len() == classes
                        && unit.decided.len() == classes
                        && unit
                            .decided
                            .iter()
                            .enumerate()
                            .all(|(c, d)| d.0 as usize == c)
                })
                .collect(),
            None => vec![false; project],
        };
        let changed_files = (0..project)
            .filter(|&f| changed[f] && !files[f].classes.is_empty())
            .count();
        let by_class: Vec<bool> = (0..project)
            .map(|f| {
                kept.is_some()
                    && !reusable[f]
                    && (alone_kept[f] || (changed[f] && changed_files <= ALONE_FILES))
            })
            .collect();
        // Each file's classes in source order; the files in the order their classes sort.
        let order = self.classes_in_order();
        let mut runs: Vec<&[ClassId]> = Vec::new();
        let mut start = 0;
        for end in 1..=order.len() {
            if end == order.len() || order[end].0 != order[end - 1].0 {
                runs.push(&order[start..end]);
                start = end;
            }
        }
        // What is decided again: whole files, and classes alone.
        let mut jobs: Vec<&[ClassId]> = Vec::new();
        let mut taken_alone = 0;
        for run in runs.iter().copied() {
            let f = run[0].0;
            if reusable[f] {
                continue;
            }
            if !by_class[f] {
                jobs.push(run);
                continue;
            }
            for k in 0..run.len() {
                // Its own lines as kept, whatever its resolver read (it reads them).
                let taken = alone_kept[f]
                    && (!changed[f] || class_same(f, run[k].1))
                    && kept
                        .as_ref()
                        .and_then(|kept| kept.files[f].alone.get(run[k].1))
                        .is_some_and(|(reads, _)| holds(reads));
                if taken {
                    taken_alone += 1;
                } else {
                    jobs.push(&run[k..=k]);
                }
            }
        }
        // The model files' summaries by address, for what the evaluator found.
        let summaries: HashMap<usize, usize> = files
            .iter()
            .enumerate()
            .map(|(f, file)| (&file.summary as *const _ as usize, f))
            .collect();
        let shared = &self.shared;
        let fresh: Vec<Fresh> = jobs
            .par_iter()
            .map(|ids| {
                let mut resolver = Resolver::with_shared(Arc::clone(shared));
                let (decided, evaluated): (Vec<Decided>, _) =
                    recording_reads(|| ids.iter().map(|&id| resolver.decide_class(id)).collect());
                let mut reads = resolver.reads.into_inner();
                for address in evaluated {
                    match summaries.get(&address) {
                        Some(&f) => reads.file(f),
                        // One of the other modules, or none found (which ones the project
                        // has decided that).
                        None => reads.others = true,
                    }
                }
                (decided, resolver.warnings, reads.kept(), resolver.guarded)
            })
            .collect();
        if fresh.iter().any(|(_, _, _, guarded)| *guarded) {
            return None;
        }
        let classes_again: usize = jobs.iter().map(|ids| ids.len()).sum();
        crate::timing::count("model classes taken one by one", taken_alone);
        let mut again_files: Vec<usize> = jobs.iter().map(|ids| ids[0].0).collect();
        again_files.dedup();
        let first_alone = again_files.iter().any(|&f| by_class[f] && !alone_kept[f]);
        let decided_again = again_files.len();
        // The kept state these tables go on from, the files whose decisions may differ from it
        // (those decided again, and a changed file left without classes: the rules look its
        // old classes up by name) and the names it holds for them. Of a file whose classes
        // were taken one by one, only those decided again: their names, as kept and now.
        let from = kept.as_ref().map(|k| {
            let mut dirty_files = std::collections::BTreeSet::new();
            let mut dirty_names = std::collections::BTreeSet::new();
            for f in (0..project).filter(|&f| !reusable[f] && !alone_kept[f]) {
                dirty_files.insert(files[f].path.clone());
                let unit = &k.files[f];
                dirty_names.extend(unit.class_names.iter().cloned());
                dirty_names.extend(
                    unit.decided
                        .iter()
                        .filter_map(|(_, _, table)| Some(table.as_ref()?.name.clone())),
                );
            }
            let decided_alone = jobs
                .iter()
                .zip(&fresh)
                .filter(|(ids, _)| alone_kept[ids[0].0])
                .flat_map(|(_, (decided, ..))| decided);
            for &((f, c), _, ref table) in decided_alone {
                let unit = &k.files[f];
                dirty_names.extend(unit.class_names.get(c).cloned());
                dirty_names.extend(
                    unit.decided
                        .get(c)
                        .and_then(|(_, _, table)| Some(table.as_ref()?.name.clone())),
                );
                if let Some(class) = files[f].classes.get(c) {
                    dirty_names.insert(class.name.clone());
                }
                dirty_names.extend(table.as_ref().map(|t| t.name.clone()));
            }
            crate::rules::scope::ResolutionBasis {
                token: token(
                    k.paths.iter().map(String::as_str),
                    k.ids.iter().map(Option::as_deref),
                    k.others,
                    k.library,
                ),
                dirty_files,
                dirty_names,
            }
        });
        let mut units: Vec<KeptFile> = match kept {
            Some(k) => k.files,
            None => Vec::new(),
        };
        units.resize_with(project, KeptFile::default);
        // The kept decisions of a file decided class by class, by class.
        let mut slots: HashMap<usize, Vec<Option<Decision>>> = HashMap::default();
        for (ids, (decided, warnings, reads, _)) in jobs.iter().zip(fresh) {
            let f = ids[0].0;
            let mut decided: Vec<_> = decided
                .into_iter()
                .map(|((_, c), mapping, table)| (c as u32, mapping.into(), table))
                .collect();
            if !by_class[f] {
                units[f] = KeptFile {
                    decided,
                    warnings,
                    reads,
                    ..KeptFile::default()
                };
                continue;
            }
            let slots = slots.entry(f).or_insert_with(|| {
                let unit = std::mem::take(&mut units[f]);
                if alone_kept[f] {
                    unit.decided
                        .into_iter()
                        .zip(unit.alone)
                        .map(|(decided, alone)| Some((decided, alone)))
                        .collect()
                } else {
                    std::iter::repeat_with(|| None)
                        .take(files[f].classes.len())
                        .collect()
                }
            });
            // A class decided alone: one decision.
            let decision = decided.pop().filter(|_| decided.is_empty())?;
            let slot = slots.get_mut(decision.0 as usize)?;
            *slot = Some((decision, (reads, warnings)));
        }
        for (f, slots) in slots {
            let (decided, alone): (Vec<_>, Vec<_>) = slots
                .into_iter()
                .collect::<Option<Vec<Decision>>>()?
                .into_iter()
                .unzip();
            units[f] = KeptFile {
                decided,
                warnings: alone.iter().flat_map(|(_, w)| w.iter().cloned()).collect(),
                reads: ReadSet::union(alone.iter().map(|(reads, _)| reads)),
                alone,
                ..KeptFile::default()
            };
        }
        // Encoded before the tables move out of it (a project's tables are most of what a
        // kept resolution holds: they are moved, never copied).
        let worth = classes_again >= keep_from || (first_alone && order.len() <= ALONE_KEEP_UP_TO);
        let keep = if !same && worth {
            let _s = crate::timing::span("kept resolution encode");
            // What the next resolution compares: each file's class names, schema assignment,
            // names and class digests as they are now (the kept ones may be older).
            for (f, unit) in units.iter_mut().enumerate() {
                unit.class_names = files[f].classes.iter().map(|c| c.name.clone()).collect();
                unit.assigns_schema = !files[f].metadata_schemas.is_empty();
                unit.shape = Some(shape(files[f]));
                unit.digests.clone_from(&files[f].class_digests);
            }
            let kept = Kept {
                format: FORMAT,
                paths: files.iter().map(|f| f.path.clone()).collect(),
                ids: (0..project).map(|f| id(f).map(<[u8]>::to_vec)).collect(),
                others: identity.others,
                library,
                files: units,
            };
            let bytes = encode(&kept);
            units = kept.files;
            bytes
        } else {
            None
        };
        let mut decided: Vec<Decided> = Vec::with_capacity(order.len());
        for run in &runs {
            let f = run[0].0;
            let unit = &mut units[f];
            self.warnings.append(&mut unit.warnings);
            decided.extend(
                std::mem::take(&mut unit.decided)
                    .into_iter()
                    .map(|(c, mapping, table)| ((f, c as usize), mapping.into(), table)),
            );
        }
        let (tables, assembled) = self.assemble_tables(decided);
        if self.guarded {
            return None;
        }
        // Kept now, this resolution is the kept one: nothing differs from it.
        let kept = match &keep {
            Some(_) => Some(crate::rules::scope::ResolutionBasis {
                token: token(
                    files.iter().map(|f| f.path.as_str()),
                    (0..project).map(id),
                    identity.others,
                    library,
                ),
                dirty_files: Default::default(),
                dirty_names: Default::default(),
            }),
            None => from.clone(),
        };
        Some(KeptTables {
            tables,
            keep,
            decided_again,
            classes_again,
            bases: crate::rules::scope::ResolutionBases {
                from,
                kept,
                assembled,
            },
        })
    }
}

/// A class's kept decision, with what its resolver read and warned of.
type Decision = (
    (u32, KeptMapping, Option<ModelTable>),
    (ReadSet, Vec<Warning>),
);

#[cfg(test)]
mod tests {
    use super::super::{KeptResolution, ResolveOptions, resolve_keeping, resolve_with_modules};
    use super::*;
    use crate::models::FileModels;
    use crate::source::SourceFile;

    /// xorshift64*: the same edits on every run, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.next() % 100 < percent
        }
    }

    /// How a class names its base.
    #[derive(Clone, Debug)]
    enum Base {
        /// The declarative base (`Base`), with the `Stamped` mixin or not.
        Root { stamped: bool },
        /// A class of this file, declared above.
        Local(String),
        /// A class of another model file: `from .mK import X`, through the package's star
        /// re-exports (`from app.models import X`), or from a module the project lacks
        /// (`from app.gone.mK import X`: found when its name is unique).
        Other { name: String, file: usize, how: u8 },
    }

    #[derive(Clone, Debug)]
    enum Table {
        Literal(String),
        /// The constant `NAME_k` of `consts.py` (a model file without classes).
        Constant(usize),
        /// `f"{NAME_k}_f"`: computed by the evaluator from a model file.
        Computed(usize),
        /// `f"{PREFIX}_…"` with `PREFIX` from `app/settings.py`, a module that is not a model
        /// file (and may be missing).
        Settings,
    }

    #[derive(Clone, Debug)]
    struct Class {
        name: String,
        base: Base,
        abstract_: bool,
        /// `None`: no `__tablename__` (a single-table subclass when the base is mapped).
        table: Option<Table>,
        columns: Vec<String>,
    }

    #[derive(Clone, Debug)]
    struct Project {
        /// Model files `app/models/m{k}.py` (a removed file is `None`).
        files: Vec<Option<Vec<Class>>>,
        /// `Base.metadata.schema = …` in the base file, or in a model file.
        schema_in_base: Option<String>,
        schema_in: Option<(usize, String)>,
        constants: Vec<String>,
        /// `PREFIX` in `app/settings.py`; `None`: no such module.
        settings: Option<String>,
        counter: usize,
    }

    impl Project {
        fn fresh_name(&mut self) -> String {
            self.counter += 1;
            format!("C{}", self.counter)
        }

        fn class(&mut self, rng: &mut Rng, file: usize) -> Class {
            let name = self.fresh_name();
            let earlier: Vec<String> = self.files[file]
                .iter()
                .flatten()
                .map(|c| c.name.clone())
                .collect();
            let others: Vec<(usize, String)> = self
                .files
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != file)
                .flat_map(|(k, f)| f.iter().flatten().map(move |c| (k, c.name.clone())))
                .collect();
            let base = match rng.below(4) {
                0 if !earlier.is_empty() => Base::Local(earlier[rng.below(earlier.len())].clone()),
                1 | 2 if !others.is_empty() => {
                    let (k, n) = others[rng.below(others.len())].clone();
                    Base::Other {
                        name: n,
                        file: k,
                        how: rng.below(3) as u8,
                    }
                }
                _ => Base::Root {
                    stamped: rng.chance(40),
                },
            };
            let abstract_ = rng.chance(10);
            let table = match rng.below(7) {
                0 => None,
                1 => Some(Table::Constant(rng.below(self.constants.len()))),
                2 => Some(Table::Computed(rng.below(self.constants.len()))),
                3 => Some(Table::Settings),
                _ => Some(Table::Literal(format!("t_{}", name.to_lowercase()))),
            };
            let mut columns = vec!["id: Mapped[int] = mapped_column(primary_key=True)".to_string()];
            for c in 0..rng.below(3) {
                columns.push(format!(
                    "c{c}: Mapped[Optional[str]] = mapped_column(String({}))",
                    10 + rng.below(50)
                ));
            }
            if rng.chance(20) {
                columns
                    .push("parent_id: Mapped[int] = mapped_column(ForeignKey(\"t_c1.id\"))".into());
            }
            Class {
                name,
                base,
                abstract_,
                table,
                columns,
            }
        }

        fn new(rng: &mut Rng, files: usize) -> Project {
            let mut project = Project {
                files: vec![Some(Vec::new()); files],
                schema_in_base: None,
                schema_in: None,
                constants: (0..4).map(|k| format!("named_{k}")).collect(),
                settings: Some("pre".into()),
                counter: 0,
            };
            for f in 0..files {
                for _ in 0..1 + rng.below(5) {
                    let class = project.class(rng, f);
                    if let Some(classes) = &mut project.files[f] {
                        classes.push(class);
                    }
                }
            }
            project
        }

        /// One random edit; its name, for a failing assertion.
        fn edit(&mut self, rng: &mut Rng) -> String {
            let live: Vec<usize> = (0..self.files.len())
                .filter(|&f| self.files[f].as_ref().is_some_and(|c| !c.is_empty()))
                .collect();
            let f = live.get(rng.below(live.len())).copied().unwrap_or(0);
            match rng.below(13) {
                0..=2 => {
                    if let Some(classes) = &mut self.files[f]
                        && !classes.is_empty()
                    {
                        let i = rng.below(classes.len());
                        classes[i]
                            .columns
                            .push(format!("added_{}: Mapped[Optional[int]]", rng.below(1000)));
                    }
                    format!("column added in m{f}")
                }
                3 => {
                    if let Some(classes) = &mut self.files[f]
                        && !classes.is_empty()
                    {
                        let i = rng.below(classes.len());
                        classes.remove(i);
                    }
                    format!("class removed from m{f}")
                }
                4 => {
                    let name = self.fresh_name();
                    if let Some(classes) = &mut self.files[f]
                        && !classes.is_empty()
                    {
                        let i = rng.below(classes.len());
                        classes[i].name = name;
                    }
                    format!("class renamed in m{f}")
                }
                5 => {
                    let k = rng.below(self.constants.len());
                    self.constants[k] = format!("renamed_{}", rng.below(1000));
                    format!("constant NAME_{k} changed")
                }
                6 => {
                    let mut class = self.class(rng, f);
                    if rng.chance(30)
                        && let Some(other) = self.files.iter().flatten().flatten().next()
                    {
                        // A second class of an existing name.
                        class.name = other.name.clone();
                    }
                    if let Some(classes) = &mut self.files[f] {
                        classes.push(class);
                    }
                    format!("class added to m{f}")
                }
                7 => {
                    self.schema_in_base = match self.schema_in_base {
                        Some(_) => None,
                        None => Some(format!("s{}", rng.below(10))),
                    };
                    "schema of the base toggled".into()
                }
                8 => {
                    self.schema_in = match self.schema_in {
                        Some(_) => None,
                        None => Some((f, format!("m{}", rng.below(10)))),
                    };
                    format!("schema assigned in m{f} toggled")
                }
                9 => {
                    let class = self.class(rng, f);
                    if let Some(classes) = &mut self.files[f]
                        && !classes.is_empty()
                    {
                        let i = rng.below(classes.len());
                        classes[i].base = class.base;
                    }
                    format!("base changed in m{f}")
                }
                10 => {
                    if rng.chance(50) {
                        self.files.push(Some(Vec::new()));
                        let n = self.files.len() - 1;
                        let class = self.class(rng, n);
                        self.files[n] = Some(vec![class]);
                        format!("file m{n} added")
                    } else {
                        self.files[f] = None;
                        format!("file m{f} removed")
                    }
                }
                11 => {
                    self.settings = match (&self.settings, rng.chance(30)) {
                        (Some(_), true) => None,
                        _ => Some(format!("p{}", rng.below(1000))),
                    };
                    "settings changed".into()
                }
                _ => "nothing".into(),
            }
        }

        /// The project's other module, when it has one.
        fn modules(&self) -> Vec<crate::pyeval::ModuleSummary> {
            self.settings
                .iter()
                .filter_map(|prefix| {
                    crate::pyeval::modules::summarize_source(
                        "app/settings.py",
                        format!("PREFIX = \"{prefix}\"\n").as_bytes(),
                    )
                })
                .collect()
        }

        fn sources(&self) -> Vec<SourceFile> {
            let mut base = String::from(
                "from datetime import datetime\nfrom sqlalchemy import DateTime\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\nclass Base(DeclarativeBase):\n    pass\n\nclass Stamped:\n    created_at: Mapped[datetime] = mapped_column(DateTime)\n",
            );
            if let Some(schema) = &self.schema_in_base {
                base.push_str(&format!("\nBase.metadata.schema = \"{schema}\"\n"));
            }
            let mut out = vec![
                SourceFile::new("app/models/base.py", base),
                SourceFile::new(
                    "app/models/consts.py",
                    self.constants
                        .iter()
                        .enumerate()
                        .map(|(k, v)| format!("NAME_{k} = \"{v}\"\n"))
                        .collect::<String>(),
                ),
            ];
            let mut init = String::from("from .base import Base\n");
            for (k, file) in self.files.iter().enumerate() {
                let Some(classes) = file else { continue };
                init.push_str(&format!("from .m{k} import *\n"));
                let mut text = String::from(
                    "from typing import Optional\nfrom sqlalchemy import ForeignKey, String\nfrom sqlalchemy.orm import Mapped, mapped_column\nfrom app.settings import PREFIX\nfrom .base import Base, Stamped\nfrom .consts import NAME_0, NAME_1, NAME_2, NAME_3\n",
                );
                for class in classes {
                    if let Base::Other { name, file, how } = &class.base {
                        text.push_str(&match how {
                            0 => format!("from .m{file} import {name}\n"),
                            1 => format!("from app.models import {name}\n"),
                            _ => format!("from app.gone.m{file} import {name}\n"),
                        });
                    }
                }
                if let Some((f, schema)) = &self.schema_in
                    && *f == k
                {
                    text.push_str(&format!("\nBase.metadata.schema = \"{schema}\"\n"));
                }
                for class in classes {
                    let base = match &class.base {
                        Base::Root { stamped: true } => "Stamped, Base".to_string(),
                        Base::Root { stamped: false } => "Base".to_string(),
                        Base::Local(name) | Base::Other { name, .. } => name.clone(),
                    };
                    text.push_str(&format!("\nclass {}({base}):\n", class.name));
                    if class.abstract_ {
                        text.push_str("    __abstract__ = True\n");
                    }
                    match &class.table {
                        Some(Table::Literal(t)) => {
                            text.push_str(&format!("    __tablename__ = \"{t}\"\n"))
                        }
                        Some(Table::Constant(k)) => {
                            text.push_str(&format!("    __tablename__ = NAME_{k}\n"))
                        }
                        Some(Table::Computed(k)) => {
                            text.push_str(&format!("    __tablename__ = f\"{{NAME_{k}}}_f\"\n"))
                        }
                        Some(Table::Settings) => text.push_str(&format!(
                            "    __tablename__ = f\"{{PREFIX}}_{}\"\n",
                            class.name.to_lowercase()
                        )),
                        None => {}
                    }
                    for column in &class.columns {
                        text.push_str(&format!("    {column}\n"));
                    }
                }
                out.push(SourceFile::new(format!("app/models/m{k}.py"), text));
            }
            out.push(SourceFile::new("app/models/__init__.py", init));
            out
        }
    }

    fn identity(files: &[SourceFile]) -> Identity {
        identity_with(files, &[])
    }

    fn identity_with(files: &[SourceFile], modules: &[crate::pyeval::ModuleSummary]) -> Identity {
        use std::hash::BuildHasher;
        let state = foldhash::quality::FixedState::with_seed(7);
        Identity {
            files: files
                .iter()
                .map(|f| Some(state.hash_one(&f.text).to_le_bytes().to_vec()))
                .collect(),
            others: Some(state.hash_one(format!("{modules:?}"))),
        }
    }

    #[test]
    fn a_kept_resolution_gives_what_a_full_one_gives_over_random_edits() {
        let options = ResolveOptions::default();
        let (mut steps, mut reused_steps, mut computed, mut from_settings) = (0, 0, 0, 0);
        let (mut column_steps, mut column_decided, mut column_total) = (0, 0, 0);
        for seed in 1..=12u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let files = 3 + rng.below(6);
            let mut project = Project::new(&mut rng, files);
            let mut kept: Option<Vec<u8>> = None;
            let mut what = String::from("first resolution");
            // The last step kept its resolution.
            let mut kept_last = false;
            for _ in 0..40 {
                let sources = project.sources();
                let others = project.modules();
                let models: Vec<FileModels> =
                    sources.iter().map(crate::models::extract_file).collect();
                let refs: Vec<&FileModels> = models.iter().collect();
                let id = identity_with(&sources, &others);
                let full = resolve_with_modules(&refs, &others, &options);
                // What a kept resolution decides again, seen from inside.
                let mut inside = Resolver::new(&refs, &others, &options);
                let again = inside
                    .tables_kept(&id, kept.clone().and_then(decode), usize::MAX)
                    .map(|out| (out.decided_again, out.classes_again));
                let (tables, warnings, keep, _) = resolve_keeping(
                    &refs,
                    &others,
                    &options,
                    Some(KeptResolution {
                        identity: &id,
                        load: Box::new(|| kept.clone().and_then(decode)),
                    }),
                );
                assert_eq!(tables, full.0, "seed {seed}, after: {what}");
                // The evaluator's answers are among them: from a model file, from the other
                // module.
                computed += tables.iter().filter(|t| t.name.ends_with("_f")).count();
                if let Some(prefix) = &project.settings {
                    let settings = format!("{prefix}_c");
                    from_settings += tables
                        .iter()
                        .filter(|t| t.name.starts_with(&settings))
                        .count();
                }
                assert_eq!(warnings, full.1, "seed {seed}, after: {what}");
                let with_classes = refs.iter().filter(|f| !f.classes.is_empty()).count();
                if let Some((again, classes_again)) = again {
                    steps += 1;
                    if again < with_classes {
                        reused_steps += 1;
                    }
                    if what.starts_with("column added") && kept.is_some() {
                        column_steps += 1;
                        column_decided += again;
                        column_total += with_classes;
                        // The edited file, and no more than the files that read it.
                        assert!(again >= 1, "seed {seed}: the edited file is decided again");
                        assert!(classes_again >= 1, "seed {seed}: the edited class");
                    }
                    if what == "nothing" && kept_last {
                        assert_eq!(again, 0, "seed {seed}: nothing changed");
                        assert!(keep.is_none(), "seed {seed}: nothing new to keep");
                    }
                }
                kept_last = keep.is_some();
                if keep.is_some() {
                    kept = keep;
                }
                what = project.edit(&mut rng);
            }
        }
        assert!(steps > 400, "{steps}");
        assert!(
            computed > 100 && from_settings > 100,
            "{computed}, {from_settings}"
        );
        assert!(reused_steps > steps / 2, "{reused_steps} of {steps}");
        assert!(
            column_steps > 60 && column_decided * 4 < column_total * 3,
            "a column added: {column_decided} of {column_total} files decided again over {column_steps} steps"
        );
    }

    /// The files decided again when `edited` (indexes into `files`) change, going on from
    /// the resolution of `files`.
    fn decided_again(files: &[SourceFile], edited: &[(usize, &str)]) -> usize {
        let options = ResolveOptions::default();
        let models: Vec<FileModels> = files.iter().map(crate::models::extract_file).collect();
        let refs: Vec<&FileModels> = models.iter().collect();
        let mut first = Resolver::new(&refs, &[], &options);
        let keep = first
            .tables_kept(&identity(files), None, 0)
            .and_then(|out| out.keep)
            .expect("kept");
        let mut after = files.to_vec();
        for &(i, line) in edited {
            after[i] = SourceFile::new(after[i].path.clone(), format!("{}{line}\n", after[i].text));
        }
        let models: Vec<FileModels> = after.iter().map(crate::models::extract_file).collect();
        let refs: Vec<&FileModels> = models.iter().collect();
        let mut second = Resolver::new(&refs, &[], &options);
        let out = second
            .tables_kept(&identity(&after), decode(keep), 0)
            .expect("no guard");
        assert_eq!(out.tables, resolve_with_modules(&refs, &[], &options).0);
        out.decided_again
    }

    #[test]
    fn only_the_edited_file_and_the_files_that_read_it_are_decided_again() {
        let header = "from typing import Optional\nfrom sqlalchemy import String\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n";
        let mut files = vec![SourceFile::new(
            "app/models/base.py",
            format!(
                "{header}\nclass Base(DeclarativeBase):\n    pass\n\nclass Stamped:\n    note: Mapped[Optional[str]]\n"
            ),
        )];
        for k in 0..8 {
            let import = if k == 7 { "from .m0 import M0_0\n" } else { "" };
            let base = if k == 7 { "M0_0" } else { "Stamped, Base" };
            files.push(SourceFile::new(
                format!("app/models/m{k}.py"),
                format!("{header}from .base import Base, Stamped\n{import}\nclass M{k}_0(Base):\n    __tablename__ = \"t{k}_0\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass M{k}_1({base}):\n    __tablename__ = \"t{k}_1\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n"),
            ));
        }
        let column = "    added: Mapped[Optional[str]] = mapped_column(String(9))";
        // A column of m3: m3 alone. A column of m0's last class: m0 alone (m7's class derives
        // from m0's first class, whose lines are as they were); m0 and m7 once m7's class
        // derives from the edited class.
        assert_eq!(decided_again(&files, &[(4, column)]), 1);
        assert_eq!(decided_again(&files, &[(1, column)]), 1);
        let mut from_last = files.clone();
        from_last[8] = SourceFile::new(
            from_last[8].path.clone(),
            from_last[8].text.replace("M0_0", "M0_1"),
        );
        assert_eq!(decided_again(&from_last, &[(1, column)]), 2);
        assert_eq!(decided_again(&files, &[]), 0);
        // The base file's last class (`Stamped`): the base file and the files whose classes
        // derive from it (all but m7).
        assert_eq!(decided_again(&files, &[(0, "X = 1")]), 8);
        // The base file's names (a new import): every file (itself included).
        assert_eq!(
            decided_again(&files, &[(0, "from sqlalchemy import Integer")]),
            9
        );
        // A new class whose name a fallback looked up: that file too.
        files[5] = SourceFile::new(
            files[5].path.clone(),
            format!(
                "{}from app.gone import M0_1\n\nclass Late(M0_1):\n    pass\n",
                files[5].text
            ),
        );
        assert_eq!(decided_again(&files, &[(2, "class M0_1:\n    pass")]), 2);
        // A table name the evaluator computes from another model file: that file's edit
        // decides it again, another file's does not.
        files.push(SourceFile::new("app/models/consts.py", "NAME = \"n\"\n"));
        files[6] = SourceFile::new(
            files[6].path.clone(),
            format!(
                "{}from .consts import NAME\n\nclass Named(Base):\n    __tablename__ = f\"{{NAME}}_x\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
                files[6].text
            ),
        );
        assert_eq!(decided_again(&files, &[(9, "OTHER = 1")]), 1);
        assert_eq!(decided_again(&files, &[(4, column)]), 1);
        // `Base.metadata.schema = …` assigned in a model file: every class scans for it.
        assert_eq!(
            decided_again(&files, &[(3, "Base.metadata.schema = \"s\"")]),
            8
        );
    }

    #[test]
    fn a_kept_resolution_round_trips_in_chunks_of_any_size() {
        let table = |f: usize| ModelTable {
            schema: f.is_multiple_of(3).then(|| "core".to_string()),
            name: format!("t{f}"),
            class_name: Some(format!("T{f}")),
            location: crate::source::Location::new(format!("models/m{}.py", f / 7), 3, 1),
            columns: Default::default(),
        };
        // (files, classes in each): chunks of one file or many, up to one per file.
        for (files, classes) in [
            (0, 1),
            (1, 1),
            (CHUNK_CLASSES - 1, 1),
            (CHUNK_CLASSES, 1),
            (CHUNK_CLASSES + 1, 1),
            (3 * CHUNK_CLASSES + 5, 1),
            (40, 25),
            (3, 400),
        ] {
            let kept = Kept {
                format: FORMAT,
                paths: (0..files)
                    .map(|f| format!("models/m{}.py", f / 7))
                    .collect(),
                ids: (0..files)
                    .map(|f| (!f.is_multiple_of(5)).then(|| (f as u32).to_le_bytes().to_vec()))
                    .collect(),
                others: Some(7),
                library: 2,
                files: (0..files)
                    .map(|f| KeptFile {
                        class_names: vec![format!("T{f}")],
                        assigns_schema: f.is_multiple_of(11),
                        decided: (0..classes)
                            .map(|c| (c as u32, KeptMapping::Own, Some(table(f * 1000 + c))))
                            .collect(),
                        warnings: Vec::new(),
                        reads: ReadSet {
                            files: vec![f as u32],
                            shapes: vec![f as u32 + 1],
                            classes: vec![(f as u32, 0)],
                            others: f.is_multiple_of(2),
                            ..ReadSet::default()
                        },
                        shape: Some(f as u64),
                        digests: vec![3; classes],
                        alone: if f.is_multiple_of(3) {
                            (0..classes)
                                .map(|c| {
                                    let reads = ReadSet {
                                        classes: vec![(f as u32, c as u32)],
                                        ..ReadSet::default()
                                    };
                                    (reads, Vec::new())
                                })
                                .collect()
                        } else {
                            Vec::new()
                        },
                    })
                    .collect(),
            };
            let bytes = encode(&kept).expect("encodes");
            let back = decode(bytes.clone()).expect("decodes");
            assert_eq!(format!("{back:?}"), format!("{kept:?}"), "{files} files");
            let chunks = crate::cache::frames(&bytes, MAGIC).expect("framed").len() - 1;
            let expected = (files * classes)
                .div_ceil(CHUNK_CLASSES)
                .clamp(1, files.max(1));
            assert_eq!(chunks, expected, "{files} files of {classes} classes");
            // A chunk cut short is a miss, not a shorter resolution.
            assert!(decode(bytes[..bytes.len() - 1].to_vec()).is_none());
        }
    }

    /// The tables and what [`Resolver::tables_kept`] reports of going on from `kept`.
    fn going_on(files: &[SourceFile], kept: Option<Vec<u8>>) -> KeptTables {
        let options = ResolveOptions::default();
        let models: Vec<FileModels> = files.iter().map(crate::models::extract_file).collect();
        let refs: Vec<&FileModels> = models.iter().collect();
        let out = Resolver::new(&refs, &[], &options)
            .tables_kept(&identity(files), kept.and_then(decode), 0)
            .expect("no guard");
        assert_eq!(out.tables, resolve_with_modules(&refs, &[], &options).0);
        out
    }

    #[test]
    fn an_edited_file_is_decided_again_class_by_class_once_kept_so() {
        let base = SourceFile::new(
            "app/models/base.py",
            "from sqlalchemy.orm import DeclarativeBase\n\nclass Base(DeclarativeBase):\n    pass\n",
        );
        let models = |extra: &[(usize, &str)]| {
            let mut text = String::from(
                "from typing import Optional\nfrom sqlalchemy import String\nfrom sqlalchemy.orm import Mapped, mapped_column\nfrom .base import Base\n",
            );
            for k in 0..6 {
                text.push_str(&format!(
                    "\n\nclass M{k}(Base):\n    __tablename__ = \"t{k}\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
                ));
                for (_, line) in extra.iter().filter(|(at, _)| *at == k) {
                    text.push_str(&format!("    {line}\n"));
                }
            }
            vec![base.clone(), SourceFile::new("app/models/m.py", text)]
        };
        let first = going_on(&models(&[]), None);
        assert_eq!(first.classes_again, 7);
        // The first edit of the file decides all its classes again, one by one.
        let one = going_on(&models(&[(5, "a: Mapped[Optional[str]]")]), first.keep);
        assert_eq!((one.decided_again, one.classes_again), (1, 6));
        let from = one.bases.from.as_ref().expect("went on from a kept one");
        assert!(from.dirty_files.contains("app/models/m.py"));
        let kept = one.keep;
        // The next edit of its last class decides that class again, and no other.
        let two = going_on(&models(&[(5, "b: Mapped[Optional[str]]")]), kept.clone());
        assert_eq!((two.decided_again, two.classes_again), (1, 1));
        let from = two.bases.from.as_ref().expect("went on from a kept one");
        assert!(from.dirty_files.is_empty(), "{from:?}");
        assert_eq!(
            from.dirty_names
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["M5", "t5"]
        );
        // An edit of the third class: that class, the next (whose lines start after the
        // third's `class` line) and the classes below it, whose lines moved.
        let three = going_on(&models(&[(2, "c: Mapped[Optional[str]]")]), kept.clone());
        assert_eq!(three.classes_again, 4);
        // A new import: the file's names changed, every class is decided again.
        let mut moved = models(&[]);
        moved[1] = SourceFile::new("app/models/m.py", format!("import enum\n{}", moved[1].text));
        let four = going_on(&moved, kept.clone());
        assert_eq!(four.classes_again, 6);
        // The base class edited: every class that derives from it, and the base.
        let mut based = models(&[]);
        based[0] = SourceFile::new(
            "app/models/base.py",
            format!("{}    __abstract__ = True\n", based[0].text),
        );
        let five = going_on(&based, kept);
        assert_eq!((five.decided_again, five.classes_again), (2, 7));
    }

    #[test]
    fn a_first_edit_decided_class_by_class_is_kept_in_a_project_of_few_classes() {
        let options = ResolveOptions::default();
        let base = SourceFile::new(
            "app/models/base.py",
            "from sqlalchemy.orm import DeclarativeBase\n\nclass Base(DeclarativeBase):\n    pass\n",
        );
        let project = |edit: &str| {
            let mut files = vec![base.clone()];
            for f in 0..30 {
                let mut text = String::from(
                    "from sqlalchemy.orm import Mapped, mapped_column\nfrom .base import Base\n",
                );
                for c in 0..20 {
                    text.push_str(&format!(
                        "\n\nclass M{f}_{c}(Base):\n    __tablename__ = \"t{f}_{c}\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
                    ));
                }
                if f == 0 {
                    text.push_str(edit);
                }
                files.push(SourceFile::new(format!("app/models/m{f}.py"), text));
            }
            files
        };
        // What the caller asks for 601 classes: 38 decided again.
        let keep_from = 601usize.div_ceil(16);
        let step = |files: &[SourceFile], kept: Option<Vec<u8>>| {
            let models: Vec<FileModels> = files.iter().map(crate::models::extract_file).collect();
            let refs: Vec<&FileModels> = models.iter().collect();
            let out = Resolver::new(&refs, &[], &options)
                .tables_kept(&identity(files), kept.and_then(decode), keep_from)
                .expect("no guard");
            assert_eq!(out.tables, resolve_with_modules(&refs, &[], &options).0);
            out
        };
        let first = step(&project(""), None);
        let kept = first.keep.expect("a first resolution is kept");
        // The first edit of a file: its 20 classes decided one by one, fewer than asked for,
        // and kept all the same.
        let one = step(&project("    a: Mapped[int]\n"), Some(kept));
        assert_eq!(one.classes_again, 20);
        let kept = one.keep.expect("kept: the file is now kept class by class");
        // The next: one class, nothing kept.
        let two = step(&project("    b: Mapped[int]\n"), Some(kept));
        assert_eq!(two.classes_again, 1);
        assert!(two.keep.is_none());
    }

    #[test]
    fn damaged_or_foreign_bytes_are_not_taken() {
        assert!(decode(Vec::new()).is_none());
        assert!(decode(vec![0xff; 64]).is_none());
        let kept = Kept {
            format: FORMAT + 1,
            paths: Vec::new(),
            ids: Vec::new(),
            others: None,
            library: 0,
            files: Vec::new(),
        };
        let bytes = encode(&kept).expect("encodes");
        assert!(decode(bytes).is_none(), "another format is not read");
    }
}
