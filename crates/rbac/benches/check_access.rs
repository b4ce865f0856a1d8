//! Access-check throughput of the RBAC engine over a 1,000-role hierarchy, and the cost of
//! building and changing that hierarchy.
//!
//! Hierarchy: 10 layers of 100 roles; each role above the bottom layer inherits 3 roles of
//! the next layer, and each role is granted 5 permissions (5,000 grants of 3,400 distinct
//! permissions). The session's user is assigned to a top-layer role and activates it;
//! through inheritance it reaches 597 roles and 2,827 permissions. Queries cycle through
//! 1,024 held permissions (hits) or 1,024 permissions granted only to roles out of the
//! session's reach (misses); each iteration is 1,024 checks, so criterion's `thrpt` is checks
//! per second.
//!
//! Run: `taskset -c 0 cargo bench -p portcullis-rbac --bench check_access`
//!
//! Measured (2-core AMD EPYC VM shared with other jobs, load average about 2; criterion
//! medians; details in BENCHMARKS.md, "Service kit and RBAC engine"):
//! - `check_access` by names: 20.0 M checks/s (hit), 20.0 M checks/s (miss);
//! - `check_access_id`: 265 M checks/s (hit and miss);
//! - `user_has_permission` (no session): 17.6 M checks/s (hit);
//! - `Policy::build` of the whole fixture: 22.4 ms (closure alone: 10.1 ms);
//! - `delete_inheritance` + `add_inheritance` with a live session: 197 µs.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use portcullis_rbac::{Policy, Rbac, SessionId};
use std::hint::black_box;

const LAYERS: usize = 10;
const WIDTH: usize = 100;
const JUNIORS: usize = 3;
const PERMISSIONS: usize = 5;
const OPERATIONS: [&str; 8] = [
    "read", "write", "delete", "approve", "export", "share", "archive", "audit",
];
const QUERIES: usize = 1024;

fn role(layer: usize, index: usize) -> String {
    format!("role-{layer}-{index}")
}

/// Index in the next layer of the `k`-th junior of role `index` in `layer`: a deterministic
/// spread.
fn junior(layer: usize, index: usize, k: usize) -> usize {
    (index * 17 + k * 37 + layer * 11) % WIDTH
}

/// Operation and object of the `k`-th permission of role `n` (0..1000).
fn permission(n: usize, k: usize) -> (&'static str, String) {
    let operation = OPERATIONS[(n + k) % OPERATIONS.len()];
    (operation, format!("resource-{}", (n * 7 + k * 3) % 1700))
}

fn policy() -> Policy {
    let mut policy = Policy::new();
    for layer in 0..LAYERS {
        for index in 0..WIDTH {
            let n = layer * WIDTH + index;
            let permissions: Vec<String> = (0..PERMISSIONS)
                .map(|k| {
                    let (operation, object) = permission(n, k);
                    format!("{object}.{operation}")
                })
                .collect();
            let juniors: Vec<String> = if layer + 1 < LAYERS {
                (0..JUNIORS)
                    .map(|k| role(layer + 1, junior(layer, index, k)))
                    .collect()
            } else {
                Vec::new()
            };
            policy = policy.role(
                &role(layer, index),
                permissions.iter().map(String::as_str),
                juniors.iter().map(String::as_str),
            );
        }
    }
    policy.user("alice", [role(0, 0).as_str()])
}

