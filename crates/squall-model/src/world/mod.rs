//! The engine: one closed event enum and one handler per event, over subsystems that own
//! their state (client groups, services, instances, the request table, metrics).
//!
//! A request's life: `issue` picks an instance through the service's balancer; it starts at
//! once on an idle worker, waits in the queue, or is refused (`QueueFull`). When its work is
//! done it makes its endpoint's downstream calls one by one, holding the worker, then
//! `finish`es. Its caller is answered exactly once (`answer`): by the finish, by a failure, or
//! earlier by its own timeout, in which case the server still does the work, which is counted
//! as wasted. A request's slot is freed only when both sides are done with it.

use crate::config::{
    ArrivalProcess, BalancerKind, ClientId, EndpointId, Load, ModelConfig, QueueConfig, ServiceId,
};
use crate::outcome::{Outcome, OutcomeCounts};
use crate::output::{
    ClientBucket, ClientOutput, Conservation, LatencySummary, RunOutput, ServiceBucket, ServiceOutput,
    StopReason, HIST_SIGFIG,
};
use hdrhistogram::Histogram;
use rand::Rng;
use rand_distr::{Distribution, Exp1};
use squall_kernel::time::round_ns;
use squall_kernel::{stream, Model, Pause, Scheduler, SimDuration, SimTime, Simulation, StreamRng, TimerId};
use std::collections::VecDeque;

/// A reference to a request slot, with the slot's generation to catch stale references.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct ReqRef {
    index: u32,
    gen: u32,
}

/// Everything that can happen.
#[derive(Copy, Clone, Debug)]
enum Event {
    /// An open-loop client group's next request arrives.
    Arrival { client: ClientId },
    /// A closed-loop user has finished thinking and sends a request.
    UserWake { client: ClientId },
    /// A worker finished the local work of a request.
    WorkDone { req: ReqRef },
    /// A caller's timeout for a request expired.
    Timeout { req: ReqRef },
}

/// Who waits for a request's answer.
#[derive(Copy, Clone, Debug)]
enum Caller {
    Client(ClientId),
    /// A request on another service, waiting on this downstream call.
    Parent(ReqRef),
}

const NO_INSTANCE: u32 = u32::MAX;

#[derive(Debug)]
struct Request {
    gen: u32,
    live: bool,
    caller: Caller,
    service: ServiceId,
    endpoint: EndpointId,
    issued_at: SimTime,
    started_at: SimTime,
    instance: u32,
    /// The caller has its outcome.
    answered: bool,
    /// The server is done with it (finished, refused, or never reached).
    server_done: bool,
    timer: Option<TimerId>,
    next_call: u32,
}

/// The request table: a slab of slots reused through a free list, so memory follows the
/// number of requests in flight, not the number ever made.
struct Requests {
    slots: Vec<Request>,
    free: Vec<u32>,
    n_live: u32,
}

impl Requests {
    fn get_mut(&mut self, r: ReqRef) -> &mut Request {
        let req = &mut self.slots[r.index as usize];
        assert!(req.live && req.gen == r.gen, "stale request reference {r:?}: {req:?}");
        req
    }
    fn alloc(&mut self, caller: Caller, service: ServiceId, endpoint: EndpointId, now: SimTime) -> ReqRef {
        let fresh = Request {
            gen: 0,
            live: true,
            caller,
            service,
            endpoint,
            issued_at: now,
            started_at: now,
            instance: NO_INSTANCE,
            answered: false,
            server_done: false,
            timer: None,
            next_call: 0,
        };
        self.n_live += 1;
        match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                assert!(!slot.live, "free list held a live slot {index}");
                let gen = slot.gen.wrapping_add(1);
                *slot = Request { gen, ..fresh };
                ReqRef { index, gen }
            }
            None => {
                let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 requests alive");
                self.slots.push(fresh);
                ReqRef { index, gen: 0 }
            }
        }
    }
    fn release_if_done(&mut self, r: ReqRef) {
        let req = self.get_mut(r);
        if req.answered && req.server_done {
            req.live = false;
            self.free.push(r.index);
            self.n_live -= 1;
        }
    }
}

/// A time-weighted gauge (busy workers, queue length) that also splits its integral into
/// time-series buckets.
#[derive(Default)]
struct Gauge {
    value: u64,
    since: SimTime,
    integral: u128,
    max: u64,
    /// The bucket holding `since`, and where it ends, so updates need no division.
    bucket: usize,
    bucket_end: u64,
}

/// Per-bucket fields a gauge writes into.
#[derive(Copy, Clone)]
enum GaugeKind {
    Busy,
    Queue,
}

struct ClientState {
    name: String,
    service: ServiceId,
    endpoint: EndpointId,
    timeout: Option<SimDuration>,
    load: Load,
    /// Peak of the open-loop rate schedule (0 for closed loops), the thinning bound.
    max_rate: f64,
    arrivals_rng: StreamRng,
    think_rng: StreamRng,
    issued: u64,
    outcomes: OutcomeCounts,
    latency_ok: Histogram<u64>,
    latency_all: Histogram<u64>,
    series: Vec<ClientBucket>,
    /// Successful latencies of the bucket `open_bucket`, summarised into the series when a
    /// later bucket starts: answers come in time order, so one histogram serves them all.
    open_latency: Histogram<u64>,
    open_bucket: usize,
}

impl ClientState {
    fn close_bucket(&mut self) {
        self.series[self.open_bucket].latency_ok = LatencySummary::of(&self.open_latency);
        self.open_latency.reset();
    }
}

struct InstanceState {
    service: ServiceId,
    workers: u32,
    busy: u32,
    /// Requests assigned: waiting in its queue or in service (what balancers compare).
    outstanding: u32,
    queue: VecDeque<ReqRef>,
    work_rng: StreamRng,
}

