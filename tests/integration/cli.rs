//! The `squall` binary as a user runs it: exit codes, messages for bad input, and the files a
//! run writes. Each test runs the real binary in a fresh temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh, empty directory under the system temp dir, unique to this test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("squall-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The repository root, where `scenarios/` lives.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn squall(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_squall")).args(args).current_dir(cwd).output().expect("run squall")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Writes `source` to a scenario file and validates it, expecting failure (exit code 2, bad
/// input, from `validate` and `check` alike); returns the message.
fn validate_fails(name: &str, source: &[u8]) -> String {
    let dir = temp_dir(name);
    let file = dir.join("s.ron");
    std::fs::write(&file, source).unwrap();
    let o = squall(&["check", file.to_str().unwrap(), "--no-regressions", "-o", "out"], &dir);
    assert_eq!(o.status.code(), Some(2), "check: expected exit 2, got {:?}: {}", o.status, text(&o));
    let o = squall(&["validate", file.to_str().unwrap()], &dir);
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2, got {:?}: {msg}", o.status);
    assert!(!msg.contains("panicked"), "panic on bad input: {msg}");
    assert!(!msg.contains("RUST_BACKTRACE"), "backtrace on bad input: {msg}");
    assert!(msg.starts_with("error: "), "one clear error paragraph expected: {msg}");
    msg
}

const GOOD: &str = r#"Scenario(
    name: "t",
    seed: 1,
    duration: "10s",
    services: {
        "db": (workers: 2, endpoints: {"query": (work: Exponential(mean: "5ms"))}),
    },
    clients: {
        "users": (target: (service: "db", endpoint: "query"), arrivals: Poisson(rate: 100)),
    },
)
"#;

