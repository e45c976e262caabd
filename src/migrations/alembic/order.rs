//! Revisions → the order Alembic could run them in.
//!
//! Parents come before children: a revision's parents are its `down_revision`s (exact ids, as
//! Alembic requires) and its `depends_on` entries (an id, a branch label, or a unique id prefix
//! of at least four characters, as `alembic upgrade` accepts them). Among revisions that are
//! ready at the same time the smallest `(revision id, path)` goes first, so the order never
//! depends on the order files were listed in. Kahn's algorithm over a binary heap keeps this
//! `O((n + e) log n)`.
//!
//! A broken graph is reported, never fatal: a parent that no file defines is a warning and the
//! link is dropped (the revision is read without it); a repeated revision id is a warning and
//! every file with it is read (children wait for all of them); a cycle is a warning, and once
//! nothing else can be placed the members of every cycle that no other waiting revision leads
//! into are placed, in id order — so cycles come after every revision that does not depend on
//! them, and what depends on a cycle comes after it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use foldhash::{HashMap, HashMapExt};

use super::Revision;
use crate::finding::Warning;
use crate::source::Location;

/// Shortest `depends_on` prefix matched against revision ids.
const MIN_PREFIX: usize = 4;

/// Orders revisions parents-first. See the module documentation.
pub fn order(revisions: Vec<Revision>) -> (Vec<Revision>, Vec<Warning>) {
    let n = revisions.len();
    let mut warnings = Vec::new();

    // Rank = position in (revision id, path) order: the tie-break everywhere below.
    let mut by_rank: Vec<usize> = (0..n).collect();
    by_rank.sort_by(|&a, &b| {
        (&revisions[a].revision, &revisions[a].path)
            .cmp(&(&revisions[b].revision, &revisions[b].path))
    });
    let mut rank = vec![0; n];
    for (r, &i) in by_rank.iter().enumerate() {
        rank[i] = r;
    }

    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_label: HashMap<&str, Vec<usize>> = HashMap::new();
    for &i in &by_rank {
        let rev = &revisions[i];
        by_id.entry(rev.revision.as_str()).or_default().push(i);
        for label in &rev.branch_labels {
            by_label.entry(label.as_str()).or_default().push(i);
        }
    }
    let mut ids: Vec<&str> = by_id.keys().copied().collect();
    ids.sort_unstable();
    for id in &ids {
        let Some(files) = by_id.get(id) else {
            continue;
        };
        if let [first, rest @ ..] = files.as_slice() {
            for &dup in rest {
                warnings.push(Warning::at(
                    Location::new(revisions[dup].path.clone(), 1, 1),
                    format!(
                        "revision id `{id}` is also used by {}; both revisions are read",
                        revisions[*first].path
                    ),
                ));
            }
        }
    }

    // Parent links, deduplicated; `children` is the reverse.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for &i in &by_rank {
        let rev = &revisions[i];
        let mut parents: Vec<usize> = Vec::new();
        for down in &rev.down_revisions {
            match by_id.get(down.as_str()) {
                Some(found) => parents.extend(found),
                None => warnings.push(missing(rev, down, "down_revision")),
            }
        }
        for dep in &rev.depends_on {
            match resolve_dependency(dep, &by_id, &by_label, &ids) {
                Some(found) => parents.extend(found),
                None => warnings.push(missing(rev, dep, "depends_on")),
            }
        }
        parents.sort_unstable();
        parents.dedup();
        indegree[i] = parents.len();
        for p in parents {
            children[p].push(i);
        }
    }

    let mut placed = vec![false; n];
    let mut out: Vec<usize> = Vec::with_capacity(n);
    let mut ready: BinaryHeap<Reverse<usize>> = by_rank
        .iter()
        .filter(|&&i| indegree[i] == 0)
        .map(|&i| Reverse(rank[i]))
        .collect();
    while out.len() < n {
        while let Some(Reverse(r)) = ready.pop() {
            let i = by_rank[r];
            if placed[i] {
                continue;
            }
            place(i, &mut placed, &mut out, &mut indegree, &children, |c| {
                ready.push(Reverse(rank[c]));
            });
        }
        if out.len() == n {
            break;
        }
        // Stuck: every revision left waits for another one left. Place the cycles nothing
        // else left leads into, and go on from there.
        let cycles = source_cycles(&by_rank, &rank, &children, &placed);
        if cycles.is_empty() {
            break;
        }
        for cycle in cycles {
            let names: Vec<String> = cycle
                .iter()
                .map(|&i| format!("`{}` ({})", revisions[i].revision, revisions[i].path))
                .collect();
            if let Some(&first) = cycle.first() {
                warnings.push(Warning::at(
                    Location::new(revisions[first].path.clone(), 1, 1),
                    format!(
                        "revisions form a cycle through down_revision/depends_on: {}; they \
                         are read after the revisions that do not depend on them",
                        names.join(", ")
                    ),
                ));
            }
            for i in cycle {
                if !placed[i] {
                    place(i, &mut placed, &mut out, &mut indegree, &children, |c| {
                        ready.push(Reverse(rank[c]));
                    });
                }
            }
        }
    }

    (in_order(revisions, &out), warnings)
}

