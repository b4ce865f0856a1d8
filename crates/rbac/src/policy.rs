//! A declarative policy — roles with their permissions and juniors, user assignments, SoD
//! sets — that a service writes once (in code or in any serde format) and turns into an
//! [`Rbac`] engine with [`Policy::build`].
//!
//! Permission strings: `"object.operation"`, split at the *last* dot, so `"article.edit"` is
//! operation `edit` on object `article` and `"reports.q1.view"` is `view` on `reports.q1`; a
//! string without a dot is an operation on the empty object (`"admin"` is (`admin`, `""`)),
//! for permissions that are not about any particular object. The explicit form
//! `{ "operation": "edit", "object": "article" }` is also accepted and takes names verbatim.
//!
//! Invariants: this crate does no I/O (the caller reads and parses the file); building is
//! all-or-nothing: an unknown role, a cycle or a violated SSD set is an error and no engine
//! comes out. Repeating a permission, junior or assignment is harmless.

use std::collections::BTreeMap;

use crate::engine::Rbac;
use crate::error::{RbacError, Result};

/// Roles, assignments and SoD sets to build an engine from.
///
/// With the `serde` feature it deserializes from e.g. JSON:
///
/// ```json
/// {
///   "roles": {
///     "viewer": { "permissions": ["article.view"] },
///     "editor": { "permissions": ["article.edit"], "inherits": ["viewer"] },
///     "author": { "permissions": ["draft.write"] },
///     "reviewer": { "permissions": ["draft.approve"] }
///   },
///   "users": { "alice": ["editor"] },
///   "ssd": { "author-vs-reviewer": { "roles": ["author", "reviewer"], "cardinality": 2 } },
///   "dsd": {}
/// }
/// ```
///
/// Every key is optional; unknown keys are rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct Policy {
    /// Roles by name.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "BTreeMap::is_empty")
    )]
    pub roles: BTreeMap<String, RoleDefinition>,
    /// Users by name, with the roles each is assigned to.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "BTreeMap::is_empty")
    )]
    pub users: BTreeMap<String, Vec<String>>,
    /// Static separation-of-duty sets by name.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "BTreeMap::is_empty")
    )]
    pub ssd: BTreeMap<String, SodDefinition>,
    /// Dynamic separation-of-duty sets by name.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "BTreeMap::is_empty")
    )]
    pub dsd: BTreeMap<String, SodDefinition>,
}

/// One role of a [`Policy`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct RoleDefinition {
    /// Permissions granted directly.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub permissions: Vec<PermissionSpec>,
    /// Roles this one inherits immediately (its juniors).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub inherits: Vec<String>,
}

/// A permission in a [`Policy`]: `"object.operation"` or explicit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(untagged)
)]
pub enum PermissionSpec {
    /// `"object.operation"`, or `"operation"` alone for the empty object.
    Short(String),
    /// Both names verbatim (dots allowed anywhere).
    Explicit {
        /// The operation.
        operation: String,
        /// The object.
        object: String,
    },
}

impl PermissionSpec {
    /// `(operation, object)`.
    pub fn parts(&self) -> (&str, &str) {
        match self {
            Self::Short(text) => split_permission(text),
            Self::Explicit { operation, object } => (operation, object),
        }
    }
}

impl From<&str> for PermissionSpec {
    fn from(text: &str) -> Self {
        Self::Short(text.to_owned())
    }
}

/// Splits `"object.operation"` at the last dot into `(operation, object)`; a string without a
/// dot is `(text, "")`.
///
/// ```
/// use portcullis_rbac::split_permission;
/// assert_eq!(split_permission("article.edit"), ("edit", "article"));
/// assert_eq!(split_permission("reports.q1.view"), ("view", "reports.q1"));
/// assert_eq!(split_permission("admin"), ("admin", ""));
/// ```
pub fn split_permission(text: &str) -> (&str, &str) {
    match text.rsplit_once('.') {
        Some((object, operation)) => (operation, object),
        None => (text, ""),
    }
}

