//! `fleet.csv` and `flows.csv`: long tables of versions and flows per bucket, written only
//! for runs that have them (so `timeseries.csv` keeps its columns).
//!
//! `fleet.csv` has one row per bucket, reported service (see [`crate::fleet`]) and version:
//! `t_s`, `service`, `version`, `starting`, `ready`, `not_ready`, `terminating` (instances at
//! the end of the bucket), `answers` and `errors` (answers its instances gave in the bucket,
//! and the failures among them). `flows.csv` has one row per bucket and client group with a
//! flow: `t_s`, `client`, `started` (by start time), `completed` and `failed` (by end time).

use super::push_row;
use crate::fleet::{fleet_services, flow_bucket, flow_clients, version_bucket};
use crate::format::{csv_field, fixed};
use crate::series::{spans, Span};
use squall_model::RunOutput;

const FLEET_COLUMNS: [&str; 9] =
    ["t_s", "service", "version", "starting", "ready", "not_ready", "terminating", "answers", "errors"];
const FLOW_COLUMNS: [&str; 5] = ["t_s", "client", "started", "completed", "failed"];

/// `fleet.csv`, or `None` when no service reports a fleet.
pub fn fleet_csv(out: &RunOutput) -> Option<String> {
    let services = fleet_services(out);
    long_csv(out, !services.is_empty(), &FLEET_COLUMNS, |span| {
        let versions = services.iter().flat_map(|s| s.fleet.versions.iter().map(move |v| (s, v)));
        versions
            .map(|(s, v)| {
                let b = version_bucket(v, span);
                let mut row = vec![csv_field(&s.name), csv_field(&v.name)];
                row.extend([b.starting, b.ready, b.not_ready, b.terminating].map(|n| n.to_string()));
                row.extend([b.answers, b.errors].map(|n| n.to_string()));
                row
            })
            .collect()
    })
}

/// `flows.csv`, or `None` when no client group runs a flow.
pub fn flows_csv(out: &RunOutput) -> Option<String> {
    let clients = flow_clients(out);
    long_csv(out, !clients.is_empty(), &FLOW_COLUMNS, |span| {
        clients
            .iter()
            .map(|(name, f)| {
                let b = flow_bucket(f, span);
                let mut row = vec![csv_field(name)];
                row.extend([b.started, b.completed, b.failed].map(|n| n.to_string()));
                row
            })
            .collect()
    })
}

/// A long table: `columns`, then per reported bucket the rows `rows` gives, each after the
/// bucket's start; `None` unless `shown`.
fn long_csv(
    out: &RunOutput,
    shown: bool,
    columns: &[&str],
    rows: impl Fn(&Span) -> Vec<Vec<String>>,
) -> Option<String> {
    if !shown {
        return None;
    }
    let mut csv = String::new();
    push_row(&mut csv, columns.iter().map(|c| c.to_string()).collect(), columns.len());
    for span in spans(out) {
        for cells in rows(&span) {
            let mut row = vec![fixed(span.start_s())];
            row.extend(cells);
            push_row(&mut csv, row, columns.len());
        }
    }
    Some(csv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{fleet_output, policy_output, sample_output};

    #[test]
    fn fleet_rows_give_instances_by_state_and_answers_per_version() {
        let csv = fleet_csv(&fleet_output()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "t_s,service,version,starting,ready,not_ready,terminating,answers,errors");
        assert_eq!(lines.len(), 1 + 60 * 2, "api only, two versions");
        assert_eq!(lines[1], "0.000000,api,v1,0,2,0,0,18,0");
        assert_eq!(lines[1 + 2 * 36 + 1], "36.000000,api,v2,0,1,0,0,40,4");
        assert_eq!(lines[1 + 2 * 30 + 1], "30.000000,api,v2,1,0,0,0,0,0");
    }

    #[test]
    fn flow_rows_give_started_completed_and_failed() {
        let csv = flows_csv(&fleet_output()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "t_s,client,started,completed,failed");
        assert_eq!(lines.len(), 61);
        assert_eq!(lines[36], "35.000000,web,4,3,1");
    }

    #[test]
    fn runs_without_fleets_or_flows_write_neither_file() {
        for out in [sample_output(), policy_output()] {
            assert_eq!(fleet_csv(&out), None);
            assert_eq!(flows_csv(&out), None);
        }
    }
}
