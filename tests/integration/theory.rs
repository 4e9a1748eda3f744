//! The engine against queueing theory: each system is run as independent replications (one
//! seed each), every replication gives one estimate, and the mean of those estimates must match
//! the closed form within a tolerance derived from their spread. Little's law is checked on every
//! run.
//!
//! How a comparison is judged (see `compare`):
//! - `REPLICATIONS` = 30 runs give the estimate's mean and standard error SE = s / sqrt(30).
//! - Accepted when |mean - theory| < `Z` * SE with `Z` = 4. With the SE itself estimated from 30
//!   samples the statistic follows Student's t with 29 degrees of freedom, and
//!   P(|t_29| > 4) = 4.0e-4: a correct engine fails a given comparison with that probability.
//!   Seeds are fixed, so a run is deterministic: the risk is taken again only by engine changes
//!   that reshuffle the random streams (22 comparisons here, about 1 % for the whole module).
//! - Sharp enough only when (`Z` + 2) * SE <= 3 % of theory. A 3 % bias then lands at least
//!   2 SE outside the acceptance band, so it fails with probability above 97 % (the brief's
//!   "a 3 % bias fails"); `Z` * SE < 3 % alone would catch it only about half of the time.
//!
//! Run lengths come from the measured spread of each estimator: they aim at SE near 0.25 % of
//! theory, about half of the 0.5 % that sharpness allows, because the SE is itself estimated
//! from 30 samples (about 15 % relative spread, more for the heavy-tailed wait estimates).
//!
//! Start-up and end effects. Runs start empty and include the transient (there is no warm-up):
//! `replicate` asserts that 3 tau / T <= 0.1 %, where tau is the relaxation time (or a bound on
//! it, see `System::relaxation_s`) and T the length of a replication. The factor 3 comes from an
//! exact birth-death computation of the integrated deficit of the measured quantity in a system
//! started empty, which is the start-up bias times T: 0.26 to 0.51 Lq tau for M/M/1 at rho = 0.5
//! to 0.95; at most 2.03 Lq tau for M/M/8 at rho = 0.5 to 0.95 (the largest at 0.5); 0.8 to 1.8
//! B tau for the Erlang B cases; 1.6 P_K tau for M/M/1/5. A start-up bias under 0.1 % is a
//! fifteenth of the acceptance half-width. Requests still in flight at the end are
//! left out of the wait and sojourn statistics; they are about L of lambda T customers, a
//! relative effect near W / T, below 1e-4 here.
//!
//! Time unit: the mean service time is 10 ms (mu = 100 per second).

use squall_kernel::{Dist, SimDuration};
use squall_model::{
    run, ArrivalProcess, BalancerKind, ClientConfig, Criticality, EndpointConfig, EndpointId, Limits, Load,
    ModelConfig, QueueConfig, RateSchedule, RunOutput, ServiceConfig, ServiceId, ServiceOutput, StopReason,
};

/// Service rate of one worker, per second (mean service 10 ms).
const MU_PER_S: f64 = 100.0;
/// Mean service time, ns.
const SERVICE_MEAN_NS: f64 = 1e9 / MU_PER_S;
/// Independent replications per system.
const REPLICATIONS: u64 = 30;
/// Acceptance half-width in standard errors: P(|t_29| > 4) = 4.0e-4.
const Z: f64 = 4.0;
/// Relative bias that must fail: the brief asks that a 3 % bias be caught.
const DETECTABLE_BIAS: f64 = 0.03;
/// Largest start-up bias accepted, relative (a fifteenth of the acceptance half-width).
const STARTUP_BIAS_MAX: f64 = 0.001;
/// A queue "large" enough never to fill: equal to the in-flight limit, and every run asserts
/// that nothing was refused.
const QUEUE_UNBOUNDED: u32 = 1_000_000;

// ---- closed forms ----

/// Mean wait in queue of M/M/1, seconds: rho / (mu - lambda).
fn mm1_wait_s(lambda: f64, mu: f64) -> f64 {
    assert!(lambda < mu, "M/M/1 is unstable at lambda {lambda} >= mu {mu}");
    (lambda / mu) / (mu - lambda)
}

