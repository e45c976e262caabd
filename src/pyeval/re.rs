//! The part of Python's `re` that table-name helpers use, with Python's semantics.
//!
//! Projects turn class names into table names with patterns such as `(?=[A-Z])`,
//! `(?<!^)(?=[A-Z])`, `([a-z0-9])([A-Z])` or `((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))`: zero-width
//! lookarounds that the `regex` crate (and any automaton engine) does not offer. This is a small
//! backtracking matcher over characters: literals, `.`, classes (`[A-Z]`, `[^…]`, `\d\w\s`),
//! anchors (`^ $ \A \Z \b \B`), groups (capturing, `(?:…)`, `(?P<name>…)`), alternation,
//! greedy and lazy quantifiers (`* + ? {m,n}`), lookahead and lookbehind, backreferences, the
//! `IGNORECASE` flag. What it does not know (another flag, an unknown escape, possessive
//! quantifiers) is an error, and the caller treats the result as unknown: it never guesses.
//!
//! `sub`, `split` and `findall` walk the matches as CPython 3.7+ does: an empty match is
//! allowed right after a non-empty one, never twice at the same place, so
//! `re.split("(?=[A-Z])", "FooBar")` is `["", "Foo", "Bar"]` and `re.sub("x*", "-", "abxd")` is
//! `"-a-b--d-"`. Inputs are class and table names, but every match is bounded anyway
//! ([`MAX_STEPS`]).

use std::collections::HashMap;

/// Backtracking steps one search may take before it gives up.
const MAX_STEPS: usize = 200_000;

/// Longest pattern accepted, in characters.
const MAX_PATTERN: usize = 1_000;

/// Python's `re.IGNORECASE`.
pub const IGNORECASE: i64 = 2;

/// A pattern that could not be compiled or a search that ran out of steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported;

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Regex {
    pub pattern: String,
    pub flags: i64,
    node: Node,
    groups: usize,
    names: HashMap<String, usize>,
}

/// One match: the span of the whole match and of each group (`None`: did not take part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Group 0 is the whole match; spans are character offsets into `text`.
    pub spans: Vec<Option<(usize, usize)>>,
    pub text: Vec<char>,
    pub names: HashMap<String, usize>,
}

impl Match {
    /// The text of group `n`; `None` when it did not take part (Python's `None`).
    pub fn group(&self, n: usize) -> Option<Option<String>> {
        let span = self.spans.get(n)?;
        Some(span.map(|(s, e)| self.text[s..e].iter().collect()))
    }

    pub fn named(&self, name: &str) -> Option<usize> {
        self.names.get(name).copied()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Empty,
    Char(char),
    Any,
    Class(Class),
    Start,
    End,
    StartText,
    EndText,
    WordBoundary(bool),
    Group(Box<Node>, Option<usize>),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: usize,
        max: Option<usize>,
        greedy: bool,
    },
    Look {
        node: Box<Node>,
        ahead: bool,
        negate: bool,
    },
    Backref(usize),
}

