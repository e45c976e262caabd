//! The one indentation error tree-sitter does not report: a line that unindents to no outer
//! level (CPython: `IndentationError: unindent does not match any outer indentation level`).
//!
//! tree-sitter reads such a line as the end of the block, without an `ERROR` node: in a
//! model class every column after it silently left the class, and a gap there was hidden
//! (issue 11). This module replays CPython's indentation stack over the lines that start a
//! statement and, at each line that matches no level, puts back the innermost level's
//! indentation (the line most likely belongs to the block it sits in). Only that line's
//! leading whitespace changes, so rows stay the file's; [`Dedent::shifts`] says by how many
//! bytes each changed line moved, so that columns can be given as in the file.

use std::collections::HashMap;

use tree_sitter::Node;

/// A file with its bad unindents re-indented.
pub(super) struct Dedent {
    /// Row (0-based) of the first line that matches no outer level.
    pub row: usize,
    /// That line's own leading whitespace.
    pub indent: String,
    /// The text with every such line re-indented.
    pub repaired: String,
    /// Row → bytes added to its indentation (negative: removed).
    pub shifts: HashMap<usize, isize>,
}

/// `None` when every line that starts a statement unindents to a level it is inside.
pub(super) fn check(root: Node<'_>, text: &str) -> Option<Dedent> {
    let lines = statement_lines(root, text);
    let mut stack: Vec<&str> = vec![""];
    // (line start, old indentation, new indentation)
    let mut fixes: Vec<(usize, usize, usize, &str)> = Vec::new();
    for &(row, start, indent) in &lines {
        let top = stack.last().copied().unwrap_or("");
        if indent == top {
            continue;
        }
        if indent.len() > top.len() {
            stack.push(indent);
            continue;
        }
        let innermost = top;
        while stack.len() > 1 && stack.last().is_some_and(|level| level.len() > indent.len()) {
            stack.pop();
        }
        if stack.last().copied() == Some(indent) {
            continue;
        }
        // Matches no level: read it as a line of the innermost block.
        stack.push(innermost);
        stack.dedup();
        fixes.push((row, start, indent.len(), innermost));
    }
    let &(row, start, len, _) = fixes.first()?;
    let indent = text.get(start..start + len).unwrap_or("").to_string();
    let mut repaired = String::with_capacity(text.len() + 8 * fixes.len());
    let mut shifts = HashMap::new();
    let mut from = 0;
    for &(row, start, len, level) in &fixes {
        repaired.push_str(text.get(from..start).unwrap_or(""));
        repaired.push_str(level);
        from = start + len;
        let added = level.len() as isize - len as isize;
        shifts.insert(row, added);
    }
    repaired.push_str(text.get(from..).unwrap_or(""));
    Some(Dedent {
        row,
        indent,
        repaired,
        shifts,
    })
}

/// `(row, line start, indentation)` of every statement that starts its line, in file order:
/// the children of the module and of every block, comments aside. Iterative: trees can be
/// deep.
fn statement_lines<'t>(root: Node<'_>, text: &'t str) -> Vec<(usize, usize, &'t str)> {
    let mut out = Vec::new();
    let mut cursor = root.walk();
    // Whether each node the cursor went down from is a `module` or a `block`: the last one is
    // the current node's parent (asking a node for its parent walks down from the root).
    let mut bodies: Vec<bool> = Vec::new();
    'walk: loop {
        let node = cursor.node();
        let kind = node.kind();
        let in_body = bodies.last().copied().unwrap_or(false);
        if in_body && kind != "comment" {
            let column = node.start_position().column;
            let start = node.start_byte().saturating_sub(column);
            if let Some(indent) = text.get(start..node.start_byte())
                && indent.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\x0c'))
            {
                out.push((node.start_position().row, start, indent));
            }
        }
        // Only statements and blocks hold statements: expressions are not descended into.
        let body = matches!(kind, "module" | "block");
        let descend = body
            || kind.ends_with("_statement")
            || kind.ends_with("_definition")
            || kind.ends_with("_clause");
        if descend && cursor.goto_first_child() {
            bodies.push(body);
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
            bodies.pop();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dedent(src: &str) -> Option<Dedent> {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&tree_sitter_python::LANGUAGE.into())
            .expect("python grammar");
        let tree = parser.parse(src, None).expect("a tree");
        check(tree.root_node(), src)
    }

    #[test]
    fn an_unindent_to_no_outer_level_is_found_and_re_indented() {
        let src = "class A(B):\n    x = 1\n  y = 2\n    z = 3\nclass C:\n    w = 1\n";
        let found = dedent(src).expect("the bad unindent");
        assert_eq!((found.row, found.indent.as_str()), (2, "  "));
        assert_eq!(
            found.repaired,
            "class A(B):\n    x = 1\n    y = 2\n    z = 3\nclass C:\n    w = 1\n"
        );
        assert_eq!(found.shifts.get(&2), Some(&2));
    }

    #[test]
    fn good_indentation_is_left_alone() {
        for src in [
            "class A:\n    x = 1\n\n    def f(self):\n        if x:\n            pass\n        else:\n            return 1\n    y = 2\nz = 3\n",
            "class A: x = 1; y = 2\nif True:\n\tpass\n",
            "def f():\n    s = '''\n  not a line\n'''\n    t = (1,\n  2)\n    return s\n",
            "try:\n    pass\nexcept E:\n    pass\nfinally:\n    pass\n",
            "@decorator\nclass A:\n    # comment\n  # comment at two\n    x = 1\n",
        ] {
            assert!(dedent(src).is_none(), "{src}");
        }
    }
}
