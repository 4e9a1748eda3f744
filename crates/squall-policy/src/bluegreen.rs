//! Argo Rollouts blue-green: a preview of the new version, promotion (automatic, delayed or
//! manual), the switch of the active service and the delayed scale-down of the old one.
//!
//! Rules (argo-rollouts `docs/features/bluegreen.md`, `utils/defaults/defaults.go`,
//! `rollout/pause.go` `CompletedBlueGreenPause`; policies.md §9.4, §9.6):
//! - Defaults: `autoPromotionEnabled` **true**, `autoPromotionSeconds` 0 (unset),
//!   `scaleDownDelaySeconds` **30**, `abortScaleDownDelaySeconds` 30.
//! - The new ReplicaSet comes up behind the preview service while the active service stays
//!   on the old one. Once it is fully available ([`BlueGreen::on_preview_available`]):
//!   with auto-promotion and no `autoPromotionSeconds`, the active service switches at
//!   once; with `autoPromotionSeconds`, the rollout pauses and switches at the first
//!   [`BlueGreen::advance`] strictly after `pause start + autoPromotionSeconds`
//!   (`now.After(switchDeadline)`); with auto-promotion disabled it waits for a promote
//!   (`autoPromotionSeconds` is then ignored). A promote also ends a timed pause.
//! - After the switch the old ReplicaSet stays up for `scaleDownDelaySeconds`, so nodes
//!   whose iptables still point at it keep reaching live pods; then it is scaled down and
//!   the rollout is complete. Until then both versions can serve (policies.md §9.6).
//! - Abort before completion keeps (or puts back) the old version as active and scales the
//!   new one down `abortScaleDownDelaySeconds` later.
//!
//! Not modelled: `prePromotionAnalysis`/`postPromotionAnalysis` (the caller can run an
//! [`AnalysisRun`](crate::analysis::AnalysisRun) and call [`BlueGreen::promote`] or
//! [`BlueGreen::abort`]), `previewReplicaCount`, `scaleDownDelayRevisionLimit`. Whether
//! Argo scales down at exactly the delay's end or just after it is not checked against the
//! source; here it is at the first `advance` at or after it.

use squall_kernel::{SimDuration, SimTime};

/// Which ReplicaSet a service points at.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// The previously active ("blue") ReplicaSet.
    Old,
    /// The ReplicaSet being rolled out ("green").
    New,
}

/// A blue-green strategy's promotion and scale-down settings (API names and defaults).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BlueGreenConfig {
    /// `autoPromotionEnabled` (true).
    pub auto_promotion_enabled: bool,
    /// `autoPromotionSeconds` (zero = unset: promote as soon as the preview is available).
    pub auto_promotion_seconds: SimDuration,
    /// `scaleDownDelaySeconds` (30 s).
    pub scale_down_delay_seconds: SimDuration,
    /// `abortScaleDownDelaySeconds` (30 s).
    pub abort_scale_down_delay_seconds: SimDuration,
}

impl Default for BlueGreenConfig {
    fn default() -> Self {
        BlueGreenConfig {
            auto_promotion_enabled: true,
            auto_promotion_seconds: SimDuration::ZERO,
            scale_down_delay_seconds: SimDuration::from_secs(30),
            abort_scale_down_delay_seconds: SimDuration::from_secs(30),
        }
    }
}

/// Where a blue-green rollout stands.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BlueGreenPhase {
    /// The new ReplicaSet is scaling up behind the preview service.
    PreviewScaling,
    /// Waiting to promote: strictly after `until`, or for a promote if `None`.
    Paused {
        /// Auto-promotion deadline.
        until: Option<SimTime>,
    },
    /// Active points at the new version; the old one is scaled down at `scale_down_at`.
    Switched {
        /// When the old ReplicaSet is scaled down.
        scale_down_at: SimTime,
    },
    /// The old ReplicaSet is scaled down; the new one is stable.
    Completed,
    /// Aborted: active on the old version; the new one is scaled down at `scale_down_at`.
    Aborted {
        /// When the new ReplicaSet is scaled down.
        scale_down_at: SimTime,
    },
    /// Aborted, and the new ReplicaSet is scaled down.
    RolledBack,
}

/// What one call changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BlueGreenEvent {
    /// The rollout paused before promotion.
    Paused {
        /// Auto-promotion deadline, if any.
        until: Option<SimTime>,
    },
    /// The active service switched to the new version.
    Switched {
        /// When the old ReplicaSet will be scaled down.
        scale_down_at: SimTime,
    },
    /// The old ReplicaSet was scaled down; the rollout is complete.
    OldScaledDown,
    /// The rollout was aborted; active is (again) the old version.
    Aborted {
        /// When the new ReplicaSet will be scaled down.
        scale_down_at: SimTime,
    },
    /// The aborted new ReplicaSet was scaled down.
    NewScaledDown,
    /// Nothing changed.
    NoChange,
}

/// An Argo Rollouts blue-green rollout.
#[derive(Clone, Debug)]
pub struct BlueGreen {
    config: BlueGreenConfig,
    phase: BlueGreenPhase,
    since: SimTime,
}

