//! Hand-built run outputs for the tests: the engine is not needed to test its reports.

use squall_kernel::time::{NS_PER_MS, NS_PER_S};
use squall_kernel::{SimDuration, SimTime};
use squall_model::Latencies;
use squall_model::{
    BreakerOutput, ClientBucket, ClientOutput, Conservation, DependencyOutput, DeployEvent, DeployOutput,
    DeployResult, FaultWindow, FleetOutput, FlowBucket, FlowOutput, FlowPath, FlowStepOutput, LatencySummary,
    Outcome, OutcomeCounts, PolicyBucket, PolicyOutput, RunOutput, ServedBy, ServiceBucket, ServiceOutput,
    StopReason, VersionBucket, VersionOutput, HIST_SIGFIG,
};

pub(crate) fn meta() -> crate::ReportMeta {
    crate::ReportMeta {
        scenario: "retry-storm".to_string(),
        file: "scenarios/retry_storm.ron".to_string(),
        seed: 42,
        scenario_hash: 0xdead_beef,
        config_hash: 0xc0ff_ee00,
        variant: None,
        overrides: Vec::new(),
        version: "0.0.0".to_string(),
    }
}

fn hist(sigfig: u8, samples: &[(u64, u64)]) -> Latencies {
    let mut h = Latencies::new(sigfig);
    for &(value_ns, n) in samples {
        h.record_n(value_ns, n);
    }
    h
}

pub(crate) fn counts(pairs: &[(Outcome, u64)]) -> OutcomeCounts {
    let mut c = OutcomeCounts::default();
    for &(o, n) in pairs {
        c.0[Outcome::ALL.iter().position(|x| *x == o).unwrap()] = n;
    }
    c
}

const MS: u64 = NS_PER_MS;
/// Seconds 20 to 40 are the incident: slower answers, timeouts, a full queue.
const INCIDENT: std::ops::Range<usize> = 20..40;

