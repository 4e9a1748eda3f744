//! The logical-request table: one slot per intent of a caller (a client's request, or a call
//! an endpoint step makes), which owns the attempts that try to fulfil it. Slots are reused
//! through a free list, like the request table.

use super::deadline::Deadline;
use super::ids::{CallId, FlowId, InstanceId, SiteId};
use super::requests::ReqRef;
use crate::config::{ClientId, Criticality, EndpointId, ServiceId};
use crate::outcome::Outcome;
use squall_kernel::{SimTime, TimerId};
use squall_policy::BackoffState;

/// Attempts of one logical request out at once, at most (gRPC caps hedging at 5).
pub(super) const MAX_OUT: usize = 5;

/// A reference to a logical-request slot, with the slot's generation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct LogRef {
    pub index: u32,
    pub gen: u32,
}

/// Who waits for a logical request's outcome.
#[derive(Copy, Clone, Debug)]
pub(super) enum Owner {
    /// A client group's request: on its own (`flow` is `None`), or a step of a flow run.
    Client { client: ClientId, flow: Option<FlowId> },
    /// A dependency probe of an instance (its worker's `seq` when sent, and its kind).
    Probe { inst: InstanceId, seq: u32, kind: u8 },
    /// An active health check of an instance by its service's balancer.
    HealthCheck { inst: InstanceId, seq: u32 },
    /// A request on another service, waiting on this call while its step number is `seq`.
    /// A later answer, after the parent moved on, reaches nobody.
    Parent { req: ReqRef, seq: u32 },
}

#[derive(Debug)]
pub(super) struct Logical {
    pub gen: u32,
    pub live: bool,
    pub owner: Owner,
    /// Its policy site (a client group or a caller's dependency) and the scope of the policy
    /// state within the site (the caller instance's index, 0 for clients).
    pub site: SiteId,
    pub scope: u32,
    /// As a call: its call site in the plan, and the caller instance (`None` for a request
    /// that is not a call).
    pub call: Option<CallId>,
    pub caller_instance: Option<InstanceId>,
    /// What its attempts ask for.
    pub service: ServiceId,
    pub endpoint: EndpointId,
    pub criticality: Criticality,
    pub issued_at: SimTime,
    /// The overall deadline, in true time, and its timer.
    pub deadline: Deadline,
    pub timer: Option<TimerId>,
    /// The timer of the next retry or hedge.
    pub next_timer: Option<TimerId>,
    /// Attempts sent so far (including those refused before leaving the caller).
    pub attempts: u8,
    /// Attempts out now.
    pub out: [ReqRef; MAX_OUT],
    pub n_out: u8,
    /// It has retried: from the first retry decision on, it counts against the scope's
    /// retry concurrency.
    pub in_retry: bool,
    /// It is ending: attempts answered now only report their results.
    pub ending: bool,
    pub backoff: BackoffState,
    /// Budget units its latest retry acquired (AWS quota), returned on success (botocore
    /// refunds only the most recent acquisition).
    pub held: u32,
    /// How the last attempt failed.
    pub last_failure: Outcome,
    /// The version of the instance that answered the latest attempt (`NONE` if none did),
    /// and the flags of a successful answer.
    pub version: u32,
    pub flags: u64,
}

pub(super) struct Logicals {
    pub slots: Vec<Logical>,
    pub free: Vec<u32>,
    pub n_live: u32,
}

impl Logicals {
    pub fn new() -> Logicals {
        Logicals { slots: Vec::new(), free: Vec::new(), n_live: 0 }
    }

    /// The live logical request `l`.
    ///
    /// # Panics
    /// If `l` is stale: the engine lost track of a logical request.
    #[inline]
    pub fn get(&self, l: LogRef) -> &Logical {
        let x = &self.slots[l.index as usize];
        assert!(x.live && x.gen == l.gen, "stale logical reference {l:?}: {x:?}");
        x
    }

    #[inline]
    pub fn get_mut(&mut self, l: LogRef) -> &mut Logical {
        let x = &mut self.slots[l.index as usize];
        assert!(x.live && x.gen == l.gen, "stale logical reference {l:?}: {x:?}");
        x
    }

    /// The logical request `l` if it is still alive (timers may outlive it).
    #[inline]
    pub fn find(&self, l: LogRef) -> Option<&Logical> {
        let x = &self.slots[l.index as usize];
        (x.live && x.gen == l.gen).then_some(x)
    }

    pub fn alloc(
        &mut self,
        owner: Owner,
        site: SiteId,
        scope: u32,
        call: Option<CallId>,
        now: SimTime,
    ) -> LogRef {
        let nobody = ReqRef { index: u32::MAX, gen: 0 };
        let fresh = || Logical {
            gen: 0,
            live: true,
            owner,
            site,
            scope,
            call,
            caller_instance: None,
            service: ServiceId(0),
            endpoint: EndpointId(0),
            criticality: Criticality::default(),
            issued_at: now,
            deadline: Deadline::NONE,
            timer: None,
            next_timer: None,
            attempts: 0,
            out: [nobody; MAX_OUT],
            n_out: 0,
            in_retry: false,
            ending: false,
            backoff: BackoffState::default(),
            held: 0,
            last_failure: Outcome::Timeout,
            version: u32::MAX,
            flags: 0,
        };
        self.n_live += 1;
        match self.free.pop() {
            Some(index) => {
                // Reset the fields in place: `out` past `n_out` is never read, so it keeps
                // stale entries instead of being rewritten.
                let x = &mut self.slots[index as usize];
                assert!(!x.live, "free list held a live logical slot {index}");
                x.gen = x.gen.wrapping_add(1);
                x.live = true;
                x.owner = owner;
                x.site = site;
                x.scope = scope;
                x.call = call;
                x.caller_instance = None;
                x.issued_at = now;
                x.deadline = Deadline::NONE;
                x.timer = None;
                x.next_timer = None;
                x.attempts = 0;
                x.n_out = 0;
                x.in_retry = false;
                x.ending = false;
                x.backoff = BackoffState::default();
                x.held = 0;
                x.version = u32::MAX;
                x.flags = 0;
                LogRef { index, gen: x.gen }
            }
            None => {
                let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 logical requests alive");
                self.slots.push(fresh());
                LogRef { index, gen: 0 }
            }
        }
    }

    /// Frees a logical request that has ended (no attempt out, no timer set).
    #[inline]
    pub fn release(&mut self, l: LogRef) {
        let x = self.get_mut(l);
        debug_assert!(x.n_out == 0 && x.timer.is_none() && x.next_timer.is_none(), "{x:?}");
        x.live = false;
        self.free.push(l.index);
        self.n_live -= 1;
    }
}
