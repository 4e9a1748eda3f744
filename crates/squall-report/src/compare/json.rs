//! `comparison.json`: every number of every variant, for machines.
//!
//! The header is `summary.json`'s (`squall` with `format` and `version`, `scenario`, `file`,
//! `seed` of the baseline, `scenario_hash`), then `set` (the `--set` overrides applied to every
//! variant), then `variants`: an object keyed by variant name, in variant order, whose
//! values are `{ "overrides": [...], "config_hash": "...", "seed": N, ... }` followed by exactly the numbers of that
//! variant's `summary.json` (`duration_s` through `conservation`, so with each call site's
//! `policy`, the `recovery` after each fault and the `policy_totals`), built by the same code. So a
//! script that reads one summary reads any variant, and the rules on `null` and fixed decimals
//! are the same. (A JSON object's order is not significant to every reader; the file keeps
//! variant order for the ones that respect it, such as Python's `json`.)
//!
//! A comparison over several seeds ([`crate::write_comparison`] given an
//! [`OverSeeds`]) ends with `seeds`: `list` (the seeds), `confidence` (0.95) and `variants`,
//! per variant the rows of `seeds.csv` as objects (`kind`, `name`, `metric`, `mean`,
//! `ci_low`, `ci_high`, `n`, and `diff`: the paired difference from the baseline as `mean`,
//! `ci_low`, `ci_high`, `n` and `significant`, `null` for the baseline), then `warnings` (the
//! sentences of [`OverSeeds::warnings`]). With one seed the key is absent.

use super::{check_runs, CompareMeta, OverSeeds, CONFIDENCE};
use crate::json::{to_json, Format, Num, RunNumbers, FORMAT};
use crate::stats::RunStats;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use squall_model::RunOutput;

#[derive(Serialize)]
struct Comparison<'a> {
    squall: Format<'a>,
    scenario: &'a str,
    file: &'a str,
    seed: u64,
    scenario_hash: String,
    set: &'a [String],
    variants: Variants<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seeds: Option<Seeds<'a>>,
}

/// `seeds`: the over-seeds figures, when the variants ran with several seeds.
#[derive(Serialize)]
struct Seeds<'a> {
    list: &'a [u64],
    confidence: Num,
    variants: SeedVariants<'a>,
    warnings: Vec<String>,
}

/// One metric of one variant over the seeds, as a row of `seeds.csv`.
#[derive(Serialize)]
struct SeedRow<'a> {
    kind: &'a str,
    name: &'a str,
    metric: &'a str,
    mean: Num,
    ci_low: Num,
    ci_high: Num,
    n: usize,
    diff: Option<DiffJson>,
}

/// A paired difference from the baseline.
#[derive(Serialize)]
struct DiffJson {
    mean: Num,
    ci_low: Num,
    ci_high: Num,
    n: usize,
    significant: bool,
}

/// Variants as one object keyed by name, written in variant order.
struct SeedVariants<'a>(&'a OverSeeds);

impl Serialize for SeedVariants<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.variants.len()))?;
        for (name, metrics) in &self.0.variants {
            let rows: Vec<SeedRow<'_>> = metrics
                .iter()
                .map(|x| SeedRow {
                    kind: x.kind,
                    name: &x.name,
                    metric: x.metric,
                    mean: Num(x.mean),
                    ci_low: Num(x.ci.map(|c| c.0)),
                    ci_high: Num(x.ci.map(|c| c.1)),
                    n: x.values.len(),
                    diff: x.diff.as_ref().map(|d| DiffJson {
                        mean: Num::of(d.mean),
                        ci_low: Num(d.ci.map(|c| c.0)),
                        ci_high: Num(d.ci.map(|c| c.1)),
                        n: d.n,
                        significant: d.significant(),
                    }),
                })
                .collect();
            m.serialize_entry(name, &rows)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct Variant<'a> {
    overrides: &'a [String],
    config_hash: String,
    seed: u64,
    #[serde(flatten)]
    numbers: RunNumbers<'a>,
}

/// Variants as one object keyed by name, written in variant order.
struct Variants<'a>(Vec<(&'a str, Variant<'a>)>);

impl Serialize for Variants<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (name, v) in &self.0 {
            m.serialize_entry(name, v)?;
        }
        m.end()
    }
}

/// The comparison as pretty-printed JSON with a trailing newline (see the module docs for
/// the layout).
///
/// # Panics
/// If `meta.overrides` does not have one entry per run, or two runs share a name.
pub fn comparison_json(meta: &CompareMeta, runs: &[(String, RunOutput)]) -> String {
    comparison_json_with(meta, runs, None)
}

