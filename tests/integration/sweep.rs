//! `squall sweep` as a user runs it: the grid and the seeds it runs, means with intervals per
//! point, charts, identical files at any `--jobs`, and shards merged equal to one run.

use crate::cli::{squall, temp_dir};
use std::path::Path;
use std::process::Output;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

const SMALL: &str = r#"Scenario(
    name: "small", seed: 5, duration: "20s",
    services: { "api": (workers: 2, queue: (capacity: 20), endpoints: { "get": (work: Exponential(mean: "10ms")) }) },
    clients: { "users": (target: (service: "api", endpoint: "get"), arrivals: Poisson(rate: 100), timeout: "200ms") },
    faults: [ (name: "blip", service: "api", at: "8s", for: "2s", what: Slow(factor: 3.0)) ],
    variants: { "more": { "services.api.workers": "3" } },
)
"#;

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn sweep(dir: &Path, extra: &[&str]) -> String {
    let args = [
        &["sweep", "small.ron", "--param", "clients.users.arrivals.rate=100..220:4", "--seeds", "3"][..],
        extra,
    ]
    .concat();
    let o = squall(&args, dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    text(&o)
}

#[test]
fn a_sweep_runs_every_point_variant_and_seed_and_reduces_them_to_intervals() {
    let dir = temp_dir("sweep-grid");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    let out = sweep(&dir, &["--out", "one", "--jobs", "1"]);
    assert!(out.contains("4 points x 2 variants x 3 seeds = 24 runs"), "{out}");
    let runs = read(&dir, "one/runs.csv");
    assert_eq!(runs.lines().count(), 25);
    let points = read(&dir, "one/points.csv");
    let header: Vec<&str> = points.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name}"));
    let (mean, low, high) = (col("success_rate"), col("success_rate_low"), col("success_rate_high"));
    let mut rates = Vec::new();
    for row in points.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let (m, l, h): (f64, f64, f64) =
            (f[mean].parse().unwrap(), f[low].parse().unwrap(), f[high].parse().unwrap());
        assert!(l <= m && m <= h, "the interval holds the mean: {row}");
        if f[1] == "baseline" {
            rates.push(m);
        }
    }
    assert_eq!(rates.len(), 4);
    assert!(rates[0] > rates[3] + 0.05, "more load, fewer successes: {rates:?}");
    for chart in ["success_rate.svg", "goodput_per_s.svg", "p99_ms.svg", "recovered.svg"] {
        assert!(read(&dir, &format!("one/{chart}")).starts_with("<svg"), "{chart}");
    }
    // The same files at any --jobs.
    sweep(&dir, &["--out", "two", "--jobs", "2"]);
    for f in ["runs.csv", "points.csv", "summary.txt", "success_rate.svg"] {
        assert_eq!(read(&dir, &format!("one/{f}")), read(&dir, &format!("two/{f}")), "{f}");
    }
    // Shards merged give the files of one run.
    for i in 0..2 {
        sweep(&dir, &["--out", "shards", "--shard", &format!("{i}/2")]);
    }
    let o = squall(&["merge", "shards", "--out", "merged"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for f in ["runs.csv", "points.csv", "summary.txt", "success_rate.svg", "recovered.svg"] {
        assert_eq!(read(&dir, &format!("one/{f}")), read(&dir, &format!("merged/{f}")), "{f} merged");
    }
}

#[test]
fn two_parameters_on_a_grid_make_heatmaps() {
    let dir = temp_dir("sweep-heat");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    let o = squall(
        &[
            "sweep",
            "small.ron",
            "--param",
            "faults.0.for=1s..5s:3",
            "--param",
            "faults.0.what.factor=1.5..4.5:3",
            "--seeds",
            "1",
            "--variants",
            "baseline",
            "--metric",
            "success_rate",
            "--out",
            "h",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(read(&dir, "h/success_rate-baseline.svg").starts_with("<svg"));
    // One seed: a mean, no interval.
    let points = read(&dir, "h/points.csv");
    assert!(points.lines().nth(1).unwrap().contains(",1,"), "{points}");
}

#[test]
fn bad_sweeps_are_refused_with_a_reason() {
    let dir = temp_dir("sweep-bad");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    // A value the scenario refuses is bad input (2); the other refusals are the command's (1).
    for (args, expect, code) in [
        (vec!["--param", "clients.users.arrivals.rat=1..2"], "rat", 2),
        (vec!["--param", "services.api.workers=0..4"], "does not apply", 2),
        (vec!["--param", "clients.users.arrivals.rate"], "expected PATH=LOW..HIGH", 1),
        (vec!["--param", "clients.users.arrivals.rate=1..2", "--metric", "sucess_rate"], "unknown metric", 1),
        (vec!["--param", "clients.users.arrivals.rate=1..2", "--seeds", "0"], "at least 1", 1),
        (
            vec!["--param", "clients.users.arrivals.rate=1..2", "--random", "0"],
            "--random must be at least 1",
            1,
        ),
    ] {
        let o = squall(&[&["sweep", "small.ron"][..], &args].concat(), &dir);
        let msg = text(&o);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {msg}");
        assert!(msg.contains(expect), "{args:?}: {msg}");
        assert!(!msg.contains("panicked"), "{msg}");
    }
}

// Issue 18: a point the scenario refuses fails alone; the others are run, written and
// summed up, the failure is named with the command that reproduces it, and the exit code
// says a run failed.
#[test]
fn a_refused_point_fails_alone_and_the_others_are_written() {
    let dir = temp_dir("sweep-refused");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    let o = squall(
        &[
            "sweep",
            "small.ron",
            "--param",
            "services.api.workers=2,0,3",
            "--seeds",
            "1",
            "--set",
            "duration=2s",
            "--out",
            "o",
        ],
        &dir,
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(4), "{t}");
    assert!(t.contains("run 2 (point 1, variant `baseline`, seed 5) failed"), "{t}");
    assert!(t.contains("must be at least 1"), "{t}");
    assert!(
        t.contains(
            "reproduce it with: squall run small.ron --set duration=2s --seed 5 --set services.api.workers=0"
        ),
        "{t}"
    );
    let runs = read(&dir, "o/runs.csv");
    assert_eq!(runs.lines().count(), 1 + 4, "the four runs that did not fail: {runs}");
}
