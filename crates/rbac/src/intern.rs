//! Name interning: every user, role, operation and object is named by a string at the API and
//! stored as a dense `u32` index.
//!
//! Invariants: no I/O; an index is never reused after its name is removed (a stale id
//! resolves to nothing rather than to a newer entity); the map and the name table always
//! agree.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

use crate::error::RbacError;
use crate::hash::FastMap;

#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    by_name: FastMap<Box<str>, u32>,
    names: Vec<Option<Box<str>>>,
}

impl Interner {
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).map(|&index| index as usize)
    }

    /// Adds a name known to be absent; returns its new index.
    pub(crate) fn insert(&mut self, name: &str) -> Result<usize, RbacError> {
        let index = u32::try_from(self.names.len()).map_err(|_| RbacError::CapacityExceeded)?;
        self.by_name.insert(name.into(), index);
        self.names.push(Some(name.into()));
        Ok(index as usize)
    }

    pub(crate) fn get_or_insert(&mut self, name: &str) -> Result<usize, RbacError> {
        match self.get(name) {
            Some(index) => Ok(index),
            None => self.insert(name),
        }
    }

    pub(crate) fn remove(&mut self, index: usize) {
        if let Some(slot) = self.names.get_mut(index)
            && let Some(name) = slot.take()
        {
            self.by_name.remove(&name);
        }
    }

    #[inline]
    pub(crate) fn name(&self, index: usize) -> Option<&str> {
        self.names.get(index).and_then(|name| name.as_deref())
    }

    pub(crate) fn is_live(&self, index: usize) -> bool {
        self.name(index).is_some()
    }

    /// Live `(index, name)` pairs in index (creation) order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &str)> + '_ {
        self.names
            .iter()
            .enumerate()
            .filter_map(|(index, name)| Some((index, name.as_deref()?)))
    }
}

/// An (operation, object) name pair, the key of the permission table. Looked up by a pair of
/// borrowed `&str` through [`PairKey`], so resolving a permission by name is one hash of
/// both names and one probe, with no allocation. Both names share one allocation (one cache
/// line to compare for short names).
#[derive(Debug, Clone)]
pub(crate) struct NamePair {
    /// The operation followed directly by the object.
    joined: Box<str>,
    /// Where the object starts in `joined`.
    split: usize,
}

impl NamePair {
    pub(crate) fn new(operation: &str, object: &str) -> Self {
        Self {
            joined: [operation, object].concat().into(),
            split: operation.len(),
        }
    }
}

/// Either an owned [`NamePair`] or a borrowed `(&str, &str)`; both hash and compare alike.
pub(crate) trait PairKey {
    fn names(&self) -> (&str, &str);
}

impl PairKey for NamePair {
    #[inline]
    fn names(&self) -> (&str, &str) {
        // `split` is a char boundary by construction; `split_at_checked` keeps this panic-free.
        self.joined.split_at_checked(self.split).unwrap_or_default()
    }
}

impl PairKey for (&str, &str) {
    #[inline]
    fn names(&self) -> (&str, &str) {
        *self
    }
}

impl<'a> Borrow<dyn PairKey + 'a> for NamePair {
    fn borrow(&self) -> &(dyn PairKey + 'a) {
        self
    }
}

impl Hash for dyn PairKey + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (operation, object) = self.names();
        operation.hash(state);
        object.hash(state);
    }
}

impl PartialEq for dyn PairKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.names() == other.names()
    }
}

impl Eq for dyn PairKey + '_ {}

impl Hash for NamePair {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self as &dyn PairKey).hash(state);
    }
}

impl PartialEq for NamePair {
    fn eq(&self, other: &Self) -> bool {
        self.names() == other.names()
    }
}

impl Eq for NamePair {}