/// `revisions` in the order `out` gives (revision `out[k]` comes `k`-th); those `out` leaves
/// out are dropped. When `out` places them all (nearly always), they are moved into place in
/// the list they came in, not into two fresh ones (2,000 revisions of a few hundred bytes).
fn in_order(mut revisions: Vec<Revision>, out: &[usize]) -> Vec<Revision> {
    let n = revisions.len();
    let mut target = vec![usize::MAX; n];
    for (k, &i) in out.iter().enumerate() {
        match target.get_mut(i) {
            Some(slot) if *slot == usize::MAX => *slot = k,
            _ => return in_order_dropping(revisions, out),
        }
    }
    if out.len() != n {
        return in_order_dropping(revisions, out);
    }
    // `target` is a permutation: follow each cycle, swapping every revision into its place.
    for i in 0..n {
        while target[i] != i {
            let t = target[i];
            revisions.swap(i, t);
            target.swap(i, t);
        }
    }
    revisions
}

/// [`in_order`] for an `out` that does not place every revision once.
fn in_order_dropping(revisions: Vec<Revision>, out: &[usize]) -> Vec<Revision> {
    let mut slots: Vec<Option<Revision>> = revisions.into_iter().map(Some).collect();
    out.iter()
        .filter_map(|&i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

/// The heads of a revision graph: the revision ids no other revision names as its
/// `down_revision`, sorted. `alembic upgrade head` needs exactly one.
pub fn heads(revisions: &[Revision]) -> Vec<String> {
    let parents: std::collections::HashSet<&str> = revisions
        .iter()
        .flat_map(|r| r.down_revisions.iter().map(String::as_str))
        .collect();
    let mut heads: Vec<String> = revisions
        .iter()
        .filter(|r| !parents.contains(r.revision.as_str()))
        .map(|r| r.revision.clone())
        .collect();
    heads.sort();
    heads.dedup();
    heads
}

/// The connected graph each revision belongs to (union-find over `down_revision` links): a
/// number per revision, equal for revisions of one history. A `down_revision` id that several
/// files have links to the one in the child's own folder, if any: Prefect keeps a chain per
/// database dialect in sibling folders and repeats revision ids between them.
pub fn histories(revisions: &[Revision]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..revisions.len()).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut index: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (i, r) in revisions.iter().enumerate() {
        index.entry(r.revision.as_str()).or_default().push(i);
    }
    let folder = |path: &str| path.rsplit_once('/').map_or("", |(dir, _)| dir).to_string();
    for (i, r) in revisions.iter().enumerate() {
        for down in &r.down_revisions {
            let targets = index
                .get(down.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            // An id several files share (Prefect repeats its ids in each dialect's folder)
            // links to the one in the same folder, when there is one.
            let same_folder: Vec<usize> = targets
                .iter()
                .copied()
                .filter(|&j| folder(&revisions[j].path) == folder(&r.path))
                .collect();
            let linked = if targets.len() > 1 && !same_folder.is_empty() {
                same_folder
            } else {
                targets.to_vec()
            };
            for j in linked {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                if a != b {
                    parent[a] = b;
                }
            }
        }
    }
    (0..revisions.len()).map(|i| find(&mut parent, i)).collect()
}

/// Marks `i` placed and releases the children that no longer wait for anything.
fn place(
    i: usize,
    placed: &mut [bool],
    out: &mut Vec<usize>,
    indegree: &mut [usize],
    children: &[Vec<usize>],
    mut release: impl FnMut(usize),
) {
    placed[i] = true;
    out.push(i);
    for &c in &children[i] {
        indegree[c] = indegree[c].saturating_sub(1);
        if indegree[c] == 0 && !placed[c] {
            release(c);
        }
    }
}

fn missing(rev: &Revision, parent: &str, field: &str) -> Warning {
    Warning::at(
        Location::new(rev.path.clone(), 1, 1),
        format!(
            "revision `{}` names `{parent}` in its {field}, but no revision file has that id; \
             it is read without that parent",
            rev.revision
        ),
    )
}

/// A `depends_on` entry: an exact id, a branch label, or a unique id prefix.
fn resolve_dependency<'m>(
    dep: &str,
    by_id: &'m HashMap<&str, Vec<usize>>,
    by_label: &'m HashMap<&str, Vec<usize>>,
    ids: &[&'m str],
) -> Option<&'m [usize]> {
    if let Some(found) = by_id.get(dep).or_else(|| by_label.get(dep)) {
        return Some(found);
    }
    if dep.len() < MIN_PREFIX {
        return None;
    }
    let start = ids.partition_point(|id| *id < dep);
    let mut matching = ids[start..].iter().take_while(|id| id.starts_with(dep));
    let only = matching.next()?;
    if matching.next().is_some() {
        return None;
    }
    by_id.get(only).map(Vec::as_slice)
}

/// The strongly connected components of the unplaced revisions that no other unplaced
/// revision leads into, each sorted by rank, the components in the order of their first
/// member. Tarjan's algorithm, iterative.
fn source_cycles(
    by_rank: &[usize],
    rank: &[usize],
    children: &[Vec<usize>],
    placed: &[bool],
) -> Vec<Vec<usize>> {
    let n = children.len();
    let mut index: Vec<Option<usize>> = vec![None; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut component = vec![usize::MAX; n];
    let mut components: Vec<Vec<usize>> = Vec::new();
    let mut counter = 0;
    for &start in by_rank {
        if placed[start] || index[start].is_some() {
            continue;
        }
        let mut calls: Vec<(usize, usize)> = vec![(start, 0)];
        index[start] = Some(counter);
        low[start] = counter;
        counter += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&(v, pos)) = calls.last() {
            if let Some(&w) = children[v].get(pos) {
                if let Some(top) = calls.last_mut() {
                    top.1 += 1;
                }
                if placed[w] {
                    continue;
                }
                match index[w] {
                    None => {
                        index[w] = Some(counter);
                        low[w] = counter;
                        counter += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        calls.push((w, 0));
                    }
                    Some(iw) if on_stack[w] => low[v] = low[v].min(iw),
                    Some(_) => {}
                }
                continue;
            }
            calls.pop();
            if let Some(&(u, _)) = calls.last() {
                low[u] = low[u].min(low[v]);
            }
            if Some(low[v]) == index[v] {
                let id = components.len();
                let mut members = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = id;
                    members.push(w);
                    if w == v {
                        break;
                    }
                }
                components.push(members);
            }
        }
    }
    // A component is a source when no unplaced revision outside it is a parent of a member.
    let mut has_outside_parent = vec![false; components.len()];
    for (p, kids) in children.iter().enumerate() {
        if placed[p] {
            continue;
        }
        for &c in kids {
            if !placed[c]
                && component[c] != component[p]
                && let Some(flag) = has_outside_parent.get_mut(component[c])
            {
                *flag = true;
            }
        }
    }
    let mut sources: Vec<Vec<usize>> = components
        .into_iter()
        .zip(has_outside_parent)
        .filter(|(_, outside)| !outside)
        .map(|(mut members, _)| {
            members.sort_by_key(|&i| rank[i]);
            members
        })
        .collect();
    sources.sort_by_key(|m| m.first().map(|&i| rank[i]));
    sources
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::MigrationEvents;

    fn rev(id: &str, down: &[&str]) -> Revision {
        Revision {
            path: format!("versions/{id}.py"),
            revision: id.to_string(),
            down_revisions: down.iter().map(|s| s.to_string()).collect(),
            depends_on: Vec::new(),
            branch_labels: Vec::new(),
            down_revision_at: None,
            create_date: None,
            events: crate::lazy::Lazy::new(MigrationEvents::default()),
            warned: false,
            names_class: false,
        }
    }

    fn ids(revisions: &[Revision]) -> Vec<&str> {
        revisions.iter().map(|r| r.revision.as_str()).collect()
    }

    #[test]
    fn revisions_are_moved_into_the_order_given_and_unplaced_ones_dropped() {
        let five = || ["a", "b", "c", "d", "e"].map(|id| rev(id, &[])).to_vec();
        // Two cycles (0 → 3 → 1 → 4 → 0, and 2 in place).
        let moved = in_order(five(), &[3, 4, 2, 1, 0]);
        assert_eq!(ids(&moved), ["d", "e", "c", "b", "a"]);
        assert_eq!(
            ids(&in_order(five(), &[0, 1, 2, 3, 4])),
            ["a", "b", "c", "d", "e"]
        );
        // An order that leaves some out, or names one twice, keeps each placed one once.
        assert_eq!(ids(&in_order(five(), &[4, 1])), ["e", "b"]);
        assert_eq!(
            ids(&in_order(five(), &[2, 2, 0, 1, 3])),
            ["c", "a", "b", "d"]
        );
        assert!(in_order(Vec::new(), &[]).is_empty());
    }

    #[test]
    fn a_chain_comes_out_parents_first_whatever_the_input_order() {
        let input = vec![
            rev("c", &["b"]),
            rev("a", &[]),
            rev("d", &["c"]),
            rev("b", &["a"]),
        ];
        let (ordered, warnings) = order(input);
        assert_eq!(ids(&ordered), vec!["a", "b", "c", "d"]);
        assert!(warnings.is_empty());
        // Ids that sort against the graph order do not matter.
        let input = vec![rev("1", &["9"]), rev("9", &["5"]), rev("5", &[])];
        assert_eq!(ids(&order(input).0), vec!["5", "9", "1"]);
    }

    #[test]
    fn branches_tie_break_by_id_and_merges_wait_for_both() {
        let input = vec![
            rev("merge", &["y2", "x1"]),
            rev("y2", &["y1"]),
            rev("x1", &["root"]),
            rev("y1", &["root"]),
            rev("after", &["merge"]),
            rev("root", &[]),
        ];
        let (ordered, warnings) = order(input);
        assert!(warnings.is_empty());
        assert_eq!(
            ids(&ordered),
            vec!["root", "x1", "y1", "y2", "merge", "after"]
        );
    }

    #[test]
    fn several_roots_and_heads() {
        let input = vec![
            rev("b2", &["b1"]),
            rev("a1", &[]),
            rev("b1", &[]),
            rev("a2", &["a1"]),
        ];
        assert_eq!(ids(&order(input).0), vec!["a1", "a2", "b1", "b2"]);
    }

    #[test]
    fn same_id_ties_break_by_path() {
        let mut one = rev("x", &[]);
        one.path = "z/versions/x.py".into();
        let mut two = rev("x", &[]);
        two.path = "a/versions/x.py".into();
        let (ordered, _) = order(vec![one, two]);
        let paths: Vec<&str> = ordered.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, vec!["a/versions/x.py", "z/versions/x.py"]);
    }

    #[test]
    fn depends_on_by_id_label_and_prefix() {
        let mut users = rev("aaaa1111", &[]);
        users.branch_labels = vec!["users".into()];
        let mut billing = rev("0001", &[]);
        billing.depends_on = vec!["users".into()];
        let mut invoices = rev("0002", &["0001"]);
        invoices.depends_on = vec!["bbbb".into()];
        let other = rev("bbbb2222", &[]);
        let mut by_id = rev("0003", &["0002"]);
        by_id.depends_on = vec!["zzz9".into()];
        let last = rev("zzz9", &[]);
        let (ordered, warnings) = order(vec![by_id, invoices, billing, other, users, last]);
        assert!(warnings.is_empty(), "{warnings:?}");
        let pos = |id: &str| ordered.iter().position(|r| r.revision == id);
        assert!(pos("aaaa1111") < pos("0001"));
        assert!(pos("bbbb2222") < pos("0002"));
        assert!(pos("zzz9") < pos("0003"));
        assert_eq!(
            ids(&ordered),
            vec!["aaaa1111", "0001", "bbbb2222", "0002", "zzz9", "0003"]
        );
    }

    #[test]
    fn a_missing_parent_is_a_warning_and_the_revision_is_still_placed() {
        let mut dep = rev("c", &["b"]);
        dep.depends_on = vec!["nope".into()];
        let input = vec![rev("b", &["gone"]), dep, rev("a", &[])];
        let (ordered, warnings) = order(input);
        assert_eq!(ids(&ordered), vec!["a", "b", "c"]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let first = &warnings[0];
        assert_eq!(
            first.location.as_ref().map(|l| &*l.path),
            Some("versions/b.py")
        );
        assert!(first.message.contains("`gone`"), "{}", first.message);
        assert!(first.message.contains("down_revision"));
        assert!(warnings[1].message.contains("`nope`"));
        assert!(warnings[1].message.contains("depends_on"));
    }

    #[test]
    fn an_ambiguous_or_short_prefix_is_missing() {
        let mut child = rev("child", &[]);
        child.depends_on = vec!["abcd".into(), "ab".into()];
        let input = vec![
            child,
            rev("abcd1", &[]),
            rev("abcd2", &[]),
            rev("ab99", &[]),
        ];
        let (ordered, warnings) = order(input);
        assert_eq!(ordered.len(), 4);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn duplicate_ids_are_warned_and_children_wait_for_all_of_them() {
        let mut dup = rev("a", &[]);
        dup.path = "versions/a_copy.py".into();
        let input = vec![rev("b", &["a"]), dup, rev("a", &["0"]), rev("0", &[])];
        let (ordered, warnings) = order(input);
        let paths: Vec<&str> = ordered.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "versions/0.py",
                "versions/a.py",
                "versions/a_copy.py",
                "versions/b.py"
            ]
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.contains("`a`"));
        assert!(warnings[0].message.contains("versions/a.py"));
        assert_eq!(
            warnings[0].location.as_ref().map(|l| &*l.path),
            Some("versions/a_copy.py")
        );
    }

    #[test]
    fn cycles_are_warned_and_placed_after_the_rest() {
        let input = vec![
            rev("c1", &["c2"]),
            rev("c2", &["c1"]),
            rev("after_cycle", &["c2"]),
            rev("root", &[]),
            rev("zz", &["root"]),
            rev("self", &["self"]),
        ];
        let (ordered, warnings) = order(input);
        assert_eq!(
            ids(&ordered),
            vec!["root", "zz", "c1", "c2", "self", "after_cycle"]
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].message.contains("cycle"));
        assert!(warnings[0].message.contains("`c1`") && warnings[0].message.contains("`c2`"));
        assert!(warnings[1].message.contains("`self`"));
    }

    #[test]
    fn a_cycle_below_a_good_parent_keeps_that_parent_first() {
        let input = vec![rev("b", &["a", "c"]), rev("c", &["b"]), rev("a", &[])];
        let (ordered, warnings) = order(input);
        assert_eq!(ids(&ordered), vec!["a", "b", "c"]);
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn thousands_of_revisions_order_quickly() {
        // A long chain given newest first, with a side branch every 10 revisions merged back.
        let n = 20_000;
        let id = |i: usize| format!("r{i:06}");
        let mut input = Vec::new();
        for i in (0..n).rev() {
            let mut parents = Vec::new();
            if i > 0 {
                parents.push(id(i - 1));
            }
            if i % 10 == 5 {
                parents.push(format!("side{}", i - 5));
            }
            let refs: Vec<&str> = parents.iter().map(String::as_str).collect();
            input.push(rev(&id(i), &refs));
            if i % 10 == 0 {
                let parent = id(i);
                input.push(rev(&format!("side{i}"), &[parent.as_str()]));
            }
        }
        let start = std::time::Instant::now();
        let (ordered, warnings) = order(input);
        assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
        assert!(warnings.is_empty());
        assert_eq!(ordered.len(), n + n / 10);
        let pos: HashMap<&str, usize> = ordered
            .iter()
            .enumerate()
            .map(|(i, r)| (r.revision.as_str(), i))
            .collect();
        for r in &ordered {
            for d in &r.down_revisions {
                assert!(pos[d.as_str()] < pos[r.revision.as_str()]);
            }
        }
    }

    #[test]
    fn heads_are_the_revisions_nothing_revises() {
        let revisions = vec![rev("a", &[]), rev("b", &["a"]), rev("c", &["a"])];
        assert_eq!(heads(&revisions), vec!["b", "c"]);
        let merged = vec![
            rev("a", &[]),
            rev("b", &["a"]),
            rev("c", &["a"]),
            rev("m", &["b", "c"]),
        ];
        assert_eq!(heads(&merged), vec!["m"]);
        assert!(heads(&[]).is_empty());
    }

    #[test]
    fn empty_input() {
        let (ordered, warnings) = order(Vec::new());
        assert!(ordered.is_empty() && warnings.is_empty());
    }
}
