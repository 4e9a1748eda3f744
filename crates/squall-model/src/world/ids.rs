//! Typed ids of the engine's tables and a vector indexed by them.
//!
//! An id that may be absent is a `u32` index stored plus one in a `NonZeroU32`, so
//! `Option<Id>` is 4 bytes and "none" is `None` rather than a sentinel value; indexing
//! subtracts the one again (one instruction). An id that is never optional is a plain `u32`.
//! An [`IdVec<I, T>`] is a `Vec<T>` that only its id type indexes, so an instance index
//! cannot be used as a fault's by mistake.

use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroU32;
use std::ops::{Index, IndexMut};

/// An index into an [`IdVec`].
pub(super) trait Id: Copy {
    /// The id of index `i`.
    ///
    /// # Panics
    /// If `i` does not fit (at least `u32::MAX`).
    fn from_index(i: usize) -> Self;
    /// The index this id names.
    fn index(self) -> usize;
}

/// Defines newtype ids: `#[repr(transparent)]` over `NonZeroU32` (index + 1), `Copy`,
/// ordered and hashable, printed as their index.
macro_rules! define_ids {
    ($($(#[$meta:meta])* $name:ident;)*) => {$(
        $(#[$meta])*
        #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(transparent)]
        pub(super) struct $name(NonZeroU32);

        impl $name {
            /// The id of index `i`.
            #[inline]
            #[allow(dead_code)]
            pub fn new(i: usize) -> $name {
                <$name as Id>::from_index(i)
            }

            /// The index this id names.
            #[inline]
            #[allow(dead_code)]
            pub fn idx(self) -> usize {
                <$name as Id>::index(self)
            }

            /// The id `k` places after this one (the next entries of a table).
            #[inline]
            #[allow(dead_code)]
            pub fn plus(self, k: u32) -> $name {
                $name(self.0.checked_add(k).expect("id fits in u32"))
            }

            /// The index as a `u32` (for a random stream's key, a sort key).
            #[inline]
            #[allow(dead_code)]
            pub fn raw(self) -> u32 {
                self.0.get() - 1
            }
        }

        impl Id for $name {
            #[inline]
            fn from_index(i: usize) -> $name {
                // One test on the hot path: `u32::MAX` wraps to zero and is refused. A larger
                // index would need a table of 2^32 entries, which `IdVec::push` refuses.
                debug_assert!(i < u32::MAX as usize, "id {i} does not fit in u32");
                $name(NonZeroU32::new((i as u32).wrapping_add(1)).expect("id fits in u32"))
            }

            #[inline]
            fn index(self) -> usize {
                (self.0.get() - 1) as usize
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.raw())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.raw())
            }
        }
    )*};
}

define_ids! {
    /// An instance: an index into `World::instances`, never reused.
    InstanceId;
    /// A flow run in progress: a slot of `FlowRuns`, reused once the run ends.
    FlowId;
    /// A call site of an endpoint step: an index into `Plan::calls`.
    CallId;
}

