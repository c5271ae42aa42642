//! The `cadre` command line: argument parsing (clap), then one function per command.
//!
//! Owns: flags, output formats (text and `--json`), exit codes. Does not own any rule: commands call the
//! library modules (`runtime`, `bench`, …).

mod plugin;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Exit codes scripts can trust.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Something failed (a runtime error, an I/O error).
    pub const FAILURE: u8 = 1;
    /// Bad input: the file, configuration or arguments were refused (nothing was changed).
    pub const INVALID_INPUT: u8 = 2;
}

/// Cadre: a super-user program engine for community forums.
#[derive(Debug, Parser)]
#[command(name = "cadre", version, about, long_about = None)]
pub struct Cli {
    /// Where compiled plugin artifacts are cached (by content hash).
    #[arg(long, global = true, default_value = ".cadre/cache", env = "CADRE_CACHE_DIR")]
    pub cache_dir: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plugins: inspect a component.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Serve the web forum, the moderator panel and the JSON API (`--demo` fills a demo community).
    Serve(serve::ServeArgs),
    /// Benchmarks, printed as tables of ratios measured in one run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The plugin runtime: compile, cached load, instantiate, per-call cost (component vs native), fuel on vs off.
    Runtime {
        /// Hook calls per measurement.
        #[arg(long, default_value_t = 100_000)]
        calls: u64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Parse the command line, run it, print any error with its causes, and return the exit code.
pub fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Plugin(command) => plugin::run(&cli, command),
        Command::Serve(args) => serve::run(&cli, args),
        Command::Bench(BenchCommand::Runtime { calls, json }) => crate::bench::runtime::run(*calls, *json),
    };
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            let code = if error.chain().any(|c| c.downcast_ref::<crate::runtime::LoadError>().is_some()) {
                exit::INVALID_INPUT
            } else {
                exit::FAILURE
            };
            std::process::ExitCode::from(code)
        }
    }
}
