//! Comparing variants of one scenario: the same outputs as a single run, but with one column,
//! line or entry per variant.
//!
//! - `table`: [`comparison_table`], the side-by-side text table.
//! - `json`: [`comparison_json`], `summary.json`'s numbers keyed by variant.
//! - `csv`: [`comparison_csv`], one row per variant and client or service.
//! - `plot`: [`comparison_plots`], overlay charts with one line per variant.
//! - `html`: the comparison's `index.html`.
//! - `seeds`: [`OverSeeds`], each variant's headline figures over several seeds with their
//!   95 % confidence intervals, and [`seeds_table`] and [`seeds_csv`] to show them.
//!
//! Every function takes the runs as `(variant name, RunOutput)` pairs in variant order (the
//! baseline first, by convention) and keeps that order everywhere, so the same runs give the
//! same bytes whatever order they finished in. Entities are matched across variants by name:
//! a client or service missing from a variant reads as undefined there.

mod csv;
mod html;
mod json;
mod plot;
mod seeds;
mod table;

pub use csv::comparison_csv;
pub(crate) use html::comparison_html;
pub use json::comparison_json;
pub(crate) use json::comparison_json_with;
pub use plot::comparison_plots;
pub use seeds::{seeds_csv, seeds_table, OverSeeds, PairedDiff, SeedMetric, CONFIDENCE, SEEDS_MIN};
pub use table::{comparison_table, Emphasis};

use crate::ReportMeta;
use squall_model::RunOutput;

/// Identifies a comparison in every file header, and says what makes each variant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompareMeta {
    /// The scenario, as for a single run; `seed` is the baseline's (each variant's own seed is
    /// in its `RunOutput`).
    pub scenario: ReportMeta,
    /// Per variant, in the order of the runs: the overrides (`path=value`) that make it from
    /// the scenario file (its entries, then `--set`).
    pub overrides: Vec<Vec<String>>,
    /// Per variant, in the order of the runs: the hash of its effective configuration.
    pub config_hashes: Vec<u64>,
    /// The `--set` overrides applied to every variant.
    pub set: Vec<String>,
}

impl CompareMeta {
    /// The metadata of the `i`th variant's own report, `name` run as `out`: the scenario's,
    /// with the variant's name, overrides, configuration hash and seed.
    pub(crate) fn variant_meta(&self, i: usize, name: &str, out: &RunOutput) -> ReportMeta {
        ReportMeta {
            seed: out.seed,
            variant: Some(name.to_string()),
            overrides: self.overrides[i].clone(),
            config_hash: self.config_hashes[i],
            ..self.scenario.clone()
        }
    }
}

/// Checks what every comparison output relies on.
///
/// # Panics
/// If `meta` does not give overrides and configuration hashes for exactly the variants of `runs`, or two variants
/// share a name: both are bugs of the caller, which [`crate::write_comparison`] reports as
/// errors before calling anything here.
fn check_runs(meta: &CompareMeta, runs: &[(String, RunOutput)]) {
    assert_eq!(
        meta.overrides.len(),
        runs.len(),
        "overrides are given for {} variants but there are {} runs",
        meta.overrides.len(),
        runs.len()
    );
    assert_eq!(
        meta.config_hashes.len(),
        runs.len(),
        "configuration hashes are given for {} variants but there are {} runs",
        meta.config_hashes.len(),
        runs.len()
    );
    for (i, (name, _)) in runs.iter().enumerate() {
        let first = runs.iter().position(|(n, _)| n == name).expect("the name is in the list");
        assert_eq!(first, i, "variant `{name}` appears twice");
    }
}

/// Names in first-seen order over all variants, as `names(run)` lists them per run.
fn union_names<'a>(
    runs: &'a [(String, RunOutput)],
    names: impl Fn(&'a RunOutput) -> Vec<&'a str>,
) -> Vec<&'a str> {
    let mut all: Vec<&str> = Vec::new();
    for (_, out) in runs {
        for n in names(out) {
            if !all.contains(&n) {
                all.push(n);
            }
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::variants;

    #[test]
    fn names_are_united_in_first_seen_order() {
        let mut runs = variants();
        runs[1].1.clients.reverse();
        runs[1].1.clients[0].name = "mobile".to_string();
        let names = union_names(&runs, |o| o.clients.iter().map(|c| c.name.as_str()).collect());
        assert_eq!(names, ["web", "batch", "mobile"]);
    }
}