/// Mean wait in queue of M/D/1, seconds (Pollaczek-Khinchine with no service variance):
/// rho / (2 mu (1 - rho)).
fn md1_wait_s(lambda: f64, mu: f64) -> f64 {
    assert!(lambda < mu, "M/D/1 is unstable at lambda {lambda} >= mu {mu}");
    let rho = lambda / mu;
    rho / (2.0 * mu * (1.0 - rho))
}

/// Erlang B: the probability that an arrival finds all `c` servers busy in M/M/c/c with offered
/// load `a` = lambda / mu, by the stable recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)).
fn erlang_b(c: u32, a: f64) -> f64 {
    assert!(a >= 0.0, "offered load must be >= 0, got {a}");
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C: the probability that an arrival waits in M/M/c with offered load `a` < c,
/// from Erlang B: C = c B / (c - a (1 - B)).
fn erlang_c(c: u32, a: f64) -> f64 {
    assert!(a < f64::from(c), "M/M/{c} is unstable at offered load {a}");
    let b = erlang_b(c, a);
    let c = f64::from(c);
    c * b / (c - a * (1.0 - b))
}

/// Mean wait in queue of M/M/c, seconds: C(c, a) / (c mu - lambda).
fn mmc_wait_s(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda)
}

/// Blocking probability of M/M/1/K (K places in all, one in service):
/// P_K = (1 - rho) rho^K / (1 - rho^(K+1)), and 1 / (K + 1) at rho = 1.
fn mm1k_blocking(rho: f64, k: u32) -> f64 {
    assert!(rho >= 0.0, "load must be >= 0, got {rho}");
    let k = i32::try_from(k).expect("K fits i32");
    if (rho - 1.0).abs() < 1e-12 {
        return 1.0 / f64::from(k + 1);
    }
    (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1))
}

/// The `q` quantile of the M/M/1 sojourn time, seconds: it is Exp(mu - lambda).
fn mm1_sojourn_quantile_s(lambda: f64, mu: f64, q: f64) -> f64 {
    assert!(lambda < mu, "M/M/1 is unstable at lambda {lambda} >= mu {mu}");
    -(1.0 - q).ln() / (mu - lambda)
}

// ---- the systems and their runs ----

/// One queueing system fed by one Poisson client, replicated `REPLICATIONS` times.
struct System {
    /// Kendall-style name, for messages.
    name: &'static str,
    /// Arrival rate, per second.
    lambda: f64,
    /// Service time law, ns (mean `SERVICE_MEAN_NS`).
    work: Dist,
    replicas: u32,
    workers: u32,
    queue: QueueConfig,
    /// Simulated length of one replication.
    replication_s: u64,
    /// Seeds are `seed_base..seed_base + REPLICATIONS`; distinct bases keep the systems'
    /// verdicts independent of each other.
    seed_base: u64,
}

impl System {
    /// FIFO queues that never fill, served by `replicas` x `workers` workers: one queue for
    /// the service if `shared`, else one per instance.
    fn unbounded(
        name: &'static str,
        lambda: f64,
        work: Dist,
        replicas: u32,
        workers: u32,
        shared: bool,
    ) -> System {
        System {
            name,
            lambda,
            work,
            replicas,
            workers,
            queue: QueueConfig::fifo(QUEUE_UNBOUNDED, shared),
            replication_s: 0,
            seed_base: 0,
        }
    }

    fn config(&self, seed: u64) -> ModelConfig {
        let duration = SimDuration::from_secs(self.replication_s);
        ModelConfig {
            seed,
            duration,
            // Time series do not matter here; a few buckets keep the output small.
            bucket_width: SimDuration::from_secs(self.replication_s / 10),
            limits: Limits::default(),
            services: vec![ServiceConfig::new(
                "server",
                self.replicas,
                self.workers,
                self.queue.clone(),
                BalancerKind::RoundRobin,
                vec![EndpointConfig::work("work", self.work.clone())],
            )],
            clients: vec![ClientConfig {
                name: "poisson".into(),
                service: ServiceId(0),
                endpoint: EndpointId(0),
                load: Load::Open {
                    process: ArrivalProcess::Poisson,
                    rate: RateSchedule::constant(self.lambda),
                },
                policy: squall_model::CallPolicy::default(),
                criticality: Criticality::default(),
                flow: None,
            }],
            faults: Vec::new(),
            deploys: Vec::new(),
            flags: Vec::new(),
            warmup: None,
        }
    }