#[derive(Debug, Clone, PartialEq)]
struct Class {
    negated: bool,
    items: Vec<ClassItem>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ClassItem {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `\d`: decimal digits (ASCII ones; other scripts' digits do not name tables).
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

impl ClassItem {
    fn contains(self, c: char, ignore_case: bool) -> bool {
        match self {
            ClassItem::Range(lo, hi) => {
                let within = |c: char| lo <= c && c <= hi;
                within(c)
                    || ignore_case && (c.to_lowercase().any(within) || c.to_uppercase().any(within))
            }
            ClassItem::Digit(yes) => is_digit(c) == yes,
            ClassItem::Word(yes) => is_word(c) == yes,
            ClassItem::Space(yes) => c.is_whitespace() == yes,
        }
    }
}

impl Class {
    fn contains(&self, c: char, ignore_case: bool) -> bool {
        self.items.iter().any(|i| i.contains(c, ignore_case)) != self.negated
    }
}

// ----- parsing ---------------------------------------------------------------------------

struct Parser<'p> {
    chars: Vec<char>,
    pos: usize,
    groups: usize,
    names: HashMap<String, usize>,
    flags: &'p mut i64,
}

impl Regex {
    /// Compiles a Python pattern with `flags` (only [`IGNORECASE`] and the no-op `re.UNICODE`
    /// (32) are known).
    pub fn new(pattern: &str, flags: i64) -> Result<Regex, Unsupported> {
        if pattern.chars().count() > MAX_PATTERN || flags & !(IGNORECASE | 32) != 0 {
            return Err(Unsupported);
        }
        let mut flags = flags;
        let mut parser = Parser {
            chars: pattern.chars().collect(),
            pos: 0,
            groups: 0,
            names: HashMap::new(),
            flags: &mut flags,
        };
        let node = parser.alternation()?;
        if parser.pos != parser.chars.len() {
            return Err(Unsupported);
        }
        let (groups, names) = (parser.groups, parser.names);
        Ok(Regex {
            pattern: pattern.to_string(),
            flags,
            node,
            groups,
            names,
        })
    }

    /// How many capturing groups the pattern has.
    pub fn groups(&self) -> usize {
        self.groups
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn alternation(&mut self) -> Result<Node, Unsupported> {
        let mut branches = vec![self.concat()?];
        while self.eat('|') {
            branches.push(self.concat()?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(branches)
        })
    }

    fn concat(&mut self) -> Result<Node, Unsupported> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            let atom = self.quantifier(atom)?;
            items.push(atom);
        }
        Ok(Node::Concat(items))
    }

    fn quantifier(&mut self, atom: Node) -> Result<Node, Unsupported> {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => match self.braces() {
                Some(bounds) => bounds,
                None => return Ok(atom),
            },
            _ => return Ok(atom),
        };
        if !matches!(self.peek(), Some('{')) {
            self.pos += 1;
        }
        if matches!(
            atom,
            Node::Start | Node::End | Node::StartText | Node::EndText | Node::WordBoundary(_)
        ) {
            return Err(Unsupported);
        }
        let greedy = !self.eat('?');
        if self.peek() == Some('+') {
            // Possessive quantifiers (Python 3.11) are not read.
            return Err(Unsupported);
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
            greedy,
        })
    }

    /// `{m}`, `{m,}`, `{,n}`, `{m,n}`; anything else is a literal `{` (as in Python).
    fn braces(&mut self) -> Option<(usize, Option<usize>)> {
        let start = self.pos;
        let close = self.chars[start..].iter().position(|c| *c == '}')? + start;
        let inner: String = self.chars[start + 1..close].iter().collect();
        let parse = |s: &str| -> Option<Option<usize>> {
            if s.is_empty() {
                Some(None)
            } else if s.chars().all(|c| c.is_ascii_digit()) {
                s.parse().ok().map(Some)
            } else {
                None
            }
        };
        let (min, max) = match inner.split_once(',') {
            Some((lo, hi)) => (parse(lo)?.unwrap_or(0), parse(hi)?),
            None => {
                let n = parse(&inner)??;
                (n, Some(n))
            }
        };
        if max.is_some_and(|m| m < min) {
            return None;
        }
        self.pos = close + 1;
        Some((min, max))
    }

    fn atom(&mut self) -> Result<Node, Unsupported> {
        let Some(c) = self.peek() else {
            return Err(Unsupported);
        };
        self.pos += 1;
        Ok(match c {
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '(' => self.group()?,
            '[' => Node::Class(self.class()?),
            '\\' => self.escape(false)?,
            '*' | '+' | '?' => return Err(Unsupported),
            c => Node::Char(c),
        })
    }

    fn group(&mut self) -> Result<Node, Unsupported> {
        if self.eat('?') {
            let kind = self.peek().ok_or(Unsupported)?;
            self.pos += 1;
            let node = match kind {
                ':' => Node::Group(Box::new(self.alternation()?), None),
                '=' | '!' => Node::Look {
                    node: Box::new(self.alternation()?),
                    ahead: true,
                    negate: kind == '!',
                },
                '<' => {
                    let negate = match self.peek() {
                        Some('=') => false,
                        Some('!') => true,
                        _ => return Err(Unsupported),
                    };
                    self.pos += 1;
                    Node::Look {
                        node: Box::new(self.alternation()?),
                        ahead: false,
                        negate,
                    }
                }
                'P' => {
                    if self.eat('<') {
                        let name = self.name_until('>')?;
                        self.groups += 1;
                        let index = self.groups;
                        self.names.insert(name, index);
                        Node::Group(Box::new(self.alternation()?), Some(index))
                    } else if self.eat('=') {
                        let name = self.name_until(')')?;
                        let index = *self.names.get(&name).ok_or(Unsupported)?;
                        return Ok(Node::Backref(index));
                    } else {
                        return Err(Unsupported);
                    }
                }
                'i' if self.pos == 3 && self.eat(')') => {
                    // `(?i)` at the start of the pattern.
                    *self.flags |= IGNORECASE;
                    return Ok(Node::Empty);
                }
                _ => return Err(Unsupported),
            };
            if !self.eat(')') {
                return Err(Unsupported);
            }
            return Ok(node);
        }
        self.groups += 1;
        let index = self.groups;
        let inner = self.alternation()?;
        if !self.eat(')') {
            return Err(Unsupported);
        }
        Ok(Node::Group(Box::new(inner), Some(index)))
    }

    fn name_until(&mut self, end: char) -> Result<String, Unsupported> {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == end {
                return Ok(name);
            }
            name.push(c);
        }
        Err(Unsupported)
    }

    fn class(&mut self) -> Result<Class, Unsupported> {
        let negated = self.eat('^');
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek().ok_or(Unsupported)?;
            self.pos += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = match c {
                '\\' => match self.escape(true)? {
                    Node::Char(c) => c,
                    Node::Class(class) => {
                        items.extend(class.items);
                        continue;
                    }
                    _ => return Err(Unsupported),
                },
                c => c,
            };
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|c| *c != ']') {
                self.pos += 1;
                let hi = self.peek().ok_or(Unsupported)?;
                self.pos += 1;
                let hi = if hi == '\\' {
                    match self.escape(true)? {
                        Node::Char(c) => c,
                        _ => return Err(Unsupported),
                    }
                } else {
                    hi
                };
                if hi < lo {
                    return Err(Unsupported);
                }
                items.push(ClassItem::Range(lo, hi));
            } else {
                items.push(ClassItem::Range(lo, lo));
            }
        }
        Ok(Class { negated, items })
    }

    /// After a `\`.
    fn escape(&mut self, in_class: bool) -> Result<Node, Unsupported> {
        let c = self.peek().ok_or(Unsupported)?;
        self.pos += 1;
        let class = |item| {
            Node::Class(Class {
                negated: false,
                items: vec![item],
            })
        };
        Ok(match c {
            'd' => class(ClassItem::Digit(true)),
            'D' => class(ClassItem::Digit(false)),
            'w' => class(ClassItem::Word(true)),
            'W' => class(ClassItem::Word(false)),
            's' => class(ClassItem::Space(true)),
            'S' => class(ClassItem::Space(false)),
            'b' if in_class => Node::Char('\u{8}'),
            'b' => Node::WordBoundary(true),
            'B' if !in_class => Node::WordBoundary(false),
            'A' if !in_class => Node::StartText,
            'Z' if !in_class => Node::EndText,
            'n' => Node::Char('\n'),
            't' => Node::Char('\t'),
            'r' => Node::Char('\r'),
            'f' => Node::Char('\u{c}'),
            'v' => Node::Char('\u{b}'),
            'a' => Node::Char('\u{7}'),
            '0' => Node::Char('\0'),
            'x' => Node::Char(self.hex(2)?),
            'u' => Node::Char(self.hex(4)?),
            'U' => Node::Char(self.hex(8)?),
            '1'..='9' if !in_class => {
                let mut n = c.to_digit(10).ok_or(Unsupported)? as usize;
                if let Some(d) = self.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    self.pos += 1;
                }
                if n > self.groups {
                    return Err(Unsupported);
                }
                Node::Backref(n)
            }
            c if c.is_ascii_alphanumeric() => return Err(Unsupported),
            c => Node::Char(c),
        })
    }

    fn hex(&mut self, digits: usize) -> Result<char, Unsupported> {
        let text: String = self
            .chars
            .get(self.pos..self.pos + digits)
            .ok_or(Unsupported)?
            .iter()
            .collect();
        self.pos += digits;
        u32::from_str_radix(&text, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or(Unsupported)
    }
}

