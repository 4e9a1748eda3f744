//! The side-by-side comparison table: one column per variant, one row per metric, grouped
//! by client group and by service, with the best value of a row marked where "best" is
//! clear (a higher success rate, a lower latency).

use super::{check_runs, union_names, CompareMeta};
use crate::format::{decimal, human_ms, percent, thousands};
use crate::stats::{stop_detail, ClientStats, Latency, PolicyStats, RunStats, ServiceStats};
use squall_model::analysis::{Recovery, RecoveryStatus};
use squall_model::{Outcome, RunOutput, StopReason};
use std::fmt::Write as _;

mod fleet;

/// How [`comparison_table`] marks the best value of a row.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Emphasis {
    /// A `*` before the value, and nothing else: for files, pipes, logs and HTML.
    Plain,
    /// The `*` and bold green through ANSI escape codes: only for a terminal.
    Ansi,
}

const ANSI_BEST: &str = "\x1b[1;32m";
const ANSI_RESET: &str = "\x1b[0m";

/// Which way a row's values get better.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Better {
    Higher,
    Lower,
    /// More is neither better nor worse (offered load, utilisation): nothing is marked.
    Neither,
}

/// One value: what is printed, and the number behind it for ranking (`None`: undefined,
/// never the best).
struct Cell {
    text: String,
    value: Option<f64>,
}

impl Cell {
    fn new(text: String, value: Option<f64>) -> Cell {
        Cell { text, value }
    }

    fn missing() -> Cell {
        Cell { text: "-".to_string(), value: None }
    }
}

enum Row {
    /// A section heading (`client users`) with the variant names as column headings.
    Heading(String),
    Metric {
        label: String,
        better: Better,
        cells: Vec<Cell>,
    },
}

/// The comparison as a text table for the terminal.
///
/// A header names the scenario and seed and lists each variant's overrides; a variant that
/// stopped before its configured duration gets a line starting with `!!`. Then, for each
/// client group (matched by name across variants): requests issued, success rate, goodput
/// (successes per second), each failure outcome that occurred in any variant (count and share of ended
/// requests) and latency percentiles of successful requests; for each service: utilisation,
/// throughput, goodput, wasted share of worker time, drops and each refusal outcome that
/// occurred. For each call site (a client group, or `caller->callee`) whose policy does
/// something in some variant, a `policy` section gives its amplification (attempts per
/// logical request), the retries and hedges sent, retries denied by the budget, attempts
/// short-circuited by the breaker or refused by throttling, fallbacks served, and the
/// breakers' opens and share of time open (rows that are zero everywhere are left out). When some variant has fault windows, a `recovery` section gives per
/// window how long after its end goodput came back (`never` if it did not by the end of the
/// run; `no baseline` if there was nothing to compare with). When some variant has them,
/// a `flow` section per client group with a flow gives flows started, completed and failed
/// and the success rate; a `versions` section per service reporting its fleet, the answers
/// and errors of each version (how far a bad version reached); and a `deploy` section per
/// deploy, its result and the time from its start to its end (to the rollback, for one
/// rolled back). Where a row has a clear best
/// (higher success rate and goodput; fewer failures, refusals, drops and waste; lower latency
/// and amplification; faster recovery) the best value is marked with `*` (and
/// coloured with [`Emphasis::Ansi`]); ties are all marked, and a row whose values all read
/// the same marks nothing. Undefined values print as `-`.
///
/// # Panics
/// If `meta.overrides` does not have one entry per run, or two runs share a name.
pub fn comparison_table(meta: &CompareMeta, runs: &[(String, RunOutput)], emphasis: Emphasis) -> String {
    check_runs(meta, runs);
    let stats: Vec<RunStats<'_>> = runs.iter().map(|(_, out)| RunStats::of(out)).collect();
    let m = &meta.scenario;
    let mut s = String::new();
    // Writing into a String cannot fail, so the fmt::Results below are discarded.
    let _ = writeln!(
        s,
        "squall compare  {} ({})  seed {}  scenario hash {:016x}",
        m.scenario, m.file, m.seed, m.scenario_hash
    );
    for ((name, out), overrides) in runs.iter().zip(&meta.overrides) {
        let what = if overrides.is_empty() { "no overrides".to_string() } else { overrides.join("  ") };
        let seed = if out.seed == m.seed { String::new() } else { format!(" (seed {})", out.seed) };
        let _ = writeln!(s, "variant {name}{seed}: {what}");
    }
    for (name, out) in runs {
        if out.stop != StopReason::Completed {
            let _ = writeln!(s, "!! {name} STOPPED EARLY: {}", stop_detail(out).unwrap_or_default());
        }
    }

    let mut rows = Vec::new();
    for client in union_names(runs, |o| o.clients.iter().map(|c| c.name.as_str()).collect()) {
        let per: Vec<Option<&ClientStats<'_>>> =
            stats.iter().map(|st| st.clients.iter().find(|c| c.out.name == client)).collect();
        client_rows(&mut rows, client, &per);
    }
    for service in union_names(runs, |o| o.services.iter().map(|v| v.name.as_str()).collect()) {
        let per: Vec<Option<&ServiceStats<'_>>> =
            stats.iter().map(|st| st.services.iter().find(|v| v.out.name == service)).collect();
        service_rows(&mut rows, service, &per);
    }
    // One section per call site whose policy does something in some variant.
    let sites =
        union_names_owned(stats.iter().map(|st| {
            st.policy_sites().filter(|(_, p)| p.active()).map(|(name, _)| name).collect::<Vec<_>>()
        }));
    for site in &sites {
        let per: Vec<Option<&PolicyStats<'_>>> =
            stats.iter().map(|st| st.policy_sites().find(|(n, _)| n == site).map(|(_, p)| p)).collect();
        policy_rows(&mut rows, site, &per);
    }
    let faults = union_names(runs, |o| o.faults.iter().map(|f| f.name.as_str()).collect());
    if !faults.is_empty() {
        rows.push(Row::Heading("recovery".to_string()));
        for fault in faults {
            let per: Vec<Option<&Recovery>> =
                stats.iter().map(|st| st.recovery.iter().find(|r| r.fault == fault)).collect();
            rows.push(metric(fault, Better::Lower, cells(&per, recovery_cell)));
        }
    }
    fleet::fleet_rows(&mut rows, runs);
    s.push_str(&layout(runs, &rows, emphasis));
    if runs.len() > 1 {
        s.push_str(
            "\n* best of the variants: more success and goodput, fewer failures, refusals and \
             drops,\nless waste, latency and amplification, faster recovery\n",
        );
    }
    s
}

