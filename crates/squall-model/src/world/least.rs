//! The least-outstanding balancer's pick without a scan: a min segment tree over one pool of
//! endpoints, knowing nothing of the world (it is told loads and asked for a position).
//!
//! The semantics it must reproduce exactly (committed reports depend on every choice): over
//! a pool (a list of endpoints) and a start position, the pick is the first position
//! scanning cyclically from the start whose load is minimal. With `m` the minimum, that is the
//! first position at or after the start whose load is `m`, else the first position overall
//! whose load is `m`; both are a descent from the root, so a pick costs O(log n).
//!
//! Leaves are in pool order, so the pick is a position with no mapping back, and the pool's
//! order is whatever the caller's list has. Endpoints are named by a dense key (the engine
//! uses an instance's ordinal, its creation rank in its service), and a table from key to position finds a load change's leaf in O(1); updating
//! the path to the root is O(log n), and usually stops early. A change of the pool shifts
//! positions, so the index is marked stale and rebuilt, O(n), at its next pick. Pools change
//! only when endpoints join or leave, ejections or health change, or a traffic split moves;
//! each of those already costs O(n) (the lists are rebuilt or shifted), and at time zero
//! thousands of joins cost one rebuild. The index keeps the pool's keys, so that it stands
//! alone and can be tested against a scan.

/// A leaf beyond the pool: never the minimum, since every real load is below it.
const PADDING: u32 = u32::MAX;

/// In the key-to-position table: the key is not in the pool.
const ABSENT: u32 = u32::MAX;

/// Min segment tree over the loads of one pool, in pool order.
#[derive(Default)]
pub(super) struct LeastIndex {
    /// The keys of the pool it was built over, in pool order.
    keys: Vec<u32>,
    /// Position in the pool of each key, or `ABSENT`; as long as the largest key seen.
    position: Vec<u32>,
    /// Built over the current pool; a stale index ignores load changes until rebuilt.
    fresh: bool,
    /// Where leaves start: the least power of two holding the pool (at least 1).
    cap: usize,
    /// `tree[1]` is the root, `tree[k]` the minimum of `tree[2k]` and `tree[2k + 1]`, and
    /// `tree[cap + p]` the load of `pool[p]`; leaves past the pool hold `PADDING`.
    tree: Vec<u32>,
}

impl LeastIndex {
    /// The pool changed: the index no longer describes it.
    pub fn invalidate(&mut self) {
        self.fresh = false;
    }

    /// Whether it describes the pool it was last built over, or must be rebuilt first.
    #[inline]
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// The keys of the pool it was built over, in pool order.
    pub fn keys(&self) -> &[u32] {
        &self.keys
    }

    /// Builds the index over a pool given as `(key, load)` in pool order, in O(n + largest
    /// key). Keys should be dense (small integers), since the table from key to position is
    /// as long as the largest.
    ///
    /// # Panics
    /// If a key appears twice, or a load is `u32::MAX` (the padding value).
    pub fn rebuild(&mut self, pool: impl ExactSizeIterator<Item = (u32, u32)>) {
        for &k in &self.keys {
            self.position[k as usize] = ABSENT;
        }
        self.keys.clear();
        self.cap = pool.len().next_power_of_two();
        self.tree.clear();
        self.tree.resize(2 * self.cap, PADDING);
        for (p, (key, load)) in pool.enumerate() {
            let k = key as usize;
            if k >= self.position.len() {
                self.position.resize(k + 1, ABSENT);
            }
            assert!(self.position[k] == ABSENT, "key {key} twice in the pool");
            assert!(load < PADDING, "key {key} has load {load}, the padding value");
            self.position[k] = u32::try_from(p).expect("a pool position fits u32");
            self.keys.push(key);
            self.tree[self.cap + p] = load;
        }
        for k in (1..self.cap).rev() {
            self.tree[k] = self.tree[2 * k].min(self.tree[2 * k + 1]);
        }
        self.fresh = true;
    }

    /// The endpoint named `key` now has `load`, in O(log n). Ignored if it is not in the pool,
    /// or the index is stale (its rebuild will read the load).
    ///
    /// # Panics
    /// If `load` is `u32::MAX` (the padding value).
    pub fn set_load(&mut self, key: u32, load: u32) {
        if !self.fresh {
            return;
        }
        let p = self.position.get(key as usize).copied().unwrap_or(ABSENT);
        if p == ABSENT {
            return;
        }
        assert!(load < PADDING, "key {key} has load {load}, the padding value");
        let mut k = self.cap + p as usize;
        self.tree[k] = load;
        while k > 1 {
            k /= 2;
            let m = self.tree[2 * k].min(self.tree[2 * k + 1]);
            // Nothing above changes once a node keeps its value.
            if self.tree[k] == m {
                break;
            }
            self.tree[k] = m;
        }
    }