/// Two client groups and two services over 60 one-second buckets.
///
/// `web`: 1,010 issued, 1,000 ended: 950 ok (95 %), 30 timeouts (3 %), 20 queue full (2 %);
/// its successful latencies are 570 x 10 ms, 300 x 20 ms, 75 x 100 ms and 5 x 1 s, so
/// p50 = 10 ms, p90 = 20 ms, p99 = 100 ms, p99.9 = 1 s. `batch`: 500 requests, all ok in 5 ms,
/// none after second 50. `api` has 8 workers, busy 7.5 during the incident and 3 otherwise
/// (utilisation 56.25 %), mean queue 10 during the incident and 0.2 otherwise (3.4667 on
/// average); it refuses 20 requests (queue full) and serves 1,490, of which 30 (one a second
/// from second 20 to 49, 90 ms of work each) finish after their caller timed out: 1,460
/// useful, 2.7 s of its 270 busy worker-seconds wasted (1 %). `db` has 4 workers, one always
/// busy (25 %), all of it useful. `api` calls `db` 1,490 times: 1,480 ok in 2 ms, 10 timeouts,
/// 12 waits for a connection. A fault `db-slow` ("slow x5") hits `db` from 20 s to 40 s.
/// No call site has a policy beyond a timeout: one attempt per request, no policy series.
pub(crate) fn sample_output() -> RunOutput {
    let n_buckets = 60;
    let mut web_series = Vec::new();
    let mut batch_series = Vec::new();
    let mut api_series = Vec::new();
    let mut db_series = Vec::new();
    for i in 0..n_buckets {
        let incident = INCIDENT.contains(&i);
        let (issued, n_ok) = if i < 50 { (17, 16) } else { (16, 15) };
        let timeouts = u64::from((20..50).contains(&i));
        let queue_full = u64::from(incident);
        let base = if incident { 80 * MS } else { 10 * MS };
        web_series.push(ClientBucket {
            issued,
            outcomes: counts(&[
                (Outcome::Ok, n_ok),
                (Outcome::Timeout, timeouts),
                (Outcome::QueueFull, queue_full),
            ]),
            latency_ok: LatencySummary::with_sum(
                &hist(3, &[(base, n_ok - 4), (2 * base, 3), (10 * base, 1)]),
                u128::from((n_ok + 12) * base),
            ),
        });
        let batch_n = if i < 50 { 10 } else { 0 };
        batch_series.push(ClientBucket {
            issued: batch_n,
            outcomes: counts(&[(Outcome::Ok, batch_n)]),
            latency_ok: LatencySummary::with_sum(
                &hist(3, &[(5 * MS, batch_n)]),
                u128::from(batch_n * 5 * MS),
            ),
        });
        let arrivals = issued + batch_n;
        let busy_integral: u128 = if incident { 7_500_000_000 } else { 3_000_000_000 };
        let wasted_work_ns = u128::from(timeouts) * 90 * u128::from(MS);
        api_series.push(ServiceBucket {
            arrivals,
            completed: arrivals - queue_full,
            rejected: queue_full,
            dropped: 0,
            useful: arrivals - queue_full - timeouts,
            useful_work_ns: busy_integral - wasted_work_ns,
            wasted_work_ns,
            busy_integral,
            queue_integral: if incident { 10_000_000_000 } else { 200_000_000 },
            queue_max: if incident { 12 } else { 3 },
        });
        db_series.push(ServiceBucket {
            arrivals: arrivals - queue_full,
            completed: arrivals - queue_full,
            rejected: 0,
            dropped: 0,
            useful: arrivals - queue_full,
            useful_work_ns: u128::from(NS_PER_S),
            wasted_work_ns: 0,
            busy_integral: u128::from(NS_PER_S),
            queue_integral: 0,
            queue_max: 0,
        });
    }

    let web = ClientOutput {
        name: "web".to_string(),
        issued: 1_010,
        outcomes: counts(&[(Outcome::Ok, 950), (Outcome::Timeout, 30), (Outcome::QueueFull, 20)]),
        latency_ok: hist(HIST_SIGFIG, &[(10 * MS, 570), (20 * MS, 300), (100 * MS, 75), (1_000 * MS, 5)]),
        latency_all: hist(
            HIST_SIGFIG,
            &[(50_000, 20), (10 * MS, 570), (20 * MS, 300), (100 * MS, 75), (1_000 * MS, 35)],
        ),
        series: web_series,
        policy: PolicyOutput {
            attempts: 1_010,
            attempt_outcomes: counts(&[(Outcome::Ok, 950), (Outcome::Timeout, 30), (Outcome::QueueFull, 20)]),
            ..PolicyOutput::default()
        },
        served_by: Vec::new(),
        flow: None,
    };
    let batch = ClientOutput {
        name: "batch".to_string(),
        issued: 500,
        outcomes: counts(&[(Outcome::Ok, 500)]),
        latency_ok: hist(HIST_SIGFIG, &[(5 * MS, 500)]),
        latency_all: hist(HIST_SIGFIG, &[(5 * MS, 500)]),
        series: batch_series,
        policy: PolicyOutput {
            attempts: 500,
            attempt_outcomes: counts(&[(Outcome::Ok, 500)]),
            ..PolicyOutput::default()
        },
        served_by: Vec::new(),
        flow: None,
    };
    let sum = |s: &[ServiceBucket], f: fn(&ServiceBucket) -> u128| s.iter().map(f).sum::<u128>();
    let api_completed = api_series.iter().map(|b| b.completed).sum::<u64>();
    let api = ServiceOutput {
        name: "api".to_string(),
        instances: 2,
        workers: 8,
        arrivals: api_series.iter().map(|b| b.arrivals).sum(),
        completed: api_completed,
        rejected: api_series.iter().map(|b| b.rejected).sum(),
        refusals: counts(&[(Outcome::QueueFull, 20)]),
        dropped: 0,
        useful: api_series.iter().map(|b| b.useful).sum(),
        useful_work_ns: sum(&api_series, |b| b.useful_work_ns),
        waited: 300,
        wait: hist(HIST_SIGFIG, &[(0, api_completed - 300), (5 * MS, 300)]),
        wait_ns_sum: 300 * 5 * u128::from(MS),
        sojourn: hist(HIST_SIGFIG, &[(15 * MS, api_completed)]),
        sojourn_ns_sum: u128::from(api_completed) * 15 * u128::from(MS),
        busy_integral: sum(&api_series, |b| b.busy_integral),
        queue_integral: sum(&api_series, |b| b.queue_integral),
        in_system_integral: sum(&api_series, |b| b.busy_integral + b.queue_integral),
        queue_max: 12,
        wasted_work_ns: sum(&api_series, |b| b.wasted_work_ns),
        series: api_series,
        fleet: Default::default(),
    };
    let db_completed = db_series.iter().map(|b| b.completed).sum::<u64>();
    let db = ServiceOutput {
        name: "db".to_string(),
        instances: 1,
        workers: 4,
        arrivals: db_completed,
        completed: db_completed,
        rejected: 0,
        refusals: OutcomeCounts::default(),
        dropped: 0,
        useful: db_completed,
        useful_work_ns: sum(&db_series, |b| b.useful_work_ns),
        waited: 0,
        wait: hist(HIST_SIGFIG, &[(0, db_completed)]),
        wait_ns_sum: 0,
        sojourn: hist(HIST_SIGFIG, &[(2 * MS, db_completed)]),
        sojourn_ns_sum: u128::from(db_completed) * 2 * u128::from(MS),
        busy_integral: sum(&db_series, |b| b.busy_integral),
        queue_integral: 0,
        in_system_integral: sum(&db_series, |b| b.busy_integral),
        queue_max: 0,
        wasted_work_ns: 0,
        series: db_series,
        fleet: Default::default(),
    };
    RunOutput {
        seed: 42,
        duration: SimDuration::from_secs(60),
        end: SimTime(60 * NS_PER_S),
        stop: StopReason::Completed,
        n_events: 123_456,
        bucket_width: SimDuration::from_secs(1),
        clients: vec![web, batch],
        services: vec![api, db],
        dependencies: vec![DependencyOutput {
            caller: "api".to_string(),
            callee: "db".to_string(),
            calls: 1_490,
            outcomes: counts(&[(Outcome::Ok, 1_480), (Outcome::Timeout, 10)]),
            cache_hits: 0,
            waited: 12,
            latency_ok: hist(HIST_SIGFIG, &[(2 * MS, 1_480)]),
            policy: PolicyOutput {
                attempts: 1_490,
                attempt_outcomes: counts(&[(Outcome::Ok, 1_480), (Outcome::Timeout, 10)]),
                ..PolicyOutput::default()
            },
            calls_series: Vec::new(),
        }],
        faults: vec![FaultWindow {
            name: "db-slow".to_string(),
            service: "db".to_string(),
            what: "slow x5".to_string(),
            start: SimTime(20 * NS_PER_S),
            end: SimTime(40 * NS_PER_S),
            fired: 1,
        }],
        conservation: Conservation { issued: 1_510, ended: 1_500, in_flight: 10 },
        warmup: None,
        deploys: Vec::new(),
    }
}