/// Defines newtype ids over a plain `u32` index, for ids that are never optional: indexing
/// costs nothing over `v[i as usize]`, but `Option<Id>` takes 8 bytes.
macro_rules! define_plain_ids {
    ($($(#[$meta:meta])* $name:ident;)*) => {$(
        $(#[$meta])*
        #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(transparent)]
        pub(super) struct $name(u32);

        impl $name {
            /// The id of index `i`.
            #[inline]
            #[allow(dead_code)]
            pub fn new(i: usize) -> $name {
                <$name as Id>::from_index(i)
            }

            /// The index this id names.
            #[inline]
            #[allow(dead_code)]
            pub fn idx(self) -> usize {
                self.0 as usize
            }
        }

        impl Id for $name {
            #[inline]
            fn from_index(i: usize) -> $name {
                // `IdVec::push` refuses tables of 2^32 entries, so every index fits.
                debug_assert!(i < u32::MAX as usize, "id {i} does not fit in u32");
                $name(i as u32)
            }

            #[inline]
            fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    )*};
}

define_plain_ids! {
    /// A fault window: an index into `World::faults` and the configuration's faults.
    FaultId;
    /// A client policy site: one per client group (in order, so a group's site has its
    /// index), one per plan edge, then the dependency probes'.
    SiteId;
    /// A deploy: an index into `World::deploys` and the configuration's deploys.
    DeployId;
}

/// The configuration's ids index the world's tables built from it, in the same order.
macro_rules! config_ids {
    ($($name:ident),*) => {$(
        impl Id for crate::config::$name {
            #[inline]
            fn from_index(i: usize) -> Self {
                crate::config::$name(u32::try_from(i).expect("id fits in u32"))
            }

            #[inline]
            fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}

config_ids!(ServiceId, ClientId);

/// A `Vec<T>` indexed by the id type `I`.
pub(super) struct IdVec<I, T> {
    raw: Vec<T>,
    _id: PhantomData<fn(I) -> I>,
}

#[allow(dead_code, reason = "a general vector: not every table needs every method")]
impl<I: Id, T> IdVec<I, T> {
    #[inline]
    pub fn new() -> IdVec<I, T> {
        IdVec { raw: Vec::new(), _id: PhantomData }
    }

    /// Appends `x` and returns its id.
    #[inline]
    pub fn push(&mut self, x: T) -> I {
        assert!(self.raw.len() < u32::MAX as usize, "a table of ids holds fewer than 2^32 entries");
        let id = I::from_index(self.raw.len());
        self.raw.push(x);
        id
    }

    /// The id the next `push` returns.
    #[inline]
    pub fn next_id(&self) -> I {
        I::from_index(self.raw.len())
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    #[inline]
    pub fn get(&self, id: I) -> Option<&T> {
        self.raw.get(id.index())
    }

    #[inline]
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.raw.iter()
    }

    #[inline]
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.raw.iter_mut()
    }

    /// The elements from `from` on.
    #[inline]
    pub fn tail_mut(&mut self, from: I) -> &mut [T] {
        &mut self.raw[from.index()..]
    }

    /// The elements with their ids, in order.
    #[inline]
    pub fn iter_enumerated(&self) -> impl DoubleEndedIterator<Item = (I, &T)> + ExactSizeIterator {
        self.raw.iter().enumerate().map(|(i, x)| (I::from_index(i), x))
    }

    /// The ids, in order.
    #[inline]
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = I> + ExactSizeIterator {
        (0..self.raw.len()).map(I::from_index)
    }
}

impl<I: Id, T> Default for IdVec<I, T> {
    #[inline]
    fn default() -> IdVec<I, T> {
        IdVec::new()
    }
}

impl<I: Id, T> FromIterator<T> for IdVec<I, T> {
    #[inline]
    fn from_iter<It: IntoIterator<Item = T>>(it: It) -> IdVec<I, T> {
        IdVec { raw: it.into_iter().collect(), _id: PhantomData }
    }
}

impl<I: Id, T> From<Vec<T>> for IdVec<I, T> {
    #[inline]
    fn from(raw: Vec<T>) -> IdVec<I, T> {
        IdVec { raw, _id: PhantomData }
    }
}

impl<I: Id, T> Index<I> for IdVec<I, T> {
    type Output = T;
    #[inline]
    fn index(&self, id: I) -> &T {
        &self.raw[id.index()]
    }
}

impl<I: Id, T> IndexMut<I> for IdVec<I, T> {
    #[inline]
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.raw[id.index()]
    }
}

impl<I: Id, T> IntoIterator for IdVec<I, T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.raw.into_iter()
    }
}

impl<'a, I: Id, T> IntoIterator for &'a IdVec<I, T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.raw.iter()
    }
}

impl<'a, I: Id, T> IntoIterator for &'a mut IdVec<I, T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.raw.iter_mut()
    }
}

impl<I, T: fmt::Debug> fmt::Debug for IdVec<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.raw.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    define_ids! {
        TestId;
    }

    #[test]
    fn an_optional_id_takes_no_more_room_than_the_id() {
        assert_eq!(std::mem::size_of::<TestId>(), 4);
        assert_eq!(std::mem::size_of::<Option<TestId>>(), 4);
    }

    #[test]
    fn ids_round_trip_their_index_and_order_by_it() {
        for i in [0usize, 1, 7, u32::MAX as usize - 1] {
            assert_eq!(TestId::new(i).idx(), i);
            assert_eq!(TestId::new(i).raw() as usize, i);
        }
        assert_eq!(TestId::new(5).plus(3), TestId::new(8));
        assert!(TestId::new(0) < TestId::new(1));
        assert_eq!(format!("{:?}", TestId::new(3)), "TestId(3)");
    }

    #[test]
    fn the_largest_index_does_not_fit() {
        assert!(std::panic::catch_unwind(|| TestId::new(u32::MAX as usize)).is_err());
    }

    define_plain_ids! {
        PlainId;
    }

    #[test]
    fn plain_ids_are_their_index() {
        assert_eq!(std::mem::size_of::<PlainId>(), 4);
        assert_eq!(PlainId::new(7).idx(), 7);
        let mut v: IdVec<PlainId, u8> = IdVec::new();
        let a = v.push(3);
        assert_eq!((a, v[a]), (PlainId::new(0), 3));
        assert_eq!(format!("{a:?}"), "PlainId(0)");
    }

    #[test]
    fn push_returns_the_id_that_indexes_the_element() {
        let mut v: IdVec<TestId, &str> = IdVec::new();
        assert!(v.is_empty());
        assert_eq!(v.next_id(), TestId::new(0));
        let a = v.push("a");
        let b = v.push("b");
        assert_eq!((a.idx(), b.idx()), (0, 1));
        assert_eq!((v[a], v[b]), ("a", "b"));
        v[b] = "c";
        assert_eq!(v.get(b), Some(&"c"));
        assert_eq!(v.get(TestId::new(2)), None);
        assert_eq!(v.len(), 2);
        let pairs: Vec<(TestId, &str)> = v.iter_enumerated().map(|(i, x)| (i, *x)).collect();
        assert_eq!(pairs, vec![(a, "a"), (b, "c")]);
        assert_eq!(v.ids().collect::<Vec<_>>(), vec![a, b]);
    }
}
