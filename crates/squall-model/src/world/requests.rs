//! The request table: one slot per attempt alive, reused through a free list, so memory
//! follows the number of requests in flight, not the number ever made. (Logical requests,
//! which own attempts, have their own table in `logical`.)

use super::deadline::{Clock, Deadline};
use super::ids::{CallId, InstanceId};
use super::logical::LogRef;
use crate::config::{Criticality, EndpointId, ServiceId};
use squall_kernel::{SimDuration, SimTime, TimerId};
use squall_policy::{BreakerPermit, Permit};

/// A reference to a request slot, with the slot's generation to catch stale references.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct ReqRef {
    pub index: u32,
    pub gen: u32,
}

/// What a call is waiting for before it can be sent.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Waiting {
    Nothing,
    /// A bulkhead permit or pool thread.
    Bulkhead,
    /// A pooled connection.
    Connection,
}

#[derive(Debug)]
pub(super) struct Request {
    pub gen: u32,
    pub live: bool,
    /// The logical request this is an attempt of.
    pub logical: LogRef,
    /// Which attempt: 0 for the first, then retries or hedges.
    pub attempt: u8,
    /// A breaker's admission, handed back with the result.
    pub breaker_permit: Option<BreakerPermit>,
    /// The deadline it carries, and the clock that reads it: the sender's wall clock, or
    /// true time (a relative deadline, a duration counted from arrival, needs no clock).
    pub deadline: Deadline,
    pub deadline_clock: Clock,
    /// A Retry-After the service answered with (zero for none).
    pub retry_after: SimDuration,
    pub service: ServiceId,
    pub endpoint: EndpointId,
    pub criticality: Criticality,
    /// When the caller sent it.
    pub issued_at: SimTime,
    /// When it reached the service (after any bulkhead or pool wait).
    pub arrived_at: SimTime,
    /// When it last entered a queue.
    pub enqueued_at: SimTime,
    pub instance: Option<InstanceId>,
    /// The instance the balancer sent it to (`None` if none did): its answer is a
    /// result for that instance's outlier detection.
    pub host: Option<InstanceId>,
    /// The version of the instance that took or refused it (`NONE` before one did).
    pub version: u32,
    /// Flags its answer carries (set when it succeeds).
    pub flags: u64,
    /// The caller has its outcome.
    pub answered: bool,
    /// The server is done with it (finished, refused, dropped, reset, or never reached).
    pub server_done: bool,
    /// The attempt's own timeout (a per-try timeout).
    pub timer: Option<TimerId>,
    /// The bound on a bulkhead or pool wait.
    pub wait_timer: Option<TimerId>,
    /// Index of the current step of its endpoint.
    pub step: u32,
    /// Bumped whenever the request leaves a step, so answers to calls of a step it has left
    /// are recognised and dropped.
    pub step_seq: u32,
    /// Calls of the current step that succeeded and failed.
    pub calls_ok: u32,
    pub calls_failed: u32,
    /// In a wait queue of its instance or service.
    pub in_queue: bool,
    /// Holds a worker of its instance.
    pub holds_worker: bool,
    /// Has had a worker at least once (its wait for a first worker is over).
    pub started: bool,
    pub worker_since: SimTime,
    /// Worker time used so far, ns.
    pub work_ns: u64,
    /// As a call: its call site in the plan.
    pub call: Option<CallId>,
    /// As a call: the caller's instance, whose bulkheads and pools it uses.
    pub caller_instance: Option<InstanceId>,
    pub waiting: Waiting,
    pub holds_bulkhead: bool,
    pub holds_connection: bool,
    /// Admitted by its instance's concurrency limiter.
    pub permit: Option<Permit>,
}

impl Request {
    /// The instance serving it.
    ///
    /// # Panics
    /// If no instance took it.
    #[inline]
    pub fn at(&self) -> InstanceId {
        self.instance.unwrap_or_else(|| panic!("request at no instance: {self:?}"))
    }