/// A separation-of-duty set of a [`Policy`]: no user (SSD) or session (DSD) may hold
/// `cardinality` or more of `roles`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct SodDefinition {
    /// The mutually exclusive roles.
    pub roles: Vec<String>,
    /// How many of them are too many (at least 2, at most `roles.len()`).
    pub cardinality: u32,
}

impl Policy {
    /// An empty policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or extends) a role with permissions in the short form and juniors.
    pub fn role<'a>(
        mut self,
        name: &str,
        permissions: impl IntoIterator<Item = &'a str>,
        inherits: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let role = self.roles.entry(name.to_owned()).or_default();
        role.permissions
            .extend(permissions.into_iter().map(PermissionSpec::from));
        role.inherits
            .extend(inherits.into_iter().map(str::to_owned));
        self
    }

    /// Adds (or extends) a user with the roles it is assigned to.
    pub fn user<'a>(mut self, name: &str, roles: impl IntoIterator<Item = &'a str>) -> Self {
        self.users
            .entry(name.to_owned())
            .or_default()
            .extend(roles.into_iter().map(str::to_owned));
        self
    }

    /// Adds a static SoD set.
    pub fn ssd<'a>(
        mut self,
        name: &str,
        roles: impl IntoIterator<Item = &'a str>,
        cardinality: u32,
    ) -> Self {
        self.ssd.insert(name.to_owned(), sod(roles, cardinality));
        self
    }

    /// Adds a dynamic SoD set.
    pub fn dsd<'a>(
        mut self,
        name: &str,
        roles: impl IntoIterator<Item = &'a str>,
        cardinality: u32,
    ) -> Self {
        self.dsd.insert(name.to_owned(), sod(roles, cardinality));
        self
    }

    /// Builds the engine: roles, inheritance, grants, SoD sets, then users and assignments
    /// (so an assignment that breaks an SSD set fails with [`RbacError::SsdViolation`]).
    pub fn build(&self) -> Result<Rbac> {
        let mut rbac = Rbac::new();
        for name in self.roles.keys() {
            rbac.add_role(name)?;
        }
        // Edges before grants: while no role has permissions, an edge only updates bit
        // closures; each grant then reaches its ascendants directly.
        for (name, role) in &self.roles {
            for junior in &role.inherits {
                ignore_repeat(rbac.add_inheritance(name, junior))?;
            }
        }
        for (name, role) in &self.roles {
            for permission in &role.permissions {
                let (operation, object) = permission.parts();
                ignore_repeat(rbac.grant_permission(name, operation, object))?;
            }
        }
        for (name, set) in &self.ssd {
            let roles: Vec<&str> = set.roles.iter().map(String::as_str).collect();
            rbac.create_ssd_set(name, &roles, set.cardinality)?;
        }
        for (name, set) in &self.dsd {
            let roles: Vec<&str> = set.roles.iter().map(String::as_str).collect();
            rbac.create_dsd_set(name, &roles, set.cardinality)?;
        }
        for (user, roles) in &self.users {
            rbac.add_user(user)?;
            for role in roles {
                ignore_repeat(rbac.assign_user(user, role))?;
            }
        }
        Ok(rbac)
    }
}

fn sod<'a>(roles: impl IntoIterator<Item = &'a str>, cardinality: u32) -> SodDefinition {
    SodDefinition {
        roles: roles.into_iter().map(str::to_owned).collect(),
        cardinality,
    }
}

/// A definition may repeat a junior, a permission or an assignment.
fn ignore_repeat(result: Result<()>) -> Result<()> {
    match result {
        Err(
            RbacError::InheritanceExists { .. }
            | RbacError::AlreadyGranted { .. }
            | RbacError::AlreadyAssigned { .. },
        ) => Ok(()),
        other => other,
    }
}
