//! Effective roles of a user in 50 groups whose roles reach three levels of composites, against
//! the store's physical floor: one `SELECT 1` round trip (`Store::ping`) on the same pool.
//!
//! The realm is built in code with `portcullis_model::import::build` and written with
//! `Store::create_realm`, on a SQLite file in a temporary folder and, when
//! `PORTCULLIS_TEST_PG_URL` is set (bench/run starts a private PostgreSQL), on PostgreSQL in a
//! fresh schema.
//!
//! Shape: ten top-level groups `dept-K`, each with four sub-groups `team-K-M` (50 groups). The
//! user is a direct member of the 40 teams and reaches the 10 departments through their
//! parents. Each of the 50 groups holds one role whose composites go three levels deep:
//!
//! ```text
//! gI (held by the group) -> gI.a, gI.b -> gI.a.0 .. gI.b.1 -> leaf gI.N,
//!                                                              shared-(I+N)%10, client app/app-N
//! ```
//!
//! so each group adds 11 roles of its own and reaches 10 shared realm roles and 4 client roles;
//! with one direct role the user holds 50 * 11 + 10 + 4 + 1 = 565 roles. 200 other users in the
//! realm make the indexes matter.
//!
//! Measured three ways: the one recursive query (`effective_roles`), the cached pass
//! (`memberships_plus_graph`: one round trip for the user's direct memberships, then the
//! in-memory `RoleGraph`), and the in-memory walk alone (`graph_only`).
//!
//!     cargo bench -p portcullis-store --bench effective_roles

#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench may panic on failure

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_model::import::{BuildContext, build};
use portcullis_model::repr::RealmRepresentation;
use portcullis_store::{ConnectOptions, DbTarget, Store};
use serde_json::{Value, json};
use std::hint::black_box;

const DEPARTMENTS: usize = 10;
const TEAMS_PER_DEPARTMENT: usize = 4;
const GROUPS: usize = DEPARTMENTS * (1 + TEAMS_PER_DEPARTMENT);
const SHARED: usize = 10;
const CLIENT_ROLES: usize = 4;
const OTHER_USERS: usize = 200;
/// Roles the measured user holds: 11 per group, the shared ones, the client ones, one direct.
const EXPECTED_ROLES: usize = GROUPS * 11 + SHARED + CLIENT_ROLES + 1;

/// The role tree held by group number `i`.
fn group_roles(i: usize) -> Vec<Value> {
    let mut roles = vec![json!({"name": format!("g{i}"),
        "composites": {"realm": [format!("g{i}.a"), format!("g{i}.b")]}})];
    for (half, kids) in [("a", [0, 1]), ("b", [2, 3])] {
        roles.push(json!({"name": format!("g{i}.{half}"),
            "composites": {"realm": kids.iter().map(|n| format!("g{i}.{half}.{n}")).collect::<Vec<_>>()}}));
        for n in kids {
            roles.push(json!({"name": format!("g{i}.{half}.{n}"),
            "composites": {
                "realm": [format!("g{i}.{n}"), format!("shared-{}", (i + n) % SHARED)],
                "client": {"app": [format!("app-{n}")]}
            }}));
        }
    }
    for n in 0..CLIENT_ROLES {
        roles.push(json!({"name": format!("g{i}.{n}")}));
    }
    roles
}