struct Fixture {
    rbac: Rbac,
    session: SessionId,
    hits: Vec<(&'static str, String)>,
    misses: Vec<(&'static str, String)>,
}

fn fixture() -> Fixture {
    let mut rbac = match policy().build() {
        Ok(rbac) => rbac,
        Err(error) => panic!("fixture: {error}"),
    };
    let top = role(0, 0);
    let session = match rbac.create_session("alice", &[top.as_str()]) {
        Ok(session) => session,
        Err(error) => panic!("fixture: {error}"),
    };
    let mut hits = Vec::new();
    let mut misses = Vec::new();
    for n in 0..LAYERS * WIDTH {
        for k in 0..PERMISSIONS {
            let (operation, object) = permission(n, k);
            match rbac.check_access(session, operation, &object) {
                Ok(true) => hits.push((operation, object)),
                _ => misses.push((operation, object)),
            }
        }
    }
    hits.sort();
    hits.dedup();
    misses.sort();
    misses.dedup();
    misses.retain(|miss| !hits.contains(miss));
    let roles_in_effect = rbac.session_effective_roles(session).map(Iterator::count);
    let held = rbac.session_permissions(session).map(Iterator::count);
    eprintln!(
        "fixture: {} permissions, session reaches {:?} roles and {:?} permissions; {} hit and {} miss candidates",
        rbac.roles()
            .filter_map(|r| rbac.role_granted_permissions(r).ok())
            .map(Iterator::count)
            .sum::<usize>(),
        roles_in_effect,
        held,
        hits.len(),
        misses.len()
    );
    let spread = |list: &[(&'static str, String)]| -> Vec<(&'static str, String)> {
        (0..QUERIES)
            .map(|i| list[(i * 7919) % list.len()].clone())
            .collect()
    };
    Fixture {
        hits: spread(&hits),
        misses: spread(&misses),
        rbac,
        session,
    }
}

fn check_access(c: &mut Criterion) {
    let fixture = fixture();
    let Fixture {
        rbac,
        session,
        hits,
        misses,
    } = &fixture;
    let mut group = c.benchmark_group("check_access");
    group.throughput(Throughput::Elements(QUERIES as u64));
    for (name, queries, expected) in [("hit", hits, QUERIES), ("miss", misses, 0)] {
        group.bench_function(format!("names/{name}"), |b| {
            b.iter(|| {
                let mut allowed = 0usize;
                for (operation, object) in queries {
                    if let Ok(true) =
                        rbac.check_access(*session, black_box(operation), black_box(object))
                    {
                        allowed += 1;
                    }
                }
                assert_eq!(allowed, expected);
                allowed
            })
        });
        let ids: Vec<_> = queries
            .iter()
            .filter_map(|(operation, object)| rbac.permission_id(operation, object))
            .collect();
        group.bench_function(format!("ids/{name}"), |b| {
            b.iter(|| {
                let mut allowed = 0usize;
                for permission in &ids {
                    if let Ok(true) = rbac.check_access_id(*session, black_box(*permission)) {
                        allowed += 1;
                    }
                }
                assert_eq!(allowed, expected);
                allowed
            })
        });
        group.bench_function(format!("user_has_permission/{name}"), |b| {
            b.iter(|| {
                let mut allowed = 0usize;
                for (operation, object) in queries {
                    if let Ok(true) =
                        rbac.user_has_permission("alice", black_box(operation), black_box(object))
                    {
                        allowed += 1;
                    }
                }
                assert_eq!(allowed, expected);
                allowed
            })
        });
    }
    group.finish();
}

fn writes(c: &mut Criterion) {
    let policy = policy();
    let mut group = c.benchmark_group("hierarchy");
    group.sample_size(20);
    // Roles, 2,700 edges with incremental closure, 5,000 grants, one user.
    group.bench_function("build_1000_roles", |b| {
        b.iter(|| black_box(policy.build().map(|rbac| rbac.roles().count())))
    });
    // The same roles and edges without grants: the closure alone.
    let mut bare = policy.clone();
    for role in bare.roles.values_mut() {
        role.permissions.clear();
    }
    group.bench_function("build_closure_1000_roles", |b| {
        b.iter(|| black_box(bare.build().map(|rbac| rbac.roles().count())))
    });
    let fixture = fixture();
    let (senior, junior) = (role(4, 0), role(5, junior(4, 0, 0)));
    // Removing an edge rebuilds the whole closure and the permissions above it; adding it
    // back is incremental. The session stays live throughout.
    group.bench_function("delete_and_add_inheritance", |b| {
        b.iter_batched_ref(
            || fixture.rbac.clone(),
            |rbac| {
                let deleted = rbac.delete_inheritance(&senior, &junior);
                let added = rbac.add_inheritance(&senior, &junior);
                assert!(deleted.is_ok() && added.is_ok());
            },
            BatchSize::LargeInput,
        )
    });
    let top = role(0, 0);
    group.bench_function("create_session_top_role", |b| {
        b.iter_batched_ref(
            || fixture.rbac.clone(),
            |rbac| black_box(rbac.create_session("alice", &[top.as_str()]).is_ok()),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, check_access, writes);
criterion_main!(benches);
