//! Writing a report directory: the only part of this crate that touches the file system.

use crate::compare::{comparison_html, comparison_json_with};
use crate::error::ReportError;
use crate::html::index_html;
use crate::{
    comparison_csv, comparison_plots, fleet_csv, flows_csv, plots, seeds_csv, summary_json, timeseries_csv,
    CompareMeta, OverSeeds, ReportMeta,
};
use squall_model::RunOutput;
use std::path::{Path, PathBuf};

/// Files of one report, rendered: `(file name, text)` in writing order.
type Files = Vec<(String, String)>;

/// The files of a single run's report, in order.
fn render_report(meta: &ReportMeta, out: &RunOutput) -> Result<Files, ReportError> {
    let plots = plots(meta, out)?;
    let mut files = vec![
        ("summary.json".to_string(), summary_json(meta, out)),
        ("timeseries.csv".to_string(), timeseries_csv(out)),
    ];
    let extra = [("fleet.csv", fleet_csv(out)), ("flows.csv", flows_csv(out))];
    files.extend(extra.into_iter().filter_map(|(name, csv)| Some((name.to_string(), csv?))));
    let page = index_html(meta, out, &plots);
    files.extend(plots);
    files.push(("index.html".to_string(), page));
    Ok(files)
}

/// Creates `dir` and writes `files` into it, appending each path to `written`.
fn write_files(dir: &Path, files: Files, written: &mut Vec<PathBuf>) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir)
        .map_err(|source| ReportError::CreateDir { path: dir.to_path_buf(), source })?;
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Write { path: path.clone(), source })?;
        written.push(path);
    }
    Ok(())
}

/// Files whose presence marks a directory as one a report wrote (and may replace).
const REPORT_MARKERS: [&str; 5] =
    ["summary.json", "comparison.json", "check.json", "points.csv", "index.html"];

/// Writes a whole report into `dir` at once: `fill` writes it into a fresh staging directory
/// beside `dir`, which then takes `dir`'s place. An earlier report there is replaced as a
/// whole (no stale file of it stays), and a run killed while writing leaves the staging
/// directory (`.NAME.partial-PID`), never a half-written report under the real name. Returns
/// the paths written, as they are once in place.
///
/// A `dir` that holds files but none a report writes is refused ([`ReportError::NotAReport`]).
fn write_staged(
    dir: &Path,
    fill: impl FnOnce(&Path, &mut Vec<PathBuf>) -> Result<(), ReportError>,
) -> Result<Vec<PathBuf>, ReportError> {
    let create_err = |source| ReportError::CreateDir { path: dir.to_path_buf(), source };
    let name = match dir.file_name() {
        Some(name) => name.to_string_lossy().into_owned(),
        // `.`, `..` or a root: there is no sibling to stage in, nor a name to swap.
        None => {
            let abs = std::path::absolute(dir).map_err(create_err)?;
            if abs.file_name().is_none() {
                return Err(ReportError::NotAReport { path: dir.to_path_buf() });
            }
            return write_staged(&abs, fill);
        }
    };
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(create_err)?;
    let existing = match std::fs::read_dir(dir) {
        Ok(entries) => Some(entries.filter_map(Result::ok).map(|e| e.file_name()).collect::<Vec<_>>()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(create_err(e)),
    };
    if let Some(names) = &existing {
        if !names.is_empty() && !names.iter().any(|n| REPORT_MARKERS.iter().any(|m| n == *m)) {
            return Err(ReportError::NotAReport { path: dir.to_path_buf() });
        }
    }
    let pid = std::process::id();
    let staging = parent.join(format!(".{name}.partial-{pid}"));
    let _ = std::fs::remove_dir_all(&staging);
    let mut written = Vec::new();
    if let Err(e) = fill(&staging, &mut written) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    if existing.is_some() {
        let old = parent.join(format!(".{name}.old-{pid}"));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(dir, &old).map_err(create_err)?;
        if let Err(e) = std::fs::rename(&staging, dir) {
            let _ = std::fs::rename(&old, dir);
            return Err(create_err(e));
        }
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&staging, dir).map_err(create_err)?;
    }
    Ok(written
        .into_iter()
        .map(|p| dir.join(p.strip_prefix(&staging).expect("written under staging")))
        .collect())
}

