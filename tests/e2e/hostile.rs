//! Each hostile component (tests/components/*) against the limit it must trip. For each: the exact error kind,
//! the writes it made before failing are not kept, the host is unharmed (a healthy plugin on the same engine, and
//! the hostile plugin's own next call, both succeed), and it stopped because of the limit, not a timeout.

use std::time::{Duration, Instant};

use cadre::runtime::{CallErrorKind, Event, Limits, Plugin, Runtime};

use crate::util::{day, like, load, points_for, post, program, runtime};

/// Limits with fuel to spare, for tests of another limit: building 100,000 effects or a 10 MB string takes more
/// than the default 10 million fuel, which would (rightly) stop them first.
fn ample_fuel() -> Limits {
    Limits { fuel_per_call: Some(2_000_000_000), ..Limits::default() }
}

/// After a hostile call: nothing it wrote is kept, a healthy plugin on the same engine works, and the hostile
/// plugin itself gets a fresh instance for its next (harmless) call.
fn assert_host_unharmed(runtime: &Runtime, hostile: &mut Plugin, written_key: &str) {
    assert_eq!(hostile.backend_mut().get(written_key).unwrap(), None, "a failed call's writes are not kept");
    let mut healthy = program(runtime, "");
    let effects = healthy.call(&like(1, 7, 8, day(1))).expect("a healthy plugin still works");
    assert_eq!(points_for(&effects, 7), 10);
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "infinite-loop");
    let started = Instant::now();
    let error = plugin.call(&like(1, 7, 8, day(1))).unwrap_err();
    assert_eq!(error.kind, CallErrorKind::OutOfFuel { fuel: 10_000_000 });
    assert!(started.elapsed() < Limits::default().deadline, "fuel stopped it, not the wall-clock deadline");
    assert!(error.to_string().starts_with("plugin InfiniteLoop 0.0.1: ran out of fuel"), "{error}");
    assert_host_unharmed(&runtime, &mut plugin, "written-before-the-loop");
    assert!(plugin.call(&post(1, 7)).is_ok(), "the next call gets a fresh instance");
}

#[test]
fn an_infinite_loop_without_fuel_metering_hits_the_epoch_deadline() {
    let limits = Limits { fuel_per_call: None, deadline: Duration::from_millis(100), ..Limits::default() };
    let runtime = runtime(limits);
    let mut plugin = load(&runtime, "infinite-loop");
    let started = Instant::now();
    let error = plugin.call(&like(1, 7, 8, day(1))).unwrap_err();
    assert_eq!(error.kind, CallErrorKind::Deadline { millis: 100 });
    assert!(started.elapsed() < Duration::from_secs(5), "the backstop fired near its deadline");
    assert_host_unharmed(&runtime, &mut plugin, "written-before-the-loop");
}

#[test]
fn a_normal_hook_fits_well_within_the_fuel_limit() {
    let runtime = runtime(Limits::default());
    let mut plugin = program(&runtime, "");
    plugin.call(&like(1, 7, 8, day(1))).unwrap();
    let used = plugin.fuel_used_by_last_call().unwrap();
    assert!(used > 0 && used < 1_000_000, "a like hook burned {used} fuel");
}

#[test]
fn a_memory_bomb_stops_at_the_memory_limit() {
    let limits = Limits { memory_bytes: 16 << 20, ..ample_fuel() };
    let runtime = runtime(limits);
    let mut plugin = load(&runtime, "memory-bomb");
    let error = plugin.call(&like(1, 7, 8, day(1))).unwrap_err();
    let CallErrorKind::MemoryLimit { requested, limit } = error.kind else { panic!("{error}") };
    assert_eq!(limit, 16 << 20);
    assert!(requested > limit);
    assert_host_unharmed(&runtime, &mut plugin, "written-before-the-bomb");
    assert!(plugin.call(&post(1, 7)).is_ok());
}

#[test]
fn a_program_within_the_memory_limit_runs() {
    let limits = Limits { memory_bytes: 16 << 20, ..Limits::default() };
    let runtime = runtime(limits);
    let mut plugin = program(&runtime, "");
    assert!(plugin.call(&like(1, 7, 8, day(1))).is_ok());
}

#[test]
fn a_panic_is_a_trap_with_its_message() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "panic");
    let error = plugin.call(&like(1, 7, 8, day(1))).unwrap_err();
    let CallErrorKind::Trap { message } = &error.kind else { panic!("{error}") };
    assert!(message.contains("unreachable"), "{message}");
    assert_host_unharmed(&runtime, &mut plugin, "written-before-the-panic");
    assert!(plugin.call(&post(1, 7)).is_ok(), "the poisoned store was replaced");
}

#[test]
fn a_hundred_thousand_effects_are_refused_whole() {
    let runtime = runtime(ample_fuel());
    let mut plugin = load(&runtime, "effect-flood");
    let error = plugin.call(&like(1, 7, 8, day(1))).unwrap_err();
    assert_eq!(error.kind, CallErrorKind::TooManyEffects { count: 100_000, limit: 1_000 });
    assert_host_unharmed(&runtime, &mut plugin, "written-before-the-flood");
}

#[test]
fn a_hundred_thousand_effects_pass_when_the_limit_allows_them() {
    let limits = Limits { max_effects_per_call: 100_000, ..ample_fuel() };
    let runtime = runtime(limits);
    let mut plugin = load(&runtime, "effect-flood");
    assert_eq!(plugin.call(&like(1, 7, 8, day(1))).unwrap().len(), 100_000);
}

