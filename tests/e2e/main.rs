//! End-to-end tests: the real host with the real compiled components (built by host/bundled/build.rs).
//!
//! One test binary, one module per area (as wasmtime's `tests/all`):

/// Shared helpers: runtimes, components, events.
mod util;

/// Loading: the artifact cache, refusing non-components and other contract versions.
mod loading;

/// Every hostile component in tests/components, each against the limit it must trip.
mod hostile;

/// Events pushed by other systems to `POST /api/external`: tokens, HMAC signatures, replays, refusals.
mod web_external;

/// The seed programmes' presets over their example event files (docs/examples).
mod presets;

/// Both contract versions (0.1.0 and 0.2.0) in one forum, the upgrade between them, external events, the log.
mod contract;

/// The bundled super-user program through the component: events in, validated effects out.
mod program;

/// The forum shim: SQLite, the exactly-once pipeline, ledger, queue, visibility.
mod forum;

/// The moderator command line: walkthrough, ingest, exit codes, upgrade and rollback, kill -9.
mod moderator_cli;

/// README.md and docs/: every relative link and named source path exists.
mod docs;

/// Program and settings changed by another process while the forum runs; install, upgrade, rollback, recompute.
mod program_change;

/// The `cadre` binary: `plugin inspect`.
mod cli;

/// The plugin-author kit: `plugin new`, a plugin's own tests and build, `plugin test`, the first-answer example.
mod pdk;

/// Known weaknesses closed by the hardening work: bounded ticks over huge tiers.
mod hardening;

/// A forum served by the real router, for the web tests.
mod web_world;

/// The forum on a loopback port, and a client that keeps cookies and picks its source address.
mod web_http;

/// The leak test over every route, and access changes taking effect at once.
mod web_leak;

/// Editing and deleting posts: refunds through events, revisions for moderators, deleted as missing.
mod web_edits;

/// Account recovery: one-time, expiring reset links from a moderator (panel, API, command line).
mod web_recovery;

/// Category looks, the styled not-found page, names and paging in the moderator panel.
mod web_panel;

/// CSRF, XSS, login rate limit, bound SQL parameters, secure cookies, the moderator panel's forms.
mod web_security;

/// Rate limits per client address (sign-ups, failed log-ins), directly and behind a trusted proxy.
mod web_limits;

/// Refused forms shown again with their error and what was typed.
mod web_forms;

/// Issue 18: reads beside the writer, one error format.
mod web_quality;

/// Headless Chromium against the real server: sign up, post, like, accept, badge, approve, private forum, settings.
mod browser;

/// The full-text index of posts written in batches: indexed once at the commit, found as if written one by one.
mod search_index;

/// `cadre replay` on the Cardano Stack Exchange dump: exact agreement, resuming after kill -9.
mod replay;
/// `cadre serve --demo` as a newcomer runs it.
mod serve;

/// The forum under load over real HTTP, and faults while loaded: kill -9, a second writer, a full disk, a hostile
/// plugin.
mod load;

/// `cadre bench live`: a like through the web to the badge visible, timed (issue 16's live row).
mod live;

/// Every command's exit code: 0 done, 1 failed, 2 input refused, 3 not found.
mod exit_codes;

/// `cadre discourse serve` killed with SIGKILL while draining the outbox to the Discourse simulator.
mod discourse;
