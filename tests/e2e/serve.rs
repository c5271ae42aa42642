//! `cadre serve --demo`, the README's run command, as a newcomer runs it: the binary creates the database, fills
//! the demo, prints the URL and the logins, and answers on that URL.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

/// The server, stopped (by its own handle) when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// Start `cadre serve` with these arguments after the global ones for a fresh database; read what it prints until
/// `until` says it is ready. Returns the server, its address and what it printed.
fn start(dir: &std::path::Path, global: &[&str], serve: &[&str], until: &str) -> (Server, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_cadre"))
        .arg("--db")
        .arg(dir.join("forum.db"))
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(global)
        .arg("serve")
        .args(serve)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cadre serve starts");
    let mut server = Server(child);
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let mut url = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.split("serving the forum at http://").nth(1) {
            url = Some(rest.split('/').next().unwrap().to_owned());
        }
        if url.is_some() && line.trim_start().starts_with(until) {
            break;
        }
    }
    let addr = url.unwrap_or_else(|| panic!("no URL printed:\n{printed}"));
    (server, addr, printed)
}

#[test]
fn serve_demo_prints_the_url_and_the_logins_and_serves_the_demo_forum() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr, printed) = start(dir.path(), &[], &["--demo"], "bob");
    assert!(printed.contains("Filled the demo community") && printed.contains("cadre-demo"), "{printed}");
    let home = get(&addr, "/");
    assert!(home.starts_with("HTTP/1.1 200"), "{home}");
    assert!(home.contains("Help &amp; support") && !home.contains("Insiders lounge"), "{home}");
    assert!(get(&addr, "/c/insiders").starts_with("HTTP/1.1 404"));
}

#[test]
fn serve_marks_its_cookies_secure_when_cadre_toml_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, addr, _) = start(dir.path(), &[], &[], "Cadre is serving");
    let cookie = |answer: &str| -> String {
        answer.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).unwrap_or_default().to_owned()
    };
    let plain_cookie = cookie(&get(&addr, "/signup"));
    assert!(plain_cookie.contains("cadre_pre=") && !plain_cookie.contains("Secure"), "default: {plain_cookie}");
    drop(plain);
    let config = dir.path().join("cadre.toml");
    std::fs::write(&config, "[web]\nsecure-cookies = true\n").unwrap();
    let (_secure, addr, _) = start(dir.path(), &["--host-config", config.to_str().unwrap()], &[], "Cadre is serving");
    let secure_cookie = cookie(&get(&addr, "/signup"));
    assert!(secure_cookie.contains("cadre_pre=") && secure_cookie.contains("; Secure"), "{secure_cookie}");
}

/// `cadre serve` ticks by itself (the program's time-based rules need no cron), and a program that fails on a tick
/// leaves a dead letter without stopping the server.
#[test]
fn serve_delivers_ticks_by_itself_and_a_failing_tick_is_a_dead_letter_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let cadre = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cadre"))
            .arg("--db")
            .arg(dir.path().join("forum.db"))
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .args(args)
            .output()
            .unwrap()
    };
    // The `panic` component panics on ticks.
    let panics = crate::util::component_path("panic");
    assert!(cadre(&["plugin", "install", panics.to_str().unwrap(), "--yes"]).status.success());
    let (_server, addr, _) = start(dir.path(), &[], &["--tick-every", "1"], "Cadre is serving");
    let mut listed = String::new();
    for _ in 0..50 {
        listed = String::from_utf8_lossy(&cadre(&["deadletters", "list"]).stdout).into_owned();
        if listed.contains("tick") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(listed.contains("tick"), "no tick reached the program within 10 s: {listed}");
    assert!(get(&addr, "/").starts_with("HTTP/1.1 200"), "the server still answers");
}