// ----- matching --------------------------------------------------------------------------

type Caps = Vec<Option<(usize, usize)>>;

struct Matcher<'t> {
    text: &'t [char],
    ignore_case: bool,
    steps: usize,
    exhausted: bool,
}

fn same_char(a: char, b: char, ignore_case: bool) -> bool {
    a == b || ignore_case && a.to_lowercase().eq(b.to_lowercase())
}

impl Matcher<'_> {
    fn step(&mut self) -> bool {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            self.exhausted = true;
        }
        !self.exhausted
    }

    /// Matches `node` at `pos`, then calls `k` with the end; true when `k` accepted.
    fn node(
        &mut self,
        node: &Node,
        pos: usize,
        caps: &mut Caps,
        k: &mut dyn FnMut(&mut Self, usize, &mut Caps) -> bool,
    ) -> bool {
        if !self.step() {
            return false;
        }
        let text = self.text;
        match node {
            Node::Empty => k(self, pos, caps),
            Node::Char(c) => {
                text.get(pos)
                    .is_some_and(|t| same_char(*t, *c, self.ignore_case))
                    && k(self, pos + 1, caps)
            }
            Node::Any => text.get(pos).is_some_and(|t| *t != '\n') && k(self, pos + 1, caps),
            Node::Class(class) => {
                text.get(pos)
                    .is_some_and(|t| class.contains(*t, self.ignore_case))
                    && k(self, pos + 1, caps)
            }
            Node::Start | Node::StartText => pos == 0 && k(self, pos, caps),
            Node::End => {
                (pos == text.len() || pos + 1 == text.len() && text[pos] == '\n')
                    && k(self, pos, caps)
            }
            Node::EndText => pos == text.len() && k(self, pos, caps),
            Node::WordBoundary(yes) => {
                let before = pos > 0 && is_word(text[pos - 1]);
                let after = text.get(pos).is_some_and(|c| is_word(*c));
                ((before != after) == *yes) && k(self, pos, caps)
            }
            Node::Group(inner, index) => {
                let Some(index) = *index else {
                    return self.node(inner, pos, caps, k);
                };
                let saved = caps.get(index).copied().flatten();
                let matched = self.node(inner, pos, caps, &mut |m, end, caps| {
                    let before = caps[index];
                    caps[index] = Some((pos, end));
                    if k(m, end, caps) {
                        return true;
                    }
                    caps[index] = before;
                    false
                });
                if !matched {
                    caps[index] = saved;
                }
                matched
            }
            Node::Concat(items) => self.concat(items, pos, caps, k),
            Node::Alt(branches) => {
                for branch in branches {
                    let snapshot = caps.clone();
                    if self.node(branch, pos, caps, k) {
                        return true;
                    }
                    *caps = snapshot;
                    if self.exhausted {
                        return false;
                    }
                }
                false
            }
            Node::Repeat {
                node,
                min,
                max,
                greedy,
            } => self.repeat(node, *min, *max, *greedy, 0, pos, caps, k),
            Node::Look {
                node,
                ahead,
                negate,
            } => {
                let snapshot = caps.clone();
                let found = if *ahead {
                    self.node(node, pos, caps, &mut |_, _, _| true)
                } else {
                    (0..=pos)
                        .rev()
                        .any(|start| self.node(node, start, caps, &mut |_, end, _| end == pos))
                };
                if self.exhausted {
                    return false;
                }
                if found == *negate {
                    *caps = snapshot;
                    return false;
                }
                if *negate {
                    *caps = snapshot;
                }
                k(self, pos, caps)
            }
            Node::Backref(index) => {
                let Some(Some((s, e))) = caps.get(*index).copied() else {
                    // A group that did not take part matches nothing in Python.
                    return false;
                };
                let len = e - s;
                let ok = pos + len <= text.len()
                    && (0..len).all(|i| same_char(text[pos + i], text[s + i], self.ignore_case));
                ok && k(self, pos + len, caps)
            }
        }
    }

    fn concat(
        &mut self,
        items: &[Node],
        pos: usize,
        caps: &mut Caps,
        k: &mut dyn FnMut(&mut Self, usize, &mut Caps) -> bool,
    ) -> bool {
        match items.split_first() {
            None => k(self, pos, caps),
            Some((first, rest)) => self.node(first, pos, caps, &mut |m, next, caps| {
                m.concat(rest, next, caps, k)
            }),
        }
    }

    #[allow(clippy::too_many_arguments)] // the loop state of a quantifier, passed down as is
    fn repeat(
        &mut self,
        node: &Node,
        min: usize,
        max: Option<usize>,
        greedy: bool,
        count: usize,
        pos: usize,
        caps: &mut Caps,
        k: &mut dyn FnMut(&mut Self, usize, &mut Caps) -> bool,
    ) -> bool {
        if !self.step() {
            return false;
        }
        let can_more = max.is_none_or(|m| count < m);
        if count < min {
            return can_more && self.repeat_once(node, min, max, greedy, count, pos, caps, k);
        }
        let snapshot = caps.clone();
        if greedy {
            if can_more && self.repeat_once(node, min, max, greedy, count, pos, caps, k) {
                return true;
            }
            *caps = snapshot;
            !self.exhausted && k(self, pos, caps)
        } else {
            if k(self, pos, caps) {
                return true;
            }
            *caps = snapshot;
            !self.exhausted
                && can_more
                && self.repeat_once(node, min, max, greedy, count, pos, caps, k)
        }
    }

    /// One more iteration of a quantifier, then the rest of the loop.
    #[allow(clippy::too_many_arguments)] // as `repeat`
    fn repeat_once(
        &mut self,
        node: &Node,
        min: usize,
        max: Option<usize>,
        greedy: bool,
        count: usize,
        pos: usize,
        caps: &mut Caps,
        k: &mut dyn FnMut(&mut Self, usize, &mut Caps) -> bool,
    ) -> bool {
        self.node(node, pos, caps, &mut |m, next, caps| {
            // An iteration that matched nothing ends the loop (as in Python).
            if next == pos && count >= min {
                return false;
            }
            m.repeat(node, min, max, greedy, count + 1, next, caps, k)
        })
    }
}