    fn servers(&self) -> u32 {
        self.replicas * self.workers
    }

    /// The relaxation time (inverse spectral gap), or a bound on it, seconds.
    /// - Loss system (no queue): at most 1/mu, the gap of Erlang's loss model being at least mu
    ///   (Fricker, Robert and Tibi 1999).
    /// - M/M/1/K: exactly 1 / (lambda + mu - 2 sqrt(lambda mu) cos(pi / (K + 1))), the gap of a
    ///   birth-death chain with constant rates on K + 1 states.
    /// - Unbounded queue: max(1/mu, 1/(c mu (1 - sqrt rho)^2)), exact for M/M/1; M/D/1 relaxes
    ///   faster than M/M/1, and M/M/c is covered by the factor 3 in `replicate`.
    fn relaxation_s(&self) -> f64 {
        let c = self.servers();
        let (lambda, mu) = (self.lambda, MU_PER_S);
        if self.queue.capacity == 0 {
            1.0 / mu
        } else if self.queue.capacity < QUEUE_UNBOUNDED {
            assert_eq!(c, 1, "{}: finite queues are checked with one server only", self.name);
            let k = f64::from(self.queue.capacity + 1);
            1.0 / (lambda + mu - 2.0 * (lambda * mu).sqrt() * (std::f64::consts::PI / (k + 1.0)).cos())
        } else {
            let rho = lambda / (f64::from(c) * mu);
            assert!(rho < 1.0, "{}: unstable at rho = {rho}", self.name);
            (1.0 / mu).max(1.0 / (f64::from(c) * mu * (1.0 - rho.sqrt()).powi(2)))
        }
    }

    /// Runs every replication, checking each run's end state and Little's law.
    fn replicate(&self) -> Vec<RunOutput> {
        let startup_bias = 3.0 * self.relaxation_s() / self.replication_s as f64;
        assert!(
            startup_bias <= STARTUP_BIAS_MAX,
            "{}: replications of {} s are too short: start-up bias up to {startup_bias:.2e}",
            self.name,
            self.replication_s
        );
        (self.seed_base..self.seed_base + REPLICATIONS)
            .map(|seed| {
                let out = run(&self.config(seed));
                assert_eq!(out.stop, StopReason::Completed, "{} seed {seed}", self.name);
                check_littles_law(self.name, &out);
                if self.queue.capacity == QUEUE_UNBOUNDED {
                    assert_eq!(out.services[0].rejected, 0, "{} seed {seed}: the queue filled", self.name);
                }
                out
            })
            .collect()
    }
}

/// L = lambda_eff W, where L = in_system_integral / T, lambda_eff = (arrivals - rejected) / T
/// and W is the mean sojourn of completed requests.
///
/// Tolerance: L T sums, over admitted requests, their time in the system before T, so it is
/// the completed requests' sojourn sum S plus the ages A of the n requests still in flight, and
/// lambda_eff W T = S + n W. The difference A - n W lies within [-n W, n a_max]. In every
/// system here the sojourn tail decays at least like e^(-x / W) up to a constant factor (it is
/// exactly Exp(W) for M/M/1; otherwise its decay rate is mu or c mu - lambda, both above 1 / W),
/// and so does the age of a request in flight (the sojourn's equilibrium law), so the n ages
/// stay below 30 W except with probability about n e^-30 < 1e-11. The check must also mean
/// something: that slack has to stay under 1 % of L T.
fn check_littles_law(name: &str, out: &RunOutput) {
    const AGE_MAX_IN_MEAN_SOJOURNS: f64 = 30.0;
    let s = &out.services[0];
    let admitted = s.arrivals - s.rejected;
    assert!(s.completed > 0, "{name} seed {}: nothing completed", out.seed);
    let n_in_flight = admitted - s.completed;
    let w_ns = s.sojourn_ns_sum as f64 / s.completed as f64;
    let l_t = s.in_system_integral as f64;
    let lambda_w_t = admitted as f64 * w_ns;
    // The float products round at 1e-16 relative; 1e-9 leaves room for that and nothing else.
    let slack = n_in_flight as f64 * AGE_MAX_IN_MEAN_SOJOURNS * w_ns + 1e-9 * l_t;
    assert!(
        (l_t - lambda_w_t).abs() <= slack,
        "{name} seed {}: Little's law fails: L T = {l_t:.6e} request-ns, lambda_eff W T = \
         {lambda_w_t:.6e}, allowed difference {slack:.3e} ({n_in_flight} in flight at the end)",
        out.seed
    );
    assert!(
        slack <= 0.01 * l_t,
        "{name} seed {}: Little's law check too loose: {slack:.3e} of {l_t:.3e}",
        out.seed
    );
}

