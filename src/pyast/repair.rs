//! Closes the brackets a broken Python file never closes, so that one typo does not hide the
//! rest of the file.
//!
//! Inside `(`, `[` and `{` Python joins lines, so after an unclosed bracket every later line is
//! part of one expression: tree-sitter, like CPython, then reads nothing after it as a
//! statement, and a whole class body disappears into one `ERROR` node. This module finds the
//! brackets that are never closed, with a plain scan that knows strings, comments and line
//! continuations (no tokens, no tree), and closes each where its statement must have ended:
//! at the end of the last code line before the first later line that starts a statement at
//! the statement's own indentation or less (a line that starts with a closing bracket does
//! not count).
//!
//! What it must not do: move anything. Closing brackets are only ever inserted at the end of
//! a line's code (before its comment), so rows stay the file's rows and every code token
//! keeps its column; only a comment after an inserted bracket moves, and comments are taken
//! from the unrepaired tree. It is only called for a file that does not parse.

/// A file with its unclosed brackets closed.
pub(super) struct Repaired {
    pub text: String,
    /// Byte offset and character of the first bracket that is never closed.
    pub first_unclosed: (usize, char),
}

/// One physical line, as far as the repair needs it.
struct Line {
    /// Offset just after the last character of code (before a comment and trailing blanks).
    code_end: usize,
    /// Indentation width (a tab moves to the next multiple of 8, as in CPython).
    indent: usize,
    /// Blank or comment-only.
    blank: bool,
    /// Starts inside a triple-quoted string.
    in_string: bool,
    /// The first character of code is a closing bracket.
    starts_with_closer: bool,
}

/// An open bracket.
struct Open {
    offset: usize,
    ch: u8,
    line: usize,
    /// Indentation of the line its statement starts on.
    statement_indent: usize,
}

/// `None` when every bracket is closed (the syntax error is something else).
pub(super) fn close_unclosed_brackets(text: &str) -> Option<Repaired> {
    let (lines, unclosed) = scan(text);
    let first = unclosed.iter().min_by_key(|o| o.offset)?;
    let first_unclosed = (first.offset, char::from(first.ch));
    // Where each unclosed bracket's closer goes: (offset, opened at, closer).
    let mut inserts: Vec<(usize, usize, char)> = unclosed
        .iter()
        .map(|open| {
            let end = statement_end(&lines, open).unwrap_or(text.len());
            (end, open.offset, closer(open.ch))
        })
        .collect();
    // At one place, the bracket opened last closes first.
    inserts.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out = String::with_capacity(text.len() + inserts.len());
    let mut from = 0;
    for (at, _, ch) in inserts {
        out.push_str(text.get(from..at)?);
        out.push(ch);
        from = at;
    }
    out.push_str(text.get(from..)?);
    Some(Repaired {
        text: out,
        first_unclosed,
    })
}

fn closer(open: u8) -> char {
    match open {
        b'(' => ')',
        b'[' => ']',
        _ => '}',
    }
}

/// The offset where `open`'s statement ends: the end of the code of the last line before the
/// first later line that starts at its statement's indentation or less.
fn statement_end(lines: &[Line], open: &Open) -> Option<usize> {
    let mut last_code = lines.get(open.line)?.code_end;
    for line in lines.iter().skip(open.line + 1) {
        if line.blank {
            continue;
        }
        if !line.in_string && line.indent <= open.statement_indent && !line.starts_with_closer {
            return Some(last_code);
        }
        last_code = line.code_end;
    }
    Some(last_code)
}

#[derive(Clone, Copy, PartialEq)]
enum Quote {
    None,
    Single(u8),
    Triple(u8),
}