impl Regex {
    /// The first match starting at `start` or later (only at `start` when `anchored`); with
    /// `must_advance`, not an empty match at `start`; with `full`, only a match ending at the
    /// end of the text.
    fn find_from(
        &self,
        text: &[char],
        start: usize,
        anchored: bool,
        full: bool,
        must_advance: bool,
    ) -> Result<Option<Caps>, Unsupported> {
        let mut matcher = Matcher {
            text,
            ignore_case: self.flags & IGNORECASE != 0,
            steps: 0,
            exhausted: false,
        };
        let last = if anchored { start } else { text.len() };
        for at in start..=last {
            let mut caps: Caps = vec![None; self.groups + 1];
            let mut end = None;
            let found = matcher.node(&self.node, at, &mut caps, &mut |_, e, _| {
                if (full && e != text.len()) || (must_advance && at == start && e == at) {
                    return false;
                }
                end = Some(e);
                true
            });
            if matcher.exhausted {
                return Err(Unsupported);
            }
            if found && let Some(end) = end {
                caps[0] = Some((at, end));
                return Ok(Some(caps));
            }
        }
        Ok(None)
    }

    fn to_match(&self, text: &[char], spans: Caps) -> Match {
        Match {
            spans,
            text: text.to_vec(),
            names: self.names.clone(),
        }
    }