impl BlueGreen {
    /// A rollout whose new ReplicaSet starts scaling up behind the preview service at `now`.
    pub fn new(config: BlueGreenConfig, now: SimTime) -> Self {
        BlueGreen { config, phase: BlueGreenPhase::PreviewScaling, since: now }
    }

    /// The configuration.
    pub fn config(&self) -> &BlueGreenConfig {
        &self.config
    }

    /// The current phase.
    pub fn phase(&self) -> BlueGreenPhase {
        self.phase
    }

    /// When the current phase began.
    pub fn since(&self) -> SimTime {
        self.since
    }

    /// The version the active service selects.
    pub fn active(&self) -> Version {
        match self.phase {
            BlueGreenPhase::Switched { .. } | BlueGreenPhase::Completed => Version::New,
            _ => Version::Old,
        }
    }

    /// The version the preview service selects (the new one until it is rolled back).
    pub fn preview(&self) -> Version {
        match self.phase {
            BlueGreenPhase::RolledBack => Version::Old,
            _ => Version::New,
        }
    }

    /// Whether the old ReplicaSet still has pods (it serves stale routes until scaled down).
    pub fn old_running(&self) -> bool {
        self.phase != BlueGreenPhase::Completed
    }

    /// Whether the new ReplicaSet still has (or is getting) pods.
    pub fn new_running(&self) -> bool {
        self.phase != BlueGreenPhase::RolledBack
    }

    /// When the next timed change is due, if any: the auto-promotion deadline (the switch
    /// happens strictly after it) or a scale-down.
    pub fn next_deadline(&self) -> Option<SimTime> {
        match self.phase {
            BlueGreenPhase::Paused { until } => until,
            BlueGreenPhase::Switched { scale_down_at } | BlueGreenPhase::Aborted { scale_down_at } => {
                Some(scale_down_at)
            }
            _ => None,
        }
    }

    fn set_phase(&mut self, phase: BlueGreenPhase, now: SimTime) {
        assert!(now >= self.since, "time went backwards: {now:?} before {:?}", self.since);
        self.phase = phase;
        self.since = now;
    }

    fn switch(&mut self, now: SimTime) -> BlueGreenEvent {
        let scale_down_at = now.saturating_add(self.config.scale_down_delay_seconds);
        self.set_phase(BlueGreenPhase::Switched { scale_down_at }, now);
        BlueGreenEvent::Switched { scale_down_at }
    }

    /// The new ReplicaSet is fully available behind the preview service: switch now, or
    /// pause for the auto-promotion delay or for a promote.
    pub fn on_preview_available(&mut self, now: SimTime) -> BlueGreenEvent {
        if self.phase != BlueGreenPhase::PreviewScaling {
            return BlueGreenEvent::NoChange;
        }
        let c = self.config;
        if c.auto_promotion_enabled && c.auto_promotion_seconds == SimDuration::ZERO {
            return self.switch(now);
        }
        let until = c.auto_promotion_enabled.then(|| now.saturating_add(c.auto_promotion_seconds));
        self.set_phase(BlueGreenPhase::Paused { until }, now);
        BlueGreenEvent::Paused { until }
    }

    /// Applies timed changes due at `now`: auto-promotion strictly after its deadline, and
    /// scale-downs at or after theirs. One change per call.
    pub fn advance(&mut self, now: SimTime) -> BlueGreenEvent {
        match self.phase {
            BlueGreenPhase::Paused { until: Some(until) } if now > until => self.switch(now),
            BlueGreenPhase::Switched { scale_down_at } if now >= scale_down_at => {
                self.set_phase(BlueGreenPhase::Completed, now);
                BlueGreenEvent::OldScaledDown
            }
            BlueGreenPhase::Aborted { scale_down_at } if now >= scale_down_at => {
                self.set_phase(BlueGreenPhase::RolledBack, now);
                BlueGreenEvent::NewScaledDown
            }
            _ => BlueGreenEvent::NoChange,
        }
    }

    /// A promote: switches a paused rollout at once. Otherwise nothing changes.
    pub fn promote(&mut self, now: SimTime) -> BlueGreenEvent {
        match self.phase {
            BlueGreenPhase::Paused { .. } => self.switch(now),
            _ => BlueGreenEvent::NoChange,
        }
    }