struct ServiceState {
    name: String,
    first_instance: u32,
    n_instances: u32,
    workers_total: u32,
    queue_cfg: QueueConfig,
    balancer: BalancerKind,
    lb_rng: StreamRng,
    rr_next: u32,
    shared_queue: VecDeque<ReqRef>,
    busy: Gauge,
    queued: Gauge,
    arrivals: u64,
    completed: u64,
    rejected: u64,
    waited: u64,
    wait: Histogram<u64>,
    wait_ns_sum: u128,
    sojourn: Histogram<u64>,
    sojourn_ns_sum: u128,
    wasted_work_ns: u128,
    series: Vec<ServiceBucket>,
}

/// The simulated world.
struct World {
    cfg: ModelConfig,
    /// Per service and endpoint: work, then sequential calls (service, endpoint, timeout).
    #[allow(clippy::type_complexity)]
    plans: Vec<Vec<(squall_kernel::Dist, Vec<(ServiceId, EndpointId, Option<SimDuration>)>)>>,
    clients: Vec<ClientState>,
    services: Vec<ServiceState>,
    instances: Vec<InstanceState>,
    reqs: Requests,
    bucket_ns: u64,
    n_buckets: usize,
    cur_bucket: usize,
    cur_bucket_start: u64,
    /// Events handled, for the periodic conservation check of debug builds.
    n_handled: u64,
}

/// Events between two conservation checks in debug builds (each scans the request table).
const CONSERVATION_CHECK_EVERY: u64 = 1 << 12;

fn hist(sigfig: u8) -> Histogram<u64> {
    Histogram::new(sigfig).expect("sigfig is in 0..=5")
}

/// Records `v`, letting the histogram grow to hold it. (`saturating_record` would clamp to
/// the histogram's current range, which starts tiny, instead of growing it.)
#[inline]
fn record(h: &mut Histogram<u64>, v: u64) {
    if h.record(v).is_err() {
        // Only values beyond what any resize can hold (near u64::MAX) end up here.
        h.saturating_record(v);
    }
}

impl World {
    fn new(cfg: &ModelConfig) -> World {
        assert!(cfg.bucket_width.as_nanos() > 0, "bucket width must be positive");
        let bucket_ns = cfg.bucket_width.as_nanos();
        let n_buckets = usize::try_from(cfg.duration.as_nanos().div_ceil(bucket_ns).max(1))
            .expect("bucket count fits in memory");
        let seed = cfg.seed;
        let mut instances = Vec::new();
        let services = cfg
            .services
            .iter()
            .enumerate()
            .map(|(s, sc)| {
                let first_instance = u32::try_from(instances.len()).expect("instance count fits u32");
                for i in 0..sc.replicas {
                    instances.push(InstanceState {
                        service: ServiceId(s as u32),
                        workers: sc.workers,
                        busy: 0,
                        outstanding: 0,
                        queue: VecDeque::new(),
                        work_rng: stream(seed, &format!("services/{}/instance/{i}/work", sc.name)),
                    });
                }
                ServiceState {
                    name: sc.name.clone(),
                    first_instance,
                    n_instances: sc.replicas,
                    workers_total: sc.replicas.saturating_mul(sc.workers),
                    queue_cfg: sc.queue.clone(),
                    balancer: sc.balancer,
                    lb_rng: stream(seed, &format!("services/{}/balancer", sc.name)),
                    rr_next: 0,
                    shared_queue: VecDeque::new(),
                    busy: Gauge::default(),
                    queued: Gauge::default(),
                    arrivals: 0,
                    completed: 0,
                    rejected: 0,
                    waited: 0,
                    wait: hist(HIST_SIGFIG),
                    wait_ns_sum: 0,
                    sojourn: hist(HIST_SIGFIG),
                    sojourn_ns_sum: 0,
                    wasted_work_ns: 0,
                    series: vec![ServiceBucket::default(); n_buckets],
                }
            })
            .collect();
        let clients = cfg
            .clients
            .iter()
            .map(|cc| ClientState {
                name: cc.name.clone(),
                service: cc.service,
                endpoint: cc.endpoint,
                timeout: cc.timeout,
                load: cc.load.clone(),
                max_rate: match &cc.load {
                    Load::Open { rate, .. } => rate.max_rate(),
                    Load::Closed { .. } => 0.0,
                },
                arrivals_rng: stream(seed, &format!("clients/{}/arrivals", cc.name)),
                think_rng: stream(seed, &format!("clients/{}/think", cc.name)),
                issued: 0,
                outcomes: OutcomeCounts::default(),
                latency_ok: hist(HIST_SIGFIG),
                latency_all: hist(HIST_SIGFIG),
                series: vec![ClientBucket::default(); n_buckets],
                open_latency: hist(HIST_SIGFIG),
                open_bucket: 0,
            })
            .collect();
        let plans = cfg
            .services
            .iter()
            .map(|sc| {
                sc.endpoints
                    .iter()
                    .map(|ep| {
                        let mut work = squall_kernel::Dist::Constant(0.0);
                        let mut calls = Vec::new();
                        for step in &ep.steps {
                            match step {
                                crate::config::Step::Work(d) => work = d.clone(),
                                crate::config::Step::Calls { calls: cs, .. } => {
                                    for c in cs {
                                        let dep_timeout = sc
                                            .dependencies
                                            .iter()
                                            .find(|d| d.service == c.service)
                                            .and_then(|d| d.timeout);
                                        calls.push((c.service, c.endpoint, c.timeout.or(dep_timeout)));
                                    }
                                }
                            }
                        }
                        (work, calls)
                    })
                    .collect()
            })
            .collect();
        World {
            plans,
            cfg: cfg.clone(),
            clients,
            services,
            instances,
            reqs: Requests { slots: Vec::new(), free: Vec::new(), n_live: 0 },
            bucket_ns,
            n_buckets,
            cur_bucket: 0,
            cur_bucket_start: 0,
            n_handled: 0,
        }
    }

