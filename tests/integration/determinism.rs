//! Same scenario and seed give byte-identical files; another seed gives other numbers; and
//! random streams are per entity, so changing one service leaves another client's arrivals
//! exactly as they were (common random numbers).

use crate::cli::{root, squall, temp_dir};
use std::path::Path;

/// The files of a report, sorted (which plots there are depends on the scenario).
fn files_of(dir: &Path, out: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join(out))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `scenario` into `dir/out`. Scenario paths are relative to the repository root (where
/// the command runs), so the `file` recorded in reports does not depend on the checkout.
fn run_into(dir: &Path, scenario: &Path, out: &str, extra: &[&str]) {
    let out_dir = dir.join(out);
    let mut args = vec!["run", scenario.to_str().unwrap(), "--out", out_dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = squall(&args, &root());
    assert!(o.status.success(), "{}: {}", scenario.display(), String::from_utf8_lossy(&o.stderr));
}

fn read(dir: &Path, out: &str, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(out).join(file)).unwrap_or_else(|e| panic!("{out}/{file}: {e}"))
}

#[test]
fn every_scenario_twice_with_one_seed_gives_byte_identical_files() {
    let mut files: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| Path::new("scenarios").join(e.unwrap().file_name()))
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "scenarios/ holds the canonical scenarios");
    for scenario in files {
        let name = scenario.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = temp_dir(&format!("det-{name}"));
        run_into(&dir, &scenario, "a", &[]);
        run_into(&dir, &scenario, "b", &[]);
        let files = files_of(&dir, "a");
        assert_eq!(files, files_of(&dir, "b"), "{name}: the two runs wrote different files");
        for f in &files {
            assert!(read(&dir, "a", f) == read(&dir, "b", f), "{name}: {f} differs between two runs");
        }
        check_golden(&dir, &name);
        run_into(&dir, &scenario, "c", &["--seed", "12345"]);
        assert!(
            read(&dir, "a", "timeseries.csv") != read(&dir, "c", "timeseries.csv"),
            "{name}: another seed gave the same numbers"
        );
    }
}

/// The committed report of each scenario (`reports/<name>/`) is what the code produces now.
/// `UPDATE_GOLDEN=1` rewrites them; review the diff like code.
fn check_golden(dir: &Path, name: &str) {
    let golden = root().join("reports").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&golden);
        std::fs::create_dir_all(&golden).unwrap();
        for f in files_of(dir, "a") {
            std::fs::write(golden.join(&f), read(dir, "a", &f)).unwrap();
        }
        return;
    }
    for f in ["summary.json", "timeseries.csv"] {
        let want = std::fs::read(golden.join(f))
            .unwrap_or_else(|e| panic!("reports/{name}/{f}: {e}; run with UPDATE_GOLDEN=1 to create it"));
        assert!(
            read(dir, "a", f) == want,
            "reports/{name}/{f} is out of date: the code now produces different numbers. If the change \
             is intended, run UPDATE_GOLDEN=1 cargo test and review the diff"
        );
    }
}

/// Two independent client groups on two services. Changing `slow`'s work distribution must
/// not move a single arrival of `steady`: with 1 ms buckets, equal per-bucket issue counts
/// over 20 s of Poisson arrivals mean equal arrival times.
#[test]
fn changing_one_service_leaves_another_clients_arrivals_identical() {
    let source = r#"Scenario(
        name: "crn", seed: 5, duration: "20s", timeseries: (bucket: "1ms", max_buckets: 100000),
        services: {
            "fast": (workers: 4, endpoints: {"e": (work: Exponential(mean: "2ms"))}),
            "slow": (workers: 4, endpoints: {"e": (work: Exponential(mean: "20ms"))}),
        },
        clients: {
            "steady": (target: (service: "fast", endpoint: "e"), arrivals: Poisson(rate: 300)),
            "other": (target: (service: "slow", endpoint: "e"), arrivals: Poisson(rate: 100)),
        },
    )"#;
    let dir = temp_dir("crn");
    std::fs::write(dir.join("crn.ron"), source).unwrap();
    let scenario = dir.join("crn.ron"); // Absolute, so it resolves from the repository root.
    run_into(&dir, &scenario, "a", &[]);
    run_into(&dir, &scenario, "b", &["--set", "services.slow.endpoints.e.work=Exponential(mean: \"50ms\")"]);
    let column = |out: &str, name: &str| -> Vec<String> {
        let csv = String::from_utf8(read(&dir, out, "timeseries.csv")).unwrap();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let i = header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
        lines.map(|l| l.split(',').nth(i).unwrap().to_string()).collect()
    };
    let steady_a = column("a", "client.steady.issued");
    assert!(steady_a.iter().filter(|v| v.as_str() != "0").count() > 1000, "enough arrivals to compare");
    assert_eq!(steady_a, column("b", "client.steady.issued"), "steady's arrivals moved");
    assert_ne!(
        column("a", "service.slow.busy_mean"),
        column("b", "service.slow.busy_mean"),
        "the change had no effect at all, so the test shows nothing"
    );
}