/// Writes `summary.json`, `timeseries.csv` (then `fleet.csv` and `flows.csv` when the run
/// has versions or flows), the SVG plots and `index.html` into `dir`
/// (created with its parents if missing; a report already there is replaced as a whole: see
/// `write_staged`) and
/// returns the paths written, in that order.
///
/// Everything is rendered before the first file is written, so a drawing error leaves the
/// directory untouched.
///
/// # Errors
/// [`ReportError::CreateDir`] or [`ReportError::Write`] naming the path, or
/// [`ReportError::Plot`] if a chart cannot be drawn.
pub fn write_report(dir: &Path, meta: &ReportMeta, out: &RunOutput) -> Result<Vec<PathBuf>, ReportError> {
    let files = render_report(meta, out)?;
    write_staged(dir, |d, written| write_files(d, files, written))
}

/// Writes a comparison into `dir`: `comparison.json`, `comparison.csv`, `seeds.csv` (only
/// with `seeds`), the overlay SVGs and `index.html`, then each variant's own report (as
/// [`write_report`] writes it) in `dir/<variant>/`, in variant order. `runs` are `(variant
/// name, output)` pairs in variant order (of the first seed, when there are several) and
/// `meta.overrides` has one entry per run; `seeds`, the variants' figures over several seeds,
/// also goes into `comparison.json` and the page. Returns the paths written, in order.
///
/// Everything is rendered before the first file is written, so a drawing error leaves the
/// directory untouched.
///
/// # Errors
/// [`ReportError::Variants`] if there are no runs, the overrides do not match the runs, two
/// variants share a name, or a name cannot be a directory name (all checked before anything
/// is rendered); [`ReportError::CreateDir`] or [`ReportError::Write`] naming the path;
/// [`ReportError::Plot`] if a chart cannot be drawn.
pub fn write_comparison(
    dir: &Path,
    meta: &CompareMeta,
    runs: &[(String, RunOutput)],
    seeds: Option<&OverSeeds>,
) -> Result<Vec<PathBuf>, ReportError> {
    check_variants(meta, runs)?;
    let plots = comparison_plots(meta, runs)?;
    let mut top = vec![
        ("comparison.json".to_string(), comparison_json_with(meta, runs, seeds)),
        ("comparison.csv".to_string(), comparison_csv(meta, runs)),
    ];
    if let Some(over) = seeds {
        top.push(("seeds.csv".to_string(), seeds_csv(over)));
    }
    let page = comparison_html(meta, runs, seeds, &plots);
    top.extend(plots);
    top.push(("index.html".to_string(), page));
    let per_variant = runs
        .iter()
        .enumerate()
        .map(|(i, (name, out))| Ok((name, render_report(&meta.variant_meta(i, name, out), out)?)))
        .collect::<Result<Vec<_>, ReportError>>()?;

    write_staged(dir, |d, written| {
        write_files(d, top, written)?;
        for (name, files) in per_variant {
            write_files(&d.join(name), files, written)?;
        }
        Ok(())
    })
}

/// Writes a check into `dir`: `check.json`, `cases.csv`, `summary.txt` (the verdict table)
/// and, when saved failures were replayed, `regressions.csv`. Returns the paths written.
///
/// # Errors
/// [`ReportError::CreateDir`] or [`ReportError::Write`] naming the path.
pub fn write_check(
    dir: &Path,
    meta: &squall_explore::CheckMeta,
    result: &squall_explore::CheckResult,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = vec![
        ("check.json".to_string(), crate::check_json(meta, result)),
        ("cases.csv".to_string(), crate::check_cases_csv(meta, result)),
        ("summary.txt".to_string(), crate::check_table(meta, result)),
    ];
    if !result.regressions.is_empty() {
        files.push(("regressions.csv".to_string(), crate::check_regressions_csv(meta, result)));
    }
    write_staged(dir, |d, written| write_files(d, files, written))
}