    /// Schedules each client group's first request.
    fn start(&mut self, sched: &mut Scheduler<Event>) {
        for c in 0..self.clients.len() {
            let client = ClientId(c as u32);
            match self.clients[c].load.clone() {
                Load::Open { .. } => {
                    if let Some(t) = self.next_arrival(client, SimTime::ZERO, true) {
                        sched.at(t, Event::Arrival { client });
                    }
                }
                Load::Closed { users, think } => {
                    // Users start spread over one think time, so they do not all fire at t=0.
                    for _ in 0..users {
                        let d = round_ns(think.sample(&mut self.clients[c].think_rng));
                        let offset = round_ns(self.clients[c].think_rng.random::<f64>() * d as f64);
                        sched.at(SimTime(offset), Event::UserWake { client });
                    }
                }
            }
        }
    }

    /// The time-series bucket of `t`. Time only moves forward, so the current bucket is
    /// cached and advanced by addition: a division per counter update would cost more than
    /// the update.
    #[inline]
    fn bucket(&mut self, t: SimTime) -> usize {
        let t = t.as_nanos();
        debug_assert!(t >= self.cur_bucket_start, "bucket lookup went back in time");
        while t >= self.cur_bucket_start + self.bucket_ns && self.cur_bucket + 1 < self.n_buckets {
            self.cur_bucket += 1;
            self.cur_bucket_start += self.bucket_ns;
        }
        self.cur_bucket
    }

    /// The next open-loop arrival strictly after `after` (or at it, for the first), by
    /// thinning a Poisson process at the schedule's peak rate, or by stepping 1/rate for
    /// constant spacing. `None` when no arrival falls within the run.
    fn next_arrival(&mut self, client: ClientId, after: SimTime, first: bool) -> Option<SimTime> {
        let end = self.cfg.duration.as_nanos();
        let c = &mut self.clients[client.0 as usize];
        let Load::Open { process, rate } = &c.load else { unreachable!("closed loop has no arrivals") };
        let max_rate = c.max_rate;
        if max_rate <= 0.0 {
            return None;
        }
        let mut t = after.as_nanos() as f64;
        // Bounded: every step moves time forward by at least 1 ns or ends the search.
        loop {
            match process {
                ArrivalProcess::Poisson => {
                    let e: f64 = Exp1.sample(&mut c.arrivals_rng);
                    t += e * 1e9 / max_rate;
                    if t > end as f64 {
                        return None;
                    }
                    let r = rate.rate_at(SimTime(round_ns(t)));
                    if r >= max_rate || c.arrivals_rng.random::<f64>() * max_rate < r {
                        return Some(SimTime(round_ns(t)));
                    }
                }
                ArrivalProcess::Constant => {
                    let now = SimTime(round_ns(t));
                    let r = rate.rate_at(now);
                    if r > 0.0 {
                        if !first {
                            t += 1e9 / r;
                        }
                        return (t <= end as f64).then(|| SimTime(round_ns(t)));
                    }
                    // A zero rate: jump to the next schedule point with a positive rate.
                    let next = rate.points.iter().find(|(at, r)| *at > now && *r > 0.0)?;
                    t = next.0.as_nanos() as f64;
                    if rate.rate_at(next.0) > 0.0 {
                        return (t <= end as f64).then_some(next.0);
                    }
                }
            }
        }
    }

    // ---- gauges and buckets ----

    /// Moves a service gauge to `value` at `now`, adding the elapsed area to the totals and
    /// to each bucket the elapsed interval overlaps.
    fn set_gauge(&mut self, s: ServiceId, kind: GaugeKind, now: SimTime, value: u64) {
        let bucket_ns = self.bucket_ns;
        let last_bucket = self.n_buckets - 1;
        let svc = &mut self.services[s.0 as usize];
        let g = match kind {
            GaugeKind::Busy => &mut svc.busy,
            GaugeKind::Queue => &mut svc.queued,
        };
        if g.bucket_end == 0 {
            g.bucket_end = bucket_ns;
        }
        let (mut t, to) = (g.since.as_nanos(), now.as_nanos());
        debug_assert!(to >= t, "gauge went back in time");
        let v = u128::from(g.value);
        g.integral += v * u128::from(to - t);
        let series = &mut svc.series;
        let mut add = |b: usize, area: u128| match kind {
            GaugeKind::Busy => series[b].busy_integral += area,
            GaugeKind::Queue => series[b].queue_integral += area,
        };
        while to >= g.bucket_end && g.bucket < last_bucket {
            add(g.bucket, v * u128::from(g.bucket_end - t));
            t = g.bucket_end;
            g.bucket += 1;
            g.bucket_end += bucket_ns;
        }
        add(g.bucket, v * u128::from(to - t));
        g.since = now;
        g.value = value;
        g.max = g.max.max(value);
        if let GaugeKind::Queue = kind {
            let m = &mut svc.series[g.bucket].queue_max;
            *m = (*m).max(value);
        }
    }

    fn add_busy(&mut self, s: ServiceId, now: SimTime, delta: i64) {
        let v = self.services[s.0 as usize].busy.value.checked_add_signed(delta).expect("busy >= 0");
        self.set_gauge(s, GaugeKind::Busy, now, v);
    }

    fn add_queued(&mut self, s: ServiceId, now: SimTime, delta: i64) {
        let v = self.services[s.0 as usize].queued.value.checked_add_signed(delta).expect("queued >= 0");
        self.set_gauge(s, GaugeKind::Queue, now, v);
    }

    // ---- requests ----

