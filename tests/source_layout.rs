//! The layout rules of the source, checked by the build rather than by a reviewer: no
//! file of src/ imports (directly or through others) a file that imports it back, and
//! no function outside tests is longer than 80 lines.
//!
//! It reads the source as rustfmt leaves it: a function ends at the first line that
//! closes a brace at its own indentation.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LONGEST_FUNCTION: usize = 80;

/// One source file: its module path (`crate::imap::session`) and its non-test lines.
struct File {
    path: String,
    module: Vec<String>,
    /// `mod x;` declared in it.
    children: BTreeSet<String>,
    lines: Vec<String>,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every library file but the unit tests (`tests.rs`, and code after `#[cfg(test)]`).
fn files() -> Vec<File> {
    let mut paths = Vec::new();
    rust_files(&src(), &mut paths);
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let rel = path
            .strip_prefix(src())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel == "main.rs" || rel.ends_with("tests.rs") {
            continue;
        }
        let mut module: Vec<String> = vec!["crate".into()];
        let stem = rel.trim_end_matches(".rs");
        module.extend(stem.split('/').map(str::to_string));
        if matches!(module.last().map(String::as_str), Some("mod") | Some("lib")) {
            module.pop();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<String> = text
            .lines()
            .take_while(|l| l.trim() != "#[cfg(test)]")
            .map(str::to_string)
            .collect();
        let children = lines
            .iter()
            .filter_map(|l| {
                let l = l.trim().trim_start_matches("pub ");
                l.strip_prefix("mod ")?
                    .strip_suffix(';')
                    .map(str::to_string)
            })
            .collect();
        files.push(File {
            path: rel,
            module,
            children,
            lines,
        });
    }
    files
}

/// Expands a `use` tree (`crate::store::{self, lock}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.split_whitespace().collect();
    let Some(open) = tree.find('{') else {
        return vec![tree.trim_end_matches("::self").to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| match p {
            "self" => vec![prefix.trim_end_matches("::").to_string()],
            p => expand(&format!("{prefix}{p}")),
        })
        .collect()
}

/// The paths a file names: its `use` trees, and `crate::`/`super::`/child paths in code.
fn named_paths(file: &File) -> Vec<String> {
    let code: String = file
        .lines
        .iter()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths = Vec::new();
    let mut lines = code.lines();
    while let Some(line) = lines.next() {
        let l = line.trim_start();
        let l = l.strip_prefix("pub(super) ").unwrap_or(l);
        let l = l.strip_prefix("pub ").unwrap_or(l);
        let Some(tree) = l.strip_prefix("use ") else {
            continue;
        };
        let mut statement = tree.to_string();
        while !statement.trim_end().ends_with(';') {
            match lines.next() {
                Some(more) => statement.push_str(more),
                None => break,
            }
        }
        paths.extend(expand(statement.trim_end().trim_end_matches(';')));
    }
    let mut roots: Vec<&str> = vec!["crate::", "super::"];
    let children: Vec<String> = file.children.iter().map(|c| format!("{c}::")).collect();
    roots.extend(children.iter().map(String::as_str));
    for root in roots {
        for (i, _) in code.match_indices(root) {
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = code[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(path.trim_end_matches(':').to_string());
        }
    }
    paths
}

/// The module path a named path points into, resolved from `file`.
fn absolute(file: &File, path: &str) -> Vec<String> {
    let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = file.module.clone();
    // A file's own module is its base; `super` climbs from there.
    match segments.first().copied() {
        Some("crate") => {
            base = vec!["crate".into()];
            segments.remove(0);
        }
        Some("super") | Some("self") => {
            while let Some(&s) = segments.first() {
                match s {
                    "super" => {
                        base.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                segments.remove(0);
            }
        }
        Some(first) if file.children.contains(first) => {}
        _ => return Vec::new(),
    }
    base.extend(segments.into_iter().map(str::to_string));
    base
}

/// The edges between files: a file and the files it imports.
fn imports(files: &[File]) -> BTreeMap<String, BTreeSet<String>> {
    let by_module: BTreeMap<Vec<String>, &str> = files
        .iter()
        .map(|f| (f.module.clone(), f.path.as_str()))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let out = edges.entry(file.path.clone()).or_default();
        for path in named_paths(file) {
            let mut target = absolute(file, &path);
            while !target.is_empty() && !by_module.contains_key(&target) {
                target.pop();
            }
            if let Some(to) = by_module.get(&target)
                && *to != file.path
                && target.len() > 1
            {
                out.insert(to.to_string());
            }
        }
    }
    edges
}

/// A cycle of files, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    let files = files();
    let edges = imports(&files);
    // The checker itself must see the edges it is about.
    assert!(
        edges["commands/fetch/imap.rs"].contains("commands/fetch/writer.rs"),
        "{:?}",
        edges["commands/fetch/imap.rs"]
    );
    assert!(edges["commands/send.rs"].contains("commands/deliver.rs"));
    if let Some(cycle) = find_cycle(&edges) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

/// Each function of the library with its first line and length.
fn functions(file: &File) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    for (i, line) in file.lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let head = trimmed
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("pub ")
            .trim_start_matches("const ")
            .trim_start_matches("async ");
        let Some(rest) = head.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let indent = &line[..line.len() - trimmed.len()];
        let close = format!("{indent}}}");
        let end = file.lines[i..].iter().position(|l| *l == close);
        // A declaration without a body (in a trait) has no closing line of its own.
        let declaration = file.lines[i..]
            .iter()
            .take_while(|l| !l.contains('{'))
            .any(|l| l.trim_end().ends_with(';'));
        if declaration {
            continue;
        }
        let length = match (line.trim_end().ends_with('}'), end) {
            (true, _) => 1,
            (false, Some(n)) => n + 1,
            (false, None) => file.lines.len() - i,
        };
        out.push((name, i + 1, length));
    }
    out
}

#[test]
fn no_function_is_longer_than_a_screen() {
    let files = files();
    let mut long = Vec::new();
    let mut seen = 0;
    for file in &files {
        for (name, line, length) in functions(file) {
            seen += 1;
            if length > LONGEST_FUNCTION {
                long.push(format!("{}:{line} {name}: {length} lines", file.path));
            }
        }
    }
    assert!(seen > 100, "the checker found only {seen} functions");
    assert!(
        long.is_empty(),
        "functions longer than {LONGEST_FUNCTION} lines (split them into named steps):\n{}",
        long.join("\n")
    );
}
