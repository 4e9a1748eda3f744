//! `squall check` and `squall merge` as a user runs them: a planted failure found and shrunk
//! near its threshold, a passing scenario, a "sometimes" assertion that catches a fault that
//! never fires, identical files at any `--jobs`, shards merged equal to one run, and the
//! regression file.

use crate::cli::{squall, temp_dir};
use std::path::Path;
use std::process::Output;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// One worker doing 10 ms of work per request, fed at a constant rate: it serves 100/s, so
/// above that the small queue overflows and the success rate falls below 99 % once the rate
/// passes 100 / 0.99 = 101.01 per second.
const PLANTED: &str = r#"Scenario(
    name: "planted", seed: 7, duration: "60s",
    services: { "api": (workers: 1, queue: (capacity: 5), endpoints: { "get": (work: Constant("10ms")) }) },
    clients: { "users": (target: (service: "api", endpoint: "get"), arrivals: Constant(rate: 50)) },
    invariants: [ SuccessRate(client: "users", at_least: 0.99) ],
    explore: { "clients.users.arrivals.rate": (50.0, 200.0) },
)
"#;

/// Poisson load at half the capacity of two workers, a fault that may fire, and invariants
/// it meets.
const PASSING: &str = r#"Scenario(
    name: "passing", seed: 3, duration: "60s",
    services: { "api": (workers: 2, endpoints: { "get": (work: Exponential(mean: "10ms")) }) },
    clients: { "users": (target: (service: "api", endpoint: "get"), arrivals: Poisson(rate: 100),
        timeout: "1s", retry: (max_attempts: 2, backoff: Constant(delay: "10ms"))) },
    faults: [ (name: "blip", service: "api", at: "30s", for: "2s", what: Fail(fraction: 0.5)) ],
    invariants: [
        SuccessRate(client: "users", at_least: 0.95),
        Latency(client: "users", quantile: 0.99, at_most: "500ms"),
        Recovers(to: 0.8, within: "20s"),
        Sometimes(FaultFired(fault: "blip")),
        Sometimes(Retried(client: "users")),
    ],
    explore: { "faults.0.for": ("1s", "5s"), "services.api.workers": (2, 4) },
)
"#;

fn write(dir: &Path, name: &str, source: &str) {
    std::fs::write(dir.join(name), source).unwrap();
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The rate in the reproduction line of the shrunk failure.
fn shrunk_rate(out: &str) -> f64 {
    let line =
        out.lines().find(|l| l.contains("reproduce: ")).unwrap_or_else(|| panic!("no reproduction: {out}"));
    let at = line.find("rate=").expect("the rate is set") + 5;
    line[at..].split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn a_planted_failure_is_found_and_shrunk_to_near_its_threshold() {
    let dir = temp_dir("check-planted");
    write(&dir, "planted.ron", PLANTED);
    let o = squall(&["check", "planted.ron", "--cases", "30", "--no-regressions"], &dir);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL SuccessRate(client: \"users\", at_least: 0.99)"), "{out}");
    let threshold = 100.0 / 0.99;
    let rate = shrunk_rate(&out);
    assert!(
        rate > threshold * 0.99 && rate <= threshold * 1.10,
        "shrunk to {rate}, threshold {threshold}: {out}"
    );
    // The reproduction runs the same case: the success rate it prints is the one measured.
    let line = out.lines().find(|l| l.contains("reproduce: ")).unwrap();
    let args: Vec<&str> = line.split("reproduce: squall ").nth(1).unwrap().split_whitespace().collect();
    let again = text(&squall(&[&args[..], &["--no-report"]].concat(), &dir));
    let measured = out.lines().find(|l| l.contains("smallest failure")).unwrap();
    let pct = measured.rsplit("measured ").next().unwrap().trim();
    let users = again.lines().find(|l| l.starts_with("users")).unwrap();
    assert!(users.contains(pct), "the reproduction measures {pct}: {users}");
    // Cases below the threshold pass, above it fail, with the value measured.
    let cases = read(&dir, "reports/planted-check/cases.csv");
    let mut rows = 0;
    for row in cases.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let (rate, pass, measured): (f64, &str, f64) = (f[2].parse().unwrap(), f[7], f[8].parse().unwrap());
        assert_eq!(pass == "pass", measured >= 0.99, "{row}");
        if rate < 100.0 {
            assert_eq!(pass, "pass", "{row}");
        }
        if rate > threshold * 1.01 {
            assert_eq!(pass, "fail", "{row}");
        }
        rows += 1;
    }
    assert_eq!(rows, 30);
}

#[test]
fn a_passing_scenario_passes() {
    let dir = temp_dir("check-passing");
    write(&dir, "passing.ron", PASSING);
    let o = squall(&["check", "passing.ron", "--cases", "6", "--no-regressions"], &dir);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("result: passed (7 invariants)"), "{out}");
    assert!(out.contains("seen in 6 of 6 runs"), "{out}");
    assert!(!dir.join("passing.regressions").exists(), "nothing failed, nothing saved");
}

