//! `cadre bench runtime`: what the sandbox costs, measured in one run and reported as a table.
//!
//! Rows: compiling the bundled program; loading its cached artifact; instantiating from `InstancePre`; one like
//! hook through the component (fuel on, and fuel off) and through the same rules called natively; and the ratios
//! component/native and fuel-on/fuel-off. All on the same synthetic like stream (many members, some over the
//! daily cap), so the work per call is the same in every row.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use super::native::NativeProgram;
use cadre_bundled::PROGRAM_WASM;
use cadre_model::{Like, PostKind};
use cadre_runtime::{ArtifactCache, Event, Limits, Runtime};

/// One measured row.
#[derive(Debug, Serialize)]
pub struct Row {
    /// What was timed (and its unit).
    pub what: &'static str,
    /// Microseconds per operation (milliseconds where `what` says so).
    pub micros: f64,
    /// Operations timed.
    pub count: u64,
}

/// A like stream: 1,000 authors, likers rotating, days advancing so that caps are hit and reset.
fn events(count: u64) -> Vec<Event> {
    (0..count)
        .map(|i| {
            Event::LikeAdded(Like {
                like: i,
                post: i % 50_000,
                post_kind: if i % 3 == 0 { PostKind::Question } else { PostKind::Answer },
                post_author: Some(i % 1_000),
                post_wiki: false,
                liker: Some(1_000 + i % 7_919),
                liker_joined: Some(0),
                at: (i / 20_000) as i64 * 86_400_000 + (i % 20_000) as i64,
                post_category: Some(1),
            })
        })
        .collect()
}

fn per_op(elapsed: Duration, count: u64) -> f64 {
    elapsed.as_secs_f64() * 1e6 / count.max(1) as f64
}

fn component_calls(fuel: bool, events: &[Event]) -> anyhow::Result<f64> {
    let limits =
        Limits { fuel_per_call: if fuel { Limits::default().fuel_per_call } else { None }, ..Limits::default() };
    let runtime = Runtime::new(limits, None).map_err(anyhow::Error::from)?;
    let (mut plugin, _) = runtime.load_bytes("bundled program", PROGRAM_WASM)?;
    plugin.configure("")?.map_err(|e| anyhow::anyhow!("default settings refused: {e:?}"))?;
    let started = Instant::now();
    for event in events {
        plugin.call(event)?;
    }
    Ok(per_op(started.elapsed(), events.len() as u64))
}

/// The measurements of one run (the command prints them as a table or JSON).
#[derive(Debug, Serialize)]
pub struct Figures {
    /// Like hooks per row.
    pub calls: u64,
    /// One row per measurement.
    pub rows: Vec<Row>,
    /// The component's like hook over the native rules' (fuel on).
    pub ratio_component_vs_native: f64,
    /// Fuel metering on over off.
    pub ratio_fuel_on_vs_off: f64,
}

/// Run the benchmark.
pub fn measure(calls: u64) -> anyhow::Result<Figures> {
    let calls = calls.max(1_000);
    let events = events(calls);
    let mut rows = Vec::new();

    let runtime = Runtime::new(Limits::default(), None).map_err(anyhow::Error::from)?;
    let started = Instant::now();
    runtime.engine().precompile_component(PROGRAM_WASM).map_err(anyhow::Error::from).context("compiling")?;
    rows.push(Row { what: "compile the bundled program (ms)", micros: per_op(started.elapsed(), 1) / 1e3, count: 1 });

    let dir = tempfile::tempdir()?;
    let cache = ArtifactCache::new(dir.path());
    let hash = cadre_runtime::cache::content_hash(PROGRAM_WASM);
    cache.load(runtime.engine(), PROGRAM_WASM, &hash).map_err(anyhow::Error::from)?;
    let loads = 50;
    let started = Instant::now();
    for _ in 0..loads {
        cache.load(runtime.engine(), PROGRAM_WASM, &hash).map_err(anyhow::Error::from)?;
    }
    rows.push(Row {
        what: "load the cached artifact (ms)",
        micros: per_op(started.elapsed(), loads) / 1e3,
        count: loads,
    });

    let (plugin, _) = runtime.load_bytes("bundled program", PROGRAM_WASM)?;
    let instances = 2_000;
    let started = Instant::now();
    for _ in 0..instances {
        plugin.instantiate_once()?;
    }
    rows.push(Row {
        what: "instantiate from InstancePre (µs)",
        micros: per_op(started.elapsed(), instances),
        count: instances,
    });

    let with_fuel = component_calls(true, &events)?;
    rows.push(Row { what: "like hook, component, fuel on (µs)", micros: with_fuel, count: calls });
    let without_fuel = component_calls(false, &events)?;
    rows.push(Row { what: "like hook, component, fuel off (µs)", micros: without_fuel, count: calls });

    let mut native = NativeProgram::new("").map_err(|e| anyhow::anyhow!("default settings refused: {e:?}"))?;
    let started = Instant::now();
    for event in &events {
        std::hint::black_box(native.call(event));
    }
    let native_micros = per_op(started.elapsed(), calls);
    rows.push(Row { what: "like hook, native rules (µs)", micros: native_micros, count: calls });

    Ok(Figures {
        calls,
        rows,
        ratio_component_vs_native: with_fuel / native_micros,
        ratio_fuel_on_vs_off: with_fuel / without_fuel,
    })
}

impl Figures {
    /// The table a person reads.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ =
            writeln!(out, "cadre bench runtime ({} like hooks per row, bundled program, default limits)\n", self.calls);
        let _ = writeln!(out, "{:<40} {:>12} {:>10}", "measurement", "time", "count");
        for row in &self.rows {
            let _ = writeln!(out, "{:<40} {:>12.3} {:>10}", row.what, row.micros, row.count);
        }
        let _ = writeln!(out, "\n{:<40} {:>12.2}", "ratio component / native", self.ratio_component_vs_native);
        let _ = writeln!(out, "{:<40} {:>12.2}", "ratio fuel on / fuel off", self.ratio_fuel_on_vs_off);
        out
    }
}