/// Writes a sweep into `dir`: `points.csv`, `runs.csv`, `summary.txt` (the table) and the
/// charts of [`crate::sweep_plots`]. Everything is rendered before the first file is written.
/// Returns the paths written.
///
/// # Errors
/// [`ReportError::CreateDir`] or [`ReportError::Write`] naming the path, or a chart error.
pub fn write_sweep(
    dir: &Path,
    meta: &squall_explore::SweepMeta,
    rows: &[squall_explore::RunRow],
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = vec![
        ("points.csv".to_string(), crate::sweep_points_csv(meta, rows)),
        ("runs.csv".to_string(), crate::sweep_runs_csv(meta, rows)),
        ("summary.txt".to_string(), crate::sweep_table(meta, rows)),
    ];
    files.extend(crate::sweep_plots(meta, rows)?);
    write_staged(dir, |d, written| write_files(d, files, written))
}

/// Top-level files of a comparison, which no variant directory may be named.
const COMPARISON_FILES: [&str; 7] = [
    "comparison.json",
    "comparison.csv",
    "seeds.csv",
    "compare_goodput.svg",
    "compare_errors.svg",
    "compare_p99.svg",
    "index.html",
];

/// What [`write_comparison`] needs of the variants before it renders anything.
fn check_variants(meta: &CompareMeta, runs: &[(String, RunOutput)]) -> Result<(), ReportError> {
    let bad = |reason: String| Err(ReportError::Variants { reason });
    if runs.is_empty() {
        return bad("there are no variants".to_string());
    }
    if meta.overrides.len() != runs.len() {
        return bad(format!("{} runs but overrides for {} variants", runs.len(), meta.overrides.len()));
    }
    if meta.config_hashes.len() != runs.len() {
        return bad(format!(
            "{} runs but configuration hashes for {} variants",
            runs.len(),
            meta.config_hashes.len()
        ));
    }
    for (i, (name, _)) in runs.iter().enumerate() {
        if runs[..i].iter().any(|(n, _)| n == name) {
            return bad(format!("two variants are named `{name}`"));
        }
        let why = if name.is_empty() {
            Some("it is empty")
        } else if name == "." || name == ".." {
            Some("it is a relative directory")
        } else if name.contains(['/', '\\']) {
            Some("it holds a path separator")
        } else if name.chars().any(char::is_control) {
            Some("it holds a control character")
        } else if COMPARISON_FILES.contains(&name.as_str()) {
            Some("a comparison file has that name")
        } else {
            None
        };
        if let Some(why) = why {
            return bad(format!("variant `{}` cannot name its report directory: {why}", name.escape_debug()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{meta, policy_output, sample_output, zero_output};

    /// A fresh directory under the system temp dir, unique to this process and test.
    fn temp_dir(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("squall-report-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// The names of the files at `paths`.
    fn file_names(paths: &[PathBuf]) -> Vec<String> {
        paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn the_report_directory_holds_every_file_in_a_fixed_order() {
        let dir = temp_dir("order").join("nested");
        let paths = write_report(&dir, &meta(), &sample_output()).unwrap();
        let names = file_names(&paths);
        assert_eq!(
            names,
            ["summary.json", "timeseries.csv", "outcomes.svg", "latency.svg", "queues.svg", "index.html"]
        );
        assert!(paths.iter().all(|p| p.starts_with(&dir) && p.is_file()));
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_run_with_policies_also_writes_the_policy_plots() {
        let dir = temp_dir("policy");
        let paths = write_report(&dir, &meta(), &policy_output()).unwrap();
        let names = file_names(&paths);
        assert_eq!(
            names,
            [
                "summary.json",
                "timeseries.csv",
                "outcomes.svg",
                "latency.svg",
                "queues.svg",
                "amplification.svg",
                "breakers.svg",
                "index.html"
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writing_the_same_run_twice_gives_byte_identical_files() {
        let runs = [
            ("same-a", sample_output()),
            ("same-zero", zero_output()),
            ("same-policy", policy_output()),
            ("same-fleet", crate::sample::fleet_output()),
        ];
        for (test, out) in runs {
            let a = temp_dir(&format!("{test}-1"));
            let b = temp_dir(&format!("{test}-2"));
            let pa = write_report(&a, &meta(), &out).unwrap();
            let pb = write_report(&b, &meta(), &out).unwrap();
            assert_eq!(pa.len(), pb.len());
            for (x, y) in pa.iter().zip(&pb) {
                let (bx, by) = (std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
                assert!(bx == by, "{} and {} differ", x.display(), y.display());
            }
            std::fs::remove_dir_all(&a).unwrap();
            std::fs::remove_dir_all(&b).unwrap();
        }
    }

    #[test]
    fn an_empty_run_writes_no_nan_or_infinity_anywhere() {
        let dir = temp_dir("empty");
        for path in write_report(&dir, &meta(), &zero_output()).unwrap() {
            let text = std::fs::read_to_string(&path).unwrap();
            for bad in ["NaN", "nan", "inf"] {
                assert!(!text.contains(bad), "{} contains {bad}", path.display());
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_comparison_over_seeds_also_writes_seeds_csv_and_the_seeds_key() {
        use crate::sample::{compare_meta, variants};
        let dir = temp_dir("compare-seeds");
        let runs = variants();
        let per_seed: Vec<(String, Vec<RunOutput>)> = runs
            .iter()
            .map(|(n, o)| (n.clone(), vec![o.clone(), RunOutput { seed: o.seed + 1, ..o.clone() }]))
            .collect();
        let over = OverSeeds::of(&per_seed);
        let paths = write_comparison(&dir, &compare_meta(), &runs, Some(&over)).unwrap();
        assert_eq!(paths[2], dir.join("seeds.csv"));
        assert_eq!(std::fs::read_to_string(&paths[2]).unwrap(), seeds_csv(&over));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("comparison.json")).unwrap()).unwrap();
        assert_eq!(json["seeds"]["list"], serde_json::json!([42, 43]));
        assert_eq!(json["seeds"]["variants"]["db-x2"][0]["metric"], "success_rate");
        assert_eq!(json["seeds"]["variants"]["db-x2"][0]["n"], 2);
        let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(page.contains("Over the seeds") && page.contains("seeds.csv"), "{page}");
        let plain = temp_dir("compare-one-seed");
        write_comparison(&plain, &compare_meta(), &runs, None).unwrap();
        assert!(!plain.join("seeds.csv").exists());
        assert!(!std::fs::read_to_string(plain.join("comparison.json")).unwrap().contains("\"seeds\""));
    }

    #[test]
    fn a_comparison_writes_its_files_then_each_variants_report() {
        use crate::sample::{compare_meta, variants};
        let dir = temp_dir("compare");
        let paths = write_comparison(&dir, &compare_meta(), &variants(), None).unwrap();
        let names: Vec<String> =
            paths.iter().map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned()).collect();
        let mut expected: Vec<String> =
            COMPARISON_FILES.iter().filter(|f| **f != "seeds.csv").map(|f| f.to_string()).collect();
        for v in ["baseline", "db-x2"] {
            for f in
                ["summary.json", "timeseries.csv", "outcomes.svg", "latency.svg", "queues.svg", "index.html"]
            {
                expected.push(format!("{v}/{f}"));
            }
        }
        assert_eq!(names, expected);
        assert!(paths.iter().all(|p| p.is_file()));
        // A variant's report is the single-run report of its output, run as that variant.
        let single = temp_dir("compare-single");
        let as_variant = crate::ReportMeta {
            variant: Some("db-x2".to_string()),
            overrides: compare_meta().overrides[1].clone(),
            config_hash: compare_meta().config_hashes[1],
            ..meta()
        };
        write_report(&single, &as_variant, &variants()[1].1).unwrap();
        for f in ["summary.json", "timeseries.csv", "outcomes.svg", "index.html"] {
            let a = std::fs::read(dir.join("db-x2").join(f)).unwrap();
            let b = std::fs::read(single.join(f)).unwrap();
            assert!(a == b, "db-x2/{f} differs from the single-run report");
        }
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&single).unwrap();
    }

    #[test]
    fn writing_the_same_comparison_twice_gives_byte_identical_files() {
        use crate::sample::{compare_meta, variants};
        let a = temp_dir("compare-same-1");
        let b = temp_dir("compare-same-2");
        let pa = write_comparison(&a, &compare_meta(), &variants(), None).unwrap();
        let pb = write_comparison(&b, &compare_meta(), &variants(), None).unwrap();
        assert_eq!(pa.len(), pb.len());
        for (x, y) in pa.iter().zip(&pb) {
            assert!(std::fs::read(x).unwrap() == std::fs::read(y).unwrap(), "{} differs", x.display());
        }
        std::fs::remove_dir_all(&a).unwrap();
        std::fs::remove_dir_all(&b).unwrap();
    }

    #[test]
    fn variant_names_that_cannot_be_directories_are_refused_before_writing() {
        use crate::sample::{compare_meta, variants};
        for (name, why) in [
            ("", "empty"),
            ("..", "relative directory"),
            ("a/b", "path separator"),
            ("a\nb", "control character"),
            ("index.html", "comparison file"),
            ("baseline", "two variants are named `baseline`"),
        ] {
            let dir = temp_dir("compare-bad");
            let mut runs = variants();
            runs[1].0 = name.to_string();
            let err = write_comparison(&dir, &compare_meta(), &runs, None).unwrap_err();
            assert!(matches!(err, ReportError::Variants { .. }), "{err:?}");
            assert!(err.to_string().contains(why), "{name:?}: {err}");
            assert!(!dir.exists(), "nothing is written");
        }
        let err = write_comparison(&temp_dir("compare-none"), &compare_meta(), &[], None).unwrap_err();
        assert!(err.to_string().contains("no variants"), "{err}");
    }

    #[test]
    fn a_new_report_replaces_the_old_one_whole_and_leaves_nothing_beside_it() {
        let parent = temp_dir("replace");
        let dir = parent.join("r");
        write_report(&dir, &meta(), &policy_output()).unwrap();
        std::fs::write(dir.join("stale.svg"), "from an earlier run").unwrap();
        let written = write_report(&dir, &meta(), &sample_output()).unwrap();
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut expected = file_names(&written);
        expected.sort();
        assert_eq!(on_disk, expected, "only the new report's files");
        assert!(written.iter().all(|p| p.starts_with(&dir) && p.exists()));
        let beside: Vec<_> = std::fs::read_dir(&parent).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(beside, vec![std::ffi::OsString::from("r")], "no staging or old directory left");
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn a_directory_of_other_files_is_not_replaced() {
        let dir = temp_dir("not-a-report");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        let err = write_report(&dir, &meta(), &sample_output()).unwrap_err();
        assert!(matches!(err, ReportError::NotAReport { .. }), "{err:?}");
        assert!(err.to_string().contains("not a squall report directory"), "{err}");
        assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_that_cannot_be_created_is_named_in_the_error() {
        let dir = temp_dir("blocked");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a-file");
        std::fs::write(&file, "").unwrap();
        let err = write_report(&file.join("sub"), &meta(), &sample_output()).unwrap_err();
        assert!(matches!(err, ReportError::CreateDir { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with("cannot create report directory "), "{msg}");
        assert!(msg.contains("a-file"), "{msg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_run_with_versions_and_flows_also_writes_their_csvs_and_plots() {
        let dir = temp_dir("fleet");
        let paths = write_report(&dir, &meta(), &crate::sample::fleet_output()).unwrap();
        let names = file_names(&paths);
        assert_eq!(
            names,
            [
                "summary.json",
                "timeseries.csv",
                "fleet.csv",
                "flows.csv",
                "outcomes.svg",
                "latency.svg",
                "queues.svg",
                "fleet.svg",
                "flows.svg",
                "index.html"
            ]
        );
        let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(page.contains("<a href=\"fleet.csv\">fleet.csv</a>, <a href=\"flows.csv\">flows.csv</a>."));
        assert!(page.contains("<h2>Instances and answers by version over time</h2>"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
