//! `squall compare` as a user runs it: the files it writes, byte-identical results at any
//! `--jobs`, the choice of variants and its errors, and the exit code of a variant that stops
//! early, and means with confidence intervals over several seeds.

use crate::cli::{root, squall, temp_dir};
use std::path::Path;
use std::process::Output;

/// Files at the top of a comparison directory.
const TOP_FILES: [&str; 6] = [
    "comparison.json",
    "comparison.csv",
    "compare_goodput.svg",
    "compare_errors.svg",
    "compare_p99.svg",
    "index.html",
];
/// Files of each variant's own report.
const VARIANT_FILES: [&str; 6] =
    ["summary.json", "timeseries.csv", "outcomes.svg", "latency.svg", "queues.svg", "index.html"];

const SMALL: &str = r#"Scenario(
    name: "small",
    seed: 3,
    duration: "5s",
    services: {
        "db": (workers: 2, endpoints: {"query": (work: Exponential(mean: "5ms"))}),
    },
    clients: {
        "users": (target: (service: "db", endpoint: "query"), arrivals: Poisson(rate: 100)),
    },
)
"#;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

/// Compares the bulkhead scenario's variants from the repository root, so the recorded file
/// name is relative.
fn compare_bulkhead(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["compare", "scenarios/bulkhead.ron", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    squall(&args, &root())
}

const BULKHEAD_VARIANTS: [&str; 4] = ["baseline", "bulkhead", "thread-pool", "tight-timeout"];

#[test]
fn compare_writes_the_comparison_and_each_variants_report_identically_at_any_job_count() {
    let dir = temp_dir("compare-bulkhead");
    let one = compare_bulkhead(&dir.join("one"), &["--jobs", "1"]);
    assert!(one.status.success(), "{}", text(&one));
    let stdout = String::from_utf8_lossy(&one.stdout);
    assert!(stdout.starts_with("squall compare  bulkhead (bulkhead.ron)  seed 11"), "{stdout}");
    assert!(stdout.contains("client buyers") && stdout.contains("service web"), "{stdout}");
    assert!(stdout.contains("variant bulkhead: services.web.dependencies.shipping.bulkhead="), "{stdout}");
    assert!(!stdout.contains('\x1b'), "no colour codes when stdout is not a terminal: {stdout}");
    assert!(stdout.contains("report: "), "{stdout}");

    let two = compare_bulkhead(&dir.join("two"), &["--jobs", "2"]);
    assert!(two.status.success(), "{}", text(&two));
    let files = TOP_FILES
        .iter()
        .map(|f| f.to_string())
        .chain(BULKHEAD_VARIANTS.iter().flat_map(|v| VARIANT_FILES.iter().map(move |f| format!("{v}/{f}"))));
    for f in files {
        assert!(
            read(&dir.join("one"), &f) == read(&dir.join("two"), &f),
            "{f} differs between --jobs 1 and 2"
        );
    }
    let table = |o: &Output| String::from_utf8_lossy(&o.stdout).split("report: ").next().unwrap().to_string();
    assert_eq!(table(&one), table(&two), "the table does not depend on --jobs");

    let json: serde_json::Value = serde_json::from_slice(&read(&dir.join("one"), "comparison.json")).unwrap();
    assert_eq!(json["scenario"], "bulkhead");
    assert_eq!(json["variants"]["baseline"]["seed"], 11);
    assert!(json["variants"]["bulkhead"]["clients"][0]["issued"].as_u64().unwrap() > 0);

    // A variant's report is what `squall run --variant` writes, however the file is named.
    let moved = dir.join("run");
    let run = squall(
        &[
            "run",
            "./scenarios/../scenarios/bulkhead.ron",
            "--variant",
            "bulkhead",
            "--out",
            moved.to_str().unwrap(),
        ],
        &root(),
    );
    assert!(run.status.success(), "{}", text(&run));
    for f in ["summary.json", "timeseries.csv", "index.html", "outcomes.svg"] {
        assert!(
            read(&dir.join("one/bulkhead"), f) == read(&moved, f),
            "bulkhead/{f} differs from the report of `squall run --variant bulkhead`"
        );
    }
    let summary: serde_json::Value = serde_json::from_slice(&read(&moved, "summary.json")).unwrap();
    assert_eq!(summary["variant"], "bulkhead");
    assert_eq!(summary["file"], "bulkhead.ron");
    assert_eq!(summary["overrides"], json["variants"]["bulkhead"]["overrides"]);
    assert_eq!(summary["config_hash"], json["variants"]["bulkhead"]["config_hash"]);
    assert_ne!(json["variants"]["baseline"]["config_hash"], json["variants"]["bulkhead"]["config_hash"]);
    let title = String::from_utf8(read(&moved, "index.html")).unwrap();
    assert!(title.contains("<title>squall: bulkhead, variant bulkhead (seed 11)</title>"), "{title}");
    check_golden(&dir.join("one"), "bulkhead-compare");
}

/// The committed comparisons of the canonical scenarios with variants (bulkhead's is checked
/// above) are what the code produces now.
#[test]
fn the_committed_comparisons_are_up_to_date() {
    for name in [
        "db-connections",
        "retry-storm",
        "thundering-herd",
        "deadline-propagation",
        "graceful-degradation",
        "payment-failover",
        "rolling-email-confirmation",
        "canary-bad-release",
        "liveness-death-spiral",
    ] {
        let dir = temp_dir(&format!("compare-{name}"));
        let file = format!("scenarios/{name}.ron");
        let o = squall(&["compare", &file, "--out", dir.to_str().unwrap()], &root());
        assert!(o.status.success(), "{name}: {}", text(&o));
        check_golden(&dir, &format!("{name}-compare"));
    }
}

/// `reports/<name>/` holds the committed comparison; `UPDATE_GOLDEN=1` rewrites it.
fn check_golden(out: &Path, name: &str) {
    let golden = root().join("reports").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        copy_dir(out, &golden);
        return;
    }
    for f in ["comparison.json", "comparison.csv"] {
        let want = std::fs::read(golden.join(f))
            .unwrap_or_else(|e| panic!("reports/{name}/{f}: {e}; run with UPDATE_GOLDEN=1 to create it"));
        assert!(
            read(out, f) == want,
            "reports/{name}/{f} is out of date; if the change is intended, run UPDATE_GOLDEN=1 cargo test \
             and review the diff"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn variants_can_be_chosen_by_name_and_an_unknown_name_lists_the_known_ones() {
    let dir = temp_dir("compare-select");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    let o = squall(&["compare", "small.ron", "--variants", "baseline", "--out", "out"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.join("out/baseline/summary.json").is_file());
    assert!(dir.join("out/comparison.csv").is_file());

    let o = squall(&["compare", "small.ron", "--variants", "baseline,nope", "--out", "bad"], &dir);
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(2), "bad input: {msg}");
    assert!(msg.starts_with("error: "), "{msg}");
    assert!(msg.contains("`nope`") && msg.contains("`baseline`"), "{msg}");
    assert!(!dir.join("bad").exists(), "nothing is run or written");
}

#[test]
fn the_default_directory_is_named_after_the_file_and_seed_and_set_apply_to_every_variant() {
    let dir = temp_dir("compare-default");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    let o = squall(&["compare", "small.ron", "--seed", "11", "--set", "duration=2s"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let out = dir.join("reports/small-compare");
    let json: serde_json::Value = serde_json::from_slice(&read(&out, "comparison.json")).unwrap();
    let baseline = &json["variants"]["baseline"];
    assert_eq!(baseline["seed"], 11);
    assert_eq!(baseline["duration_s"], 2.0);
    assert_eq!(baseline["overrides"], serde_json::json!(["duration=2s"]));
}

#[test]
fn a_variant_that_stops_early_is_named_and_exits_3_with_the_report_written() {
    let dir = temp_dir("compare-runaway");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    let o = squall(&["compare", "small.ron", "--set", "limits.max_events=300", "--out", "out"], &dir);
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(3), "{msg}");
    assert!(msg.contains("variant `baseline`") && msg.contains("max_events"), "{msg}");
    assert!(msg.contains("!! baseline STOPPED EARLY"), "{msg}");
    assert!(dir.join("out/comparison.json").is_file(), "the partial comparison is still written");
}

#[test]
fn zero_jobs_is_refused() {
    let dir = temp_dir("compare-jobs");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    let o = squall(&["compare", "small.ron", "--jobs", "0"], &dir);
    assert_eq!(o.status.code(), Some(2), "clap's usage error: {}", text(&o));
    assert!(text(&o).contains("--jobs"), "{}", text(&o));
}

/// `--seeds K`: the same files at any `--jobs`, each variant's report from its first seed, and
/// means with confidence intervals that hold the mean and narrow as seeds are added.
#[test]
fn compare_over_seeds_gives_the_same_files_at_any_job_count_and_intervals_that_narrow() {
    let dir = temp_dir("compare-seeds");
    std::fs::write(dir.join("small.ron"), SMALL.replace("seed: 3,", "seed: 3, warmup: Fixed(\"1s\"),"))
        .unwrap();
    let compare = |out: &str, extra: &[&str]| {
        let mut args = vec!["compare", "small.ron", "--out", out];
        args.extend_from_slice(extra);
        let o = squall(&args, &dir);
        assert!(o.status.success(), "{}", text(&o));
        o
    };
    let one = compare("one", &["--seeds", "3", "--jobs", "1"]);
    let two = compare("two", &["--seeds", "3", "--jobs", "2"]);
    for f in ["comparison.json", "comparison.csv", "seeds.csv", "index.html", "baseline/summary.json"] {
        assert!(read(&dir.join("one"), f) == read(&dir.join("two"), f), "{f} differs between --jobs 1 and 2");
    }
    let table = |o: &Output| String::from_utf8_lossy(&o.stdout).split("report: ").next().unwrap().to_string();
    assert_eq!(table(&one), table(&two), "the tables do not depend on --jobs");
    let stdout = table(&one);
    assert!(stdout.contains("over 3 seeds, 3 to 5: mean [95% CI]"), "{stdout}");
    assert!(stdout.contains("steady users"), "{stdout}");

    // The variant's own report is its first seed's: what `--seeds 1` writes.
    let single = compare("single", &[]);
    assert!(!dir.join("single/seeds.csv").exists(), "one seed writes no seeds.csv");
    assert!(!String::from_utf8_lossy(&single.stdout).contains("over "), "nor an over-seeds table");
    assert!(
        read(&dir.join("one"), "baseline/summary.json") == read(&dir.join("single"), "baseline/summary.json")
    );
    assert!(read(&dir.join("one"), "comparison.csv") == read(&dir.join("single"), "comparison.csv"));

    let json: serde_json::Value = serde_json::from_slice(&read(&dir.join("one"), "comparison.json")).unwrap();
    assert_eq!(json["seeds"]["list"], serde_json::json!([3, 4, 5]));
    assert_eq!(json["seeds"]["confidence"], 0.95);
    let single_json: serde_json::Value =
        serde_json::from_slice(&read(&dir.join("single"), "comparison.json")).unwrap();
    assert!(single_json.get("seeds").is_none());

    // Goodput per seed, from each seed's own run, against the interval of seeds.csv.
    let goodput_of = |seed: u64| {
        let out = format!("seed-{seed}");
        compare(&out, &["--seed", &seed.to_string()]);
        let j: serde_json::Value = serde_json::from_slice(&read(&dir.join(&out), "comparison.json")).unwrap();
        j["variants"]["baseline"]["clients"][0]["goodput_per_s"].as_f64().unwrap()
    };
    let row = |out: &str, metric: &str| -> Vec<f64> {
        let csv = String::from_utf8(read(&dir.join(out), "seeds.csv")).unwrap();
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("baseline,client,users,{metric},")))
            .unwrap_or_else(|| panic!("no {metric} row in {csv}"))
            .to_string();
        line.split(',').skip(4).take(4).map(|x| x.parse().unwrap()).collect()
    };
    let three = row("one", "goodput_per_s");
    let mean = (goodput_of(3) + goodput_of(4) + goodput_of(5)) / 3.0;
    assert!((three[0] - mean).abs() < 1e-5, "the mean of the seeds: {three:?} vs {mean}");
    assert!(three[1] < three[0] && three[0] < three[2], "the interval holds the mean: {three:?}");
    assert_eq!(three[3], 3.0);

    compare("ten", &["--seeds", "10", "--jobs", "2"]);
    for metric in ["goodput_per_s", "p99_ms"] {
        let (a, b) = (row("one", metric), row("ten", metric));
        assert!(b[2] - b[1] < a[2] - a[1], "{metric}: 10 seeds {b:?} narrower than 3 {a:?}");
        assert_eq!(b[3], 10.0);
    }
}