/// A run that did nothing: zero elapsed time, zero workers, empty histograms and series.
pub(crate) fn zero_output() -> RunOutput {
    let empty = || Latencies::new(HIST_SIGFIG);
    RunOutput {
        seed: 0,
        duration: SimDuration::ZERO,
        end: SimTime::ZERO,
        stop: StopReason::Completed,
        n_events: 0,
        bucket_width: SimDuration::ZERO,
        clients: vec![ClientOutput {
            name: "nobody".to_string(),
            issued: 0,
            outcomes: OutcomeCounts::default(),
            latency_ok: empty(),
            latency_all: empty(),
            series: Vec::new(),
            policy: PolicyOutput::default(),
            served_by: Vec::new(),
            flow: None,
        }],
        services: vec![ServiceOutput {
            name: "idle".to_string(),
            instances: 0,
            workers: 0,
            arrivals: 0,
            completed: 0,
            rejected: 0,
            refusals: OutcomeCounts::default(),
            dropped: 0,
            useful: 0,
            useful_work_ns: 0,
            waited: 0,
            wait: empty(),
            wait_ns_sum: 0,
            sojourn: empty(),
            sojourn_ns_sum: 0,
            busy_integral: 0,
            queue_integral: 0,
            in_system_integral: 0,
            queue_max: 0,
            wasted_work_ns: 0,
            series: Vec::new(),
            fleet: Default::default(),
        }],
        dependencies: Vec::new(),
        faults: Vec::new(),
        conservation: Conservation { issued: 0, ended: 0, in_flight: 0 },
        warmup: None,
        deploys: Vec::new(),
    }
}

/// The overrides of [`variants`], in order.
pub(crate) fn compare_meta() -> crate::CompareMeta {
    crate::CompareMeta {
        scenario: meta(),
        overrides: vec![
            Vec::new(),
            vec!["services.db.replicas=2".to_string(), "services.api.workers=6".to_string()],
        ],
        config_hashes: vec![0xc0ff_ee00, 0xc0ff_ee01],
        set: Vec::new(),
    }
}

