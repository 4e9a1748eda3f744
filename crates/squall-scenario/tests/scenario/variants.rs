//! Variants: the baseline comes first and the rest in file order (or in the order selected),
//! each variant's overrides apply before `--set` (which wins), and every problem a variant
//! causes names the variant, with the position of its entry in the file.

use crate::{check_error_of, edit_of, RESILIENCE};
use squall_model::BulkheadConfig;
use squall_scenario::{load_variants, parse, parse_variants, Override, ScenarioError, Variant, BASELINE};

fn sets(texts: &[&str]) -> Vec<Override> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

fn variants(src: &str, cli: &[&str], select: Option<&[&str]>) -> Result<Vec<Variant>, ScenarioError> {
    let select: Option<Vec<String>> = select.map(|s| s.iter().map(|n| n.to_string()).collect());
    parse_variants(src, "f.ron", &sets(cli), select.as_deref())
}

fn names(vs: &[Variant]) -> Vec<&str> {
    vs.iter().map(|v| v.name.as_str()).collect()
}

#[track_caller]
fn check_variant_error(src: &str, cli: &[&str], expected: &str) {
    match variants(src, cli, None) {
        Ok(vs) => panic!("built {:?}, but expected: {expected}", names(&vs)),
        Err(e) => assert_eq!(e.to_string(), expected),
    }
}

#[test]
fn the_baseline_comes_first_then_the_variants_in_file_order() {
    let vs = variants(RESILIENCE, &[], None).unwrap();
    assert_eq!(names(&vs), [BASELINE, "small-bulkhead", "more-db", "no-shedding"]);
    let [base, small, more, none] = &vs[..] else { panic!() };
    assert!(base.scenario.overrides.is_empty());
    assert_eq!(base.scenario.variant_names, ["small-bulkhead", "more-db", "no-shedding"]);
    assert!(matches!(
        small.scenario.config.services[0].dependencies[1].bulkhead,
        Some(BulkheadConfig::Semaphore { max_concurrent_calls: 4, .. })
    ));
    assert_eq!(
        (more.scenario.config.services[1].replicas, more.scenario.config.services[1].max_connections),
        (4, Some(24))
    );
    assert_eq!(
        more.scenario.overrides,
        ["services.db.replicas=4", "services.db.max_connections=24"],
        "the overrides applied, as path=value"
    );
    assert!(none.scenario.config.services.iter().all(|s| s.admission.shedding.is_none()));
    // Everything else is the baseline's.
    for v in &vs {
        assert_eq!(
            (v.scenario.name.as_str(), v.scenario.source_hash),
            ("resilience", base.scenario.source_hash)
        );
        assert_eq!(v.scenario.config.seed, 11);
    }
    assert_eq!(base.scenario.config.services[1].replicas, 2);
}

/// The configuration hash follows the model the run gets, not how it was reached: a variant
/// and the same `--set` agree, any change of the model moves it, and the seed, the file's
/// name and the other variants do not.
#[test]
fn the_configuration_hash_follows_the_effective_configuration() {
    let hash = |cli: &[&str], select: &str| {
        variants(RESILIENCE, cli, Some(&[select])).unwrap()[0].scenario.config_hash
    };
    let base = hash(&[], BASELINE);
    let more = hash(&[], "more-db");
    assert_ne!(base, more, "a variant changes the configuration");
    assert_eq!(more, hash(&["services.db.replicas=4", "services.db.max_connections=24"], BASELINE));
    assert_ne!(base, hash(&["services.api.workers=17"], BASELINE), "an override changes it");
    assert_eq!(base, hash(&["services.api.workers=16"], BASELINE), "an override to the same value does not");
    assert_eq!(base, hash(&["seed=12"], BASELINE), "the seed is recorded apart");
    let other_name = parse(RESILIENCE, "elsewhere/g.ron", &[]).unwrap();
    assert_eq!(other_name.config_hash, base, "the file's name is not part of it");
    let no_variants = RESILIENCE.replace(
        "\"no-shedding\": { \"services.api.shedding\": \"None\", \"services.db.shedding\": \"None\" },",
        "",
    );
    let fewer = parse(&no_variants, "f.ron", &[]).unwrap();
    assert_ne!(fewer.source_hash, other_name.source_hash, "the edit took");
    assert_eq!(fewer.config_hash, base, "nor are the other variants");
}

#[test]
fn parse_returns_the_baseline_and_lists_the_variants() {
    let s = parse(RESILIENCE, "f.ron", &[]).unwrap();
    assert_eq!(s.config.services[1].replicas, 2);
    assert_eq!(s.variant_names, ["small-bulkhead", "more-db", "no-shedding"]);
}

#[test]
fn selected_variants_come_in_the_order_given() {
    let vs = variants(RESILIENCE, &[], Some(&["no-shedding", "baseline", "small-bulkhead"])).unwrap();
    assert_eq!(names(&vs), ["no-shedding", BASELINE, "small-bulkhead"]);
    assert!(variants(RESILIENCE, &[], Some(&[])).unwrap().is_empty());
}