// ---- estimates and their comparison with theory ----

/// The mean of per-replication estimates and its standard error.
#[derive(Copy, Clone, Debug)]
struct Estimate {
    mean: f64,
    se: f64,
}

impl Estimate {
    fn of(samples: &[f64]) -> Estimate {
        assert!(samples.len() >= 2, "a standard error needs two samples, got {}", samples.len());
        let n = samples.len() as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        Estimate { mean, se: (var / n).sqrt() }
    }

    /// One estimate per replication, from the service's output.
    fn over(runs: &[RunOutput], stat: impl Fn(&ServiceOutput) -> f64) -> Estimate {
        Estimate::of(&runs.iter().map(|r| stat(&r.services[0])).collect::<Vec<_>>())
    }
}

/// Accepts `est` as a measurement of `theory` (see the module docs): the estimate must be
/// sharp enough to catch a `DETECTABLE_BIAS`, and within `Z` standard errors of theory.
fn compare(est: Estimate, theory: f64) -> Result<(), String> {
    let half_width = Z * est.se;
    let sharp = (Z + 2.0) * est.se <= DETECTABLE_BIAS * theory.abs();
    if !sharp {
        return Err(format!(
            "not sharp enough: ({Z} + 2) x SE = {:.3} % of theory, a {:.0} % bias could pass",
            100.0 * (Z + 2.0) * est.se / theory.abs(),
            100.0 * DETECTABLE_BIAS
        ));
    }
    let deviation = est.mean - theory;
    if deviation.abs() >= half_width {
        return Err(format!("off by {:+.3} % ({:+.2} SE)", 100.0 * deviation / theory, deviation / est.se));
    }
    Ok(())
}

/// Asserts `compare`, and prints the numbers (visible with `--nocapture`).
fn check(what: &str, est: Estimate, theory: f64) {
    let line = format!(
        "{what}: {:.6} vs theory {theory:.6} ({:+.3} %, SE {:.6} = {:.3} %)",
        est.mean,
        100.0 * (est.mean / theory - 1.0),
        est.se,
        100.0 * est.se / theory
    );
    println!("{line}");
    if let Err(why) = compare(est, theory) {
        panic!("{line}: {why}");
    }
}

/// Mean wait in queue, ms, from the exact sum; the wait is recorded when a request gets a
/// worker, and the wait histogram counts those requests exactly.
fn mean_wait_ms(s: &ServiceOutput) -> f64 {
    s.wait_ns_sum as f64 / s.wait.len() as f64 / 1e6
}

/// Sojourn quantile, ms, from the HDR histogram (3 significant digits: the reported value is
/// the top of its bin, at most 0.1 % high, well inside the tolerance).
fn sojourn_quantile_ms(s: &ServiceOutput, q: f64) -> f64 {
    s.sojourn.value_at_quantile(q) as f64 / 1e6
}

fn waited_fraction(s: &ServiceOutput) -> f64 {
    s.waited as f64 / s.arrivals as f64
}