#[test]
fn a_badge_the_plugin_never_declared_is_refused() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "undeclared-badge");
    let error = plugin.call(&like(1, 7, 8, day(1))).unwrap_err();
    let CallErrorKind::InvalidEffect { index, effect, reason } = &error.kind else { panic!("{error}") };
    assert_eq!(*index, 1, "the honest award before it is not the culprit");
    assert_eq!(effect, "grant-badge \"platinum-unicorn\" to member 7");
    assert!(reason.contains("not declared"), "{reason}");
    assert_host_unharmed(&runtime, &mut plugin, "written-before-the-grant");
}

#[test]
fn access_to_a_tier_the_plugin_never_declared_is_refused() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "undeclared-badge");
    let error = plugin.call(&post(1, 7)).unwrap_err();
    let CallErrorKind::InvalidEffect { reason, .. } = &error.kind else { panic!("{error}") };
    assert_eq!(reason, "tier \"secret-cabal\" is not declared by the plugin's configuration");
}

#[test]
fn a_ten_megabyte_reason_is_refused_as_oversized() {
    let runtime = runtime(ample_fuel());
    let mut plugin = load(&runtime, "huge-reason");
    let error = plugin.call(&like(1, 7, 8, day(1))).unwrap_err();
    let CallErrorKind::InvalidEffect { index: 0, reason, .. } = &error.kind else { panic!("{error}") };
    assert_eq!(reason, "reason of 10485760 bytes; at most 1024 allowed");
    assert_host_unharmed(&runtime, &mut plugin, "written-before-the-reason");
}

#[test]
fn a_huge_key_trips_the_key_size_limit() {
    let runtime = runtime(ample_fuel());
    let mut plugin = load(&runtime, "kv-flood");
    let error = plugin.call(&like(1, 7, 8, day(1))).unwrap_err();
    let CallErrorKind::StoreLimit { what } = &error.kind else { panic!("{error}") };
    assert_eq!(what, "key of 1048576 bytes; at most 256 allowed");
}

#[test]
fn millions_of_writes_trip_the_per_call_write_limit() {
    let runtime = runtime(ample_fuel());
    let mut plugin = load(&runtime, "kv-flood");
    let error = plugin.call(&post(1, 7)).unwrap_err();
    let CallErrorKind::StoreLimit { what } = &error.kind else { panic!("{error}") };
    assert_eq!(what, "more than 10000 writes in one call");
    assert_eq!(plugin.backend_mut().get("k0").unwrap(), None, "none of the writes are kept");
    assert_eq!(plugin.backend_mut().total_bytes(), 0);
}

#[test]
fn filling_the_store_trips_the_total_size_limit() {
    let limits = Limits { max_store_bytes: 4 << 20, ..ample_fuel() };
    let runtime = runtime(limits);
    let mut plugin = load(&runtime, "kv-flood");
    let error = plugin.call(&Event::Tick(day(2))).unwrap_err();
    let CallErrorKind::StoreLimit { what } = &error.kind else { panic!("{error}") };
    assert!(what.starts_with("store would hold ") && what.ends_with("bytes; at most 4194304 allowed"), "{what}");
    assert_eq!(plugin.backend_mut().total_bytes(), 0, "none of the writes are kept");
}

#[test]
fn reading_a_file_gets_nothing() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "wasi-snoop");
    assert!(plugin.forbidden_imports().iter().any(|i| i.starts_with("wasi:filesystem/")));
    let error = plugin.call(&like(1, 7, 8, day(1))).unwrap_err();
    let CallErrorKind::ForbiddenImport { import } = &error.kind else { panic!("{error}") };
    assert!(import.starts_with("wasi:"), "{import}");
    assert_host_unharmed(&runtime, &mut plugin, "none");
}

#[test]
fn reading_the_clock_gets_nothing() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "wasi-snoop");
    let error = plugin.call(&post(1, 7)).unwrap_err();
    let CallErrorKind::ForbiddenImport { import } = &error.kind else { panic!("{error}") };
    assert!(import.starts_with("wasi:clocks/wall-clock"), "{import}");
}

#[test]
fn reading_the_environment_gets_nothing() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "wasi-snoop");
    let error = plugin.call(&Event::Tick(day(1))).unwrap_err();
    let CallErrorKind::ForbiddenImport { import } = &error.kind else { panic!("{error}") };
    assert!(import.starts_with("wasi:cli/environment"), "{import}");
}

#[test]
fn asking_for_randomness_gets_nothing() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "wasi-snoop");
    let error = plugin.member_record(7, day(1)).unwrap_err();
    let CallErrorKind::ForbiddenImport { import } = &error.kind else { panic!("{error}") };
    assert!(import.starts_with("wasi:random/"), "{import}");
}

#[test]
fn every_hostile_component_has_a_test() {
    // The contract-version fixtures (counter-v0-1-0, counter-v0-2-0) are tested in contract.rs, the ones `plugin
    // inspect` must refuse (bad-defaults, undescribed-badge) in cli.rs.
    let source = [include_str!("hostile.rs"), include_str!("contract.rs"), include_str!("cli.rs")].concat();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/components");
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if !entry.path().join("src/lib.rs").exists() || name == "common" || name == "wrong-version" {
            continue; // wrong-version is refused at load: see loading.rs
        }
        assert!(source.contains(&format!("\"{name}\"")), "no test loads the hostile component {name}");
    }
}

#[test]
fn an_effect_flood_under_default_limits_is_stopped_by_fuel() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "effect-flood");
    let error = plugin.call(&like(1, 7, 8, day(1))).unwrap_err();
    assert!(
        matches!(error.kind, CallErrorKind::OutOfFuel { .. } | CallErrorKind::TooManyEffects { .. }),
        "either limit stops it: {error}"
    );
}