#[test]
fn an_unknown_selected_variant_suggests_the_near_miss() {
    let e = variants(RESILIENCE, &[], Some(&["more-dbs"])).unwrap_err();
    assert!(matches!(e, ScenarioError::Selection { .. }), "{e:?}");
    assert_eq!(e.to_string(), "f.ron: unknown variant `more-dbs`, did you mean `more-db`?");
    let e = variants(RESILIENCE, &[], Some(&["zzz"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "f.ron: unknown variant `zzz`; expected one of `baseline`, `small-bulkhead`, `more-db`, `no-shedding`"
    );
    let e = variants(crate::FLAGSHIP, &[], Some(&["fast"])).unwrap_err();
    assert_eq!(e.to_string(), "f.ron: unknown variant `fast`: the file defines no variants, only `baseline`");
}

#[test]
fn a_variant_selected_twice_is_refused() {
    let e = variants(RESILIENCE, &[], Some(&["more-db", "more-db"])).unwrap_err();
    assert_eq!(e.to_string(), "f.ron: the variant `more-db` is selected twice");
}

#[test]
fn the_command_line_wins_over_the_variant() {
    let vs = variants(RESILIENCE, &["services.db.replicas=6"], Some(&["baseline", "more-db"])).unwrap();
    let [base, more] = &vs[..] else { panic!() };
    assert_eq!(base.scenario.config.services[1].replicas, 6);
    assert_eq!(more.scenario.config.services[1].replicas, 6);
    assert_eq!(more.scenario.config.services[1].max_connections, Some(24), "the rest of the variant applies");
    assert_eq!(
        more.scenario.overrides,
        ["services.db.replicas=4", "services.db.max_connections=24", "services.db.replicas=6"]
    );
    assert_eq!(base.scenario.overrides, ["services.db.replicas=6"]);
}

#[test]
fn a_refused_value_in_a_variant_points_at_its_entry() {
    check_error_of(
        RESILIENCE,
        &[("\"services.db.replicas\": \"4\"", "\"services.db.replicas\": \"0\"")],
        "f.ron:76:13: variants.more-db.\"services.db.replicas\": services.db.replicas: must be at least 1, got 0",
    );
}

#[test]
fn an_unknown_path_in_a_variant_suggests_the_near_miss() {
    check_error_of(
        RESILIENCE,
        &[("\"services.db.replicas\": \"4\"", "\"services.db.replicaz\": \"4\"")],
        "f.ron:76:13: variants.more-db.\"services.db.replicaz\": services.db: unknown field `replicaz`, did you mean `replicas`?",
    );
}

#[test]
fn a_broken_reference_made_by_a_variant_is_blamed_on_its_entry() {
    check_error_of(
        RESILIENCE,
        &[(
            "\"services.api.dependencies.shipping.bulkhead\"",
            "\"services.api.dependencies.shiping.bulkhead\"",
        )],
        "f.ron:73:13: variants.small-bulkhead.\"services.api.dependencies.shiping.bulkhead\": services.api.dependencies.shiping: unknown service `shiping`, did you mean `shipping`?",
    );
}

#[test]
fn a_problem_a_variant_causes_elsewhere_is_blamed_on_the_variant() {
    check_error_of(
        RESILIENCE,
        &[("\"services.api.shedding\": \"None\"", "\"services.api.endpoints.checkout.steps\": \"[Work(Constant(\\\"1ms\\\"))]\"")],
        "f.ron:79:9: variants.no-shedding: services.api.dependencies.db: `api` never calls `db`, so this policy would have no effect\n\
         f.ron:79:9: variants.no-shedding: services.api.dependencies.shipping: `api` never calls `shipping`, so this policy would have no effect\n\
         f.ron:79:9: variants.no-shedding: services.api.dependencies.pricing: `api` never calls `pricing`, so this policy would have no effect",
    );
}

#[test]
fn problems_in_several_variants_are_reported_together() {
    check_error_of(
        RESILIENCE,
        &[
            ("\"Semaphore(max_concurrent_calls: 4)\"", "\"Semaphore(max_concurrent_calls: 0)\""),
            ("\"services.db.replicas\": \"4\"", "\"services.db.replicas\": \"0\""),
        ],
        "f.ron:73:13: variants.small-bulkhead.\"services.api.dependencies.shipping.bulkhead\": services.api.dependencies.shipping.bulkhead.Semaphore.max_concurrent_calls: must be at least 1, got 0\n\
         f.ron:76:13: variants.more-db.\"services.db.replicas\": services.db.replicas: must be at least 1, got 0",
    );
}

#[test]
fn a_broken_variant_fails_the_file_even_when_not_selected() {
    let src = edit_of(RESILIENCE, &[("\"services.db.replicas\": \"4\"", "\"services.db.replicas\": \"0\"")]);
    assert!(parse(&src, "f.ron", &[]).is_err());
    assert!(variants(&src, &[], Some(&["baseline"])).is_err());
}

#[test]
fn a_problem_in_the_file_itself_is_reported_once_as_the_file_s() {
    check_variant_error(
        &edit_of(RESILIENCE, &[("workers: 16,", "workers: 16, replicas: 0,")]),
        &[],
        "f.ron:10:26: services.api: the field `replicas` is given twice",
    );
    check_variant_error(
        &edit_of(RESILIENCE, &[("\"pricing\": (timeout", "\"pricng\": (timeout")]),
        &[],
        "f.ron:33:17: services.api.dependencies.pricng: unknown service `pricng`, did you mean `pricing`?",
    );
}

#[test]
fn a_variant_may_not_change_the_seed_or_the_time_axis() {
    for (path, why) in [
        ("seed", "variants share the seed, so that their runs differ only by what the variant changes"),
        ("duration", "variants are compared over the same time axis"),
        ("timeseries.bucket", "variants are compared over the same time axis"),
    ] {
        let field = path.split('.').next().unwrap();
        check_error_of(
            RESILIENCE,
            &[("\"services.db.replicas\": \"4\"", &format!("\"{path}\": \"1\""))],
            &format!("f.ron:76:13: variants.more-db: a variant cannot change `{field}`: {why}"),
        );
    }
}

#[test]
fn variant_names_are_checked_where_they_are_written() {
    check_error_of(
        RESILIENCE,
        &[("\"more-db\": {", "\"baseline\": {")],
        "f.ron:75:9: variants: `baseline` is reserved for the scenario without changes; give the variant another name",
    );
    check_error_of(
        RESILIENCE,
        &[("\"more-db\": {", "\"a/b\": {")],
        "f.ron:75:9: variants: the variant name \"a/b\" contains a path separator",
    );
    check_error_of(
        RESILIENCE,
        &[("\"more-db\": {", "\"small-bulkhead\": {")],
        "f.ron:75:9: variants: the variant `small-bulkhead` is defined twice",
    );
    check_error_of(
        RESILIENCE,
        &[("\"more-db\": {", "\"\": {")],
        "f.ron:75:9: variants: variant names must not be empty",
    );
}

#[test]
fn a_file_may_define_at_most_a_thousand_variants() {
    let many: String = (0..=1000).map(|i| format!("\"v{i}\": {{}}, ")).collect();
    let src = edit_of(RESILIENCE, &[("variants: {", &format!("variants: {{ {many}"))]);
    let e = variants(&src, &[], None).unwrap_err().to_string();
    assert!(e.ends_with("variants: a file may define at most 1000 variants; each is a whole build"), "{e}");
    let few: String = (0..997).map(|i| format!("\"v{i}\": {{}}, ")).collect();
    let src = edit_of(RESILIENCE, &[("variants: {", &format!("variants: {{ {few}"))]);
    assert_eq!(variants(&src, &[], None).unwrap().len(), 1 + 997 + 3);
}

#[test]
fn a_variant_value_must_be_a_string_of_valid_ron() {
    check_error_of(
        RESILIENCE,
        &[("\"services.db.replicas\": \"4\"", "\"services.db.replicas\": 4")],
        "f.ron:76:37: variants.more-db.\"services.db.replicas\": a variant's values are RON written as a string, as with --set: write \"4\", not 4",
    );
    check_error_of(
        RESILIENCE,
        &[("\"services.db.replicas\": \"4\"", "\"services.db.replicas\": \"Poisson(\"")],
        "f.ron:76:37: variants.more-db.\"services.db.replicas\": the value `Poisson(` is not valid RON: unexpected end of the value",
    );
    check_error_of(
        RESILIENCE,
        &[(
            "\"services.db.replicas\": \"4\"",
            "\"services.db.replicas\": \"4\", \"services.db.replicas\": \"5\"",
        )],
        "f.ron:76:42: variants.more-db: `services.db.replicas` is set twice in this variant",
    );
}

#[test]
fn variants_cannot_be_set_from_the_command_line() {
    check_variant_error(
        RESILIENCE,
        &["variants={}"],
        "--set variants={}: variants: variants are defined in the file and cannot be overridden; select one by name instead",
    );
}

#[test]
fn load_variants_reads_the_file() {
    let path = std::env::temp_dir().join(format!("squall-scenario-{}-variants.ron", std::process::id()));
    std::fs::write(&path, RESILIENCE).unwrap();
    let vs = load_variants(&path, &[], Some(&["more-db".to_string()]));
    let _ = std::fs::remove_file(&path);
    let vs = vs.unwrap();
    assert_eq!(names(&vs), ["more-db"]);
    assert_eq!(vs[0].scenario.file, path.display().to_string());
}