    /// Sends a new request from `caller` to `service.endpoint`.
    fn issue(
        &mut self,
        sched: &mut Scheduler<Event>,
        caller: Caller,
        service: ServiceId,
        endpoint: EndpointId,
        timeout: Option<SimDuration>,
    ) {
        let now = sched.now();
        if self.reqs.n_live >= self.cfg.limits.max_in_flight {
            sched.halt(format!(
                "more than {} requests were in flight at {now}: the modelled system is holding \
                 work faster than it finishes it. Raise limits.max_in_flight if this is \
                 expected, or shorten the run",
                self.cfg.limits.max_in_flight
            ));
        }
        let r = self.reqs.alloc(caller, service, endpoint, now);
        if let Some(d) = timeout {
            let timer = sched.timer_after(d, Event::Timeout { req: r });
            self.reqs.get_mut(r).timer = Some(timer);
        }
        let b = self.bucket(now);
        let svc = &mut self.services[service.0 as usize];
        svc.arrivals += 1;
        svc.series[b].arrivals += 1;
        if svc.n_instances == 0 {
            self.refuse(sched, r, Outcome::NoEndpoint);
            return;
        }
        if svc.queue_cfg.shared {
            self.admit_shared(sched, r, service);
        } else {
            let inst = self.pick_instance(service);
            self.admit_local(sched, r, inst);
        }
    }

    /// The balancer's choice among the service's instances.
    fn pick_instance(&mut self, service: ServiceId) -> u32 {
        let svc = &mut self.services[service.0 as usize];
        let n = svc.n_instances;
        let first = svc.first_instance;
        let local = match svc.balancer {
            BalancerKind::RoundRobin => {
                let i = svc.rr_next % n;
                svc.rr_next = (i + 1) % n;
                i
            }
            BalancerKind::Random => svc.lb_rng.random_range(0..n),
            BalancerKind::LeastOutstanding => {
                // Scan from after the last pick, so ties rotate instead of piling on index 0.
                let start = svc.rr_next % n;
                let mut best = start;
                let mut best_load = u32::MAX;
                for k in 0..n {
                    let i = (start + k) % n;
                    let load = self.instances[(first + i) as usize].outstanding;
                    if load < best_load {
                        best = i;
                        best_load = load;
                    }
                }
                svc.rr_next = (best + 1) % n;
                best
            }
            BalancerKind::PowerOfTwoChoices => {
                if n == 1 {
                    0
                } else {
                    let a = svc.lb_rng.random_range(0..n);
                    let mut b = svc.lb_rng.random_range(0..n - 1);
                    if b >= a {
                        b += 1;
                    }
                    let la = self.instances[(first + a) as usize].outstanding;
                    let lb = self.instances[(first + b) as usize].outstanding;
                    if lb < la {
                        b
                    } else {
                        a
                    }
                }
            }
        };
        assert!(local < n, "balancer picked instance {local} of {n}");
        first + local
    }

    /// A request reaches one instance: start, wait in its queue, or be refused.
    fn admit_local(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, inst: u32) {
        let now = sched.now();
        let i = &mut self.instances[inst as usize];
        let service = i.service;
        self.reqs.get_mut(r).instance = inst;
        if i.busy < i.workers {
            i.outstanding += 1;
            self.start_work(sched, r, inst);
        } else if (i.queue.len() as u64) < u64::from(self.services[service.0 as usize].queue_cfg.capacity) {
            i.outstanding += 1;
            i.queue.push_back(r);
            self.services[service.0 as usize].waited += 1;
            self.add_queued(service, now, 1);
        } else {
            self.reqs.get_mut(r).instance = NO_INSTANCE;
            self.refuse(sched, r, Outcome::QueueFull);
        }
    }

    /// A request reaches a service with one shared queue: any idle worker takes it.
    fn admit_shared(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, service: ServiceId) {
        let now = sched.now();
        let svc = &mut self.services[service.0 as usize];
        let (first, n) = (svc.first_instance, svc.n_instances);
        let start = svc.rr_next % n;
        let idle = (0..n)
            .map(|k| first + (start + k) % n)
            .find(|&inst| self.instances[inst as usize].busy < self.instances[inst as usize].workers);
        if let Some(inst) = idle {
            svc.rr_next = (inst - first + 1) % n;
            self.instances[inst as usize].outstanding += 1;
            self.reqs.get_mut(r).instance = inst;
            self.start_work(sched, r, inst);
        } else if (svc.shared_queue.len() as u64) < u64::from(svc.queue_cfg.capacity) {
            svc.shared_queue.push_back(r);
            svc.waited += 1;
            self.add_queued(service, now, 1);
        } else {
            self.refuse(sched, r, Outcome::QueueFull);
        }
    }

    /// The service turned the request away before any work.
    fn refuse(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, outcome: Outcome) {
        let req = self.reqs.get_mut(r);
        req.server_done = true;
        let service = req.service;
        let b = self.bucket(sched.now());
        let svc = &mut self.services[service.0 as usize];
        svc.rejected += 1;
        svc.series[b].rejected += 1;
        self.answer(sched, r, outcome);
    }

    /// A worker of `inst` takes the request.
    fn start_work(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, inst: u32) {
        let now = sched.now();
        let req = self.reqs.get_mut(r);
        assert_eq!(req.instance, inst, "request started on an instance it was not assigned to");
        req.started_at = now;
        let (service, endpoint, arrived) = (req.service, req.endpoint, req.issued_at);
        let i = &mut self.instances[inst as usize];
        assert!(i.busy < i.workers, "instance {inst} has no idle worker: {} of {}", i.busy, i.workers);
        i.busy += 1;
        let work = &self.plans[service.0 as usize][endpoint.0 as usize].0;
        let work_ns = round_ns(work.sample(&mut i.work_rng));
        let wait_ns = now.since(arrived).as_nanos();
        let svc = &mut self.services[service.0 as usize];
        record(&mut svc.wait, wait_ns);
        svc.wait_ns_sum += u128::from(wait_ns);
        self.add_busy(service, now, 1);
        sched.after(SimDuration(work_ns), Event::WorkDone { req: r });
    }

    fn on_work_done(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        self.next_step(sched, r, true);
    }

