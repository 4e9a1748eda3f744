//! One test per class of bad input, each checking the whole rendered message: position,
//! field path, and did-you-mean where there is a near miss.

use crate::{check_error, edit, parse_with};
use squall_scenario::{load, parse, ScenarioError, MAX_FILE_BYTES};
use std::path::PathBuf;

#[test]
fn an_unknown_field_suggests_the_near_miss() {
    check_error(
        &[("replicas: 4,", "replicaz: 4,")],
        "f.ron:11:13: services.api: unknown field `replicaz`, did you mean `replicas`?",
    );
}

#[test]
fn an_unknown_field_with_no_near_miss_lists_the_fields() {
    check_error(
        &[("shared: false", "zzz: false")],
        "f.ron:13:36: services.api.queue: unknown field `zzz`; expected one of `capacity`, `shared`, `discipline`, `codel`, `drop_abandoned`",
    );
}

#[test]
fn a_duration_with_a_spelled_out_unit_suggests_the_unit() {
    check_error(
        &[("duration: \"10m\"", "duration: \"10 sec\"")],
        "f.ron:6:15: duration: invalid duration \"10 sec\": unknown unit `sec`, did you mean `s`?",
    );
}

#[test]
fn a_duration_without_a_unit_says_to_add_one() {
    check_error(
        &[("timeout: \"100ms\"", "timeout: 100")],
        "f.ron:18:74: services.api.endpoints.feed.calls[0].timeout: a duration is a string with a unit, as in \"100ms\" or \"100s\", not a bare number",
    );
}

#[test]
fn a_negative_rate_is_refused() {
    check_error(
        &[("rate: 3000", "rate: -5")],
        "f.ron:34:37: clients.users.arrivals.Poisson.rate: a rate must be a finite number of requests per second greater than 0, got -5",
    );
}

#[test]
fn a_nan_rate_is_refused() {
    check_error(
        &[("rate: 3000", "rate: NaN")],
        "f.ron:34:37: clients.users.arrivals.Poisson.rate: a rate must be a finite number of requests per second greater than 0, got NaN",
    );
}

#[test]
fn an_unknown_service_suggests_the_near_miss() {
    check_error(
        &[("service: \"db\", endpoint", "service: \"dbb\", endpoint")],
        "f.ron:18:40: services.api.endpoints.feed.calls[0].service: unknown service `dbb`, did you mean `db`?",
    );
}

#[test]
fn an_unknown_endpoint_names_its_service_and_suggests_the_near_miss() {
    check_error(
        &[("endpoint: \"feed\"", "endpoint: \"fed\"")],
        "f.ron:33:48: clients.users.target.endpoint: unknown endpoint `fed` of service `api`, did you mean `feed`?",
    );
}

#[test]
fn an_unknown_variant_suggests_the_near_miss() {
    check_error(
        &[("Poisson(rate: 3000)", "Poison(rate: 3000)")],
        "f.ron:34:23: clients.users.arrivals: unknown variant `Poison`, did you mean `Poisson`?",
    );
}

#[test]
fn a_p99_below_the_median_names_both_values() {
    check_error(
        &[("p99: \"40ms\"", "p99: \"4ms\"")],
        "f.ron:17:21: services.api.endpoints.feed.work: p99 (4ms) must be greater than the median (8ms)",
    );
}

#[test]
fn a_lognormal_in_both_forms_is_refused() {
    check_error(
        &[("p99: \"40ms\"", "p99: \"40ms\", mu: 1.0")],
        "f.ron:17:21: services.api.endpoints.feed.work: give either `median` and `p99`, or `mu`, `sigma` and `unit`, not both",
    );
}

#[test]
fn a_call_cycle_is_shown_as_a_chain() {
    check_error(
        &[(
            "\"query\": (work: Exponential(mean: \"5ms\"))",
            "\"query\": (work: Exponential(mean: \"5ms\"), calls: [(service: \"api\", endpoint: \"feed\")])",
        )],
        "f.ron:18:21: services.api.endpoints.feed.calls: call cycle api.feed -> db.query -> api.feed",
    );
}

#[test]
fn an_endpoint_calling_itself_is_a_cycle() {
    check_error(
        &[(
            "\"health\": (work: Constant(\"1ms\"))",
            "\"health\": (work: Constant(\"1ms\"), calls: [(service: \"api\", endpoint: \"health\")])",
        )],
        "f.ron:20:51: services.api.endpoints.health.calls: call cycle api.health -> api.health",
    );
}

#[test]
fn zero_workers_are_refused() {
    check_error(
        &[("workers: 16,", "workers: 0,")],
        "f.ron:25:22: services.db.workers: must be at least 1, got 0",
    );
}

#[test]
fn a_duplicate_name_is_refused_where_it_repeats() {
    check_error(&[("\"db\": (", "\"api\": (")], "f.ron:23:9: services: `api` is defined twice");
}