    /// The position in the pool the balancer picks: the first of minimal load scanning
    /// cyclically from `start`, in O(log n).
    ///
    /// # Panics
    /// If the index is stale, the pool empty, or `start` not a position in it.
    pub fn pick(&self, start: usize) -> usize {
        assert!(self.fresh, "least-outstanding index used while stale");
        assert!(start < self.keys.len(), "start {start} outside a pool of {}", self.keys.len());
        let m = self.tree[1];
        let p = self.first_at_or_after(start, m).or_else(|| self.first_at_or_after(0, m));
        let p = p.expect("the minimum is some leaf's load");
        assert!(p < self.keys.len(), "picked position {p} of {}", self.keys.len());
        p
    }

    /// The first position at or after `start` whose load is at most `m` (`m` is the
    /// minimum, so: equal to it).
    fn first_at_or_after(&self, start: usize, m: u32) -> Option<usize> {
        let mut k = self.cap + start;
        // Move right over ever larger subtrees until one holds a load <= m. Each step goes
        // to the next subtree to the right of everything seen, so it takes O(log n) steps.
        while self.tree[k] > m {
            while k % 2 == 1 {
                k /= 2;
            }
            // Climbing out of the root's right edge reaches 0: nothing is right of `start`.
            if k == 0 {
                return None;
            }
            k += 1;
        }
        // Descend to the leftmost leaf <= m; one child of a node <= m is <= m.
        while k < self.cap {
            k *= 2;
            if self.tree[k] > m {
                k += 1;
            }
        }
        Some(k - self.cap)
    }
}

#[cfg(test)]
mod tests {
    //! The index alone, against the scan it replaces: worked examples, then a property over
    //! random pools, loads, starts, load changes and membership changes.
    use super::*;
    use proptest::prelude::*;

    /// The balancer's specification: the first position of minimal load scanning cyclically
    /// from `start`.
    fn scan(pool: &[u32], loads: &[u32], start: usize) -> usize {
        let n = pool.len();
        let mut best = start;
        let mut best_load = u32::MAX;
        for k in 0..n {
            let p = (start + k) % n;
            let l = loads[pool[p] as usize];
            if l < best_load {
                best = p;
                best_load = l;
            }
        }
        best
    }

    /// In these tests an instance's key is its index in `loads`.
    fn rebuild(ix: &mut LeastIndex, pool: &[u32], loads: &[u32]) {
        ix.rebuild(pool.iter().map(|&i| (i, loads[i as usize])));
    }

    fn built(pool: &[u32], loads: &[u32]) -> LeastIndex {
        let mut ix = LeastIndex::default();
        rebuild(&mut ix, pool, loads);
        ix
    }

    #[test]
    fn a_new_index_is_stale_and_a_built_one_is_fresh() {
        let mut ix = LeastIndex::default();
        assert!(!ix.is_fresh());
        rebuild(&mut ix, &[3, 5], &[0; 6]);
        assert!(ix.is_fresh());
        assert_eq!(ix.keys(), &[3, 5]);
        ix.invalidate();
        assert!(!ix.is_fresh());
    }

    #[test]
    fn a_single_endpoint_is_always_picked() {
        let ix = built(&[7], &[0, 0, 0, 0, 0, 0, 0, 42]);
        assert_eq!(ix.pick(0), 0);
    }

    #[test]
    fn the_least_loaded_endpoint_is_picked_from_any_start() {
        let loads = [4, 2, 9, 1, 3];
        let ix = built(&[0, 1, 2, 3, 4], &loads);
        for start in 0..5 {
            assert_eq!(ix.pick(start), 3, "start {start}");
        }
    }

    #[test]
    fn ties_go_to_the_first_at_or_after_the_start_then_wrap_around() {
        // Minimum 1 at positions 1 and 4.
        let ix = built(&[0, 1, 2, 3, 4, 5], &[5, 1, 2, 3, 1, 2]);
        let picks: Vec<usize> = (0..6).map(|s| ix.pick(s)).collect();
        assert_eq!(picks, [1, 1, 4, 4, 4, 1]);
    }

    #[test]
    fn equal_loads_rotate_like_round_robin() {
        let ix = built(&[0, 1, 2, 3, 4], &[0; 5]);
        for start in 0..5 {
            assert_eq!(ix.pick(start), start);
        }
    }