    /// After local work or a successful downstream call: make the next call, or finish.
    fn next_step(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, ok_so_far: bool) {
        let req = self.reqs.get_mut(r);
        let (service, endpoint, k) = (req.service, req.endpoint, req.next_call as usize);
        let calls = &self.plans[service.0 as usize][endpoint.0 as usize].1;
        if !ok_so_far {
            self.finish(sched, r, Outcome::ServerError);
        } else if k < calls.len() {
            let call = calls[k];
            req.next_call += 1;
            self.issue(sched, Caller::Parent(r), call.0, call.1, call.2);
        } else {
            self.finish(sched, r, Outcome::Ok);
        }
    }

    /// The server is done with the request: free the worker, answer the caller if it still
    /// waits, and take the next waiting request.
    fn finish(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, outcome: Outcome) {
        let now = sched.now();
        let req = self.reqs.get_mut(r);
        assert!(!req.server_done, "request finished twice: {req:?}");
        req.server_done = true;
        let (inst, service, arrived, started, answered) =
            (req.instance, req.service, req.issued_at, req.started_at, req.answered);
        let b = self.bucket(now);
        let svc = &mut self.services[service.0 as usize];
        svc.completed += 1;
        svc.series[b].completed += 1;
        let sojourn = now.since(arrived).as_nanos();
        record(&mut svc.sojourn, sojourn);
        svc.sojourn_ns_sum += u128::from(sojourn);
        if answered {
            svc.wasted_work_ns += u128::from(now.since(started).as_nanos());
        }
        let i = &mut self.instances[inst as usize];
        assert!(i.busy > 0 && i.outstanding > 0, "instance {inst} finished work it did not hold");
        i.busy -= 1;
        i.outstanding -= 1;
        self.add_busy(service, now, -1);
        if answered {
            self.reqs.release_if_done(r);
        } else {
            self.answer(sched, r, outcome);
        }
        self.pull_next(sched, inst);
    }

    /// A worker of `inst` became free: take the next waiting request, if any.
    fn pull_next(&mut self, sched: &mut Scheduler<Event>, inst: u32) {
        let now = sched.now();
        let service = self.instances[inst as usize].service;
        let next = if self.services[service.0 as usize].queue_cfg.shared {
            let n = self.services[service.0 as usize].shared_queue.pop_front();
            if let Some(r) = n {
                self.instances[inst as usize].outstanding += 1;
                self.reqs.get_mut(r).instance = inst;
            }
            n
        } else {
            self.instances[inst as usize].queue.pop_front()
        };
        if let Some(r) = next {
            self.add_queued(service, now, -1);
            self.start_work(sched, r, inst);
        }
    }

    /// Gives the caller its outcome, exactly once.
    fn answer(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, outcome: Outcome) {
        let now = sched.now();
        let req = self.reqs.get_mut(r);
        assert!(!req.answered, "request answered twice: {req:?}, now {outcome:?}");
        req.answered = true;
        if let Some(t) = req.timer.take() {
            sched.cancel(t);
        }
        let (caller, issued) = (req.caller, req.issued_at);
        self.reqs.release_if_done(r);
        match caller {
            Caller::Client(c) => {
                let latency = now.since(issued).as_nanos();
                let b = self.bucket(now);
                let cs = &mut self.clients[c.0 as usize];
                cs.outcomes.add(outcome);
                record(&mut cs.latency_all, latency);
                cs.series[b].outcomes.add(outcome);
                if outcome.is_success() {
                    record(&mut cs.latency_ok, latency);
                    if b != cs.open_bucket {
                        cs.close_bucket();
                        cs.open_bucket = b;
                    }
                    record(&mut cs.open_latency, latency);
                }
                if let Load::Closed { think, .. } = &cs.load {
                    let d = round_ns(think.sample(&mut cs.think_rng));
                    sched.after(SimDuration(d), Event::UserWake { client: c });
                }
            }
            Caller::Parent(p) => self.next_step(sched, p, outcome.is_success()),
        }
    }

    fn on_client_request(&mut self, sched: &mut Scheduler<Event>, client: ClientId) {
        let now = sched.now();
        let b = self.bucket(now);
        let cs = &mut self.clients[client.0 as usize];
        cs.issued += 1;
        cs.series[b].issued += 1;
        let (service, endpoint, timeout) = (cs.service, cs.endpoint, cs.timeout);
        self.issue(sched, Caller::Client(client), service, endpoint, timeout);
    }

    fn on_timeout(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        // The timer was cancelled if the request had been answered, so it is still waiting.
        let req = self.reqs.get_mut(r);
        req.timer = None;
        self.answer(sched, r, Outcome::Timeout);
    }

    /// Checks that no request was lost or duplicated, comparing counters with what a scan of
    /// the request table and the instances actually finds.
    ///
    /// # Panics
    /// If the two tallies differ: the engine has a bug and its numbers cannot be trusted.
    fn check_conservation(&self) -> Conservation {
        let in_flight = self
            .reqs
            .slots
            .iter()
            .filter(|r| r.live && !r.answered && matches!(r.caller, Caller::Client(_)))
            .count() as u64;
        let issued: u64 = self.clients.iter().map(|c| c.issued).sum();
        let ended: u64 = self.clients.iter().map(|c| c.outcomes.total()).sum();
        assert_eq!(
            issued,
            ended + in_flight,
            "requests leaked or duplicated: issued {issued}, ended {ended}, in flight {in_flight}"
        );
        for (s, svc) in self.services.iter().enumerate() {
            let held: u64 = self.instances[svc.first_instance as usize..][..svc.n_instances as usize]
                .iter()
                .map(|i| u64::from(i.outstanding))
                .sum::<u64>()
                + svc.shared_queue.len() as u64;
            assert_eq!(
                svc.arrivals,
                svc.completed + svc.rejected + held,
                "service {s} ({}) lost requests",
                svc.name
            );
        }
        Conservation { issued, ended, in_flight }
    }