    /// Aborts before completion: active stays on (or switches back to) the old version and
    /// the new one is scaled down after `abortScaleDownDelaySeconds`.
    pub fn abort(&mut self, now: SimTime) -> BlueGreenEvent {
        match self.phase {
            BlueGreenPhase::PreviewScaling
            | BlueGreenPhase::Paused { .. }
            | BlueGreenPhase::Switched { .. } => {
                let scale_down_at = now.saturating_add(self.config.abort_scale_down_delay_seconds);
                self.set_phase(BlueGreenPhase::Aborted { scale_down_at }, now);
                BlueGreenEvent::Aborted { scale_down_at }
            }
            _ => BlueGreenEvent::NoChange,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn the_default_switches_when_the_preview_is_available_and_scales_down_30_s_later() {
        let mut bg = BlueGreen::new(BlueGreenConfig::default(), secs(0));
        assert_eq!((bg.active(), bg.preview()), (Version::Old, Version::New));
        assert_eq!(bg.advance(secs(10)), BlueGreenEvent::NoChange);
        assert_eq!(bg.on_preview_available(secs(20)), BlueGreenEvent::Switched { scale_down_at: secs(50) });
        assert_eq!(bg.active(), Version::New);
        assert!(bg.old_running(), "the old set still serves stale routes");
        assert_eq!(bg.advance(SimTime(secs(50).0 - 1)), BlueGreenEvent::NoChange);
        assert_eq!(bg.advance(secs(50)), BlueGreenEvent::OldScaledDown);
        assert_eq!(
            (bg.phase(), bg.active(), bg.old_running()),
            (BlueGreenPhase::Completed, Version::New, false)
        );
        assert_eq!(bg.abort(secs(60)), BlueGreenEvent::NoChange, "a completed rollout cannot abort");
    }

    #[test]
    fn auto_promotion_seconds_pause_then_switch_strictly_after_the_deadline() {
        let config =
            BlueGreenConfig { auto_promotion_seconds: SimDuration::from_secs(120), ..Default::default() };
        let mut bg = BlueGreen::new(config, secs(0));
        assert_eq!(bg.on_preview_available(secs(30)), BlueGreenEvent::Paused { until: Some(secs(150)) });
        assert_eq!(bg.next_deadline(), Some(secs(150)));
        assert_eq!(bg.advance(secs(150)), BlueGreenEvent::NoChange);
        let t = SimTime(secs(150).0 + 1);
        assert_eq!(bg.advance(t), BlueGreenEvent::Switched { scale_down_at: t + SimDuration::from_secs(30) });
    }

    #[test]
    fn disabled_auto_promotion_waits_for_a_promote_and_ignores_the_seconds() {
        let config = BlueGreenConfig {
            auto_promotion_enabled: false,
            auto_promotion_seconds: SimDuration::from_secs(10),
            ..Default::default()
        };
        let mut bg = BlueGreen::new(config, secs(0));
        assert_eq!(bg.on_preview_available(secs(5)), BlueGreenEvent::Paused { until: None });
        assert_eq!(bg.advance(secs(3600)), BlueGreenEvent::NoChange);
        assert_eq!(bg.active(), Version::Old);
        assert_eq!(bg.promote(secs(3600)), BlueGreenEvent::Switched { scale_down_at: secs(3630) });
    }

    #[test]
    fn abort_keeps_the_old_active_and_scales_the_new_down_after_its_delay() {
        let config = BlueGreenConfig { auto_promotion_enabled: false, ..Default::default() };
        let mut bg = BlueGreen::new(config, secs(0));
        bg.on_preview_available(secs(5));
        assert_eq!(bg.abort(secs(40)), BlueGreenEvent::Aborted { scale_down_at: secs(70) });
        assert_eq!((bg.active(), bg.new_running()), (Version::Old, true));
        assert_eq!(bg.promote(secs(41)), BlueGreenEvent::NoChange);
        assert_eq!(bg.advance(secs(70)), BlueGreenEvent::NewScaledDown);
        assert_eq!((bg.active(), bg.preview(), bg.new_running()), (Version::Old, Version::Old, false));

        // After the switch (a failed post-promotion analysis): active goes back to old.
        let mut bg = BlueGreen::new(BlueGreenConfig::default(), secs(0));
        bg.on_preview_available(secs(5));
        assert_eq!(bg.active(), Version::New);
        assert_eq!(bg.abort(secs(10)), BlueGreenEvent::Aborted { scale_down_at: secs(40) });
        assert_eq!((bg.active(), bg.old_running()), (Version::Old, true));
    }

    proptest! {
        #[test]
        fn exactly_one_version_is_active_and_it_keeps_running(
            ops in proptest::collection::vec((0u8..4, 0u64..60), 0..30),
            enabled: bool,
            auto_s in 0u64..100,
        ) {
            let config = BlueGreenConfig {
                auto_promotion_enabled: enabled,
                auto_promotion_seconds: SimDuration::from_secs(auto_s),
                ..Default::default()
            };
            let mut bg = BlueGreen::new(config, SimTime::ZERO);
            let mut now = SimTime::ZERO;
            for (op, dt) in ops {
                now += SimDuration::from_secs(dt);
                let before = bg.active();
                let event = match op {
                    0 => bg.on_preview_available(now),
                    1 => bg.advance(now),
                    2 => bg.promote(now),
                    _ => bg.abort(now),
                };
                let running = match bg.active() {
                    Version::Old => bg.old_running(),
                    Version::New => bg.new_running(),
                };
                prop_assert!(running, "active {:?} has no pods in {:?}", bg.active(), bg.phase());
                if bg.active() != before {
                    prop_assert!(
                        matches!(event, BlueGreenEvent::Switched { .. } | BlueGreenEvent::Aborted { .. }),
                        "active changed on {:?}", event
                    );
                }
            }
        }
    }
}