    /// `re.match`: a match at the start.
    pub fn match_at_start(&self, text: &str) -> Result<Option<Match>, Unsupported> {
        let chars: Vec<char> = text.chars().collect();
        Ok(self
            .find_from(&chars, 0, true, false, false)?
            .map(|c| self.to_match(&chars, c)))
    }

    /// `re.fullmatch`.
    pub fn full_match(&self, text: &str) -> Result<Option<Match>, Unsupported> {
        let chars: Vec<char> = text.chars().collect();
        Ok(self
            .find_from(&chars, 0, true, true, false)?
            .map(|c| self.to_match(&chars, c)))
    }

    /// `re.search`.
    pub fn search(&self, text: &str) -> Result<Option<Match>, Unsupported> {
        let chars: Vec<char> = text.chars().collect();
        Ok(self
            .find_from(&chars, 0, false, false, false)?
            .map(|c| self.to_match(&chars, c)))
    }

    /// Every match in order, as `re.finditer` yields them (at most `limit` when not 0).
    fn all(&self, text: &[char], limit: usize) -> Result<Vec<Caps>, Unsupported> {
        let mut out = Vec::new();
        let mut pos = 0;
        let mut must_advance = false;
        while pos <= text.len() && (limit == 0 || out.len() < limit) {
            let Some(caps) = self.find_from(text, pos, false, false, must_advance)? else {
                break;
            };
            let (start, end) = caps[0].ok_or(Unsupported)?;
            must_advance = start == end;
            pos = end;
            out.push(caps);
        }
        Ok(out)
    }

