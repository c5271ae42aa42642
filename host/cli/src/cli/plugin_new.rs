//! `cadre plugin new NAME [--pdk-path DIR]`: write a ready plugin crate on `cadre-pdk` in `./NAME`.
//!
//! The crate: `Cargo.toml` (a workspace of its own, the release profile for small components, `cadre-pdk` as its
//! only Cadre dependency), `.gitignore` (`target/`, `.cadre/`), `rustfmt.toml`, `src/lib.rs` (a sample program:
//! capped points for answers, a badge for a first accepted answer), `events.jsonl` (a small forum to run it over),
//! `tests/rules.rs` (native), `tests/host.rs` (through the real host with `cadre plugin test`) and a README. The
//! templates are in `template/` beside this file.
//!
//! `cadre-pdk` is not on crates.io: the crate depends on it by path. By default that is `plugin/pdk` of the Cadre
//! checkout this binary was built from (while it is there); `--pdk-path` names another copy.
//!
//! Owns the command. Does not own the kit (`plugin/pdk`).

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::exit;
use super::input::InputRefused;

/// The kit in the checkout this binary was built from.
const CHECKOUT_PDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugin/pdk");

/// The files of a new crate: path inside it, template.
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("template/Cargo.toml.in")),
    (".gitignore", include_str!("template/gitignore.in")),
    ("rustfmt.toml", include_str!("template/rustfmt.toml.in")),
    ("README.md", include_str!("template/README.md.in")),
    ("events.jsonl", include_str!("template/events.jsonl.in")),
    ("src/lib.rs", include_str!("template/lib.rs.in")),
    ("tests/rules.rs", include_str!("template/rules.rs.in")),
    ("tests/host.rs", include_str!("template/host.rs.in")),
];

/// Write the crate `name` in the current directory.
pub fn run(name: &str, pdk_path: Option<&Path>) -> anyhow::Result<u8> {
    check_name(name)?;
    let pdk = find_pdk(pdk_path)?;
    let dir = PathBuf::from(name);
    if dir.exists() {
        return Err(InputRefused(format!("{} already exists: nothing was written", dir.display())).into());
    }
    let crate_name = name.replace('-', "_");
    let type_name: String = name
        .split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect::<String>()
        })
        .collect();
    // The path goes into TOML as a basic string.
    let pdk_text = pdk.display().to_string().replace('\\', "\\\\").replace('"', "\\\"");
    for (path, template) in FILES {
        let text = template
            .replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{Type}}", &type_name)
            .replace("{{pdk_path}}", &pdk_text);
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("inside the crate"))
            .with_context(|| format!("creating {}", file.parent().unwrap_or(&dir).display()))?;
        std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
    }
    println!("created {name}/ (a Cadre program on cadre-pdk at {})", pdk.display());
    println!("  cd {name}");
    println!("  cargo test                                      # the rules, natively");
    println!("  cargo build --release --target wasm32-wasip2    # the component");
    println!("  cadre plugin test target/wasm32-wasip2/release/{crate_name}.wasm --events events.jsonl");
    Ok(exit::OK)
}

/// A name Cargo accepts for a package and that is a directory name here: a lowercase letter, then lowercase letters,
/// digits, `-` or `_`, at most 64 bytes.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(InputRefused(format!(
            "{name:?} is not a plugin name: use a lowercase letter, then lowercase letters, digits, - or _ (at most \
             64 bytes), e.g. first-answer"
        ))
        .into())
    }
}

/// The kit's directory: `--pdk-path`, else the checkout's, checked to hold `cadre-pdk`; absolute.
fn find_pdk(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let candidate = given.map_or_else(|| PathBuf::from(CHECKOUT_PDK), Path::to_owned);
    let manifest = std::fs::read_to_string(candidate.join("Cargo.toml")).unwrap_or_default();
    if !manifest.contains("name = \"cadre-pdk\"") {
        let why = match given {
            Some(_) => format!("{} does not hold cadre-pdk (no Cargo.toml naming it)", candidate.display()),
            None => format!(
                "the Cadre checkout this cadre was built from has no plugin/pdk any more ({}); name a copy of the kit \
                 with --pdk-path DIR (the plugin/pdk folder of a Cadre checkout)",
                candidate.display()
            ),
        };
        return Err(InputRefused(why).into());
    }
    candidate.canonicalize().with_context(|| format!("resolving {}", candidate.display()))
}
