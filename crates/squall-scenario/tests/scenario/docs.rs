//! The committed reference (`docs/scenario-reference.md`) equals `reference()`, so the two
//! never drift; `UPDATE_GOLDEN=1` rewrites the file. Also `explain` and its suggestions.

use squall_scenario::{explain, reference, suggest_fields};

#[test]
fn the_committed_reference_matches_the_field_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/scenario-reference.md");
    let want = reference();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "{path} is out of date; run `UPDATE_GOLDEN=1 cargo test -p squall-scenario` and review the diff"
    );
}

#[test]
fn explain_prints_type_default_and_meaning() {
    let text = explain("services.api.queue.capacity").unwrap();
    assert!(
        text.starts_with("services.*.queue.capacity\n  type:    integer, 0 to 4294967295\n  default: 1000\n"),
        "{text}"
    );
}

#[test]
fn an_unknown_field_has_suggestions_instead_of_an_explanation() {
    assert_eq!(explain("replicaz"), None);
    assert_eq!(suggest_fields("replicaz"), ["services.*.replicas"]);
}

#[test]
fn the_example_in_the_reference_is_a_valid_scenario() {
    let text = reference();
    let start = text.find("```ron\n").expect("an example") + "```ron\n".len();
    let end = start + text[start..].find("```").expect("the end of the example");
    squall_scenario::parse(&text[start..end], "reference.md", &[]).unwrap();
}

#[test]
fn explain_finds_call_policy_fields_by_shape_from_clients_and_dependencies() {
    let text = explain("retry.backoff").unwrap();
    assert!(text.starts_with("retry.backoff\n"), "{text}");
    assert!(text.contains("default: Constant(delay: \"500ms\")"), "{text}");
    for (q, doc) in [
        ("services.api.dependencies.db.retry.backoff.Exponential.cap", "retry.backoff.Exponential.cap\n"),
        ("clients.users.breaker.Resilience4j.shared", "breaker.Resilience4j.shared\n"),
        ("clients.users.budget.Finagle.ttl", "budget.Finagle.ttl\n"),
        ("services.api.dependencies.db.hedge.max_attempts", "hedge.max_attempts\n"),
        ("clients.users.retry", "clients.*.retry\n"),
        ("propagate_deadline.factor", "services.*.dependencies.*.propagate_deadline.factor\n"),
        ("clock_skew.Offsets", "services.*.clock_skew.Offsets\n"),
    ] {
        let text = explain(q).unwrap_or_else(|| panic!("{q}"));
        assert!(text.starts_with(doc), "{q}: {text}");
    }
    let both = explain("max_attempts").unwrap();
    assert!(both.contains("retry.max_attempts\n") && both.contains("hedge.max_attempts\n"), "{both}");
}
