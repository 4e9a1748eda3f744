//! The one error type of this crate.

use std::path::PathBuf;

/// Why a report could not be produced.
///
/// Numbers from a run never cause an error: undefined values are written as `null`, empty
/// cells or `-`. Only drawing, the file system and malformed chart input can fail.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The report directory (or one of its parents) could not be created.
    #[error("cannot create report directory {}: {source}", path.display())]
    CreateDir {
        /// The directory asked for.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A report file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The output directory exists and holds files, but none that a report writes: it is
    /// not replaced, so that `--out` pointed at the wrong place loses nothing.
    #[error(
        "{} is not a squall report directory (it holds other files); choose a new or empty directory for --out",
        path.display()
    )]
    NotAReport {
        /// The directory asked for.
        path: PathBuf,
    },
    /// The variants of a comparison cannot be written as given: there are none, two share a
    /// name, or a name cannot be a directory name (empty, `.` or `..`, a path separator or a
    /// control character, or the name of a comparison file).
    #[error("cannot write the comparison: {reason}")]
    Variants {
        /// What is wrong, naming the variant.
        reason: String,
    },
    /// plotters refused to draw a chart (it renders into memory, so this is a bug in the
    /// chart's layout or data, not an IO problem).
    #[error("cannot draw {plot}: {message}")]
    Plot {
        /// File name of the plot, such as `latency.svg`, or a sweep chart's title.
        plot: String,
        /// plotters' explanation.
        message: String,
    },
    /// The data given to a sweep chart cannot be drawn: a number is NaN or infinite, a
    /// heatmap's values do not fill its grid, the grid has more cells than a chart can hold,
    /// or the values span more than an `f64` can.
    #[error("cannot draw {chart}: {reason}")]
    ChartData {
        /// Title of the chart.
        chart: String,
        /// What is wrong, naming the series and point, or the cell.
        reason: String,
    },
}
