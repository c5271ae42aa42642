//! Builds the WebAssembly components the host needs, so that a plain `cargo build` / `cargo test` on a fresh
//! clone does everything: the bundled super-user program (`plugin/component`), the hostile test components
//! (`tests/components`) and the example programs on the plugin-author kit (`plugin/examples`), for `wasm32-wasip2`.
//!
//! Each guest workspace is built by a nested `cargo build --release --target wasm32-wasip2` into its own target
//! directory (`target/wasm`, so the outer build's lock is not contended), the way Substrate's wasm-builder does.
//! If the target is missing, it is added with `rustup target add` first. The paths of the built components reach
//! the host as `CADRE_PLUGIN_WASM` and `CADRE_TEST_COMPONENTS` (compile-time environment variables).

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir.ancestors().nth(2).expect("host/bundled is two levels inside the workspace").to_owned();
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target")).join("wasm");

    for watched in [
        "wit",
        "host/model",
        "plugin/component",
        "plugin/rules",
        "plugin/presets",
        "plugin/guest-rt",
        "plugin/pdk/src",
        "plugin/pdk/wit",
        "plugin/pdk/Cargo.toml",
        "plugin/examples/first-answer/src",
        "plugin/examples/first-answer/Cargo.toml",
        "plugin/examples/first-answer/Cargo.lock",
        "tests/components",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    ensure_target_installed();
    build(&root.join("plugin/component/Cargo.toml"), &target_dir, &[]);
    build(&root.join("tests/components/Cargo.toml"), &target_dir, &["--workspace"]);
    build(&root.join("tests/components/wasi-snoop/Cargo.toml"), &target_dir, &[]);
    build(&root.join("tests/components/counter-v0-2-0/Cargo.toml"), &target_dir, &[]);
    // The example programs on the plugin-author kit (cadre-pdk), each a workspace of its own as `cadre plugin new`
    // writes them; their native tests run from tests/e2e/pdk.rs.
    build(&root.join("plugin/examples/first-answer/Cargo.toml"), &target_dir, &[]);

    let out = target_dir.join(TARGET).join("release");
    println!("cargo:rustc-env=CADRE_PLUGIN_WASM={}", out.join("cadre_plugin.wasm").display());
    println!("cargo:rustc-env=CADRE_TEST_COMPONENTS={}", out.display());
}

/// Add the wasm32-wasip2 target through rustup if this toolchain does not have it yet.
fn ensure_target_installed() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir = Command::new(&rustc).args(["--print", "target-libdir", "--target", TARGET]).output();
    let installed = matches!(&libdir, Ok(out) if out.status.success()
        && Path::new(String::from_utf8_lossy(&out.stdout).trim()).exists());
    if installed {
        return;
    }
    println!("cargo:warning=adding the {TARGET} target with rustup (needed to build the plugin components)");
    let status = Command::new("rustup").args(["target", "add", TARGET]).status();
    match status {
        Ok(status) if status.success() => {}
        other => panic!(
            "the {TARGET} Rust target is missing and `rustup target add {TARGET}` failed ({other:?}); \
             install it by hand and build again"
        ),
    }
}

/// `cargo build --release --target wasm32-wasip2` of one guest workspace.
fn build(manifest: &Path, target_dir: &Path, extra: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--release", "--locked", "--target", TARGET, "--manifest-path"])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .args(extra);
    // The outer build's settings are for the host, not for the guests: flags, target and build-script variables
    // must not leak into the nested build. (CARGO_MAKEFLAGS stays, so both builds share one job budget.)
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let leaks = key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_FEATURE_")
            || key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_ENCODED_RUSTFLAGS")
            || key.starts_with("CARGO_BUILD_")
            || key.starts_with("CARGO_TARGET_")
            || key.starts_with("CARGO_PROFILE_")
            || key.starts_with("DEP_")
            || matches!(
                &*key,
                "RUSTFLAGS"
                    | "TARGET"
                    | "HOST"
                    | "OUT_DIR"
                    | "PROFILE"
                    | "OPT_LEVEL"
                    | "DEBUG"
                    | "NUM_JOBS"
                    | "RUSTC_LINKER"
                    | "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "CARGO_CRATE_NAME"
            );
        if leaks {
            command.env_remove(&*key);
        }
    }
    let status = command.status().unwrap_or_else(|e| panic!("running cargo for {}: {e}", manifest.display()));
    if !status.success() {
        panic!("building the component {} for {TARGET} failed (see the errors above)", manifest.display());
    }
}