/// Two variants of [`sample_output`]: `baseline` is it unchanged; `db-x2` refuses nothing
/// (its queue-full requests succeed instead), times out 10 requests instead of 30, answers in
/// half the time (p99 50 ms, p99.9 500 ms) and wastes 0.9 s of work instead of 2.7 s. `batch`
/// is the same in both.
pub(crate) fn variants() -> Vec<(String, RunOutput)> {
    let mut better = sample_output();
    let web = &mut better.clients[0];
    web.outcomes = counts(&[(Outcome::Ok, 990), (Outcome::Timeout, 10)]);
    web.latency_ok = hist(HIST_SIGFIG, &[(5 * MS, 594), (10 * MS, 297), (50 * MS, 94), (500 * MS, 5)]);
    web.latency_all = hist(HIST_SIGFIG, &[(5 * MS, 594), (10 * MS, 297), (50 * MS, 94), (500 * MS, 15)]);
    for (i, b) in web.series.iter_mut().enumerate() {
        let queue_full = b.outcomes.get(Outcome::QueueFull);
        let timeouts = u64::from((20..30).contains(&i));
        let ok = b.outcomes.get(Outcome::Ok) + queue_full + b.outcomes.get(Outcome::Timeout) - timeouts;
        b.outcomes = counts(&[(Outcome::Ok, ok), (Outcome::Timeout, timeouts)]);
        let l = &mut b.latency_ok;
        *l = LatencySummary {
            count: ok,
            sum_ns: l.sum_ns * u128::from(ok) / u128::from(l.count.max(1)) / 2,
            p50_ns: l.p50_ns / 2,
            p90_ns: l.p90_ns / 2,
            p99_ns: l.p99_ns / 2,
            p999_ns: l.p999_ns / 2,
            max_ns: l.max_ns / 2,
        };
    }
    let api = &mut better.services[0];
    api.completed += api.rejected;
    api.useful = api.completed - 10;
    api.rejected = 0;
    api.refusals = OutcomeCounts::default();
    api.wasted_work_ns = 900_000_000;
    api.useful_work_ns = api.busy_integral - api.wasted_work_ns;
    for (i, b) in api.series.iter_mut().enumerate() {
        let timeouts = u64::from((20..30).contains(&i));
        b.completed += b.rejected;
        b.rejected = 0;
        b.useful = b.completed - timeouts;
        b.wasted_work_ns = u128::from(timeouts) * 90 * u128::from(MS);
        b.useful_work_ns = b.busy_integral - b.wasted_work_ns;
    }
    better.conservation = Conservation { issued: 1_510, ended: 1_500, in_flight: 10 };
    vec![("baseline".to_string(), sample_output()), ("db-x2".to_string(), better)]
}