    #[test]
    fn load_changes_move_the_pick_and_are_found_by_instance() {
        // Instances 10, 20, 30 at positions 0, 1, 2.
        let mut ix = built(&[10, 20, 30], &[0; 31]);
        ix.set_load(10, 3);
        ix.set_load(20, 1);
        ix.set_load(30, 2);
        assert_eq!(ix.pick(0), 1);
        ix.set_load(20, 5);
        assert_eq!(ix.pick(0), 2);
        ix.set_load(10, 2);
        assert_eq!(ix.pick(1), 2);
        assert_eq!(ix.pick(0), 0);
        // An instance outside the pool changes nothing, even beyond the largest key.
        ix.set_load(15, 0);
        ix.set_load(99, 0);
        assert_eq!(ix.pick(0), 0);
    }

    #[test]
    fn a_stale_index_ignores_loads_and_its_rebuild_reads_them() {
        let mut loads = vec![0u32; 4];
        let mut ix = built(&[0, 1, 2], &loads);
        ix.invalidate();
        ix.set_load(0, 9);
        loads[1] = 4;
        loads[2] = 4;
        loads[3] = 1;
        // Instance 3 joins and instance 0 is still idle as far as the rebuild knows.
        rebuild(&mut ix, &[0, 1, 2, 3], &loads);
        assert_eq!(ix.pick(1), 0);
    }

    #[test]
    fn a_pool_that_shrinks_or_grows_past_a_power_of_two_is_rebuilt_whole() {
        let loads: Vec<u32> = (0..20).map(|i| 20 - i).collect();
        let mut ix = built(&(0..9).collect::<Vec<_>>(), &loads);
        assert_eq!(ix.pick(0), 8);
        rebuild(&mut ix, &(0..17).collect::<Vec<_>>(), &loads);
        assert_eq!(ix.pick(0), 16);
        rebuild(&mut ix, &[2, 3], &loads);
        assert_eq!(ix.pick(0), 1);
        // Keys that left the pool are forgotten.
        ix.set_load(16, 0);
        assert_eq!(ix.pick(0), 1);
    }

    /// One step of a random history.
    #[derive(Clone, Debug)]
    enum Op {
        /// Instance `inst` gets `load` (whether or not it is in the pool).
        Load { inst: u32, load: u32 },
        /// Instance `inst` joins the pool, or leaves it if it is in.
        Toggle { inst: u32 },
        /// The balancer picks, starting at `start` modulo the pool's size.
        Pick { start: u32 },
    }

    fn op(n: u32) -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..n, 0u32..6).prop_map(|(inst, load)| Op::Load { inst, load }),
            1 => (0..n).prop_map(|inst| Op::Toggle { inst }),
            4 => any::<u32>().prop_map(|start| Op::Pick { start }),
        ]
    }

    /// A fleet of up to 70 instances (several tree heights), each in the pool or not, with
    /// small loads so ties are common, and a history of changes and picks.
    fn fleet() -> impl Strategy<Value = (Vec<bool>, Vec<u32>, Vec<Op>)> {
        (1u32..70).prop_flat_map(|n| {
            (
                prop::collection::vec(any::<bool>(), n as usize),
                prop::collection::vec(0u32..6, n as usize),
                prop::collection::vec(op(n), 1..200),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Every pick of the index equals the scan's over the same pool, loads and start,
        /// through load changes (applied to the index as they happen, as the engine does)
        /// and membership changes (which make it stale until the next pick rebuilds it).
        #[test]
        fn least_outstanding_index_picks_what_a_scan_picks((mut member, mut loads, ops) in fleet()) {
            let pool_of = |member: &[bool]| -> Vec<u32> {
                (0..member.len() as u32).filter(|&i| member[i as usize]).collect()
            };
            let mut ix = LeastIndex::default();
            for op in ops {
                match op {
                    Op::Load { inst, load } => {
                        loads[inst as usize] = load;
                        ix.set_load(inst, load);
                    }
                    Op::Toggle { inst } => {
                        member[inst as usize] = !member[inst as usize];
                        ix.invalidate();
                    }
                    Op::Pick { start } => {
                        let pool = pool_of(&member);
                        if pool.is_empty() {
                            continue;
                        }
                        if !ix.is_fresh() {
                            rebuild(&mut ix, &pool, &loads);
                        }
                        prop_assert_eq!(ix.keys(), &pool[..]);
                        let start = start as usize % pool.len();
                        prop_assert_eq!(ix.pick(start), scan(&pool, &loads, start));
                    }
                }
            }
        }
    }
}
