//! Writing a report directory: the only part of this crate that touches the file system.

use crate::error::ReportError;
use crate::html::index_html;
use crate::{plots, summary_json, timeseries_csv, ReportMeta};
use squall_model::RunOutput;
use std::path::{Path, PathBuf};

/// Writes `summary.json`, `timeseries.csv`, the SVG plots and `index.html` into `dir`
/// (created with its parents if missing; existing files of those names are replaced) and
/// returns the paths written, in that order.
///
/// Everything is rendered before the first file is written, so a drawing error leaves the
/// directory untouched.
///
/// # Errors
/// [`ReportError::CreateDir`] or [`ReportError::Write`] naming the path, or
/// [`ReportError::Plot`] if a chart cannot be drawn.
pub fn write_report(dir: &Path, meta: &ReportMeta, out: &RunOutput) -> Result<Vec<PathBuf>, ReportError> {
    let plots = plots(meta, out)?;
    let mut files = vec![
        ("summary.json".to_string(), summary_json(meta, out)),
        ("timeseries.csv".to_string(), timeseries_csv(out)),
    ];
    let page = index_html(meta, out, &plots);
    files.extend(plots);
    files.push(("index.html".to_string(), page));

    std::fs::create_dir_all(dir)
        .map_err(|source| ReportError::CreateDir { path: dir.to_path_buf(), source })?;
    let mut written = Vec::with_capacity(files.len());
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Write { path: path.clone(), source })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{meta, sample_output, zero_output};

    /// A fresh directory under the system temp dir, unique to this process and test.
    fn temp_dir(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("squall-report-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_report_directory_holds_every_file_in_a_fixed_order() {
        let dir = temp_dir("order").join("nested");
        let paths = write_report(&dir, &meta(), &sample_output()).unwrap();
        let names: Vec<String> =
            paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            ["summary.json", "timeseries.csv", "outcomes.svg", "latency.svg", "queues.svg", "index.html"]
        );
        assert!(paths.iter().all(|p| p.starts_with(&dir) && p.is_file()));
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn writing_the_same_run_twice_gives_byte_identical_files() {
        for (test, out) in [("same-a", sample_output()), ("same-zero", zero_output())] {
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
}
