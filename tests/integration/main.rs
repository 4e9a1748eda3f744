//! End-to-end tests, built into one binary (matklad, "Delete Cargo Integration Tests"): one
//! `mod` per feature, each with a comment saying what belongs in it.

/// The engine against queueing theory: M/M/1, M/D/1, M/M/c (Erlang C), Erlang B, M/M/1/K and
/// Little's law, with tolerances derived from independent replications.
mod theory;

/// The `squall` binary as a user runs it: exit codes, error messages for bad input, the files
/// a run writes, `--seed`, `--set` and `explain`.
mod cli;

/// `squall compare`: the comparison and per-variant reports it writes, identical files at any
/// `--jobs`, choosing variants, exit codes, and confidence intervals over `--seeds`.
mod compare;

/// `squall check` and `merge`: planted failures shrunk, passing checks, "sometimes"
/// assertions, identical files at any `--jobs` and across shards, regression files.
mod check;

/// `squall sweep`: grids, seeds, intervals, charts, identical files at any `--jobs` and
/// across shards.
mod sweep;

/// squall as a library in a user's own proptest: the example the README points to.
mod api;

/// Byte-identical outputs for the same seed, different numbers for another seed, and common
/// random numbers across a change to an unrelated service.
mod determinism;

/// The canonical scenarios show what their descriptions claim, asserted on numbers.
mod canonical;