    /// Closes the gauges at `end` and checks conservation by scanning live requests.
    fn into_output(mut self, end: SimTime, stop: StopReason, n_events: u64) -> RunOutput {
        for s in 0..self.services.len() {
            let id = ServiceId(s as u32);
            let (busy, queued) = (self.services[s].busy.value, self.services[s].queued.value);
            self.set_gauge(id, GaugeKind::Busy, end, busy);
            self.set_gauge(id, GaugeKind::Queue, end, queued);
        }
        let conservation = self.check_conservation();
        for c in &mut self.clients {
            c.close_bucket();
        }
        let clients = self
            .clients
            .into_iter()
            .map(|c| ClientOutput {
                name: c.name,
                issued: c.issued,
                outcomes: c.outcomes,
                latency_ok: c.latency_ok,
                latency_all: c.latency_all,
                series: c.series,
            })
            .collect();
        let services = self
            .services
            .into_iter()
            .map(|s| ServiceOutput {
                name: s.name,
                instances: s.n_instances,
                workers: s.workers_total,
                arrivals: s.arrivals,
                completed: s.completed,
                rejected: s.rejected,
                refusals: OutcomeCounts::default(),
                dropped: 0,
                useful: 0,
                useful_work_ns: 0,
                waited: s.waited,
                wait: s.wait,
                wait_ns_sum: s.wait_ns_sum,
                sojourn: s.sojourn,
                sojourn_ns_sum: s.sojourn_ns_sum,
                busy_integral: s.busy.integral,
                queue_integral: s.queued.integral,
                in_system_integral: s.busy.integral + s.queued.integral,
                queue_max: s.queued.max,
                wasted_work_ns: s.wasted_work_ns,
                series: s.series,
            })
            .collect();
        RunOutput {
            seed: self.cfg.seed,
            duration: self.cfg.duration,
            end,
            stop,
            n_events,
            bucket_width: self.cfg.bucket_width,
            clients,
            services,
            dependencies: Vec::new(),
            faults: Vec::new(),
            conservation,
        }
    }

    /// Bytes held by the growable state: the request table, queues and the event queue
    /// are what could grow with run length, so tests watch this number.
    fn footprint_bytes(&self, n_pending: usize) -> usize {
        let reqs =
            self.reqs.slots.capacity() * std::mem::size_of::<Request>() + self.reqs.free.capacity() * 4;
        let queues: usize = self.instances.iter().map(|i| i.queue.capacity() * 8).sum::<usize>()
            + self.services.iter().map(|s| s.shared_queue.capacity() * 8).sum::<usize>();
        reqs + queues + n_pending * std::mem::size_of::<Event>()
    }
}

impl Model for World {
    type Event = Event;

    #[inline]
    fn on_event(&mut self, _now: SimTime, event: Event, sched: &mut Scheduler<Event>) {
        if cfg!(debug_assertions) {
            // In debug builds and tests, check conservation along the way too, not only at the
            // end, so a leak is caught near the event that caused it.
            self.n_handled += 1;
            if self.n_handled % CONSERVATION_CHECK_EVERY == 0 {
                self.check_conservation();
            }
        }
        match event {
            Event::Arrival { client } => {
                self.on_client_request(sched, client);
                if let Some(t) = self.next_arrival(client, sched.now(), false) {
                    sched.at(t, Event::Arrival { client });
                }
            }
            Event::UserWake { client } => self.on_client_request(sched, client),
            Event::WorkDone { req } => self.on_work_done(sched, req),
            Event::Timeout { req } => self.on_timeout(sched, req),
        }
    }
}

/// A run in progress: build it, advance it in chunks (for progress display), finish it.
pub struct Run {
    sim: Simulation<World>,
    duration: SimTime,
    max_events: u64,
    stop: Option<StopReason>,
    footprint_max: usize,
}

impl Run {
    /// Builds the world described by `config`, with its first events scheduled.
    pub fn new(config: &ModelConfig) -> Run {
        let world = World::new(config);
        let mut sim = Simulation::new(world, config.limits.max_events);
        let (world, sched) = sim.parts();
        world.start(sched);
        Run {
            sim,
            duration: SimTime::ZERO + config.duration,
            max_events: config.limits.max_events,
            stop: None,
            footprint_max: 0,
        }
    }

    /// Runs until `until` (capped at the configured duration). Returns why the run is over,
    /// or `None` if there is more to run.
    pub fn advance(&mut self, until: SimTime) -> Option<StopReason> {
        if let Some(s) = &self.stop {
            return Some(s.clone());
        }
        let target = until.min(self.duration);
        let pause = self.sim.run_until(target);
        let n_pending = self.sim.scheduler().n_pending();
        let footprint = self.sim.model.footprint_bytes(n_pending);
        self.footprint_max = self.footprint_max.max(footprint);
        let stop = match pause {
            Pause::Reached | Pause::Idle if target >= self.duration => StopReason::Completed,
            Pause::Idle => {
                self.sim.run_until(self.duration);
                StopReason::Completed
            }
            Pause::Reached => return None,
            Pause::EventLimit => StopReason::EventLimit { limit: self.max_events },
            Pause::Halted(reason) => StopReason::Halted { reason },
        };
        self.stop = Some(stop.clone());
        Some(stop)
    }

    /// Current simulated time.
    pub fn now(&self) -> SimTime {
        self.sim.now()
    }

    /// Events handled so far.
    pub fn n_events(&self) -> u64 {
        self.sim.n_events()
    }

    /// The largest footprint of growable state seen at the end of an `advance`, in bytes.
    pub fn footprint_max_bytes(&self) -> usize {
        self.footprint_max
    }