/// One pass: the lines, and the brackets still open at the end of the text. A closer that
/// matches a bracket further down the stack closes it and drops the ones above it (closing
/// those would mean inserting before the closer, which moves it); a closer that matches
/// nothing is passed over. Either way the file keeps a syntax error that the caller's other
/// recovery handles.
fn scan(text: &str) -> (Vec<Line>, Vec<Open>) {
    let bytes = text.as_bytes();
    let mut lines: Vec<Line> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut quote = Quote::None;
    let mut logical_indent = 0;
    let mut continued = false;
    let mut i = 0;
    while i <= bytes.len() {
        // A new physical line starts at `i`.
        let in_string = matches!(quote, Quote::Triple(_));
        let (indent, code_start) = indentation(bytes, i);
        let first = bytes.get(code_start).copied();
        let blank = !in_string && matches!(first, None | Some(b'\n' | b'\r' | b'#'));
        if !in_string && !blank && stack.is_empty() && !continued {
            logical_indent = indent;
        }
        let mut line = Line {
            code_end: if in_string { i } else { code_start },
            indent,
            blank,
            in_string,
            starts_with_closer: !in_string && matches!(first, Some(b')' | b']' | b'}')),
        };
        continued = false;
        let mut j = if in_string { i } else { code_start };
        while let Some(&c) = bytes.get(j) {
            if c == b'\n' {
                break;
            }
            match quote {
                Quote::Single(q) => {
                    if c == b'\\' {
                        j += 1;
                    } else if c == q {
                        quote = Quote::None;
                    }
                    j += 1;
                    line.code_end = j.min(bytes.len());
                    continue;
                }
                Quote::Triple(q) => {
                    if c == b'\\' {
                        j += 1;
                    } else if c == q && bytes.get(j + 1) == Some(&q) && bytes.get(j + 2) == Some(&q)
                    {
                        quote = Quote::None;
                        j += 2;
                    }
                    j += 1;
                    line.code_end = j.min(bytes.len());
                    continue;
                }
                Quote::None => {}
            }
            match c {
                b'#' => {
                    while bytes.get(j).is_some_and(|&c| c != b'\n') {
                        j += 1;
                    }
                    break;
                }
                b'\'' | b'"' => {
                    if bytes.get(j + 1) == Some(&c) && bytes.get(j + 2) == Some(&c) {
                        quote = Quote::Triple(c);
                        j += 2;
                    } else {
                        quote = Quote::Single(c);
                    }
                }
                b'\\'
                    if matches!(bytes.get(j + 1), Some(b'\n') | None)
                        || (bytes.get(j + 1) == Some(&b'\r')
                            && bytes.get(j + 2) == Some(&b'\n')) =>
                {
                    continued = true;
                }
                b'(' | b'[' | b'{' => {
                    let statement_indent =
                        stack.last().map_or(logical_indent, |o| o.statement_indent);
                    stack.push(Open {
                        offset: j,
                        ch: c,
                        line: lines.len(),
                        statement_indent,
                    });
                }
                b')' | b']' | b'}' => {
                    let open = match c {
                        b')' => b'(',
                        b']' => b'[',
                        _ => b'{',
                    };
                    if let Some(at) = stack.iter().rposition(|o| o.ch == open) {
                        stack.truncate(at);
                    }
                }
                _ => {}
            }
            j += 1;
            if !c.is_ascii_whitespace() {
                line.code_end = j;
            }
        }
        // A single-quoted string ends with its line (unterminated: a syntax error of its own).
        if matches!(quote, Quote::Single(_)) {
            quote = Quote::None;
        }
        lines.push(line);
        i = j + 1;
    }
    (lines, stack)
}

/// The indentation width of the line starting at `start`, and where its code starts.
fn indentation(bytes: &[u8], start: usize) -> (usize, usize) {
    let mut width = 0;
    let mut i = start;
    loop {
        match bytes.get(i) {
            Some(b' ') => width += 1,
            Some(b'\t') => width = (width / 8 + 1) * 8,
            Some(b'\x0c') => width = 0,
            _ => return (width, i),
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repaired(text: &str) -> Option<(String, (usize, char))> {
        close_unclosed_brackets(text).map(|r| (r.text, r.first_unclosed))
    }

    #[test]
    fn an_unclosed_call_closes_before_the_next_statement() {
        let text = "class A:\n    x = f(g(1), y=2  # note\n\n    z = h(3)\n";
        let (fixed, first) = repaired(text).expect("a repair");
        assert_eq!(
            fixed,
            "class A:\n    x = f(g(1), y=2)  # note\n\n    z = h(3)\n"
        );
        assert_eq!(first, (18, '('));
    }

    #[test]
    fn balanced_text_and_brackets_in_strings_and_comments_need_nothing() {
        assert!(repaired("x = f(\n  '(', \"[\", '''{\n(''' # (\n)\n").is_none());
        assert!(repaired("x = (1 +\\\n2)\n").is_none());
    }

    #[test]
    fn nested_unclosed_brackets_close_innermost_first_and_continuation_lines_stay_inside() {
        let text = "x = f([1,\n      2\ny = 3\n";
        let (fixed, _) = repaired(text).expect("a repair");
        assert_eq!(fixed, "x = f([1,\n      2])\ny = 3\n");
        // A line starting with a closer belongs to the statement.
        let text = "x = f(g(1,\n)\ny = 3\n";
        let (fixed, first) = repaired(text).expect("a repair");
        assert_eq!(fixed, "x = f(g(1,\n))\ny = 3\n");
        assert_eq!(first, (5, '('));
    }

    #[test]
    fn a_mismatched_closer_is_left_to_the_other_recovery() {
        assert!(repaired("x = f([1)\ny = 2\n").is_none());
        assert!(repaired("x = 1)\ny = 2\n").is_none());
    }

    #[test]
    fn an_unclosed_bracket_at_the_end_closes_at_the_end() {
        let (fixed, _) = repaired("x = f(1,\n  2").expect("a repair");
        assert_eq!(fixed, "x = f(1,\n  2)");
    }
}