    /// The call site it is an attempt of.
    ///
    /// # Panics
    /// If it is not a call.
    #[inline]
    pub fn call(&self) -> CallId {
        self.call.unwrap_or_else(|| panic!("request is not a call: {self:?}"))
    }

    /// The instance whose call it is.
    ///
    /// # Panics
    /// If it is not a call.
    #[inline]
    pub fn caller(&self) -> InstanceId {
        self.caller_instance.unwrap_or_else(|| panic!("request is not a call: {self:?}"))
    }
}

pub(super) struct Requests {
    pub slots: Vec<Request>,
    pub free: Vec<u32>,
    pub n_live: u32,
}

impl Requests {
    pub fn new() -> Requests {
        Requests { slots: Vec::new(), free: Vec::new(), n_live: 0 }
    }

    /// The live request `r`.
    ///
    /// # Panics
    /// If `r` is stale: the engine lost track of a request.
    #[inline]
    pub fn get(&self, r: ReqRef) -> &Request {
        let req = &self.slots[r.index as usize];
        assert!(req.live && req.gen == r.gen, "stale request reference {r:?}: {req:?}");
        req
    }

    #[inline]
    pub fn get_mut(&mut self, r: ReqRef) -> &mut Request {
        let req = &mut self.slots[r.index as usize];
        assert!(req.live && req.gen == r.gen, "stale request reference {r:?}: {req:?}");
        req
    }

    /// The request `r` if it is still alive (events may outlive what they were about).
    #[inline]
    pub fn find(&self, r: ReqRef) -> Option<&Request> {
        let req = &self.slots[r.index as usize];
        (req.live && req.gen == r.gen).then_some(req)
    }

    /// Whether `r` is alive and waits for a bulkhead or pool: the liveness test of the gates'
    /// queues.
    #[inline]
    pub fn is_waiting(&self, r: &ReqRef) -> bool {
        self.find(*r).is_some_and(|q| q.waiting != Waiting::Nothing)
    }

    pub fn alloc(
        &mut self,
        logical: LogRef,
        service: ServiceId,
        endpoint: EndpointId,
        criticality: Criticality,
        now: SimTime,
    ) -> ReqRef {
        let fresh = Request {
            gen: 0,
            live: true,
            logical,
            attempt: 0,
            breaker_permit: None,
            deadline: Deadline::NONE,
            deadline_clock: Clock::Wall,
            retry_after: SimDuration::ZERO,
            service,
            endpoint,
            criticality,
            issued_at: now,
            arrived_at: now,
            enqueued_at: now,
            instance: None,
            host: None,
            version: super::plan::NONE,
            flags: 0,
            answered: false,
            server_done: false,
            timer: None,
            wait_timer: None,
            step: 0,
            step_seq: 0,
            calls_ok: 0,
            calls_failed: 0,
            in_queue: false,
            holds_worker: false,
            started: false,
            worker_since: now,
            work_ns: 0,
            call: None,
            caller_instance: None,
            waiting: Waiting::Nothing,
            holds_bulkhead: false,
            holds_connection: false,
            permit: None,
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

    /// Frees the slot once both the caller and the server are done with the request.
    #[inline]
    pub fn release_if_done(&mut self, r: ReqRef) {
        let req = self.get_mut(r);
        if req.answered && req.server_done {
            debug_assert!(!req.holds_worker && !req.in_queue && req.permit.is_none(), "{req:?}");
            debug_assert!(!req.holds_bulkhead && !req.holds_connection, "{req:?}");
            req.live = false;
            self.free.push(r.index);
            self.n_live -= 1;
        }
    }
}
// The request and logical-request slots are touched on every event, and events fill the
// queue: typed ids and deadlines must not make them larger than the bare integers they
// replaced (an `Option` of an id is as small as the id; a deadline is one `i64`).
const _: () = assert!(std::mem::size_of::<Request>() <= 176);
const _: () = assert!(std::mem::size_of::<super::logical::Logical>() <= 168);
const _: () = assert!(std::mem::size_of::<super::Event>() <= 12);
