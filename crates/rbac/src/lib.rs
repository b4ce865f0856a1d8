//! Role-based access control after the NIST model (ANSI INCITS 359-2004): core RBAC, general
//! role hierarchies, static and dynamic separation of duty, and the standard's review
//! functions — as an in-memory engine that services build once and then query.
//!
//! Invariant: this crate does no I/O — no files, network, database, clock or randomness. It
//! depends on `thiserror` and, with the default `serde` feature, on `serde` (to deserialize a
//! [`Policy`]). It never panics on any input; every rejected call returns an [`RbacError`]
//! and leaves the engine unchanged.
//!
//! # Model
//! - **Users, roles, operations, objects** are named by strings and interned to dense ids
//!   ([`UserId`], [`RoleId`], [`OperationId`], [`ObjectId`]). A *permission* is an
//!   (operation, object) pair ([`PermissionId`]); operations and objects exist once a grant
//!   names them.
//! - **Hierarchy**: `add_inheritance(senior, junior)` makes the senior inherit the junior's
//!   permissions, and makes users of the senior *authorized* for the junior. The graph is a
//!   DAG (cycles and self-edges are errors). The reflexive-transitive closure and every
//!   role's effective permission set are materialised on write.
//! - **Sessions**: [`Rbac::create_session`] activates roles the user is authorized for;
//!   [`Rbac::check_access`] asks whether any active role (or a role it inherits) holds a
//!   permission. A session's permission set is materialised, so a check is a bit test after
//!   resolving names (or none, with [`Rbac::check_access_id`]).
//! - **Static SoD** sets bound how many roles of a set a user may be *authorized* for, so
//!   conflicts reached through inheritance count. Checked on assignment, inheritance, and
//!   set changes.
//! - **Dynamic SoD** sets bound how many roles of a set a session may have *in effect* —
//!   active or inherited from an active role. The standard's formula counts active roles
//!   only; counting inherited ones closes the gap where one senior role carries two
//!   conflicting duties (ADR 0008).
//!
//! Function names follow the standard in snake case (`AddUser` → [`Rbac::add_user`], …);
//! grants take `(role, operation, object)`.
//!
//! A service usually writes a [`Policy`] (in code or JSON) and builds the engine from it.
//! Permission strings there read `"object.operation"`, split at the last dot
//! (`"article.edit"` is operation `edit` on object `article`); a string without a dot is an
//! operation on the empty object; `{ "operation": …, "object": … }` spells both out.
//!
//! # Example
//! ```
//! use portcullis_rbac::{Policy, Rbac};
//!
//! let rbac: Rbac = Policy::new()
//!     .role("viewer", ["article.view"], [])
//!     .role("editor", ["article.edit"], ["viewer"])
//!     .user("alice", ["editor"])
//!     .build()?;
//! assert!(rbac.user_has_permission("alice", "view", "article")?); // inherited
//!
//! let mut rbac = rbac;
//! let session = rbac.create_session("alice", &["editor"])?;
//! assert!(rbac.check_access(session, "edit", "article")?);
//! assert!(!rbac.check_access(session, "delete", "article")?);
//! # Ok::<(), portcullis_rbac::RbacError>(())
//! ```
//!
//! The same with the administrative functions, and a separation-of-duty set:
//! ```
//! use portcullis_rbac::{Rbac, RbacError};
//!
//! let mut rbac = Rbac::new();
//! for role in ["clerk", "approver", "manager"] {
//!     rbac.add_role(role)?;
//! }
//! rbac.add_inheritance("manager", "approver")?;
//! rbac.grant_permission("clerk", "create", "payment")?;
//! rbac.grant_permission("approver", "approve", "payment")?;
//! rbac.create_ssd_set("payments", &["clerk", "approver"], 2)?;
//! rbac.add_user("bob")?;
//! rbac.assign_user("bob", "clerk")?;
//! // Bob would be authorized for "approver" through "manager": rejected, nothing changes.
//! assert!(matches!(
//!     rbac.assign_user("bob", "manager"),
//!     Err(RbacError::SsdViolation { .. })
//! ));
//! assert_eq!(rbac.authorized_roles("bob")?.collect::<Vec<_>>(), ["clerk"]);
//! # Ok::<(), RbacError>(())
//! ```
//!
//! On the hot path resolve the permission once:
//! ```
//! # use portcullis_rbac::Policy;
//! # let mut rbac = Policy::new().role("viewer", ["article.view"], []).user("ann", ["viewer"]).build()?;
//! let view_article = rbac.permission_id("view", "article");
//! let session = rbac.create_session("ann", &["viewer"])?;
//! let allowed = match view_article {
//!     Some(permission) => rbac.check_access_id(session, permission)?,
//!     None => false, // never granted to anyone
//! };
//! assert!(allowed);
//! # Ok::<(), portcullis_rbac::RbacError>(())
//! ```
//!
//! Modules: `engine` (state, core administration), `hierarchy`, `sod`, `session`
//! (sessions and checks), `review`, `policy` ([`Policy`]); `bitset`, `intern` and `hash` are
//! internal.

mod bitset;
mod engine;
mod error;
mod hash;
mod hierarchy;
mod ids;
mod intern;
mod policy;
mod review;
mod session;
mod sod;

pub use engine::Rbac;
pub use error::{RbacError, Result};
pub use ids::{
    ObjectId, OperationId, PermissionId, PermissionRef, RoleId, SessionId, SodKind, UserId,
};
pub use policy::{PermissionSpec, Policy, RoleDefinition, SodDefinition, split_permission};