/// [`comparison_json`] with, when `seeds` is given, a last key `seeds`: the seeds' `list`,
/// the `confidence` (0.95) and per variant (keyed by name, in variant order) the rows of
/// `seeds.csv` as objects with their paired differences, then the warnings (see the module docs).
///
/// # Panics
/// As [`comparison_json`].
pub(crate) fn comparison_json_with(
    meta: &CompareMeta,
    runs: &[(String, RunOutput)],
    seeds: Option<&OverSeeds>,
) -> String {
    check_runs(meta, runs);
    let stats: Vec<RunStats<'_>> = runs.iter().map(|(_, out)| RunStats::of(out)).collect();
    let m = &meta.scenario;
    let variants = runs
        .iter()
        .zip(&stats)
        .zip(meta.overrides.iter().zip(&meta.config_hashes))
        .map(|(((name, out), st), (overrides, hash))| {
            let config_hash = format!("{hash:016x}");
            (
                name.as_str(),
                Variant { overrides, config_hash, seed: out.seed, numbers: RunNumbers::of(out, st) },
            )
        })
        .collect();
    to_json(&Comparison {
        squall: Format { format: FORMAT, version: &m.version },
        scenario: &m.scenario,
        file: &m.file,
        seed: m.seed,
        scenario_hash: format!("{:016x}", m.scenario_hash),
        set: &meta.set,
        variants: Variants(variants),
        seeds: seeds.map(|o| Seeds {
            list: &o.seeds,
            confidence: Num::of(CONFIDENCE),
            variants: SeedVariants(o),
            warnings: o.warnings(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{compare_meta, meta, policy_variants, variants};
    use serde_json::Value;

    #[test]
    fn variants_are_keyed_by_name_in_variant_order_with_their_overrides() {
        let text = comparison_json(&compare_meta(), &variants());
        let j: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(j["squall"]["format"], 1);
        assert_eq!(j["scenario"], "retry-storm");
        assert_eq!(j["seed"], 42);
        assert_eq!(j["scenario_hash"], "00000000deadbeef");
        assert_eq!(j["variants"].as_object().unwrap().len(), 2);
        assert!(text.find("\"baseline\": {").unwrap() < text.find("\"db-x2\": {").unwrap());
        assert_eq!(j["variants"]["baseline"]["overrides"], serde_json::json!([]));
        assert_eq!(
            j["variants"]["db-x2"]["overrides"],
            serde_json::json!(["services.db.replicas=2", "services.api.workers=6"])
        );
        assert_eq!(j["variants"]["db-x2"]["seed"], 42);
        assert_eq!(j["variants"]["baseline"]["clients"][0]["success_rate"], 0.95);
        assert_eq!(j["variants"]["db-x2"]["clients"][0]["success_rate"], 0.99);
        assert_eq!(j["variants"]["db-x2"]["services"][0]["refusals"]["queue_full"], 0);
    }

    #[test]
    fn each_variant_holds_exactly_the_numbers_of_its_own_summary() {
        let runs = variants();
        let j: Value = serde_json::from_str(&comparison_json(&compare_meta(), &runs)).unwrap();
        for (name, out) in &runs {
            let summary: Value = serde_json::from_str(&crate::summary_json(&meta(), out)).unwrap();
            let mut expected = summary.as_object().unwrap().clone();
            for header in
                ["squall", "scenario", "file", "seed", "scenario_hash", "config_hash", "variant", "overrides"]
            {
                expected.remove(header);
            }
            let mut got = j["variants"][name].as_object().unwrap().clone();
            got.remove("overrides");
            got.remove("config_hash");
            got.remove("seed");
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn the_same_runs_give_the_same_bytes() {
        assert_eq!(
            comparison_json(&compare_meta(), &variants()),
            comparison_json(&compare_meta(), &variants())
        );
    }

    #[test]
    fn each_variant_has_its_policy_totals_and_recovery() {
        let j: Value = serde_json::from_str(&comparison_json(&compare_meta(), &policy_variants())).unwrap();
        let totals = |v: &str| j["variants"][v]["policy_totals"].clone();
        assert_eq!(
            totals("baseline"),
            serde_json::json!({"amplification": 1.0, "retries_denied": 0, "breaker_opens": 0, "degraded": 0})
        );
        assert_eq!(
            totals("retries"),
            serde_json::json!({"amplification": 1.039735, "retries_denied": 20, "breaker_opens": 2, "degraded": 10})
        );
        assert_eq!(j["variants"]["baseline"]["recovery"][0]["time_to_recover_s"], 0.0);
        let recovery = &j["variants"]["retries"]["recovery"];
        assert_eq!(recovery[1]["time_to_recover_s"], 5.0);
        assert_eq!(recovery[2]["status"], "never");
        assert_eq!(j["variants"]["retries"]["clients"][0]["policy"]["breaker"]["opens"], 2);
    }
}