fn rejected_fraction(s: &ServiceOutput) -> f64 {
    s.rejected as f64 / s.arrivals as f64
}

fn exponential_work() -> Dist {
    Dist::exponential(SERVICE_MEAN_NS).unwrap()
}

fn slow_tests_enabled() -> bool {
    std::env::var_os("RUN_SLOW_TESTS").is_some()
}

// ---- M/M/1 and M/D/1 ----

/// Checks M/M/1 at `rho`: mean wait, and the sojourn quantiles `quantiles`.
fn check_mm1(rho: f64, replication_s: u64, seed_base: u64, quantiles: &[f64]) {
    let lambda = rho * MU_PER_S;
    let sys = System {
        replication_s,
        seed_base,
        // The instance's own queue: the path most scenarios take.
        ..System::unbounded("M/M/1", lambda, exponential_work(), 1, 1, false)
    };
    let runs = sys.replicate();
    check(
        &format!("M/M/1 rho {rho} mean wait ms"),
        Estimate::over(&runs, mean_wait_ms),
        1e3 * mm1_wait_s(lambda, MU_PER_S),
    );
    for &q in quantiles {
        check(
            &format!("M/M/1 rho {rho} sojourn p{} ms", 100.0 * q),
            Estimate::over(&runs, |s| sojourn_quantile_ms(s, q)),
            1e3 * mm1_sojourn_quantile_s(lambda, MU_PER_S, q),
        );
    }
}

#[test]
fn mm1_at_half_load_matches_mean_wait_and_exponential_sojourn_quantiles() {
    // The sojourn p99 is the noisiest estimate here: 30 x 4500 s (6.8 M customers).
    check_mm1(0.5, 4500, 1_000, &[0.5, 0.99]);
}

#[test]
fn mm1_at_rho_0_8_matches_mean_wait_and_exponential_sojourn_median() {
    // The mean wait needs 30 x 10000 s (24 M customers); the p99, whose spread is 1.8 times
    // larger, would need 3.4 times as many, so it is checked at rho = 0.5 only.
    check_mm1(0.8, 10_000, 2_000, &[0.5]);
}

#[test]
fn mm1_at_rho_0_9_matches_mean_wait() {
    // Slow: the spread grows like 1 / (1 - rho)^2, so 30 x 20000 s (54 M customers) are needed,
    // about 35 s of CPU.
    if !slow_tests_enabled() {
        return;
    }
    check_mm1(0.9, 20_000, 3_000, &[]);
}

#[test]
fn md1_mean_wait_is_half_the_mm1_wait() {
    for (rho, replication_s, seed_base) in [(0.5, 1300, 4_000), (0.8, 3800, 5_000)] {
        let lambda = rho * MU_PER_S;
        let sys = System {
            replication_s,
            seed_base,
            ..System::unbounded("M/D/1", lambda, Dist::constant(SERVICE_MEAN_NS).unwrap(), 1, 1, false)
        };
        let runs = sys.replicate();
        check(
            &format!("M/D/1 rho {rho} mean wait ms"),
            Estimate::over(&runs, mean_wait_ms),
            1e3 * md1_wait_s(lambda, MU_PER_S),
        );
    }
}

// ---- M/M/c with a shared queue: Erlang C ----

/// Checks P(wait) and the mean wait of M/M/8 at `rho`, built as `replicas` x `workers`
/// sharing one queue.
fn check_mm8(rho: f64, replicas: u32, workers: u32, replication_s: u64, seed_base: u64) {
    const C: u32 = 8;
    assert_eq!(replicas * workers, C, "the Erlang C checks are for 8 servers");
    let lambda = rho * f64::from(C) * MU_PER_S;
    let sys = System {
        replication_s,
        seed_base,
        ..System::unbounded("M/M/8", lambda, exponential_work(), replicas, workers, true)
    };
    let runs = sys.replicate();
    let what = format!("M/M/8 ({replicas} x {workers} shared) rho {rho}");
    check(&format!("{what} P(wait)"), Estimate::over(&runs, waited_fraction), erlang_c(C, lambda / MU_PER_S));
    check(
        &format!("{what} mean wait ms"),
        Estimate::over(&runs, mean_wait_ms),
        1e3 * mmc_wait_s(C, lambda, MU_PER_S),
    );
}

