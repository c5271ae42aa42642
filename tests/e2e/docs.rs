//! The documentation stays navigable: every relative link and image in README.md and docs/*.md points at a file
//! that exists (and, for a `#section` of a Markdown page, at a heading that exists), and every source path the
//! pages name in backticks is still there. Owns nothing but these checks; the pages themselves are checked for
//! truth elsewhere (the walkthrough in `moderator_cli`, the run command in `serve`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_owned()
}

/// README.md and every page in docs/.
fn pages() -> Vec<PathBuf> {
    let root = repo_root();
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/ exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// The page's prose: code blocks (```) removed, since what they hold is shell or TOML, not links.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Inline code spans (`…`) of the prose, one per element.
fn code_spans(prose: &str) -> Vec<String> {
    prose.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// Every link target of the prose: Markdown `[text](target)` and HTML `src="target"` / `href="target"`, outside
/// inline code.
fn link_targets(prose: &str) -> Vec<String> {
    let outside_code: String = prose.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    let mut targets = Vec::new();
    let mut rest = outside_code.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let end = after.find(')').unwrap_or(after.len());
        targets.push(after[..end].trim().to_owned());
        rest = &after[end..];
    }
    for attribute in ["src=\"", "href=\""] {
        let mut rest = outside_code.as_str();
        while let Some(at) = rest.find(attribute) {
            let after = &rest[at + attribute.len()..];
            let end = after.find('"').unwrap_or(after.len());
            targets.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    targets
}

/// The anchors GitHub gives a page's headings: lower case, spaces to `-`, punctuation other than `-` and `_`
/// dropped; a repeated heading gets `-1`, `-2`, ….
fn anchors(text: &str) -> HashSet<String> {
    let mut anchors = HashSet::new();
    for line in prose(text).lines() {
        let Some(heading) = line.strip_prefix('#') else { continue };
        let heading = heading.trim_start_matches('#').trim();
        let slug: String = heading
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut candidate = slug.clone();
        let mut n = 0;
        while anchors.contains(&candidate) {
            n += 1;
            candidate = format!("{slug}-{n}");
        }
        anchors.insert(candidate);
    }
    anchors
}

/// What is wrong with one link of `page`, if anything.
fn broken(page: &Path, target: &str) -> Option<String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let file = if path.is_empty() { page.to_owned() } else { page.parent().unwrap().join(path) };
    if !file.exists() {
        return Some(format!("{target}: no file {}", file.display()));
    }
    if let Some(anchor) = anchor
        && file.extension().is_some_and(|e| e == "md")
        && !anchors(&std::fs::read_to_string(&file).unwrap()).contains(anchor)
    {
        return Some(format!("{target}: {} has no heading #{anchor}", file.display()));
    }
    None
}

#[test]
fn every_relative_link_in_the_readme_and_docs_points_at_a_file_that_exists() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for target in link_targets(&prose(&text)) {
            checked += 1;
            if let Some(problem) = broken(&page, &target) {
                problems.push(format!("{}: {problem}", page.display()));
            }
        }
    }
    assert!(checked > 30, "the link parser found only {checked} links: is it still reading the pages?");
    assert!(problems.is_empty(), "broken links:\n{}", problems.join("\n"));
}

#[test]
fn every_source_path_the_readme_and_docs_name_exists() {
    // A path in backticks that starts with one of the repository's folders names a file or folder of it (from the
    // repository's root, whatever page it is on). A file moved or renamed must take its mention with it.
    let root = repo_root();
    let folders = ["host/", "plugin/", "tests/", "wit/", "docs/", ".ci/"];
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for span in code_spans(&prose(&text)) {
            let path = span.trim();
            if !folders.iter().any(|f| path.starts_with(f)) || path.contains(' ') {
                continue;
            }
            checked += 1;
            if !root.join(path).exists() {
                problems.push(format!("{}: `{path}` does not exist", page.display()));
            }
        }
    }
    assert!(checked > 20, "only {checked} paths found: is the parser still reading the pages?");
    assert!(problems.is_empty(), "stale paths:\n{}", problems.join("\n"));
}

#[test]
fn the_link_checker_sees_links_images_and_anchors_and_ignores_code() {
    let text = "See [a](docs/a.md#part) and <img src=\"x.png\">, not `[b](c.md)`.\n```\n[d](e.md)\n```\n";
    assert_eq!(link_targets(&prose(text)), ["docs/a.md#part", "x.png"]);
    let headings = anchors("# Title\n## The host's settings (`cadre.toml`)\n## Title\n```\n# not a heading\n```\n");
    let expected: HashSet<String> =
        ["title", "the-hosts-settings-cadretoml", "title-1"].into_iter().map(str::to_owned).collect();
    assert_eq!(headings, expected);
}
