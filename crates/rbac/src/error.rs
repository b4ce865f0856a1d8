//! The one error type of the engine. Every rejected operation returns one of these and
//! leaves the engine exactly as it was.
//!
//! Invariants: no I/O; variants carry names (not indices) so messages are readable.

use crate::ids::{SessionId, SodKind};

/// Why an RBAC function refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RbacError {
    /// No user has this name.
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    /// No role has this name.
    #[error("unknown role {0:?}")]
    UnknownRole(String),
    /// The session does not exist (never created, or deleted).
    #[error("unknown session {0}")]
    UnknownSession(SessionId),
    /// A user with this name already exists.
    #[error("user {0:?} already exists")]
    DuplicateUser(String),
    /// A role with this name already exists.
    #[error("role {0:?} already exists")]
    DuplicateRole(String),
    /// The user is already assigned to the role.
    #[error("user {user:?} is already assigned to role {role:?}")]
    AlreadyAssigned {
        /// The user.
        user: String,
        /// The role.
        role: String,
    },
    /// The user is not (directly) assigned to the role.
    #[error("user {user:?} is not assigned to role {role:?}")]
    NotAssigned {
        /// The user.
        user: String,
        /// The role.
        role: String,
    },
    /// The role already holds this permission directly.
    #[error("role {role:?} already has permission ({operation:?}, {object:?})")]
    AlreadyGranted {
        /// The role.
        role: String,
        /// The permission's operation.
        operation: String,
        /// The permission's object.
        object: String,
    },
    /// The role does not hold this permission directly.
    #[error("role {role:?} does not have permission ({operation:?}, {object:?})")]
    NotGranted {
        /// The role.
        role: String,
        /// The permission's operation.
        operation: String,
        /// The permission's object.
        object: String,
    },
    /// Making `senior` inherit `junior` would close a cycle (`junior` already inherits
    /// `senior`, or they are the same role).
    #[error("role {senior:?} cannot inherit {junior:?}: that would make a cycle")]
    Cycle {
        /// The would-be senior role.
        senior: String,
        /// The would-be junior role.
        junior: String,
    },
    /// `senior` already inherits `junior` immediately.
    #[error("role {senior:?} already inherits {junior:?} immediately")]
    InheritanceExists {
        /// The senior role.
        senior: String,
        /// The junior role.
        junior: String,
    },
    /// There is no immediate inheritance `senior` → `junior` to delete.
    #[error("role {senior:?} does not inherit {junior:?} immediately")]
    NoInheritance {
        /// The senior role.
        senior: String,
        /// The junior role.
        junior: String,
    },
    /// The user is not authorized for the role (neither assigned to it nor to a senior).
    #[error("user {user:?} is not authorized for role {role:?}")]
    NotAuthorized {
        /// The user.
        user: String,
        /// The role.
        role: String,
    },
    /// The role is already active in the session.
    #[error("role {role:?} is already active in {session}")]
    RoleAlreadyActive {
        /// The session.
        session: SessionId,
        /// The role.
        role: String,
    },
    /// The role is not active in the session.
    #[error("role {role:?} is not active in {session}")]
    RoleNotActive {
        /// The session.
        session: SessionId,
        /// The role.
        role: String,
    },
    /// The change would authorize `user` for `cardinality` or more roles of a static SoD set.
    #[error("static separation of duty: set {set:?} forbids this for user {user:?}")]
    SsdViolation {
        /// The SSD set.
        set: String,
        /// The user who would break it.
        user: String,
    },
    /// The change would give a session of `user` `cardinality` or more roles of a dynamic SoD
    /// set. `session` is `None` when the session was being created.
    #[error("dynamic separation of duty: set {set:?} forbids this in a session of user {user:?}")]
    DsdViolation {
        /// The DSD set.
        set: String,
        /// The session's user.
        user: String,
        /// The session, if it existed already.
        session: Option<SessionId>,
    },
    /// No SoD set of this kind has this name.
    #[error("unknown {kind} set {set:?}")]
    UnknownSet {
        /// Static or dynamic.
        kind: SodKind,
        /// The set name.
        set: String,
    },
    /// A SoD set of this kind with this name already exists.
    #[error("{kind} set {set:?} already exists")]
    DuplicateSet {
        /// Static or dynamic.
        kind: SodKind,
        /// The set name.
        set: String,
    },
    /// A SoD set's cardinality must satisfy `2 ≤ cardinality ≤ number of roles in the set`.
    #[error("{kind} set {set:?}: cardinality {cardinality} is not within 2..={roles}")]
    InvalidCardinality {
        /// Static or dynamic.
        kind: SodKind,
        /// The set name.
        set: String,
        /// The cardinality asked for (or kept).
        cardinality: u32,
        /// How many roles the set would have.
        roles: usize,
    },
    /// The role is already a member of the SoD set.
    #[error("role {role:?} is already in {kind} set {set:?}")]
    AlreadyMember {
        /// Static or dynamic.
        kind: SodKind,
        /// The set name.
        set: String,
        /// The role.
        role: String,
    },
    /// The role is not a member of the SoD set.
    #[error("role {role:?} is not in {kind} set {set:?}")]
    NotMember {
        /// Static or dynamic.
        kind: SodKind,
        /// The set name.
        set: String,
        /// The role.
        role: String,
    },
    /// More than `u32::MAX` entities of one kind were created.
    #[error("too many entities of one kind (more than 2^32 ever created)")]
    CapacityExceeded,
}

/// Result alias for this crate.
pub type Result<T, E = RbacError> = std::result::Result<T, E>;
