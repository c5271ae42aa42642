//! The `cadre` command: parses the command line and runs it (see `cadre --help`). Errors are printed with their
//! whole chain of causes, and the exit code says what kind of failure it was (see `cli::ExitCode`).

fn main() -> std::process::ExitCode {
    cadre::cli::main()
}