#[test]
fn a_name_with_a_slash_is_refused() {
    check_error(
        &[("\"probes\": (", "\"probes/1\": (")],
        "f.ron:38:9: clients: the name \"probes/1\" contains `/`, which separates random-stream keys",
    );
}

#[test]
fn a_closed_loop_client_with_a_schedule_is_refused() {
    check_error(
        &[("arrivals: Closed(users: 3, think: Constant(\"1s\")),", "arrivals: Closed(users: 3, think: Constant(\"1s\")), schedule: [Step(at: \"1s\", rate: 5)],")],
        "f.ron:40:64: clients.probes.schedule: a schedule changes the rate of open-loop arrivals (Poisson or Constant); Closed arrivals have no rate to change",
    );
}

#[test]
fn overlapping_schedule_entries_are_refused() {
    check_error(
        &[("Ramp(start: \"3m\"", "Ramp(start: \"1m\"")],
        "f.ron:35:13: clients.users.schedule: schedule[1] (Ramp from 1m to 4m) starts before schedule[0] (Step at 2m) ends; entries must be in time order and not overlap",
    );
}

#[test]
fn a_ramp_that_ends_before_it_starts_is_refused() {
    check_error(
        &[("end: \"4m\"", "end: \"3m\"")],
        "f.ron:35:13: clients.users.schedule: schedule[1]: a ramp must end after it starts, but it goes from 3m to 3m",
    );
}

#[test]
fn all_problems_across_entities_are_reported_together() {
    check_error(
        &[
            ("service: \"db\", endpoint", "service: \"dbb\", endpoint"),
            ("endpoint: \"health\"", "endpoint: \"healthz\""),
            ("endpoints: {\n                \"query\": (work: Exponential(mean: \"5ms\")),\n            },", "endpoints: {},"),
        ],
        "f.ron:18:40: services.api.endpoints.feed.calls[0].service: unknown service `dbb`, did you mean `db`?\n\
         f.ron:26:13: services.db.endpoints: a service needs at least one endpoint\n\
         f.ron:37:48: clients.probes.target.endpoint: unknown endpoint `healthz` of service `api`, did you mean `health`?",
    );
}

#[test]
fn a_missing_required_field_is_named() {
    check_error(&[("seed: 7,", "")], "f.ron:43:1: missing required field `seed`");
}

#[test]
fn an_empty_service_map_is_refused() {
    let src = r#"Scenario(name: "x", seed: 1, duration: "1s", services: {}, clients: {})"#;
    let e = parse(src, "f.ron", &[]).unwrap_err().to_string();
    assert_eq!(
        e,
        "f.ron:1:46: services: at least one service is needed\nf.ron:1:60: clients: at least one client group is needed"
    );
}

#[test]
fn a_wrong_struct_name_is_refused() {
    check_error(&[("Scenario(", "Scenaro(")], "f.ron:2:1: expected `Scenario(...)`, found `Scenaro(...)`");
}

#[test]
fn a_syntax_error_gives_the_position_and_the_field_being_read() {
    check_error(
        &[("timeout: \"1s\",", "timeout: \"1s\",,")],
        "f.ron:36:27: clients.users: expected identifier",
    );
}

#[test]
fn an_integer_too_large_for_64_bits_is_refused() {
    check_error(
        &[("seed: 7,", "seed: 99999999999999999999999,")],
        "f.ron:5:11: seed: must be at most 18446744073709551615, got 1e23",
    );
}

#[test]
fn a_duration_too_long_for_64_bit_nanoseconds_is_refused() {
    check_error(
        &[("duration: \"10m\"", "duration: \"99999999999999h\"")],
        "f.ron:6:15: duration: invalid duration \"99999999999999h\": duration too large (the limit is about 584 years)",
    );
}

#[test]
fn an_empty_file_says_what_a_scenario_starts_with() {
    for src in ["", "  \n\t"] {
        let e = parse(src, "f.ron", &[]).unwrap_err().to_string();
        assert_eq!(e, "f.ron:1:1: the file is empty; a scenario starts with `Scenario(`");
    }
}

#[test]
fn text_with_nul_bytes_is_refused_before_parsing() {
    let e = parse("Scenario(\n  \0\u{1}\u{2}", "f.ron", &[]).unwrap_err();
    assert!(matches!(e, ScenarioError::NotText { .. }));
    assert_eq!(
        e.to_string(),
        "f.ron:2:3: not a text file: it contains a NUL byte (at byte 12); a scenario is a RON text file"
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let src = edit(&[(
        "work: Constant(\"1ms\")",
        &format!("work: {}", "Mixture([(weight: 1, dist: ".repeat(10_000)),
    )]);
    let e = parse_with(&src, &[]).unwrap_err().to_string();
    assert!(e.contains("nested too deeply"), "{e}");
}

/// A file under the system temp dir, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("squall-scenario-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_file_over_ten_mebibytes_is_refused_before_parsing() {
    let n_bytes = 11 * 1024 * 1024;
    let f = TempFile::new("big.ron", &vec![b' '; n_bytes]);
    let e = load(&f.0, &[]).unwrap_err();
    assert_eq!(
        e,
        ScenarioError::TooLarge {
            file: f.0.display().to_string(),
            n_bytes: n_bytes as u64,
            n_bytes_max: MAX_FILE_BYTES
        }
    );
    assert!(e.to_string().ends_with("over the limit of 10485760 bytes (10 MiB) for a scenario"), "{e}");
}

