//! Consistent hashing as Envoy builds it: a ring hash (Ketama) and a Maglev table over a fixed
//! list of weighted hosts, built once in `new`, then [`RingHash::pick`] / [`Maglev::pick`] map a
//! request's 64-bit key hash to a host in O(log ring) / O(1) without allocating.
//!
//! Hash function: XXH64 ([`xxh64`], written here and checked against xxHash's own sanity
//! vectors), Envoy's default `hash_function: XX_HASH`. Host names are hashed as UTF-8 bytes,
//! standing in for Envoy's `address:port` string (or hostname with `use_hostname_for_hashing`).
//!
//! Ring hash (`ring_hash.proto`, `ring_hash_lb.cc`): `minimum_ring_size` 1024, `maximum_ring_size`
//! 8 388 608. Weights are normalised to sum 1; with `w_min` the smallest normalised weight,
//! `scale = min(ceil(w_min · minimum_ring_size) / w_min, maximum_ring_size)`. Walking hosts in
//! order with running sums `target += scale · w` and `current`, a host gets entries while
//! `current < target`; its `i`-th entry (from 0 for each host) hashes the key `"{name}_{i}"`.
//! Entries are sorted by hash (ties by host position, where Envoy's unstable sort leaves the
//! order unspecified) and a key goes to the first entry whose hash is ≥ the key's, wrapping to
//! the first entry. Because the ring is re-scaled when the host set changes, removing 1 of n
//! hosts moves about 1/n of keys, not exactly the removed host's keys.
//!
//! Maglev (`maglev.proto`, `maglev_lb.cc`, Eisenbud et al., NSDI 2016): `table_size` 65537
//! (must be prime). For each host `offset = xxh64(name, 0) mod M` and
//! `skip = xxh64(name, 1) mod (M − 1) + 1`; its permutation is `(offset + skip·next) mod M`.
//! Rounds `k = 1, 2, …` visit hosts in order; a host with normalised weight `w` takes a slot in
//! round `k` unless `k·w < target` (target starts at 0 and grows by the largest normalised
//! weight per slot taken), claiming the next unclaimed slot of its permutation, until all `M`
//! slots are claimed. A key goes to `table[key_hash mod M]`. Equal weights give every host
//! `⌊M/n⌋` or `⌈M/n⌉` slots.
//!
//! Not modelled: `hash_balance_factor` (bounded loads) and MURMUR_HASH_2.

const PRIME64_1: u64 = 0x9E37_79B1_85EB_CA87;
const PRIME64_2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const PRIME64_3: u64 = 0x1656_67B1_9E37_79F9;
const PRIME64_4: u64 = 0x85EB_CA77_C2B2_AE63;
const PRIME64_5: u64 = 0x27D4_EB2F_1656_67C5;

fn read_u64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().expect("slice of 8 bytes"))
}

fn read_u32(b: &[u8]) -> u64 {
    u64::from(u32::from_le_bytes(b[..4].try_into().expect("slice of 4 bytes")))
}

fn round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(PRIME64_2)).rotate_left(31).wrapping_mul(PRIME64_1)
}

fn merge_round(acc: u64, val: u64) -> u64 {
    (acc ^ round(0, val)).wrapping_mul(PRIME64_1).wrapping_add(PRIME64_4)
}

