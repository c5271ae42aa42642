//! Every command's exit code, from one table (issue 17's audit): 0 done, 1 failed, 2 input refused (nothing
//! changed: a bad or missing file, bad settings, a bad argument, a refused action), 3 not found (a member, a
//! nomination, a program). Each row runs the real binary and checks the code and the words the user reads.

use std::path::Path;

/// One row: the arguments, extra environment, the exit code wanted and words the output must hold.
type Row<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], i32, &'a str);

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cadre"))
        .args(args)
        .current_dir(dir)
        .env("CADRE_DB", dir.join("forum.db"))
        .env("CADRE_CACHE_DIR", dir.join("cache"))
        .env_remove("CADRE_MODERATOR")
        .env_remove("CADRE_MODERATOR_PASSWORD")
        .env_remove("CADRE_CONFIG")
        .envs(env.iter().copied())
        .output()
        .expect("cadre runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn every_command_exits_0_done_1_failed_2_input_refused_3_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A forum with the bundled program, a member and a moderator.
    {
        let runtime = cadre::runtime::Runtime::new(cadre::runtime::Limits::default(), None).unwrap();
        let mut forum = cadre::Forum::open(&d.join("forum.db"), runtime).unwrap();
        forum.install(cadre::bundled::PROGRAM_WASM, "test", 0).unwrap();
        forum.register("ada", 0, false).unwrap();
        forum.register("mo", 0, true).unwrap();
    }
    std::fs::write(d.join("bad.toml"), "x = 1\n").unwrap();
    std::fs::write(d.join("junk.wasm"), "not a component").unwrap();
    std::fs::write(d.join("bad.jsonl"), "{\"x\":1}\n").unwrap();
    std::fs::create_dir(d.join("empty-dump")).unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = busy.local_addr().unwrap().to_string();
    let nowhere = d.join("nowhere.db");
    let nowhere = nowhere.to_str().unwrap();
    let password = [("CADRE_MODERATOR_PASSWORD", "short")];
    let mistyped_db = ["--db", nowhere, "ledger", "ada"];
    let taken_address = ["serve", "--addr", &busy];

    #[rustfmt::skip]
    let table: Vec<Row> = vec![
        // Done.
        (&["member", "show", "ada"], &[], 0, "ada"),
        (&["program", "show"], &[], 0, "cadre-superuser"),
        (&["plugin", "list"], &[], 0, "cadre-superuser"),
        (&["queue", "list"], &[], 0, "empty"),
        // Input refused: bad or missing files, bad settings, bad arguments, refused actions.
        (&["member", "register", "ada"], &[], 2, "taken"),
        (&["program", "check", "bad.toml"], &[], 2, "x: unknown setting"),
        (&["program", "preview", "bad.toml"], &[], 2, "x: unknown setting"),
        (&["program", "apply", "bad.toml"], &[], 2, "x: unknown setting"),
        (&["program", "check", "missing.toml"], &[], 2, "cannot read settings file missing.toml"),
        (&["program", "apply", "missing.toml"], &[], 2, "cannot read settings file missing.toml"),
        (&["plugin", "inspect", "missing.wasm"], &[], 2, "cannot read component missing.wasm"),
        (&["plugin", "install", "missing.wasm"], &[], 2, "cannot read component missing.wasm"),
        (&["plugin", "upgrade", "missing.wasm", "--yes"], &[], 2, "cannot read component missing.wasm"),
        (&["plugin", "inspect", "junk.wasm"], &[], 2, "not a WebAssembly component"),
        (&["plugin", "install", "junk.wasm"], &[], 2, "not a WebAssembly component"),
        (&["queue", "approve", "1", "--reason", "r"], &[], 2, "--as NAME"),
        (&["queue", "approve", "1", "--as", "ada", "--reason", "r"], &[], 2, "not a moderator"),
        (&["event", "ada", "bad kind!", "--source", "s", "--id", "1"], &[], 2, "dot-separated"),
        (&["ingest", "missing.jsonl"], &[], 2, "cannot read missing.jsonl"),
        (&["ingest", "bad.jsonl"], &[], 2, "nothing applied"),
        (&["--db", "replay.db", "replay", "empty-dump"], &[], 2, "no Posts.xml"),
        (&["notices", "--limit", "x"], &[], 2, "invalid value"),
        (&["--host-config", "missing.toml", "notices"], &[], 2, "missing.toml"),
        (&mistyped_db, &[], 2, "no forum database"),
        (&["serve", "--moderator", "mo", "--addr", "127.0.0.1:0"], &[], 2, "CADRE_MODERATOR_PASSWORD"),
        (&["serve", "--moderator", "mo", "--addr", "127.0.0.1:0"], &password, 2, "8 to 128 characters"),
        (&["discourse", "check"], &[], 2, "no [discourse] table"),
        (&["bench", "web", "--members", "0"], &[], 2, "invalid value"),
        (&["bench", "live", "--likes", "0"], &[], 2, "invalid value"),
        (&["no-such-command"], &[], 2, "unrecognized subcommand"),
        // Not found.
        (&["member", "show", "nobody"], &[], 3, "\"nobody\" not found"),
        (&["ledger", "nobody"], &[], 3, "\"nobody\" not found"),
        (&["audit", "--member", "nobody"], &[], 3, "\"nobody\" not found"),
        (&["queue", "show", "99"], &[], 3, "nomination 99 not found"),
        (&["queue", "approve", "99", "--as", "mo", "--reason", "r"], &[], 3, "not found"),
        (&["event", "nobody", "x.y", "--source", "s", "--id", "1"], &[], 3, "\"nobody\" not found"),
        // Failed: the input was fine, the machine was not (the address is taken).
        (&taken_address, &[], 1, "listening on"),
    ];
    let mut wrong = Vec::new();
    for (args, env, code, words) in &table {
        let (got, text) = run(d, args, env);
        if got != *code || !text.contains(words) {
            wrong.push(format!("cadre {}: exit {got} (want {code}), want {words:?} in:\n{text}", args.join(" ")));
        }
    }
    assert!(wrong.is_empty(), "{} of {} rows wrong:\n{}", wrong.len(), table.len(), wrong.join("\n"));
    // A refused command changed nothing: no member was registered twice, nothing was installed over the program.
    let (_, list) = run(d, &["plugin", "list"], &[]);
    assert_eq!(list.matches("cadre-superuser").count(), 1, "{list}");
}