#[test]
fn a_binary_file_is_refused_with_the_position_of_the_first_bad_byte() {
    let f = TempFile::new("binary.ron", b"Scenario(\n  name: \xff\xfe\x00");
    let e = load(&f.0, &[]).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}:2:9: not a text file: it is not valid UTF-8 (at byte 18); a scenario is a RON text file",
            f.0.display()
        )
    );
}

#[test]
fn a_missing_file_is_a_read_error() {
    let path = std::env::temp_dir().join("squall-scenario-this-file-does-not-exist.ron");
    let e = load(&path, &[]).unwrap_err();
    assert!(matches!(e, ScenarioError::Read { .. }), "{e}");
}

#[test]
fn load_reads_a_valid_file() {
    let f = TempFile::new("flagship.ron", crate::FLAGSHIP.as_bytes());
    let s = load(&f.0, &[]).unwrap();
    assert_eq!(s.name, "flagship");
    assert_eq!(s.file, f.0.display().to_string());
}

/// Regression: an unresolved first client used to trip an assertion on the second client's
/// id instead of being reported (found by `parse_never_panics_on_mutations_of_a_valid_scenario`).
#[test]
fn an_unresolved_client_before_a_valid_one_is_reported_not_a_panic() {
    check_error(
        &[(
            "target: (service: \"api\", endpoint: \"feed\")",
            "target: (service: \"nope\", endpoint: \"feed\")",
        )],
        "f.ron:33:31: clients.users.target.service: unknown service `nope`; expected one of `api`, `db`",
    );
}

#[test]
fn a_bare_word_where_a_name_belongs_asks_for_quotes() {
    check_error(&[("\"api\": (", "api: (")], "f.ron:9:16: services: expected a string in double quotes");
}

// Issue 18: huge and tiny numbers are echoed in e-notation, not as hundreds of digits.
#[test]
fn huge_numbers_are_echoed_in_e_notation() {
    check_error(
        &[("arrivals: Poisson(rate: 3000)", "arrivals: Poisson(rate: 1e300)")],
        "f.ron:34:37: clients.users.arrivals.Poisson.rate: a rate must be at most 1e9 per second (one request per nanosecond), got 1e300",
    );
    check_error(
        &[("replicas: 4,", "replicas: 1e300,")],
        "f.ron:11:23: services.api.replicas: must be at most 100000, got 1e300",
    );
}

/// Every problem the checks across entities find is shown at once, each under its message with
/// its line of the file and a caret under the column.
#[test]
fn a_file_with_three_mistakes_shows_all_three_with_a_snippet_and_a_caret() {
    let src = r#"Scenario(
    name: "three", seed: 1, duration: "10s",
    services: { "db": (workers: 2, endpoints: {"query": (work: Exponential(mean: "5ms"))}) },
    clients: {
        "a": (target: (service: "dbb", endpoint: "query"), arrivals: Poisson(rate: 10)),
        "b": (target: (service: "db", endpoint: "qeury"), arrivals: Poisson(rate: 10)),
        "c": (target: (service: "cache", endpoint: "get"), arrivals: Poisson(rate: 10)),
    },
)"#;
    let e = squall_scenario::parse(src, "t.ron", &[]).unwrap_err();
    let text = e.render(src);
    let carets: Vec<&str> = text.lines().filter(|l| l.trim_end().ends_with('^')).collect();
    assert_eq!(carets.len(), 3, "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("t.ron:")).count(), 3, "{text}");
    // The caret sits under the quoted name the message is about.
    let lines: Vec<&str> = text.lines().collect();
    let i = lines.iter().position(|l| l.starts_with("t.ron:5:")).unwrap_or_else(|| panic!("{text}"));
    let (source, caret) = (lines[i + 1], lines[i + 2]);
    assert!(source.starts_with("  5 | ") && source.contains("\"dbb\""), "{text}");
    let col = caret.find('^').unwrap();
    assert_eq!(&source[col..col + 5], "\"dbb\"", "{text}");
    // A problem with no position in the file keeps its message alone.
    let plain = squall_scenario::ScenarioError::Selection { file: "t.ron".into(), message: "x".into() };
    assert_eq!(plain.render(src), plain.to_string());
}