#[test]
fn a_valid_scenario_validates() {
    let dir = temp_dir("valid");
    std::fs::write(dir.join("s.ron"), GOOD).unwrap();
    let o = squall(&["validate", "s.ron"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("ok"), "{}", text(&o));
}

#[test]
fn an_unknown_field_names_its_location_and_the_near_miss() {
    let msg = validate_fails("unknown-field", GOOD.replace("workers: 2", "workerz: 2").as_bytes());
    assert!(msg.contains("s.ron:6:"), "{msg}");
    assert!(msg.contains("workers"), "{msg}");
}

#[test]
fn a_unit_typo_is_explained() {
    let msg = validate_fails("unit", GOOD.replace("\"10s\"", "\"10 sec\"").as_bytes());
    assert!(msg.contains("s.ron:4:"), "{msg}");
    assert!(msg.contains("sec"), "{msg}");
}

#[test]
fn a_negative_rate_is_refused() {
    let msg = validate_fails("negative", GOOD.replace("rate: 100", "rate: -5").as_bytes());
    assert!(msg.contains("s.ron:9:"), "{msg}");
    assert!(msg.contains("rate"), "{msg}");
}

#[test]
fn values_the_engine_cannot_run_are_refused_by_validate() {
    let db = "\"db\": (workers: 2, endpoints: {\"query\": (work: Exponential(mean: \"5ms\"))})";
    for (name, with, field) in [
        ("codel", "queue: (codel: (target: \"200ms\")), workers: 2", "services.db.queue.codel.interval"),
        (
            "codel-lifo",
            "queue: (discipline: AdaptiveLifo, codel: (target: \"200ms\")), workers: 2",
            "services.db.queue.codel.interval",
        ),
        (
            "slow-bucket",
            "rate_limit: TokenBucket(rate: 1e-300), workers: 2",
            "services.db.rate_limit.TokenBucket.rate",
        ),
        (
            "huge-burst",
            "rate_limit: TokenBucket(rate: 0.001, burst: 4294967295), workers: 2",
            "services.db.rate_limit.TokenBucket.rate",
        ),
    ] {
        let msg = validate_fails(name, GOOD.replace(db, &db.replace("workers: 2", with)).as_bytes());
        assert!(msg.contains("s.ron:6:") && msg.contains(field), "{name}: {msg}");
    }
    // Call policies, through `--set` on a valid file.
    let dir = temp_dir("policy-bounds");
    std::fs::write(dir.join("s.ron"), GOOD).unwrap();
    for (set, field) in [
        ("clients.users.throttle=(window: \"59ns\")", "clients.users.throttle.window"),
        (
            "clients.users.breaker=Resilience4j(sliding_window_type: TimeBased, sliding_window_size: 4294967295)",
            "clients.users.breaker.Resilience4j.sliding_window_size",
        ),
    ] {
        let o = squall(&["validate", "s.ron", "--set", set], &dir);
        let msg = text(&o);
        assert_eq!(o.status.code(), Some(2), "{set}: {msg}");
        assert!(msg.contains(field) && !msg.contains("panicked"), "{set}: {msg}");
    }
}

#[test]
fn a_missing_service_suggests_the_existing_one() {
    let msg = validate_fails("dangling", GOOD.replace("(service: \"db\"", "(service: \"dbb\"").as_bytes());
    assert!(msg.contains("s.ron:9:"), "{msg}");
    assert!(msg.contains("dbb") && msg.contains("`db`"), "{msg}");
}

#[test]
fn an_empty_file_is_an_error_not_a_crash() {
    validate_fails("empty", b"");
}

#[test]
fn a_binary_file_is_an_error_not_a_crash() {
    let junk: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    validate_fails("binary", &junk);
}

#[test]
fn a_huge_file_is_refused_before_parsing() {
    let big = vec![b' '; 100 * 1024 * 1024];
    let msg = validate_fails("huge", &big);
    assert!(msg.contains("MiB") || msg.contains("large"), "{msg}");
}

#[test]
fn a_malformed_file_points_at_the_syntax_error() {
    let msg = validate_fails("syntax", GOOD.replace("seed: 1,", "seed: 1,,").as_bytes());
    assert!(msg.contains("s.ron:3:"), "{msg}");
}

#[test]
fn a_name_megabytes_long_is_not_echoed_whole() {
    let long = "x".repeat(2_000_000);
    let msg = validate_fails(
        "long-name",
        GOOD.replace("service: \"db\"", &format!("service: \"{long}\"")).as_bytes(),
    );
    assert!(msg.len() < 5_000, "a {} byte message", msg.len());
    assert!(msg.contains("s.ron:"), "{msg}");
}

#[test]
fn a_byte_order_mark_is_read_past_and_errors_keep_their_columns() {
    let dir = temp_dir("bom");
    std::fs::write(dir.join("s.ron"), [b"\xEF\xBB\xBF", GOOD.as_bytes()].concat()).unwrap();
    let o = squall(&["validate", "s.ron"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let bad = GOOD.replace("seed: 1,", "sed: 1,");
    let msg = validate_fails("bom-bad", [b"\xEF\xBB\xBF", bad.as_bytes()].concat().as_slice());
    assert!(msg.contains("s.ron:3:5"), "{msg}");
}

#[test]
fn more_jobs_than_runs_start_no_more_threads_than_runs() {
    // Each thread reserves its stack: a hundred thousand of them for two runs used to take
    // minutes, or fail to start.
    let dir = temp_dir("jobs");
    std::fs::write(dir.join("s.ron"), GOOD.replace("\"10s\"", "\"1s\"")).unwrap();
    let o = squall(&["compare", "s.ron", "--seeds", "2", "--jobs", "100000", "--out", "out"], &dir);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_report_written() {
    // `squall run FILE | head -1`: the reader goes away after one line.
    let dir = temp_dir("pipe");
    std::fs::write(dir.join("s.ron"), GOOD).unwrap();
    for args in [&["run", "s.ron", "--out", "out"][..], &["explain"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_squall"))
            .args(args)
            .current_dir(&dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // closed before anything is read
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
    }
    assert!(dir.join("out/summary.json").exists());
}

#[test]
fn a_runaway_scenario_stops_and_names_the_limit() {
    let dir = temp_dir("runaway");
    std::fs::write(dir.join("s.ron"), GOOD).unwrap();
    let o = squall(&["run", "s.ron", "--set", "limits.max_events=500", "--out", "out"], &dir);
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(3), "{msg}");
    assert!(msg.contains("max_events"), "{msg}");
    assert!(dir.join("out/summary.json").exists(), "the partial report is still written");
}

// Issue 18: 10 M requests a second with a one-hour client timeout pile up; the run stops at
// the memory limit with exit code 3, the partial report and a way to raise the limit.
#[test]
fn a_run_whose_state_outgrows_the_memory_limit_stops_with_its_report() {
    let dir = temp_dir("memory-limit");
    std::fs::write(dir.join("s.ron"), GOOD).unwrap();
    let sets = [
        "clients.users.arrivals=Poisson(rate: 1e7)",
        "clients.users.timeout=1h",
        "services.db.queue.capacity=4294967295",
        "limits.max_in_flight=4294967295",
        "limits.max_memory=32MiB",
    ];
    let mut args = vec!["run", "s.ron", "--out", "out"];
    for s in &sets {
        args.extend(["--set", s]);
    }
    let o = squall(&args, &dir);
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(3), "{msg}");
    assert!(msg.contains("more than limits.max_memory (32.0 MiB)"), "{msg}");
    assert!(msg.contains("--set limits.max_memory="), "{msg}");
    assert!(dir.join("out/summary.json").exists(), "the partial report is still written");
    let o = squall(&["validate", "s.ron", "--set", "limits.max_memory=4 lots"], &dir);
    assert!(text(&o).contains("invalid size \"4 lots\""), "{}", text(&o));
}

#[test]
fn run_writes_the_report_and_prints_the_summary() {
    let dir = temp_dir("run");
    std::fs::write(dir.join("s.ron"), GOOD).unwrap();
    let o = squall(&["run", "s.ron", "--out", "out"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("users") && stdout.contains("db"), "{stdout}");
    for f in ["summary.json", "timeseries.csv", "outcomes.svg", "latency.svg", "queues.svg", "index.html"] {
        assert!(dir.join("out").join(f).exists(), "missing {f}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/summary.json")).unwrap()).unwrap();
    assert_eq!(json["seed"], 1);
    let issued = json["clients"][0]["issued"].as_u64().unwrap();
    assert!((800..1200).contains(&issued), "100/s for 10 s gave {issued}");
}

#[test]
fn seed_and_set_override_the_file() {
    let dir = temp_dir("override");
    std::fs::write(dir.join("s.ron"), GOOD).unwrap();
    let o = squall(
        &["run", "s.ron", "--seed", "99", "--set", "clients.users.arrivals=Poisson(rate: 10)", "--out", "o"],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("o/summary.json")).unwrap()).unwrap();
    assert_eq!(json["seed"], 99);
    let issued = json["clients"][0]["issued"].as_u64().unwrap();
    assert!((50..160).contains(&issued), "10/s for 10 s gave {issued}");
}

#[test]
fn explain_describes_a_field_and_suggests_near_misses() {
    let dir = temp_dir("explain");
    let o = squall(&["explain", "queue.capacity"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("1000"), "the default is shown: {}", text(&o));
    let o = squall(&["explain", "queue.capacty"], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("capacity"), "{}", text(&o));
}

/// `--quiet` prints nothing on stdout, `--no-report` writes nothing, short flags work, and
/// every subcommand's help ends with an example.
#[test]
fn quiet_no_report_short_flags_and_examples_in_help() {
    let dir = temp_dir("quiet");
    std::fs::write(dir.join("s.ron"), GOOD.replace("\"10s\"", "\"1s\"")).unwrap();
    let o = squall(&["run", "s.ron", "-q", "-s", "5", "-o", "out"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));
    let summary = std::fs::read_to_string(dir.join("out/summary.json")).unwrap();
    assert!(summary.contains("\"seed\": 5,"), "{summary}");
    let o = squall(&["compare", "s.ron", "--no-report", "-j", "1", "-o", "none"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("squall compare"), "{}", text(&o));
    assert!(!dir.join("none").exists(), "--no-report writes nothing");
    for cmd in ["run", "compare", "check", "sweep", "merge", "validate", "explain", "bench"] {
        let o = squall(&[cmd, "--help"], &dir);
        let help = String::from_utf8_lossy(&o.stdout);
        assert!(help.contains("Example:\n  squall "), "{cmd}: {help}");
        assert!(help.contains("--quiet"), "{cmd}: {help}");
    }
}

/// Every problem across entities is shown at once, each with its line of the file and a caret.
#[test]
fn three_mistakes_show_three_snippets_with_carets() {
    let bad = GOOD
        .replace("service: \"db\", endpoint: \"query\"", "service: \"dbb\", endpoint: \"query\"")
        .replace(
            "    },\n)",
            "        \"b\": (target: (service: \"db\", endpoint: \"qeury\"), arrivals: Poisson(rate: 1)),\n        \
             \"c\": (target: (service: \"cache\", endpoint: \"get\"), arrivals: Poisson(rate: 1)),\n    },\n)",
        );
    let msg = validate_fails("three", bad.as_bytes());
    assert_eq!(msg.lines().filter(|l| l.contains("s.ron:")).count(), 3, "{msg}");
    assert_eq!(msg.lines().filter(|l| l.trim_end().ends_with('^')).count(), 3, "{msg}");
    assert!(msg.contains("\"dbb\"") && msg.contains("\"qeury\"") && msg.contains("\"cache\""), "{msg}");
}
