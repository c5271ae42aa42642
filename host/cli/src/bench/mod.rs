//! Benchmarks (`cadre bench …`): ratios measured in one run, never timed tests.
pub mod dump;
pub mod http;
pub mod live;
pub mod native;
pub mod replay;
pub mod runtime;
pub mod web;