/// XXH64 of `bytes` with `seed` (Yann Collet's xxHash, 64-bit variant, little-endian reads):
/// the hash Envoy uses for ring hash and Maglev (`HashUtil::xxHash64`, seed 0 by default).
pub fn xxh64(bytes: &[u8], seed: u64) -> u64 {
    let len = bytes.len();
    let mut rest = bytes;
    let mut h = if len >= 32 {
        let mut v = [
            seed.wrapping_add(PRIME64_1).wrapping_add(PRIME64_2),
            seed.wrapping_add(PRIME64_2),
            seed,
            seed.wrapping_sub(PRIME64_1),
        ];
        while rest.len() >= 32 {
            for (i, lane) in v.iter_mut().enumerate() {
                *lane = round(*lane, read_u64(&rest[8 * i..]));
            }
            rest = &rest[32..];
        }
        let mut h = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        for lane in v {
            h = merge_round(h, lane);
        }
        h
    } else {
        seed.wrapping_add(PRIME64_5)
    };
    h = h.wrapping_add(len as u64);
    while rest.len() >= 8 {
        h ^= round(0, read_u64(rest));
        h = h.rotate_left(27).wrapping_mul(PRIME64_1).wrapping_add(PRIME64_4);
        rest = &rest[8..];
    }
    if rest.len() >= 4 {
        h ^= read_u32(rest).wrapping_mul(PRIME64_1);
        h = h.rotate_left(23).wrapping_mul(PRIME64_2).wrapping_add(PRIME64_3);
        rest = &rest[4..];
    }
    for &b in rest {
        h ^= u64::from(b).wrapping_mul(PRIME64_5);
        h = h.rotate_left(11).wrapping_mul(PRIME64_1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(PRIME64_2);
    h ^= h >> 29;
    h = h.wrapping_mul(PRIME64_3);
    h ^ (h >> 32)
}

/// A host's position in the list a policy was built from (and indexes its per-host state).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostIndex(pub u32);

impl HostIndex {
    /// The position as a `Vec` index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Weights normalised to sum 1, asserting the input is usable.
fn normalised(hosts: &[(&str, u32)]) -> Vec<f64> {
    assert!(!hosts.is_empty(), "consistent hashing needs at least one host");
    assert!(hosts.len() <= u32::MAX as usize, "{} hosts do not fit a HostIndex", hosts.len());
    let total: u64 = hosts.iter().map(|&(_, w)| u64::from(w)).sum();
    for &(name, w) in hosts {
        assert!(w >= 1, "host {name:?} has weight 0; Envoy requires load_balancing_weight ≥ 1");
    }
    hosts.iter().map(|&(_, w)| f64::from(w) / total as f64).collect()
}

/// Envoy's ring hash (Ketama) load balancer, built once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingHash {
    /// Ring entries sorted by `(hash, host)`.
    ring: Vec<(u64, HostIndex)>,
}

impl RingHash {
    /// Envoy's default `minimum_ring_size`.
    pub const MINIMUM_RING_SIZE: u64 = 1024;
    /// Envoy's default (and largest allowed) `maximum_ring_size`.
    pub const MAXIMUM_RING_SIZE: u64 = 8_388_608;

    /// A ring over `(name, weight)` hosts with Envoy's default ring sizes.
    ///
    /// # Panics
    /// See [`RingHash::with_sizes`].
    pub fn new(hosts: &[(&str, u32)]) -> Self {
        Self::with_sizes(hosts, Self::MINIMUM_RING_SIZE, Self::MAXIMUM_RING_SIZE)
    }

    /// A ring with explicit `minimum_ring_size` and `maximum_ring_size`.
    ///
    /// # Panics
    /// If `hosts` is empty, a weight is 0, or the sizes are not `1 ≤ min ≤ max ≤ 8 388 608`
    /// (Envoy's limits).
    pub fn with_sizes(hosts: &[(&str, u32)], minimum_ring_size: u64, maximum_ring_size: u64) -> Self {
        assert!(minimum_ring_size >= 1, "minimum_ring_size must be at least 1");
        assert!(
            minimum_ring_size <= maximum_ring_size,
            "minimum_ring_size {minimum_ring_size} > maximum_ring_size {maximum_ring_size}"
        );
        assert!(
            maximum_ring_size <= Self::MAXIMUM_RING_SIZE,
            "maximum_ring_size {maximum_ring_size} is above Envoy's limit"
        );
        let weights = normalised(hosts);
        let w_min = weights.iter().copied().fold(f64::INFINITY, f64::min);
        let scale = ((w_min * minimum_ring_size as f64).ceil() / w_min).min(maximum_ring_size as f64);
        let mut ring = Vec::with_capacity(scale.ceil() as usize);
        let (mut current, mut target) = (0.0_f64, 0.0_f64);
        let mut key = String::new();
        for (h, (&(name, _), w)) in hosts.iter().zip(&weights).enumerate() {
            target += scale * w;
            let mut i = 0u64;
            while current < target {
                key.clear();
                key.push_str(name);
                key.push('_');
                key.push_str(&i.to_string());
                ring.push((xxh64(key.as_bytes(), 0), HostIndex(h as u32)));
                i += 1;
                current += 1.0;
            }
        }
        assert!(!ring.is_empty(), "the ring came out empty");
        ring.sort_unstable();
        RingHash { ring }
    }

    /// The host for a request whose hash is `key_hash`: the first ring entry clockwise.
    pub fn pick(&self, key_hash: u64) -> HostIndex {
        let i = self.ring.partition_point(|&(h, _)| h < key_hash);
        self.ring.get(i).unwrap_or(&self.ring[0]).1
    }

    /// Number of ring entries.
    pub fn ring_size(&self) -> usize {
        self.ring.len()
    }
}

/// Envoy's Maglev load balancer, built once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Maglev {
    table: Vec<HostIndex>,
}

impl Maglev {
    /// Envoy's default `table_size` (prime).
    pub const TABLE_SIZE: u64 = 65_537;
    /// Envoy's largest allowed `table_size`.
    pub const TABLE_SIZE_MAX: u64 = 5_000_011;

    /// A table of the default size over `(name, weight)` hosts.
    ///
    /// # Panics
    /// See [`Maglev::with_table_size`].
    pub fn new(hosts: &[(&str, u32)]) -> Self {
        Self::with_table_size(hosts, Self::TABLE_SIZE)
    }

    /// A table of `table_size` slots.
    ///
    /// # Panics
    /// If `hosts` is empty, a weight is 0, or `table_size` is not a prime ≤ 5 000 011 (Envoy
    /// rejects a non-prime size: the permutations would not visit every slot).
    pub fn with_table_size(hosts: &[(&str, u32)], table_size: u64) -> Self {
        assert!(table_size <= Self::TABLE_SIZE_MAX, "table_size {table_size} above Envoy's limit");
        assert!(is_prime(table_size), "table_size {table_size} is not prime");
        let weights = normalised(hosts);
        let w_max = weights.iter().copied().fold(0.0, f64::max);
        // (offset, skip, next, target weight) per host.
        let mut build: Vec<(u64, u64, u64, f64)> = hosts
            .iter()
            .map(|&(name, _)| {
                let offset = xxh64(name.as_bytes(), 0) % table_size;
                let skip = xxh64(name.as_bytes(), 1) % (table_size - 1) + 1;
                (offset, skip, 0, 0.0)
            })
            .collect();
        let mut table: Vec<Option<HostIndex>> = vec![None; table_size as usize];
        let mut filled = 0u64;
        let mut iteration = 1u64;
        while filled < table_size {
            for (h, entry) in build.iter_mut().enumerate() {
                if filled == table_size {
                    break;
                }
                if (iteration as f64) * weights[h] < entry.3 {
                    continue;
                }
                entry.3 += w_max;
                let (offset, skip) = (entry.0, entry.1);
                let mut c = (offset + skip * entry.2) % table_size;
                while table[c as usize].is_some() {
                    entry.2 += 1;
                    c = (offset + skip * entry.2) % table_size;
                }
                table[c as usize] = Some(HostIndex(h as u32));
                entry.2 += 1;
                filled += 1;
            }
            iteration += 1;
        }
        let table = table.into_iter().map(|s| s.expect("every slot is filled")).collect();
        Maglev { table }
    }

    /// The host for a request whose hash is `key_hash`: `table[key_hash mod table_size]`.
    pub fn pick(&self, key_hash: u64) -> HostIndex {
        self.table[(key_hash % self.table.len() as u64) as usize]
    }

    /// Number of table slots.
    pub fn table_size(&self) -> usize {
        self.table.len()
    }
}

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2u64;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// xxHash's own sanity buffer (`xsum_sanity_check.c`): 101 bytes from a squaring generator.
    fn sanity_buffer() -> Vec<u8> {
        let mut gen: u32 = 2_654_435_761;
        (0..101)
            .map(|_| {
                let b = (gen >> 24) as u8;
                gen = gen.wrapping_mul(gen);
                b
            })
            .collect()
    }

    #[test]
    fn xxh64_matches_the_reference_vectors() {
        let buf = sanity_buffer();
        let prime = 2_654_435_761u64;
        let cases: [(&[u8], u64, u64); 11] = [
            (b"", 0, 0xEF46_DB37_51D8_E999),
            (b"", prime, 0xAC75_FDA2_929B_17EF),
            (&buf[..1], 0, 0x4FCE_394C_C889_52D8),
            (&buf[..1], prime, 0x7398_40CB_819F_A723),
            (&buf[..14], 0, 0xCFFA_8DB8_81BC_3A3D),
            (&buf[..14], prime, 0x5B96_1158_5EFC_C9CB),
            (&buf, 0, 0x0EAB_5433_84F8_78AD),
            (&buf, prime, 0xCAA6_5939_306F_1E21),
            (b"a", 0, 0xD24E_C4F1_A98C_6E5B),
            (b"abc", 0, 0x44BC_2CF5_AD77_0999),
            (b"Nobody inspects the spammish repetition", 0, 0xFBCE_A83C_8A37_8BF1),
        ];
        for (input, seed, want) in cases {
            assert_eq!(xxh64(input, seed), want, "len {} seed {seed}", input.len());
        }
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("10.0.0.{i}:8080")).collect()
    }

    fn equal(names: &[String]) -> Vec<(&str, u32)> {
        names.iter().map(|n| (n.as_str(), 1)).collect()
    }

    /// Key hashes spread over the whole `u64` range.
    fn keys(n: u64) -> impl Iterator<Item = u64> {
        (0..n).map(|i| xxh64(&i.to_le_bytes(), 7))
    }

    #[test]
    fn ring_size_follows_envoys_scaling() {
        let n3 = names(3);
        // w_min = 1/3: scale = ceil(1024/3)·3 = 1026, 342 entries each.
        assert_eq!(RingHash::new(&equal(&n3)).ring_size(), 1026);
        // Weights 1 and 3: w_min = 1/4, scale = 256·4 = 1024: 256 and 768 entries.
        let r = RingHash::new(&[("a", 1), ("b", 3)]);
        assert_eq!(r.ring_size(), 1024);
        assert_eq!(r.ring.iter().filter(|e| e.1 == HostIndex(0)).count(), 256);
        // Weights 1 and 1000 would need 2002 entries: scale is capped at maximum_ring_size 1500.
        // The running float sum of `scale · w` ends a hair above 1500, so the same loop as
        // Envoy's places one entry more.
        assert_eq!(RingHash::with_sizes(&[("a", 1), ("b", 1000)], 1024, 1500).ring_size(), 1501);
    }

    #[test]
    fn ring_pick_takes_the_first_entry_clockwise_and_wraps() {
        let r = RingHash::new(&equal(&names(4)));
        let (first, last) = (r.ring[0], r.ring[r.ring.len() - 1]);
        assert_eq!(r.pick(first.0), first.1, "an exact hit belongs to that entry");
        assert_eq!(r.pick(0), first.1);
        assert_eq!(r.pick(last.0), last.1);
        if last.0 < u64::MAX {
            assert_eq!(r.pick(last.0 + 1), first.1, "past the last entry wraps to the first");
        }
        let second = r.ring[1];
        assert_eq!(r.pick(first.0 + 1), second.1);
    }

    #[test]
    fn picks_are_deterministic_for_fixed_inputs() {
        let n = names(5);
        let (r1, r2) = (RingHash::new(&equal(&n)), RingHash::new(&equal(&n)));
        let (m1, m2) = (Maglev::new(&equal(&n)), Maglev::new(&equal(&n)));
        assert_eq!(r1, r2);
        assert_eq!(m1, m2);
        let ring: Vec<u32> = keys(8).map(|k| r1.pick(k).0).collect();
        let maglev: Vec<u32> = keys(8).map(|k| m1.pick(k).0).collect();
        // Snapshot: changing the hash or the build order changes these.
        assert_eq!(ring, RING_SNAPSHOT);
        assert_eq!(maglev, MAGLEV_SNAPSHOT);
    }

    const RING_SNAPSHOT: [u32; 8] = [3, 4, 4, 1, 2, 3, 2, 1];
    const MAGLEV_SNAPSHOT: [u32; 8] = [0, 1, 0, 2, 2, 0, 2, 0];

    #[test]
    fn maglev_gives_equal_weights_equal_slots() {
        for n in [1usize, 2, 3, 7, 10] {
            let m = Maglev::new(&equal(&names(n)));
            let mut counts = vec![0u64; n];
            for h in &m.table {
                counts[h.index()] += 1;
            }
            let (lo, hi) = (Maglev::TABLE_SIZE / n as u64, Maglev::TABLE_SIZE.div_ceil(n as u64));
            assert!(counts.iter().all(|&c| c == lo || c == hi), "n = {n}: {counts:?}");
        }
    }

    #[test]
    fn maglev_slots_follow_weights() {
        let m = Maglev::new(&[("a", 1), ("b", 3)]);
        let a = m.table.iter().filter(|h| h.0 == 0).count() as f64 / m.table_size() as f64;
        assert!((a - 0.25).abs() < 0.001, "share of a = {a}");
    }

    #[test]
    fn ring_hash_balances_equal_weights() {
        let n = 5;
        let r = RingHash::new(&equal(&names(n)));
        let mut counts = vec![0u64; n];
        let total = 100_000;
        for k in keys(total) {
            counts[r.pick(k).index()] += 1;
        }
        for c in counts {
            let share = c as f64 / total as f64;
            assert!((share - 0.2).abs() < 0.03, "share {share} far from 1/5");
        }
    }

    proptest! {
        /// Removing one host of n moves about 1/n of keys on the ring; on Maglev, the removed
        /// host's keys all move and most other keys stay.
        #[test]
        fn removing_a_host_moves_few_keys(n in 3usize..12, removed_seed in any::<usize>()) {
            let all = names(n);
            let removed = removed_seed % n;
            let kept: Vec<String> = all.iter().enumerate().filter(|&(i, _)| i != removed).map(|(_, s)| s.clone()).collect();
            // Index in `kept` -> index in `all`.
            let back = |h: HostIndex| if h.index() >= removed { h.index() + 1 } else { h.index() };
            let (r_all, r_kept) = (RingHash::new(&equal(&all)), RingHash::new(&equal(&kept)));
            let (m_all, m_kept) = (Maglev::new(&equal(&all)), Maglev::new(&equal(&kept)));
            let total = 20_000u64;
            let (mut ring_moved, mut maglev_other_moved, mut maglev_other) = (0u64, 0u64, 0u64);
            for k in keys(total) {
                let before = r_all.pick(k).index();
                let after = back(r_kept.pick(k));
                prop_assert_ne!(after, removed);
                if before != after {
                    ring_moved += 1;
                }
                let before = m_all.pick(k).index();
                let after = back(m_kept.pick(k));
                prop_assert_ne!(after, removed);
                if before != removed {
                    maglev_other += 1;
                    if before != after {
                        maglev_other_moved += 1;
                    }
                }
            }
            let ring_share = ring_moved as f64 / total as f64;
            // Envoy re-scales the ring to the new host count, so the remaining hosts gain entries
            // that take some keys from each other too: more than the ideal 1/n moves.
            prop_assert!(ring_share <= 1.0 / n as f64 + 0.15, "ring moved {}", ring_share);
            let maglev_share = maglev_other_moved as f64 / maglev_other as f64;
            prop_assert!(maglev_share <= 0.15, "maglev moved {} of other keys", maglev_share);
        }
    }
}