/// [`sample_output`] with client policies at work, and three fault windows.
///
/// `web` retries 3 times a second during the incident (20 s to 40 s): 60 retries, 1,070
/// attempts for 1,010 requests (amplification 1.059406). Its one breaker opens twice: open
/// from 25.5 s to 30 s, half-open to 30.5 s, open again to 33 s, half-open to 34 s, closed
/// otherwise (7 s open, 1.5 s half-open, 51.5 s closed: open 11.67 % of the time); it
/// short-circuits 2 attempts per second open (14). Its fallback answers the requests that
/// timed out from 40 s to 50 s: 10 degraded (960 of 1,000 ended are successes, 40 errors).
/// `batch` has no policy, but stalls from 20 s to 45 s: 250 of its 500 requests time out.
/// `api` retries `db` twice a second during the incident (40 retries, 1,530 attempts for
/// 1,490 calls, amplification 1.026846) and its budget denies one retry a second (20);
/// adaptive throttling refuses 3 attempts at 35 s; 8 calls are served by the fallback, 2
/// time out.
///
/// Goodput (ok and degraded of both groups) is 26/s before 20 s, 16/s to 40 s, 17/s to 45 s,
/// 27/s to 50 s and 15/s after. So `cold-start` (0 s to 5 s) has no baseline, `db-slow` (20 s
/// to 40 s; baseline 26/s) recovers 5 s after it ends, at 45 s, and `api-leak` (50 s to 55 s;
/// baseline 21.2/s over the 50 s before it) never does.
pub(crate) fn policy_output() -> RunOutput {
    let mut out = sample_output();
    let s = u128::from(NS_PER_S);
    let web = &mut out.clients[0];
    web.outcomes = counts(&[
        (Outcome::Ok, 950),
        (Outcome::Degraded, 10),
        (Outcome::Timeout, 20),
        (Outcome::QueueFull, 20),
    ]);
    for b in &mut web.series[40..50] {
        b.outcomes = counts(&[(Outcome::Ok, b.outcomes.get(Outcome::Ok)), (Outcome::Degraded, 1)]);
    }
    let open_ns = |i: usize| match i {
        25 | 30 => s / 2,
        26..=29 | 31 | 32 => s,
        _ => 0,
    };
    let half_open_ns = |i: usize| match i {
        30 => s / 2,
        33 => s,
        _ => 0,
    };
    let web_series = web
        .series
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let retries = if INCIDENT.contains(&i) { 3 } else { 0 };
            PolicyBucket {
                attempts: b.issued + retries,
                retries,
                short_circuited: (open_ns(i) * 2 / s) as u64,
                breaker_open_ns: open_ns(i),
                breaker_half_open_ns: half_open_ns(i),
                ..PolicyBucket::default()
            }
        })
        .collect();
    web.policy = PolicyOutput {
        attempts: 1_070,
        retries: 60,
        hedges: 0,
        retries_denied: 0,
        throttled: 0,
        short_circuited: 14,
        fallbacks: 10,
        attempt_outcomes: counts(&[
            (Outcome::Ok, 1_010),
            (Outcome::Timeout, 40),
            (Outcome::QueueFull, 20),
            (Outcome::CircuitOpen, 14),
        ]),
        breaker: Some(BreakerOutput { breakers: 1, opens: 2, state_ns: [51 * s + s / 2, 7 * s, s + s / 2] }),
        series: web_series,
    };

    let batch = &mut out.clients[1];
    batch.outcomes = counts(&[(Outcome::Ok, 250), (Outcome::Timeout, 250)]);
    batch.latency_ok = hist(HIST_SIGFIG, &[(5 * MS, 250)]);
    for b in &mut batch.series[20..45] {
        b.outcomes = counts(&[(Outcome::Timeout, 10)]);
        b.latency_ok = LatencySummary::default();
    }
    batch.policy.attempt_outcomes = batch.outcomes.clone();

    let calls_series: Vec<u64> = out.services[1].series.iter().map(|b| b.arrivals).collect();
    let dep = &mut out.dependencies[0];
    dep.outcomes = counts(&[(Outcome::Ok, 1_480), (Outcome::Degraded, 8), (Outcome::Timeout, 2)]);
    let dep_series = calls_series
        .iter()
        .enumerate()
        .map(|(i, calls)| {
            let incident = u64::from(INCIDENT.contains(&i));
            PolicyBucket {
                attempts: calls + 2 * incident,
                retries: 2 * incident,
                retries_denied: incident,
                throttled: if i == 35 { 3 } else { 0 },
                ..PolicyBucket::default()
            }
        })
        .collect();
    dep.policy = PolicyOutput {
        attempts: 1_530,
        retries: 40,
        hedges: 0,
        retries_denied: 20,
        throttled: 3,
        short_circuited: 0,
        fallbacks: 8,
        attempt_outcomes: counts(&[(Outcome::Ok, 1_480), (Outcome::Timeout, 47), (Outcome::Throttled, 3)]),
        breaker: None,
        series: dep_series,
    };
    dep.calls_series = calls_series;

    let window = |name: &str, service: &str, what: &str, start_s: u64, end_s: u64| FaultWindow {
        name: name.to_string(),
        service: service.to_string(),
        what: what.to_string(),
        start: SimTime(start_s * NS_PER_S),
        end: SimTime(end_s * NS_PER_S),
        fired: 1,
    };
    out.faults = vec![
        window("cold-start", "api", "slow x2", 0, 5),
        window("db-slow", "db", "slow x5", 20, 40),
        window("api-leak", "api", "fail 30% ServerError", 50, 55),
    ];
    out
}

/// Two variants: `baseline` is [`sample_output`], `retries` is [`policy_output`] (use with
/// [`compare_meta`]).
pub(crate) fn policy_variants() -> Vec<(String, RunOutput)> {
    vec![("baseline".to_string(), sample_output()), ("retries".to_string(), policy_output())]
}