    /// Ends the run and collects its output, checking conservation.
    ///
    /// # Panics
    /// If requests were lost or duplicated: that is a bug in the engine, and a report built
    /// on it would be wrong.
    pub fn finish(mut self) -> RunOutput {
        let stop = self.stop.take().unwrap_or(StopReason::Halted { reason: "finished early".into() });
        let end = self.sim.now();
        let n_events = self.sim.n_events();
        self.sim.into_model().into_output(end, stop, n_events)
    }
}

/// Builds and runs `config` to the end.
pub fn run(config: &ModelConfig) -> RunOutput {
    let mut r = Run::new(config);
    while r.advance(SimTime::MAX).is_none() {}
    r.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::*;
    use squall_kernel::Dist;

    /// One service, one client: the smallest world, with knobs for the tests below.
    pub(crate) fn single(
        rate: f64,
        mean_ms: f64,
        replicas: u32,
        workers: u32,
        capacity: u32,
        shared: bool,
    ) -> ModelConfig {
        ModelConfig {
            seed: 1,
            duration: SimDuration::from_secs(2000),
            bucket_width: SimDuration::from_secs(10),
            limits: Limits::default(),
            services: vec![ServiceConfig::new(
                "s",
                replicas,
                workers,
                QueueConfig::fifo(capacity, shared),
                BalancerKind::RoundRobin,
                vec![EndpointConfig::work("e", Dist::exponential(mean_ms * 1e6).unwrap())],
            )],
            clients: vec![ClientConfig {
                name: "c".into(),
                service: ServiceId(0),
                endpoint: EndpointId(0),
                load: Load::Open { process: ArrivalProcess::Poisson, rate: RateSchedule::constant(rate) },
                timeout: None,
                criticality: Criticality::default(),
            }],
            faults: Vec::new(),
        }
    }

    #[test]
    fn mm1_mean_sojourn_is_close_to_theory() {
        // lambda = 80/s, mu = 100/s: W = 1/(mu - lambda) = 50 ms. 160k customers give a
        // standard error around 1.5 ms; this is a smoke test, tests/ holds the real ones.
        let out = run(&single(80.0, 10.0, 1, 1, 100_000, false));
        let s = &out.services[0];
        let w_ms = s.sojourn_ns_sum as f64 / s.completed as f64 / 1e6;
        assert!((w_ms - 50.0).abs() < 6.0, "mean sojourn {w_ms} ms");
        // Regression: histograms once clamped every value to their tiny initial range.
        let p50_ms = s.sojourn.value_at_quantile(0.5) as f64 / 1e6;
        assert!((p50_ms - 34.7).abs() < 5.0, "median sojourn {p50_ms} ms, expected ln 2 * 50 ms");
        assert_eq!(out.stop, StopReason::Completed);
        assert_eq!(out.conservation.issued, out.conservation.ended + out.conservation.in_flight);
    }

    /// A random small world: up to three services whose endpoints call only later services
    /// (so the call graph has no cycle), each knob drawn from a small range.
    fn arb_config() -> impl Strategy<Value = ModelConfig> {
        let service =
            (1u32..4, 1u32..4, 0u32..6, any::<bool>(), 0usize..4, 0.2f64..5.0, prop::option::of(1u64..40));
        (
            prop::collection::vec(service, 1..4),
            any::<u64>(),
            10.0f64..400.0,
            prop::option::of(1u64..50),
            0u8..3,
        )
            .prop_map(|(svcs, seed, rate, client_timeout_ms, load_kind)| {
                let n = svcs.len();
                let balancers = [
                    BalancerKind::RoundRobin,
                    BalancerKind::Random,
                    BalancerKind::LeastOutstanding,
                    BalancerKind::PowerOfTwoChoices,
                ];
                let services = svcs
                    .iter()
                    .enumerate()
                    .map(|(i, &(replicas, workers, capacity, shared, lb, mean_ms, call_timeout_ms))| {
                        let mut ep = EndpointConfig::work("e", Dist::exponential(mean_ms * 1e6).unwrap());
                        if i + 1 < n {
                            ep.steps.push(Step::Calls {
                                calls: vec![CallConfig {
                                    service: ServiceId((i + 1) as u32),
                                    endpoint: EndpointId(0),
                                    timeout: call_timeout_ms.map(SimDuration::from_millis),
                                    cache: None,
                                }],
                                need: 1,
                            });
                        }
                        ServiceConfig::new(
                            &format!("s{i}"),
                            replicas,
                            workers,
                            QueueConfig::fifo(capacity, shared),
                            balancers[lb],
                            vec![ep],
                        )
                    })
                    .collect();
                let load = match load_kind {
                    0 => Load::Open { process: ArrivalProcess::Poisson, rate: RateSchedule::constant(rate) },
                    1 => Load::Open {
                        process: ArrivalProcess::Constant,
                        rate: RateSchedule {
                            points: vec![
                                (SimTime::ZERO, rate),
                                (SimTime(1_000_000_000), 0.0),
                                (SimTime(1_500_000_000), rate * 2.0),
                            ],
                        },
                    },
                    _ => Load::Closed {
                        users: (rate / 10.0) as u32 + 1,
                        think: Dist::exponential(5e6).unwrap(),
                    },
                };
                ModelConfig {
                    seed,
                    duration: SimDuration::from_secs(3),
                    bucket_width: SimDuration::from_millis(500),
                    limits: Limits::default(),
                    services,
                    clients: vec![ClientConfig {
                        name: "c".into(),
                        service: ServiceId(0),
                        endpoint: EndpointId(0),
                        load,
                        timeout: client_timeout_ms.map(SimDuration::from_millis),
                        criticality: Criticality::default(),
                    }],
                    faults: Vec::new(),
                }
            })
    }

    /// A digest of everything a report would show, to compare runs.
    fn digest(out: &RunOutput) -> String {
        let mut s = format!("{:?} {} {:?}\n", out.stop, out.n_events, out.conservation);
        for c in &out.clients {
            s += &format!("{} {} {:?} {}\n", c.name, c.issued, c.outcomes, c.latency_all.mean());
        }
        for v in &out.services {
            s += &format!(
                "{} {} {} {} {} {} {}\n",
                v.name,
                v.arrivals,
                v.completed,
                v.rejected,
                v.busy_integral,
                v.queue_integral,
                v.wasted_work_ns
            );
        }
        s
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Conservation is asserted inside `finish`; here we also check that every request
        /// that ended is accounted for by outcome, that buckets add up to totals, and that the
        /// same seed gives the same run.
        #[test]
        fn random_worlds_conserve_requests_and_repeat_exactly(cfg in arb_config()) {
            let a = run(&cfg);
            let b = run(&cfg);
            prop_assert_eq!(digest(&a), digest(&b));
            let c = &a.clients[0];
            prop_assert_eq!(c.issued, a.conservation.issued);
            prop_assert_eq!(c.outcomes.total(), a.conservation.ended);
            let bucket_issued: u64 = c.series.iter().map(|b| b.issued).sum();
            prop_assert_eq!(bucket_issued, c.issued);
            let bucket_ended: u64 = c.series.iter().map(|b| b.outcomes.total()).sum();
            prop_assert_eq!(bucket_ended, c.outcomes.total());
            for s in &a.services {
                let busy: u128 = s.series.iter().map(|b| b.busy_integral).sum();
                prop_assert_eq!(busy, s.busy_integral);
                let queued: u128 = s.series.iter().map(|b| b.queue_integral).sum();
                prop_assert_eq!(queued, s.queue_integral);
                // Busy workers never exceed the workers there are.
                let cap = u128::from(s.workers) * u128::from(a.end.as_nanos());
                prop_assert!(s.busy_integral <= cap, "busy {} > capacity {}", s.busy_integral, cap);
            }
        }
    }

    #[test]
    fn a_timeout_answers_the_client_and_the_late_work_counts_as_wasted() {
        // Work takes 100 ms, the client waits 10 ms: every request times out, and all the work
        // done for them is wasted.
        let mut cfg = single(5.0, 100.0, 1, 1, 1000, false);
        cfg.services[0].endpoints[0].steps = vec![Step::Work(Dist::constant(100e6).unwrap())];
        cfg.clients[0].timeout = Some(SimDuration::from_millis(10));
        cfg.duration = SimDuration::from_secs(100);
        let out = run(&cfg);
        let c = &out.clients[0];
        assert_eq!(c.outcomes.get(Outcome::Timeout), c.outcomes.total());
        assert!(c.outcomes.total() > 400, "{:?}", c.outcomes);
        let s = &out.services[0];
        assert_eq!(s.wasted_work_ns, u128::from(s.completed) * 100_000_000);
    }

    #[test]
    fn a_full_queue_refuses_with_queue_full() {
        // Two requests per 100 ms of work, no queue: the loss system refuses many.
        let mut cfg = single(20.0, 100.0, 1, 1, 0, false);
        cfg.duration = SimDuration::from_secs(100);
        let out = run(&cfg);
        let c = &out.clients[0];
        assert!(c.outcomes.get(Outcome::QueueFull) > 0);
        assert_eq!(out.services[0].queue_max, 0);
        assert_eq!(
            c.outcomes.get(Outcome::Ok) + c.outcomes.get(Outcome::QueueFull) + out.conservation.in_flight,
            c.issued
        );
    }

    #[test]
    fn a_failed_downstream_call_fails_the_caller_with_server_error() {
        let mut cfg = single(50.0, 1.0, 1, 4, 10, false);
        let mut db = cfg.services[0].clone();
        db.name = "db".into();
        db.queue = QueueConfig::fifo(0, false);
        db.workers = 1;
        db.endpoints[0].steps = vec![Step::Work(Dist::constant(50e6).unwrap())];
        cfg.services.push(db);
        cfg.services[0].endpoints[0].steps.push(Step::Calls {
            calls: vec![CallConfig {
                service: ServiceId(1),
                endpoint: EndpointId(0),
                timeout: None,
                cache: None,
            }],
            need: 1,
        });
        cfg.duration = SimDuration::from_secs(50);
        let out = run(&cfg);
        let c = &out.clients[0];
        assert_eq!(c.outcomes.get(Outcome::ServerError), out.services[1].rejected);
        assert!(c.outcomes.get(Outcome::ServerError) > 0);
        assert!(c.outcomes.get(Outcome::Ok) > 0);
    }

    #[test]
    fn the_in_flight_limit_halts_a_runaway_run() {
        let mut cfg = single(1000.0, 100.0, 1, 1, 1_000_000, false);
        cfg.limits.max_in_flight = 500;
        let out = run(&cfg);
        assert!(matches!(&out.stop, StopReason::Halted { reason } if reason.contains("max_in_flight")));
        assert!(out.end < SimTime::ZERO + cfg.duration);
    }

    #[test]
    fn the_event_limit_stops_the_run_with_its_number() {
        let mut cfg = single(1000.0, 0.5, 1, 1, 100, false);
        cfg.limits.max_events = 10_000;
        let out = run(&cfg);
        assert_eq!(out.stop, StopReason::EventLimit { limit: 10_000 });
        assert_eq!(out.n_events, 10_000);
    }

    #[test]
    fn state_does_not_grow_with_run_length() {
        let footprint = |secs| {
            let mut cfg = single(80.0, 10.0, 1, 1, 1000, false);
            cfg.duration = SimDuration::from_secs(secs);
            let mut r = Run::new(&cfg);
            let mut t = 0;
            loop {
                t += 10_000_000_000;
                if r.advance(SimTime(t)).is_some() {
                    break;
                }
            }
            r.footprint_max_bytes()
        };
        let (short, long) = (footprint(1_000), footprint(10_000));
        assert!(long <= short * 2, "footprint grew from {short} to {long} bytes");
    }
}