#[test]
fn mmc_with_a_shared_queue_matches_erlang_c_at_half_load() {
    // Few arrivals wait (C = 0.059), so the mean wait is noisy: 30 x 4000 s (48 M customers).
    check_mm8(0.5, 1, 8, 4000, 6_000);
}

#[test]
fn mmc_with_a_shared_queue_matches_erlang_c_at_rho_0_8() {
    check_mm8(0.8, 1, 8, 2400, 7_000);
}

#[test]
fn four_instances_of_two_workers_sharing_a_queue_match_erlang_c_for_eight_servers() {
    check_mm8(0.8, 4, 2, 2400, 8_000);
}

#[test]
fn mmc_with_a_shared_queue_matches_erlang_c_at_rho_0_95() {
    // Slow: near saturation the mean wait's spread is large, 30 x 6000 s (137 M customers),
    // about 80 s of CPU.
    if !slow_tests_enabled() {
        return;
    }
    check_mm8(0.95, 1, 8, 6000, 9_000);
}

// ---- loss systems ----

#[test]
fn eight_servers_without_a_queue_block_as_erlang_b() {
    const C: u32 = 8;
    for (a, replication_s, seed_base) in [(5.0, 500, 10_000), (8.0, 100, 11_000), (12.0, 100, 12_000)] {
        let lambda = a * MU_PER_S;
        let sys = System {
            name: "M/M/8/8",
            lambda,
            work: exponential_work(),
            replicas: 1,
            workers: C,
            queue: QueueConfig::fifo(0, false),
            replication_s,
            seed_base,
        };
        let runs = sys.replicate();
        check(&format!("M/M/8/8 a {a} blocking"), Estimate::over(&runs, rejected_fraction), erlang_b(C, a));
    }
}

#[test]
fn one_server_with_room_for_five_blocks_as_mm1k_below_and_above_saturation() {
    const K: u32 = 5;
    for (rho, replication_s, seed_base) in [(0.9, 1500, 13_000), (1.2, 600, 14_000)] {
        let sys = System {
            name: "M/M/1/5",
            lambda: rho * MU_PER_S,
            work: exponential_work(),
            replicas: 1,
            workers: 1,
            // K places in all: one in service, K - 1 waiting.
            queue: QueueConfig::fifo(K - 1, false),
            replication_s,
            seed_base,
        };
        let runs = sys.replicate();
        check(
            &format!("M/M/1/{K} rho {rho} blocking"),
            Estimate::over(&runs, rejected_fraction),
            mm1k_blocking(rho, K),
        );
    }
}

// ---- the harness itself ----

#[test]
fn the_comparison_rejects_a_theory_three_percent_off() {
    let a = 8.0;
    let sys = System {
        name: "M/M/8/8",
        lambda: a * MU_PER_S,
        work: exponential_work(),
        replicas: 1,
        workers: 8,
        queue: QueueConfig::fifo(0, false),
        replication_s: 100,
        seed_base: 15_000,
    };
    let est = Estimate::over(&sys.replicate(), rejected_fraction);
    let theory = erlang_b(8, a);
    assert_eq!(compare(est, theory), Ok(()), "{est:?} vs {theory}");
    // The sharpness rule puts a 3 % error at least (Z + 2) SE from theory; the estimate sits
    // well within Z SE of it, so both wrong values fall outside the band.
    for wrong in [theory * (1.0 + DETECTABLE_BIAS), theory * (1.0 - DETECTABLE_BIAS)] {
        assert!(compare(est, wrong).is_err(), "{est:?} accepted the wrong theory {wrong}");
    }
}

#[test]
fn an_estimate_too_noisy_to_catch_a_three_percent_bias_is_rejected_even_when_it_matches() {
    // (4 + 2) x 0.6 % = 3.6 % > 3 %.
    let noisy = Estimate { mean: 1.0, se: 0.006 };
    let err = compare(noisy, 1.0).unwrap_err();
    assert!(err.starts_with("not sharp enough"), "{err}");
    let sharp = Estimate { mean: 1.0, se: 0.0045 };
    assert_eq!(compare(sharp, 1.0), Ok(()));
}