/// [`sample_output`] with a canary of `api` that rolls back, and a flow.
///
/// `api` runs `v1` (two instances ready throughout, one during the canary; 18 answers a
/// second, 2 of them errors from 20 s to 40 s: 1,080 answers, 40 errors) and `v2` (starting
/// from 30 s, ready from 32 s to 45 s, terminating to 47 s; 40 answers a second from 35 s to
/// 45 s, 4 of them server errors: 400 answers, 40 errors, 10 %). One instance was created, one
/// crashed and restarted, 3 requests were refused while not accepting; the endpoints held both
/// versions from 35 s to 45 s (10 s of skew); 520 worker-seconds of capacity (8.67 workers on
/// average). `web` was served 750 times by `v1` and 250 times by `v2`, and runs a two-step
/// flow: 210 started, 190 completed, 10 failed (10 in flight, 95 % success), failing 1 a
/// second from 35 s to 45 s. The deploy `api-v2` (canary) starts at 30 s, weighs 20 % at
/// 35 s, aborts at 40 s and has rolled back at 45 s.
pub(crate) fn fleet_output() -> RunOutput {
    let mut out = sample_output();
    let v1_series = (0..60)
        .map(|i| VersionBucket {
            ready: if (30..45).contains(&i) { 1 } else { 2 },
            answers: 18,
            errors: if INCIDENT.contains(&i) { 2 } else { 0 },
            ..VersionBucket::default()
        })
        .collect();
    let v2_series = (0..60)
        .map(|i| {
            let answering = u64::from((35..45).contains(&i));
            VersionBucket {
                starting: u32::from((30..32).contains(&i)),
                ready: u32::from((32..45).contains(&i)),
                terminating: u32::from((45..47).contains(&i)),
                answers: 40 * answering,
                errors: 4 * answering,
                ..VersionBucket::default()
            }
        })
        .collect();
    let s = |secs: u64| SimTime(secs * NS_PER_S);
    out.services[0].fleet = FleetOutput {
        versions: vec![
            VersionOutput {
                name: "v1".to_string(),
                answers: counts(&[(Outcome::Ok, 1_040), (Outcome::Timeout, 40)]),
                series: v1_series,
            },
            VersionOutput {
                name: "v2".to_string(),
                answers: counts(&[(Outcome::Ok, 360), (Outcome::ServerError, 40)]),
                series: v2_series,
            },
        ],
        created: 1,
        crashes: 1,
        probe_kills: 0,
        restarts: 1,
        refused_not_accepting: 3,
        skew_ns: 10 * NS_PER_S,
        skew_windows: vec![(s(35), s(45))],
        capacity_integral: 520 * u128::from(NS_PER_S),
        ..FleetOutput::default()
    };
    let web = &mut out.clients[0];
    web.served_by = vec![
        ServedBy {
            service: "api".to_string(),
            version: "v1".to_string(),
            outcomes: counts(&[(Outcome::Ok, 700), (Outcome::Timeout, 30), (Outcome::QueueFull, 20)]),
        },
        ServedBy {
            service: "api".to_string(),
            version: "v2".to_string(),
            outcomes: counts(&[(Outcome::Ok, 250)]),
        },
    ];
    let path = |versions: &[&str], completed, failed| FlowPath {
        versions: versions.iter().map(|v| v.to_string()).collect(),
        completed,
        failed,
    };
    web.flow = Some(FlowOutput {
        started: 210,
        completed: 190,
        failed: 10,
        steps: vec![
            FlowStepOutput {
                name: "login".to_string(),
                run: 210,
                skipped: 0,
                outcomes: counts(&[(Outcome::Ok, 205), (Outcome::Timeout, 5)]),
            },
            FlowStepOutput {
                name: "pay".to_string(),
                run: 195,
                skipped: 10,
                outcomes: counts(&[(Outcome::Ok, 190), (Outcome::ServerError, 5)]),
            },
        ],
        paths: vec![path(&["v1", "v1"], 150, 2), path(&["v1", "v2"], 40, 3), path(&["v1", "-"], 0, 5)],
        series: (0..60)
            .map(|i| FlowBucket {
                started: if i < 30 { 3 } else { 4 },
                completed: if i < 50 { 3 } else { 4 },
                failed: u64::from((35..45).contains(&i)),
            })
            .collect(),
    });
    let event = |secs, what: &str| DeployEvent { at: s(secs), what: what.to_string() };
    out.deploys = vec![DeployOutput {
        name: "api-v2".to_string(),
        service: "api".to_string(),
        version: "v2".to_string(),
        strategy: "canary".to_string(),
        result: DeployResult::RolledBack,
        min_available: 9,
        max_pods: 11,
        events: vec![
            event(30, "start"),
            event(35, "weight 20%"),
            event(40, "abort: error rate 10.0%"),
            event(45, "rolled back"),
        ],
    }];
    out
}

/// Two variants: `baseline` is [`sample_output`], `canary` is [`fleet_output`] (use with
/// [`compare_meta`]).
pub(crate) fn fleet_variants() -> Vec<(String, RunOutput)> {
    vec![("baseline".to_string(), sample_output()), ("canary".to_string(), fleet_output())]
}