fn realm() -> RealmRepresentation {
    let mut realm_roles: Vec<Value> = (0..SHARED)
        .map(|s| json!({"name": format!("shared-{s}")}))
        .collect();
    realm_roles.push(json!({"name": "direct"}));
    let mut groups = Vec::new();
    let mut team_paths = Vec::new();
    let mut g = 0;
    for d in 0..DEPARTMENTS {
        realm_roles.extend(group_roles(g));
        let dept_role = format!("g{g}");
        g += 1;
        let mut teams = Vec::new();
        for t in 0..TEAMS_PER_DEPARTMENT {
            realm_roles.extend(group_roles(g));
            teams.push(json!({"name": format!("team-{d}-{t}"), "realmRoles": [format!("g{g}")]}));
            team_paths.push(format!("/dept-{d}/team-{d}-{t}"));
            g += 1;
        }
        groups.push(
            json!({"name": format!("dept-{d}"), "realmRoles": [dept_role], "subGroups": teams}),
        );
    }
    assert_eq!(g, GROUPS);
    let mut users = vec![json!({
        "username": "member50", "enabled": true,
        "groups": team_paths, "realmRoles": ["direct"]
    })];
    for u in 0..OTHER_USERS {
        users.push(json!({
            "username": format!("other{u}"), "enabled": true,
            "groups": [team_paths[u % team_paths.len()]],
            "realmRoles": [format!("shared-{}", u % SHARED)]
        }));
    }
    serde_json::from_value(json!({
        "realm": "bench",
        "enabled": true,
        "roles": {
            "realm": realm_roles,
            "client": {"app": (0..CLIENT_ROLES).map(|n| json!({"name": format!("app-{n}")})).collect::<Vec<_>>()}
        },
        "clients": [{"clientId": "app", "secret": "s", "redirectUris": ["http://127.0.0.1/*"]}],
        "groups": groups,
        "users": users
    }))
    .expect("bench realm")
}

/// Write the realm and return the measured user's id.
async fn load(store: &Store) -> String {
    let built = build(
        realm(),
        &BuildContext {
            now_ms: 1_700_000_000_000,
        },
    )
    .expect("valid bench realm");
    store
        .create_realm(&built.image, 1_700_000_000_000)
        .await
        .expect("create realm");
    let realm = store.get_realm("bench").await.unwrap().expect("realm");
    let user = store
        .find_user_by_username(&realm.id, "member50")
        .await
        .unwrap()
        .expect("user");
    let roles = store.effective_roles(&user.id).await.unwrap();
    assert_eq!(roles.len(), EXPECTED_ROLES, "effective roles of member50");
    user.id
}

fn bench_backend(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, store: &Store) {
    let user_id = rt.block_on(load(store));
    let mut group = c.benchmark_group(name);
    group.bench_function("ping", |b| {
        b.to_async(rt)
            .iter(|| async { store.ping().await.unwrap() })
    });
    group.bench_function("effective_roles", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(store.effective_roles(black_box(&user_id)).await.unwrap()) })
    });
    // The cached pass: the realm's role graph is loaded once (per realm, as the server caches
    // it); each request fetches the user's direct memberships and walks the graph in memory.
    let realm_id =
        rt.block_on(async { store.get_realm("bench").await.unwrap().expect("realm").id });
    let graph = rt.block_on(store.role_graph(&realm_id)).unwrap();
    let (roles, groups) = rt.block_on(store.user_memberships(&user_id)).unwrap();
    assert_eq!(
        graph.effective(&roles, &groups).len(),
        EXPECTED_ROLES,
        "graph agrees with the query"
    );
    group.bench_function("memberships_plus_graph", |b| {
        b.to_async(rt).iter(|| async {
            let (roles, groups) = store.user_memberships(black_box(&user_id)).await.unwrap();
            black_box(graph.effective(&roles, &groups).len())
        })
    });
    group.bench_function("graph_only", |b| {
        b.iter(|| black_box(graph.effective(black_box(&roles), black_box(&groups)).len()))
    });
    group.finish();
    rt.block_on(store.close());
}

fn effective_roles(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = rt
        .block_on(Store::connect(&ConnectOptions::new(DbTarget::SqliteFile(
            dir.path().join("bench.db"),
        ))))
        .expect("sqlite");
    bench_backend(c, &rt, "sqlite", &sqlite);

    match std::env::var("PORTCULLIS_TEST_PG_URL") {
        Ok(url) => {
            let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
            let pg = rt
                .block_on(Store::connect(&ConnectOptions::new(DbTarget::Postgres {
                    url,
                    username: None,
                    password: None,
                    schema: Some(schema),
                })))
                .expect("postgres");
            bench_backend(c, &rt, "postgres", &pg);
        }
        Err(_) => eprintln!("PORTCULLIS_TEST_PG_URL is not set: PostgreSQL skipped"),
    }
}

criterion_group!(benches, effective_roles);
criterion_main!(benches);