// ---- the closed forms themselves ----

fn factorial(n: u32) -> f64 {
    (1..=n).map(f64::from).product()
}

/// Erlang B from its definition: (a^c / c!) / sum_{k <= c} a^k / k!.
fn erlang_b_direct(c: u32, a: f64) -> f64 {
    let term = |k: u32| a.powi(k as i32) / factorial(k);
    term(c) / (0..=c).map(term).sum::<f64>()
}

/// Erlang C from its definition: with t = (a^c / c!) c / (c - a), t / (sum_{k < c} a^k / k! + t).
fn erlang_c_direct(c: u32, a: f64) -> f64 {
    let t = a.powi(c as i32) / factorial(c) * f64::from(c) / (f64::from(c) - a);
    t / ((0..c).map(|k| a.powi(k as i32) / factorial(k)).sum::<f64>() + t)
}

fn assert_close(got: f64, want: f64, rel: f64) {
    assert!((got - want).abs() <= rel * want.abs(), "got {got}, want {want} (relative tolerance {rel})");
}

#[test]
fn erlang_b_recursion_matches_the_definition_and_a_table_value() {
    // Erlang B tables list 0.0700 for 8 servers and 5 Erlang.
    assert_close(erlang_b(8, 5.0), 0.070_047_852_209_567, 1e-12);
    assert!((erlang_b(8, 5.0) - 0.0700).abs() < 5e-5);
    for (c, a) in [(1, 0.5), (2, 1.0), (8, 4.0), (8, 8.0), (8, 12.0), (20, 15.0)] {
        assert_close(erlang_b(c, a), erlang_b_direct(c, a), 1e-12);
    }
    // One server: blocked when busy, a / (1 + a).
    assert_close(erlang_b(1, 3.0), 0.75, 1e-15);
}

#[test]
fn erlang_c_matches_the_definition_and_the_closed_forms_for_one_and_two_servers() {
    for (c, a) in [(8, 4.0), (8, 6.4), (8, 7.6), (20, 18.0)] {
        assert_close(erlang_c(c, a), erlang_c_direct(c, a), 1e-12);
    }
    assert_close(erlang_c(8, 6.4), 0.457_644_925_442, 1e-10);
    // M/M/1: an arrival waits when the server is busy, probability rho.
    assert_close(erlang_c(1, 0.7), 0.7, 1e-15);
    // M/M/2: C = a^2 / (2 + a).
    for a in [0.5, 1.0, 1.5] {
        assert_close(erlang_c(2, a), a * a / (2.0 + a), 1e-14);
    }
    assert_close(mmc_wait_s(1, 80.0, 100.0), mm1_wait_s(80.0, 100.0), 1e-14);
}

#[test]
fn queue_formulas_match_known_values() {
    assert_close(mm1_wait_s(80.0, 100.0), 0.04, 1e-14);
    // Pollaczek-Khinchine: no service variance halves the M/M/1 wait.
    assert_close(md1_wait_s(80.0, 100.0), 0.02, 1e-14);
    assert_close(mm1_sojourn_quantile_s(50.0, 100.0, 0.5), std::f64::consts::LN_2 / 50.0, 1e-14);
    assert_close(mm1_sojourn_quantile_s(50.0, 100.0, 0.99), 100f64.ln() / 50.0, 1e-12);
    // M/M/1/K: 1/63 at rho = 1/2, K = 5; 1 / (K + 1) at rho = 1; Erlang B with one server at K = 1.
    assert_close(mm1k_blocking(0.5, 5), 1.0 / 63.0, 1e-14);
    assert_close(mm1k_blocking(1.0, 5), 1.0 / 6.0, 1e-15);
    assert_close(mm1k_blocking(0.9, 1), erlang_b(1, 0.9), 1e-14);
    assert_close(mm1k_blocking(1.2, 5), 0.250_588_121_555_863, 1e-12);
}
