//! A growable set of small non-negative integers stored as 64-bit words: role closures, user
//! assignments, granted and effective permission sets, and session state all use it.
//!
//! Invariants: no I/O; no method panics for any index (reads past the end are "absent",
//! writes grow the storage); equality ignores trailing zero words.

/// A set of `usize` indices.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitSet {
    words: Vec<u64>,
}

const BITS: usize = 64;

impl BitSet {
    pub(crate) const fn new() -> Self {
        Self { words: Vec::new() }
    }

    /// The set `{index}`.
    pub(crate) fn singleton(index: usize) -> Self {
        let mut set = Self::new();
        set.insert(index);
        set
    }

    #[inline]
    pub(crate) fn contains(&self, index: usize) -> bool {
        match self.words.get(index / BITS) {
            Some(word) => word & (1u64 << (index % BITS)) != 0,
            None => false,
        }
    }

    /// Adds `index`; returns whether it was absent.
    pub(crate) fn insert(&mut self, index: usize) -> bool {
        let word = index / BITS;
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let mask = 1u64 << (index % BITS);
        let absent = self.words[word] & mask == 0;
        self.words[word] |= mask;
        absent
    }

    /// Removes `index`; returns whether it was present.
    pub(crate) fn remove(&mut self, index: usize) -> bool {
        match self.words.get_mut(index / BITS) {
            Some(word) => {
                let mask = 1u64 << (index % BITS);
                let present = *word & mask != 0;
                *word &= !mask;
                present
            }
            None => false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.words
            .iter()
            .map(|word| word.count_ones() as usize)
            .sum()
    }

    /// `self ∪= other`.
    pub(crate) fn union_with(&mut self, other: &Self) {
        if other.words.len() > self.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (mine, theirs) in self.words.iter_mut().zip(&other.words) {
            *mine |= theirs;
        }
    }

    /// `self ∩= other`.
    pub(crate) fn intersect_with(&mut self, other: &Self) {
        for (index, mine) in self.words.iter_mut().enumerate() {
            *mine &= other.words.get(index).copied().unwrap_or(0);
        }
    }

    /// `|self ∩ other|`.
    pub(crate) fn intersection_len(&self, other: &Self) -> usize {
        self.words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| (a & b).count_ones() as usize)
            .sum()
    }

    /// `self ∩ other ≠ ∅`.
    pub(crate) fn intersects(&self, other: &Self) -> bool {
        self.words.iter().zip(&other.words).any(|(a, b)| a & b != 0)
    }

    /// The members in increasing order.
    pub(crate) fn iter(&self) -> Ones<'_> {
        Ones {
            words: &self.words,
            word_index: 0,
            current: self.words.first().copied().unwrap_or(0),
        }
    }

    /// The members in increasing order, consuming the set.
    pub(crate) fn into_ones(self) -> IntoOnes {
        IntoOnes {
            current: self.words.first().copied().unwrap_or(0),
            words: self.words,
            word_index: 0,
        }
    }
}

impl PartialEq for BitSet {
    fn eq(&self, other: &Self) -> bool {
        let longest = self.words.len().max(other.words.len());
        (0..longest).all(|index| {
            self.words.get(index).copied().unwrap_or(0)
                == other.words.get(index).copied().unwrap_or(0)
        })
    }
}

impl Eq for BitSet {}

impl FromIterator<usize> for BitSet {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        let mut set = Self::new();
        for index in iter {
            set.insert(index);
        }
        set
    }
}

/// Iterator over the members of a borrowed [`BitSet`].
#[derive(Debug, Clone)]
pub(crate) struct Ones<'a> {
    words: &'a [u64],
    word_index: usize,
    current: u64,
}

impl Iterator for Ones<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        loop {
            if self.current != 0 {
                let bit = self.current.trailing_zeros() as usize;
                self.current &= self.current - 1;
                return Some(self.word_index * BITS + bit);
            }
            self.word_index += 1;
            self.current = *self.words.get(self.word_index)?;
        }
    }
}

/// Iterator over the members of an owned [`BitSet`].
#[derive(Debug, Clone)]
pub(crate) struct IntoOnes {
    words: Vec<u64>,
    word_index: usize,
    current: u64,
}

impl Iterator for IntoOnes {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        loop {
            if self.current != 0 {
                let bit = self.current.trailing_zeros() as usize;
                self.current &= self.current - 1;
                return Some(self.word_index * BITS + bit);
            }
            self.word_index += 1;
            self.current = *self.words.get(self.word_index)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_contains_across_words() {
        let mut set = BitSet::new();
        assert!(!set.contains(1000));
        assert!(set.insert(3));
        assert!(set.insert(64));
        assert!(set.insert(1000));
        assert!(!set.insert(64));
        assert!(set.contains(3) && set.contains(64) && set.contains(1000));
        assert_eq!(set.len(), 3);
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![3, 64, 1000]);
        assert!(set.remove(64));
        assert!(!set.remove(64));
        assert!(!set.remove(100_000));
        assert_eq!(set.clone().into_ones().collect::<Vec<_>>(), vec![3, 1000]);
    }

    #[test]
    fn set_algebra() {
        let a: BitSet = [1, 2, 70, 200].into_iter().collect();
        let b: BitSet = [2, 70, 300].into_iter().collect();
        assert_eq!(a.intersection_len(&b), 2);
        assert!(a.intersects(&b));
        let mut union = a.clone();
        union.union_with(&b);
        assert_eq!(union.iter().collect::<Vec<_>>(), vec![1, 2, 70, 200, 300]);
        let mut meet = union.clone();
        meet.intersect_with(&a);
        assert_eq!(meet, a);
        let mut empty = BitSet::singleton(500);
        empty.remove(500);
        assert_eq!(empty.len(), 0);
        assert_eq!(empty, BitSet::new());
        assert_eq!(empty.iter().next(), None);
    }
}