    /// `re.sub(pattern, repl, text, count)` with a replacement template (`\1`, `\g<name>`).
    pub fn sub(
        &self,
        repl: &str,
        text: &str,
        count: usize,
    ) -> Result<(String, usize), Unsupported> {
        let template = Template::parse(repl, self)?;
        let chars: Vec<char> = text.chars().collect();
        let matches = self.all(&chars, count)?;
        let mut out = String::new();
        let mut last = 0;
        for caps in &matches {
            let (start, end) = caps[0].ok_or(Unsupported)?;
            out.extend(&chars[last..start]);
            template.expand(&chars, caps, &mut out);
            last = end;
        }
        out.extend(&chars[last..]);
        Ok((out, matches.len()))
    }

    /// `re.split(pattern, text, maxsplit)`: the pieces, with the groups between them
    /// (`None` for a group that did not take part).
    pub fn split(&self, text: &str, maxsplit: usize) -> Result<Vec<Option<String>>, Unsupported> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut last = 0;
        for caps in self.all(&chars, maxsplit)? {
            let (start, end) = caps[0].ok_or(Unsupported)?;
            out.push(Some(chars[last..start].iter().collect()));
            for group in caps.iter().skip(1) {
                out.push(group.map(|(s, e)| chars[s..e].iter().collect()));
            }
            last = end;
        }
        out.push(Some(chars[last..].iter().collect()));
        Ok(out)
    }

    /// `re.findall`: whole matches without groups, the group with one, tuples with more.
    pub fn findall(&self, text: &str) -> Result<Vec<Vec<String>>, Unsupported> {
        let chars: Vec<char> = text.chars().collect();
        let matches = self.all(&chars, 0)?;
        Ok(matches
            .iter()
            .map(|caps| {
                let wanted: Vec<usize> = if self.groups == 0 {
                    vec![0]
                } else {
                    (1..=self.groups).collect()
                };
                wanted
                    .into_iter()
                    .map(|g| {
                        caps[g]
                            .map(|(s, e)| chars[s..e].iter().collect())
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect())
    }
}

/// A replacement template of `re.sub`.
enum Piece {
    Text(String),
    Group(usize),
}

struct Template(Vec<Piece>);

impl Template {
    fn parse(repl: &str, regex: &Regex) -> Result<Template, Unsupported> {
        let chars: Vec<char> = repl.chars().collect();
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            if c != '\\' {
                text.push(c);
                continue;
            }
            let next = *chars.get(i).ok_or(Unsupported)?;
            i += 1;
            let group = match next {
                'n' => {
                    text.push('\n');
                    continue;
                }
                't' => {
                    text.push('\t');
                    continue;
                }
                '\\' => {
                    text.push('\\');
                    continue;
                }
                'g' => {
                    if chars.get(i) != Some(&'<') {
                        return Err(Unsupported);
                    }
                    let close = chars[i..]
                        .iter()
                        .position(|c| *c == '>')
                        .ok_or(Unsupported)?
                        + i;
                    let name: String = chars[i + 1..close].iter().collect();
                    i = close + 1;
                    match name.parse::<usize>() {
                        Ok(n) => n,
                        Err(_) => *regex.names.get(&name).ok_or(Unsupported)?,
                    }
                }
                '0'..='9' => {
                    let mut n = next.to_digit(10).ok_or(Unsupported)? as usize;
                    if let Some(d) = chars.get(i).and_then(|d| d.to_digit(10)) {
                        n = n * 10 + d as usize;
                        i += 1;
                    }
                    n
                }
                c if c.is_ascii_alphabetic() => return Err(Unsupported),
                c => {
                    text.push('\\');
                    text.push(c);
                    continue;
                }
            };
            if group > regex.groups {
                return Err(Unsupported);
            }
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(Piece::Group(group));
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template(pieces))
    }

    fn expand(&self, chars: &[char], caps: &Caps, out: &mut String) {
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Group(g) => {
                    if let Some(Some((s, e))) = caps.get(*g) {
                        out.extend(&chars[*s..*e]);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(pattern: &str) -> Regex {
        Regex::new(pattern, 0).expect("a supported pattern")
    }

    fn split(pattern: &str, text: &str) -> Vec<String> {
        re(pattern)
            .split(text, 0)
            .expect("split")
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect()
    }

    fn sub(pattern: &str, repl: &str, text: &str) -> String {
        re(pattern).sub(repl, text, 0).expect("sub").0
    }

    // Expected values are what CPython 3.11 prints for the same calls.
    #[test]
    fn zero_width_split_on_a_lookahead() {
        assert_eq!(
            split("(?=[A-Z])", "CaseCostType"),
            ["", "Case", "Cost", "Type"]
        );
        assert_eq!(
            split("(?=[A-Z])", "HTTPRequest"),
            ["", "H", "T", "T", "P", "Request"]
        );
        assert_eq!(split("(?<!^)(?=[A-Z])", "FooBar"), ["Foo", "Bar"]);
        assert_eq!(split(r"(\d)", "a1b2c"), ["a", "1", "b", "2", "c"]);
        assert_eq!(split(",", "a,,b"), ["a", "", "b"]);
    }

    #[test]
    fn camel_to_snake_substitutions() {
        assert_eq!(sub("(?<!^)(?=[A-Z])", "_", "CaseCost"), "Case_Cost");
        assert_eq!(
            sub(
                "((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))",
                r"_\1",
                "HTTPRequestV2Handler"
            ),
            "HTTP_Request_V2_Handler"
        );
        let step1 = sub("(.)([A-Z][a-z]+)", r"\1_\2", "getHTTPResponseCode");
        assert_eq!(step1, "getHTTP_ResponseCode");
        assert_eq!(
            sub("([a-z0-9])([A-Z])", r"\1_\2", &step1),
            "get_HTTP_Response_Code"
        );
        assert_eq!(sub("x*", "-", "abxd"), "-a-b--d-");
        assert_eq!(sub(r"(?P<w>\w+)", r"<\g<w>>", "ab cd"), "<ab> <cd>");
        assert_eq!(
            re("a").sub("b", "aaa", 2).expect("sub"),
            ("bba".to_string(), 2)
        );
    }

    #[test]
    fn match_search_and_findall() {
        let m = re(r"(\w+)_(\d+)").match_at_start("job_42x").expect("match");
        let m = m.expect("a match");
        assert_eq!(m.group(1), Some(Some("job".to_string())));
        assert_eq!(m.group(2), Some(Some("42".to_string())));
        assert!(re("b").match_at_start("ab").expect("match").is_none());
        assert!(re("b").search("ab").expect("search").is_some());
        assert!(re("a+").full_match("aab").expect("fullmatch").is_none());
        assert!(re("a+?b").full_match("aab").expect("fullmatch").is_some());
        assert_eq!(
            re("[A-Z][a-z]*").findall("FooBarBAZ").expect("findall"),
            [["Foo"], ["Bar"], ["B"], ["A"], ["Z"]]
        );
        assert!(
            Regex::new("abc", IGNORECASE)
                .expect("ignorecase")
                .full_match("AbC")
                .expect("fullmatch")
                .is_some()
        );
        assert!(re(r"\bx\b").search("a x b").expect("search").is_some());
        assert!(re(r"a{2,3}$").search("caaa").expect("search").is_some());
        assert!(re(r"(a)\1").full_match("aa").expect("fullmatch").is_some());
    }

    #[test]
    fn unsupported_patterns_are_errors_never_guesses() {
        assert_eq!(Regex::new(r"\p{L}", 0), Err(Unsupported));
        assert_eq!(Regex::new("(a", 0), Err(Unsupported));
        assert_eq!(Regex::new("a", 8), Err(Unsupported)); // re.MULTILINE
        assert_eq!(Regex::new("a++", 0), Err(Unsupported));
        // Catastrophic backtracking runs out of steps instead of hanging.
        let evil = re("(a*)*b");
        assert_eq!(evil.search(&"a".repeat(40)), Err(Unsupported));
    }
}
