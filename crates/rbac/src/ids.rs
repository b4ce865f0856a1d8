//! Public identifier types: dense indices handed out by one [`crate::Rbac`] and meaningful
//! only to it.
//!
//! Invariants: no I/O; ids are plain `Copy` values; passing an id from another engine, or
//! one whose entity was deleted, never panics — lookups answer "unknown" (indices are never
//! reused, and session slots carry a generation).

use std::fmt;

/// A user, interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub(crate) u32);

/// A role, interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleId(pub(crate) u32);

/// An operation (what is done: `edit`, `view`), interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationId(pub(crate) u32);

/// An object (what it is done to: `article`), interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub(crate) u32);

/// A permission — an (operation, object) pair — interned when first granted. Resolve one
/// with [`crate::Rbac::permission_id`] once and check it with
/// [`crate::Rbac::check_access_id`] on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PermissionId(pub(crate) u32);

/// A session. A deleted session's id stays dead even though its slot is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session#{}.{}", self.slot, self.generation)
    }
}

impl UserId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

impl RoleId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

impl PermissionId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// A permission by name, as the review functions return it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PermissionRef<'a> {
    /// The operation, e.g. `edit`.
    pub operation: &'a str,
    /// The object, e.g. `article`.
    pub object: &'a str,
}

/// Which kind of separation-of-duty set a function or error refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SodKind {
    /// Static SoD: checked against the roles a user is *authorized* for.
    Static,
    /// Dynamic SoD: checked against the roles in effect in one session.
    Dynamic,
}

impl fmt::Display for SodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Static => "SSD",
            Self::Dynamic => "DSD",
        })
    }
}
