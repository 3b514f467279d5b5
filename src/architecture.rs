//! Tests that hold the layout: the import graph points down (no cycle, no arrow from a
//! lower layer to a higher one), no source file grows past 500 lines, and routes are
//! added only where they are documented. `cargo test --lib architecture` runs them.

use std::path::{Path, PathBuf};

/// The layers, top first (the README's "Architecture" draws them). A module may import
/// from its own layer's files and from layers below it, never from one above.
const LAYERS: &[&str] = &[
    "cli", "http", "app", "oauth", "auth", "tokens", "notify", "throttle", "store", "crypto", "config",
    "domain",
];

const MAX_LINES: usize = 500;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
            (name, std::fs::read_to_string(&p).unwrap_or_default())
        })
        .collect()
}

/// The top-level module a file belongs to (`auth/mfa/totp.rs` → `auth`).
fn module_of(file: &str) -> &str {
    file.split('/').next().unwrap_or(file).trim_end_matches(".rs")
}

/// Every `crate::<module>` a file names in code (comments are skipped).
fn imports(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

#[test]
fn the_import_graph_points_down() {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut wrong = Vec::new();
    for (file, text) in sources() {
        let from = module_of(&file);
        let Some(from_rank) = rank(from) else { continue }; // lib.rs, main.rs, this file
        for to in imports(&text) {
            match rank(&to) {
                Some(to_rank) if to_rank >= from_rank => {}
                Some(_) => wrong.push(format!("{file}: {from} → {to} points up")),
                None => wrong.push(format!("{file}: crate::{to} is in no layer")),
            }
        }
    }
    wrong.dedup();
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
}

#[test]
fn every_top_level_module_has_a_layer() {
    let lib = include_str!("lib.rs");
    for line in lib.lines().filter_map(|l| l.strip_prefix("pub mod ")) {
        let name = line.trim_end_matches(';');
        assert!(LAYERS.contains(&name), "module {name} is in no layer of LAYERS");
    }
}

#[test]
fn no_source_file_is_over_the_limit() {
    let long: Vec<String> = sources()
        .into_iter()
        .map(|(file, text)| (file, text.lines().count()))
        .filter(|(_, lines)| *lines > MAX_LINES)
        .map(|(file, lines)| format!("{file}: {lines} lines"))
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines (split them by concern):\n{}", long.join("\n"));
}

/// A route added straight to an axum router would be served but not documented: routes
/// are added through `ApiRouter::routes`, which does both. The metrics-only router is
/// the one exception (it serves `/metrics`, documented on the API's router).
#[test]
fn routes_are_added_only_where_they_are_documented() {
    let allowed = ["http/openapi.rs", "http/mod.rs"];
    let stray: Vec<String> = sources()
        .into_iter()
        .filter(|(file, _)| !allowed.contains(&file.as_str()) && file != "architecture.rs")
        .filter(|(_, text)| {
            text.contains(".route(") || text.contains("routing::get(") || text.contains("routing::post(")
        })
        .map(|(file, _)| file)
        .collect();
    assert!(stray.is_empty(), "routes added outside ApiRouter: {stray:?}");
}
