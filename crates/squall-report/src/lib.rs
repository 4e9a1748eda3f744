//! Reports: turns a run's [`RunOutput`] into a terminal table, `summary.json`,
//! `timeseries.csv`, SVG plots and a self-contained `index.html`. It runs no simulation and
//! parses no scenario.
//!
//! - `stats`: whole-run numbers derived once (rates, means, percentiles), shared by the table
//!   and the JSON so the two never disagree.
//! - `series`: which time buckets are reported, the span each covers, and per-bucket numbers,
//!   shared by the CSV and the plots.
//! - `format`: fixed-precision and human-unit number formatting, CSV and HTML escaping.
//! - `table`: [`summary_table`], the compact text table for the terminal.
//! - `json`: [`summary_json`], the machine-readable summary.
//! - `timeseries`: [`timeseries_csv`], one wide row per bucket; [`fleet_csv`] and
//!   [`flows_csv`], long tables of versions and flows, for runs that have them.
//! - `fleet`: fleets, versions, flows and deploys derived once, and when each is shown.
//! - `plot`: [`plots`], SVG charts drawn with plotters; `plot::sweep` adds the charts of
//!   parameter sweeps, [`sweep_line_svg`] (a metric against one parameter, with confidence
//!   bands) and [`heatmap_svg`] (a metric over a grid of two parameters).
//! - `html`: the `index.html` page that ties the files together.
//! - `compare`: the same for several variants of a scenario side by side:
//!   [`comparison_table`], [`comparison_json`], [`comparison_csv`] and the overlay charts of
//!   [`comparison_plots`], from `(variant name, RunOutput)` pairs and a [`CompareMeta`]; and,
//!   for variants run over several seeds, [`OverSeeds`] with [`seeds_table`] and
//!   [`seeds_csv`] (means and 95 % confidence intervals).
//! - `check`: a check's verdict table, [`check_json`] and the per-case CSVs.
//! - `sweep`: a sweep's table, [`sweep_runs_csv`], [`sweep_points_csv`] and [`sweep_plots`].
//! - `write`: [`write_report`] and [`write_comparison`], the only functions here that touch
//!   the file system.
//! - `error`: [`ReportError`].
//!
//! Design choice: every output is a pure function of `(ReportMeta, RunOutput)` (or of a
//! comparison's meta and runs) returning text,
//! and undefined quantities (a mean of nothing, a rate over zero time) are `Option`s from the
//! moment they are computed. So determinism is easy to test (same input, same bytes: no
//! clocks, no random ids, no hash-map order, floats printed at a fixed precision) and a NaN or
//! an infinity has no path into a file: the JSON writes `null`, the CSV an empty cell, the
//! table a `-`, and the plots leave a gap.
#![warn(missing_docs)]

mod check;
mod compare;
mod error;
mod fleet;
mod format;
mod html;
mod json;
mod plot;
mod series;
mod stats;
mod sweep;
mod table;
mod timeseries;
mod write;

pub use check::{check_cases_csv, check_json, check_passed, check_regressions_csv, check_table};
pub use compare::{
    comparison_csv, comparison_json, comparison_plots, comparison_table, seeds_csv, seeds_table, CompareMeta,
    Emphasis, OverSeeds, PairedDiff, SeedMetric, CONFIDENCE, SEEDS_MIN,
};
pub use error::ReportError;
pub use json::summary_json;
pub use plot::plots;
pub use plot::sweep::{heatmap_svg, sweep_line_svg, Heatmap, LineChart, LinePoint, LineSeries};
pub use sweep::{sweep_plots, sweep_points_csv, sweep_runs_csv, sweep_table};
pub use table::summary_table;
pub use timeseries::{fleet_csv, flows_csv, timeseries_csv};
pub use write::{write_check, write_comparison, write_report, write_sweep};

/// Identifies the run in every file header: what produced it, and nothing that depends on
/// where or when it ran (no paths as typed, no working directory, no clock), so two identical
/// runs give the same bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportMeta {
    /// Scenario name, as the scenario file gives it.
    pub scenario: String,
    /// Name of the scenario file, without its folders: `scen/x.ron` and `./scen/x.ron` give
    /// the same report.
    pub file: String,
    /// Master seed of the run (after any `--seed` override).
    pub seed: u64,
    /// Hash of the scenario file's content, printed as 16 hex digits.
    pub scenario_hash: u64,
    /// Hash of the effective configuration (after the variant's entries and `--set`, without
    /// the seed), printed as 16 hex digits.
    pub config_hash: u64,
    /// The variant run, when one was named (`--variant`, or any variant of a comparison):
    /// reports then name it in their titles. `None` is the file as written, recorded as
    /// `baseline`.
    pub variant: Option<String>,
    /// The overrides applied, as `path=value`: the variant's entries, then `--set`.
    pub overrides: Vec<String>,
    /// Version of squall that wrote the report.
    pub version: String,
}

/// Name of the file as written, without overrides, among the variants.
const BASELINE: &str = "baseline";

impl ReportMeta {
    /// The variant's name, `baseline` for the file as written.
    pub fn variant_name(&self) -> &str {
        self.variant.as_deref().unwrap_or(BASELINE)
    }

    /// What reports are titled: the scenario's name, and its variant when one was named.
    pub fn title(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}, variant {v}", self.scenario),
            None => self.scenario.clone(),
        }
    }
}

#[cfg(test)]
mod sample;