#[test]
fn a_sometimes_assertion_fails_a_check_whose_fault_never_fires() {
    let dir = temp_dir("check-sometimes");
    // The fault opens after the run ends: everything else passes, and the check must not.
    let never = PASSING
        .replace("at: \"30s\"", "at: \"2m\"")
        .replace("Recovers(to: 0.8, within: \"20s\"),", "")
        .replace("Sometimes(Retried(client: \"users\")),", "");
    write(&dir, "never.ron", &never);
    let o = squall(&["check", "never.ron", "--cases", "4", "--no-regressions"], &dir);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL Sometimes(FaultFired(fault: \"blip\"))"), "{out}");
    assert!(out.contains("seen in 0 of 4 runs"), "{out}");
    assert!(out.contains("result: FAILED (1 of 5 invariants)"), "{out}");
}

#[test]
fn checks_write_the_same_files_at_any_job_count_and_merged_shards_equal_one_run() {
    let dir = temp_dir("check-jobs");
    write(&dir, "planted.ron", PLANTED);
    let files = ["check.json", "cases.csv", "summary.txt"];
    let run = |args: &[&str]| {
        let o =
            squall(&[&["check", "planted.ron", "--cases", "12", "--no-regressions"], args].concat(), &dir);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        o
    };
    run(&["--jobs", "1", "--out", "one"]);
    run(&["--jobs", "2", "--out", "two"]);
    for f in files {
        assert_eq!(read(&dir, &format!("one/{f}")), read(&dir, &format!("two/{f}")), "{f} at --jobs 1 and 2");
    }
    for i in 0..3 {
        let o = squall(
            &[
                "check",
                "planted.ron",
                "--cases",
                "12",
                "--no-regressions",
                "--shard",
                &format!("{i}/3"),
                "--out",
                "shards",
            ],
            &dir,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let o = squall(&["merge", "shards", "--out", "merged", "--no-regressions"], &dir);
    assert_eq!(o.status.code(), Some(1), "the merged check fails as the whole one does: {}", text(&o));
    for f in files {
        assert_eq!(read(&dir, &format!("one/{f}")), read(&dir, &format!("merged/{f}")), "{f} merged");
    }
    // A missing shard is named.
    std::fs::remove_file(dir.join("shards/shard-1-of-3.json")).unwrap();
    let o = squall(&["merge", "shards", "--out", "merged"], &dir);
    assert!(text(&o).contains("shards missing: 1/3"), "{}", text(&o));
}

#[test]
fn failures_are_saved_and_replayed_first() {
    let dir = temp_dir("check-regressions");
    write(&dir, "planted.ron", PLANTED);
    let o = squall(&["check", "planted.ron", "--cases", "5"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let saved = read(&dir, "planted.regressions");
    let line = saved.lines().find(|l| l.starts_with("seed=")).expect("a saved case");
    assert!(line.contains("clients.users.arrivals.rate="), "{saved}");
    // With the threshold raised the saved case passes, and the check says it replayed it.
    let relaxed = PLANTED.replace("at_least: 0.99", "at_least: 0.5");
    write(&dir, "planted.ron", &relaxed);
    let o = squall(&["check", "planted.ron", "--cases", "5"], &dir);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("replayed 1 saved failures first: 0 still fail"), "{out}");
    assert!(read(&dir, "reports/planted-check/regressions.csv").lines().count() == 2);
}

#[test]
fn merge_refuses_shards_that_do_not_add_up_without_panicking() {
    let dir = temp_dir("check-tampered");
    write(&dir, "planted.ron", PLANTED);
    for i in 0..2 {
        let args = [
            "check",
            "planted.ron",
            "--cases",
            "4",
            "--no-regressions",
            "--shard",
            &format!("{i}/2"),
            "--out",
            "s",
        ];
        assert_eq!(squall(&args, &dir).status.code(), Some(0));
    }
    // A shard of another check (more cases) is refused.
    let other = ["check", "planted.ron", "--cases", "6", "--no-regressions", "--shard", "1/2", "--out", "t"];
    assert_eq!(squall(&other, &dir).status.code(), Some(0));
    std::fs::copy(dir.join("t/shard-1-of-2.json"), dir.join("s/shard-1-of-2.json")).unwrap();
    let msg = text(&squall(&["merge", "s", "--no-regressions"], &dir));
    assert!(msg.contains("a shard of another check"), "{msg}");
    // A shard with a verdict cut off is refused, not a crash.
    let shard = read(&dir, "t/shard-1-of-2.json");
    let cut = shard.replacen("\"passed\": true,", "", 1);
    std::fs::write(dir.join("t/shard-1-of-2.json"), cut).unwrap();
    let msg = text(&squall(&["merge", "t/shard-1-of-2.json"], &dir));
    assert!(msg.starts_with("error: "), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");
    // Not a shard at all.
    std::fs::write(dir.join("junk.json"), "{}").unwrap();
    let msg = text(&squall(&["merge", "junk.json"], &dir));
    assert!(msg.contains("not a shard file"), "{msg}");
}
