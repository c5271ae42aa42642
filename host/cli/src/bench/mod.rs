//! Benchmarks (`cadre bench …`): ratios measured in one run, never timed tests.
pub mod native;
pub mod replay;
pub mod runtime;