/// `f` of each variant's entity, or `-` where a variant lacks it.
fn cells<T>(per: &[Option<&T>], f: impl Fn(&T) -> Cell) -> Vec<Cell> {
    per.iter().map(|e| e.map_or_else(Cell::missing, &f)).collect()
}

fn metric(label: &str, better: Better, cells: Vec<Cell>) -> Row {
    Row::Metric { label: format!("  {label}"), better, cells }
}

fn client_rows(rows: &mut Vec<Row>, name: &str, per: &[Option<&ClientStats<'_>>]) {
    rows.push(Row::Heading(format!("client {name}")));
    rows.push(metric(
        "issued",
        Better::Neither,
        cells(per, |c| Cell::new(thousands(c.out.issued), Some(c.out.issued as f64))),
    ));
    rows.push(metric(
        "success",
        Better::Higher,
        cells(per, |c| Cell::new(percent(c.success_rate), c.success_rate)),
    ));
    rows.push(metric(
        "goodput/s",
        Better::Higher,
        cells(per, |c| Cell::new(decimal(c.goodput_per_s, 2), c.goodput_per_s)),
    ));
    let failures = Outcome::ALL
        .into_iter()
        .filter(|o| !o.is_success() && per.iter().flatten().any(|c| c.out.outcomes.get(*o) > 0));
    for o in failures {
        rows.push(metric(
            o.name(),
            Better::Lower,
            cells(per, |c| {
                let share = c.share(o);
                Cell::new(format!("{} ({})", thousands(c.out.outcomes.get(o)), percent(share)), share)
            }),
        ));
    }
    let quantiles: [(&str, Quantile); 3] =
        [("p50", |l| l.p50_ms), ("p99", |l| l.p99_ms), ("p99.9", |l| l.p999_ms)];
    for (label, quantile_ms) in quantiles {
        rows.push(metric(
            label,
            Better::Lower,
            cells(per, |c| {
                let ms = quantile_ms(&c.latency_ok);
                Cell::new(human_ms(ms), ms)
            }),
        ));
    }
}

/// Picks one quantile, in ms, out of a latency summary.
type Quantile = fn(&Latency) -> Option<f64>;

fn service_rows(rows: &mut Vec<Row>, name: &str, per: &[Option<&ServiceStats<'_>>]) {
    rows.push(Row::Heading(format!("service {name}")));
    rows.push(metric(
        "util",
        Better::Neither,
        cells(per, |v| Cell::new(percent(v.utilisation), v.utilisation)),
    ));
    rows.push(metric(
        "thru/s",
        Better::Neither,
        cells(per, |v| Cell::new(decimal(v.throughput_per_s, 2), v.throughput_per_s)),
    ));
    rows.push(metric(
        "good/s",
        Better::Higher,
        cells(per, |v| Cell::new(decimal(v.goodput_per_s, 2), v.goodput_per_s)),
    ));
    rows.push(metric(
        "wasted work",
        Better::Lower,
        cells(per, |v| Cell::new(percent(v.wasted_share), v.wasted_share)),
    ));
    rows.push(metric(
        "dropped",
        Better::Lower,
        cells(per, |v| Cell::new(thousands(v.out.dropped), Some(v.out.dropped as f64))),
    ));
    let refusals =
        Outcome::ALL.into_iter().filter(|o| per.iter().flatten().any(|v| v.out.refusals.get(*o) > 0));
    for o in refusals {
        rows.push(metric(
            &format!("refused {}", o.name()),
            Better::Lower,
            cells(per, |v| {
                let n = v.out.refusals.get(o);
                Cell::new(thousands(n), Some(n as f64))
            }),
        ));
    }
}

/// Names in first-seen order over the variants.
fn union_names_owned(per_run: impl Iterator<Item = Vec<String>>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for names in per_run {
        for n in names {
            if !all.contains(&n) {
                all.push(n);
            }
        }
    }
    all
}

/// What one call site's policy did in each variant: attempts per logical request, what
/// limited them, fallbacks, and its breakers.
fn policy_rows(rows: &mut Vec<Row>, site: &str, per: &[Option<&PolicyStats<'_>>]) {
    rows.push(Row::Heading(format!("policy {site}")));
    rows.push(metric(
        "amplification",
        Better::Lower,
        cells(per, |p| {
            let text =
                p.amplification.map_or_else(|| "-".to_string(), |a| format!("{}x", decimal(Some(a), 2)));
            Cell::new(text, p.amplification)
        }),
    ));
    let counts: [(&str, SiteCount); 5] = [
        ("retries", |p| p.out.retries + p.out.hedges),
        ("retries denied", |p| p.out.retries_denied),
        ("short-circuited", |p| p.out.short_circuited),
        ("throttled", |p| p.out.throttled),
        ("fallbacks", |p| p.out.fallbacks),
    ];
    for (label, count) in counts {
        if per.iter().flatten().all(|p| count(p) == 0) {
            continue;
        }
        rows.push(metric(
            label,
            Better::Neither,
            cells(per, |p| Cell::new(thousands(count(p)), Some(count(p) as f64))),
        ));
    }
    if per.iter().flatten().any(|p| p.breaker.is_some()) {
        rows.push(metric(
            "breaker opens",
            Better::Neither,
            cells(per, |p| {
                let n = p.breaker.as_ref().map_or(0, |b| b.opens);
                Cell::new(thousands(n), Some(n as f64))
            }),
        ));
        rows.push(metric(
            "breaker open",
            Better::Neither,
            cells(per, |p| {
                let share = p.breaker.as_ref().and_then(|b| b.open_share);
                Cell::new(share.map_or_else(|| "-".to_string(), |x| format!("{:.2}%", 100.0 * x)), share)
            }),
        ));
    }
}

/// Picks one count out of a call site's policy figures.
type SiteCount = fn(&PolicyStats<'_>) -> u64;

/// Time to recover after a fault, ranked by seconds; `never` and `no baseline` rank last.
fn recovery_cell(r: &Recovery) -> Cell {
    match r.status() {
        RecoveryStatus::Recovered(d) => Cell::new(format!("{:.1} s", d.as_secs_f64()), Some(d.as_secs_f64())),
        RecoveryStatus::Never => Cell::new("never".to_string(), None),
        RecoveryStatus::NoBaseline => Cell::new("no baseline".to_string(), None),
    }
}

/// Which cells of a row are best: those that print like the best value, unless every
/// defined value prints the same (then nothing stands out). Comparing what is printed keeps
/// the marks consistent with what the reader sees: two values that print alike are tied.
fn best(better: Better, cells: &[Cell]) -> Vec<bool> {
    let defined = || cells.iter().filter_map(|c| c.value.map(|v| (v, c.text.as_str())));
    let pick = match better {
        Better::Neither => None,
        Better::Higher => defined().max_by(|a, b| a.0.total_cmp(&b.0)),
        Better::Lower => defined().min_by(|a, b| a.0.total_cmp(&b.0)),
    };
    let Some((_, best_text)) = pick else {
        return vec![false; cells.len()];
    };
    if defined().all(|(_, text)| text == best_text) {
        return vec![false; cells.len()];
    }
    cells.iter().map(|c| c.value.is_some() && c.text == best_text).collect()
}

/// Lays out the rows: the label column left-aligned, one right-aligned column per variant,
/// the same widths in every section so the variants line up down the whole table.
fn layout(runs: &[(String, RunOutput)], rows: &[Row], emphasis: Emphasis) -> String {
    let marked: Vec<Vec<bool>> = rows
        .iter()
        .map(|r| match r {
            Row::Heading(_) => Vec::new(),
            Row::Metric { better, cells, .. } => best(*better, cells),
        })
        .collect();
    let shown = |text: &str, is_best: bool| if is_best { format!("*{text}") } else { text.to_string() };
    let width = |s: &str| s.chars().count();
    let label_width = rows
        .iter()
        .map(|r| match r {
            Row::Heading(h) => width(h),
            Row::Metric { label, .. } => width(label),
        })
        .max()
        .unwrap_or(0);
    let col_widths: Vec<usize> = (0..runs.len())
        .map(|i| {
            let values = rows.iter().zip(&marked).filter_map(|(r, m)| match r {
                Row::Heading(_) => None,
                Row::Metric { cells, .. } => Some(width(&shown(&cells[i].text, m[i]))),
            });
            values.chain(std::iter::once(width(&runs[i].0))).max().unwrap_or(0)
        })
        .collect();

    let mut s = String::new();
    for (row, marks) in rows.iter().zip(&marked) {
        let mut line = String::new();
        match row {
            Row::Heading(h) => {
                s.push('\n');
                let _ = write!(line, "{h:<label_width$}");
                for ((name, _), w) in runs.iter().zip(&col_widths) {
                    let _ = write!(line, "  {name:>w$}");
                }
            }
            Row::Metric { label, cells, .. } => {
                let _ = write!(line, "{label:<label_width$}");
                for ((cell, is_best), w) in cells.iter().zip(marks).zip(&col_widths) {
                    let text = shown(&cell.text, *is_best);
                    // Pad by the visible width; escape codes take no room, so they wrap only
                    // the text.
                    let pad = w.saturating_sub(width(&text));
                    let _ = write!(line, "  {:pad$}", "");
                    if *is_best && emphasis == Emphasis::Ansi {
                        let _ = write!(line, "{ANSI_BEST}{text}{ANSI_RESET}");
                    } else {
                        line.push_str(&text);
                    }
                }
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{compare_meta, policy_variants, variants};

    fn table() -> String {
        comparison_table(&compare_meta(), &variants(), Emphasis::Plain)
    }

    /// The row labelled `label` in the section headed `section`.
    fn row<'a>(t: &'a str, section: &str, label: &str) -> Vec<&'a str> {
        let start =
            t.find(&format!("\n{section} ")).unwrap_or_else(|| panic!("no section {section} in\n{t}"));
        let line = t[start + 1..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .find(|l| l.trim_start().starts_with(&format!("{label}  ")))
            .unwrap_or_else(|| panic!("no row {label} in {section}:\n{t}"));
        let cells = line.trim_start()[label.len()..].trim();
        cells.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect()
    }

    #[test]
    fn the_header_names_the_scenario_and_what_makes_each_variant() {
        let t = table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "squall compare  retry-storm (scenarios/retry_storm.ron)  seed 42  scenario hash 00000000deadbeef");
        assert_eq!(lines[1], "variant baseline: no overrides");
        assert_eq!(lines[2], "variant db-x2: services.db.replicas=2  services.api.workers=6");
        assert!(!t.contains("!!"), "{t}");
        assert!(t.contains("\nclient web "), "{t}");
        assert!(t.contains("\nservice api "), "{t}");
        let heading = t.lines().find(|l| l.starts_with("client web")).unwrap();
        assert!(
            heading.ends_with("baseline     db-x2")
                || heading.split_whitespace().eq(["client", "web", "baseline", "db-x2"]),
            "{heading}"
        );
    }

    #[test]
    fn client_rows_mark_the_higher_success_rate_and_the_lower_latency() {
        let t = table();
        assert_eq!(row(&t, "client web", "issued"), ["1,010", "1,010"]);
        assert_eq!(row(&t, "client web", "success"), ["95.00%", "*99.00%"]);
        assert_eq!(row(&t, "client web", "goodput/s"), ["15.83", "*16.50"]);
        assert_eq!(row(&t, "client web", "p99"), ["100ms", "*50.0ms"]);
        assert_eq!(row(&t, "client web", "p99.9"), ["1.00s", "*500ms"]);
        assert_eq!(row(&t, "client web", "timeout"), ["30 (3.00%)", "*10 (1.00%)"]);
        assert_eq!(row(&t, "client web", "queue_full"), ["20 (2.00%)", "*0 (0.00%)"]);
    }

    #[test]
    fn outcomes_that_happened_in_no_variant_get_no_row() {
        let t = table();
        assert!(!t.contains("  shed"), "{t}");
        // batch never failed in either variant.
        let batch = &t[t.find("\nclient batch").unwrap()..t.find("\nservice api").unwrap()];
        assert!(!batch.contains("timeout"), "{batch}");
    }

    #[test]
    fn rows_that_read_the_same_in_every_variant_mark_nothing() {
        let t = table();
        assert_eq!(row(&t, "client batch", "success"), ["100.00%", "100.00%"]);
        assert_eq!(row(&t, "client batch", "p99"), ["5.00ms", "5.00ms"]);
        assert_eq!(row(&t, "service db", "util"), ["25.00%", "25.00%"]);
    }

    #[test]
    fn service_rows_show_goodput_waste_and_refusals() {
        let t = table();
        assert_eq!(row(&t, "service api", "util"), ["56.25%", "56.25%"], "utilisation is never ranked");
        assert_eq!(row(&t, "service api", "thru/s"), ["24.83", "25.17"], "throughput is never ranked");
        assert_eq!(row(&t, "service api", "good/s"), ["24.33", "*25.00"]);
        assert_eq!(row(&t, "service api", "wasted work"), ["1.00%", "*0.33%"]);
        assert_eq!(row(&t, "service api", "refused queue_full"), ["20", "*0"]);
        assert_eq!(row(&t, "service api", "dropped"), ["0", "0"]);
    }

    #[test]
    fn columns_line_up_across_sections() {
        let t = table();
        let ends: Vec<usize> = t
            .lines()
            .filter(|l| l.starts_with("  ") || l.starts_with("client") || l.starts_with("service"))
            .map(|l| l.chars().count())
            .collect();
        assert!(ends.iter().all(|e| *e == ends[0]), "{ends:?}\n{t}");
    }

    #[test]
    fn ansi_emphasis_colours_the_best_value_without_moving_the_columns() {
        let plain = table();
        let ansi = comparison_table(&compare_meta(), &variants(), Emphasis::Ansi);
        assert!(!plain.contains('\x1b'));
        assert!(
            ansi.contains(&format!("{ANSI_BEST} *99.00%{ANSI_RESET}"))
                || ansi.contains(&format!("{ANSI_BEST}*99.00%{ANSI_RESET}")),
            "{ansi}"
        );
        assert_eq!(ansi.replace(ANSI_BEST, "").replace(ANSI_RESET, ""), plain);
    }

    #[test]
    fn a_single_variant_marks_nothing() {
        let mut runs = variants();
        runs.truncate(1);
        let meta = CompareMeta { overrides: vec![Vec::new()], config_hashes: vec![1], ..compare_meta() };
        let t = comparison_table(&meta, &runs, Emphasis::Plain);
        assert!(!t.contains('*'), "{t}");
    }

    #[test]
    fn a_variant_that_stopped_early_says_so_and_a_missing_entity_prints_dashes() {
        let mut runs = variants();
        runs[1].1.stop = StopReason::EventLimit { limit: 1_000 };
        runs[1].1.clients.pop();
        let t = comparison_table(&compare_meta(), &runs, Emphasis::Plain);
        assert!(t.contains("!! db-x2 STOPPED EARLY: event limit of 1000 reached"), "{t}");
        assert_eq!(row(&t, "client batch", "success"), ["100.00%", "-"]);
        assert_eq!(row(&t, "client batch", "issued"), ["500", "-"]);
    }

    #[test]
    fn the_same_runs_give_the_same_text() {
        assert_eq!(table(), table());
    }

    #[test]
    fn variants_with_policies_compare_each_call_site() {
        let t = comparison_table(&compare_meta(), &policy_variants(), Emphasis::Plain);
        // web: 1,070 attempts for 1,010 requests with retries; api->db: 1,530 for 1,490 calls.
        assert_eq!(row(&t, "policy web", "amplification"), ["*1.00x", "1.06x"]);
        assert_eq!(row(&t, "policy web", "retries"), ["0", "60"]);
        assert_eq!(row(&t, "policy web", "short-circuited"), ["0", "14"]);
        assert_eq!(row(&t, "policy web", "breaker opens"), ["0", "2"]);
        assert_eq!(row(&t, "policy web", "breaker open"), ["-", "11.67%"]);
        assert_eq!(row(&t, "policy api->db", "retries denied"), ["0", "20"]);
        assert_eq!(row(&t, "policy api->db", "throttled"), ["0", "3"]);
        assert_eq!(row(&t, "policy api->db", "fallbacks"), ["0", "8"]);
        assert!(!t[t.find("policy api->db").unwrap()..].contains("breaker"), "no breaker, no breaker rows");
        assert!(!table().contains("\npolicy "), "no policy in any variant, no section");
    }

    #[test]
    fn recovery_is_compared_per_fault() {
        let t = comparison_table(&compare_meta(), &policy_variants(), Emphasis::Plain);
        assert_eq!(row(&t, "recovery", "db-slow"), ["*0.0 s", "5.0 s"]);
        assert_eq!(row(&t, "recovery", "cold-start"), ["-", "no baseline"]);
        assert_eq!(row(&t, "recovery", "api-leak"), ["-", "never"]);
        assert_eq!(row(&table(), "recovery", "db-slow"), ["0.0 s", "0.0 s"]);
        let ends: Vec<usize> = t.lines().filter(|l| l.starts_with("  ")).map(|l| l.chars().count()).collect();
        assert!(ends.iter().all(|e| *e == ends[0]), "{ends:?}\n{t}");
    }

    #[test]
    fn flows_versions_and_deploys_get_sections_when_a_variant_has_them() {
        let runs = crate::sample::fleet_variants();
        let t = comparison_table(&compare_meta(), &runs, Emphasis::Plain);
        assert_eq!(row(&t, "flow web", "started"), ["-", "210"]);
        assert_eq!(row(&t, "flow web", "success"), ["-", "95.00%"]);
        assert_eq!(row(&t, "versions api", "v1 answers"), ["-", "1,080"]);
        assert_eq!(row(&t, "versions api", "v2 errors"), ["-", "40 (10.00%)"]);
        assert_eq!(row(&t, "deploy api-v2", "result"), ["-", "rolled_back"]);
        assert_eq!(row(&t, "deploy api-v2", "start to end"), ["-", "15.000 s"]);
        let plain = table();
        for word in ["flow", "versions", "deploy"] {
            assert!(!plain.contains(&format!("\n{word} ")), "{word} in\n{plain}");
        }
    }
}
