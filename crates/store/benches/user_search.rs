//! User search and group-member paging at scale, on SQLite and PostgreSQL: latency percentiles
//! of the store methods behind `GET /admin/realms/{realm}/users` and
//! `GET /admin/realms/{realm}/groups/{id}/members`, against one `SELECT 1` round trip on the
//! same pool (the floor any query pays).
//!
//! A realm `bench` gets N users (`first.lastK`, `first.lastK@domainD.example`, names made of
//! syllables), all in the group `everyone`, one in a thousand also in `few`.
//! Then, 400 times each after 40 warm-up runs (`BENCH_SAMPLES` changes the count), with a
//! fresh random subject per run:
//!
//! - `search=<prefix>`: the admin console's box; a 5-character prefix of a real username,
//!   matched as a prefix against username, email, first and last name, page of 100;
//! - `search=<whole email>`: the same search with a whole address;
//! - `email=<address>&exact=true`;
//! - `username=<part>` (infix, Keycloak's default for that parameter): reported, no target;
//! - members of `everyone`, page of 100 at offset 0, and the next page after a random deep
//!   page (how clients walk a group: first += max);
//! - members of `few` at offset 0.
//!
//! Memory: the process's peak RSS before and after walking every member of `everyone` page by
//! page (bounded listing: the walk must not grow the peak by more than a few pages).
//!
//!     BENCH_USERS=100000,1000000 cargo bench -p portcullis-store --bench user_search
//!
//! PostgreSQL runs when `PORTCULLIS_TEST_PG_URL` is set (bench/user-search starts one).
//! `BENCH_DB=sqlite|postgres` restricts to one database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a bench may panic

use portcullis_model::import::{BuildContext, build};
use portcullis_model::records::{UserImage, UserRecord};
use portcullis_model::repr::RealmRepresentation;
use portcullis_store::{ConnectOptions, DbTarget, Match, Page, Store, TextFilter, UserQuery};
use std::time::{Duration, Instant};

/// Names are made of syllables: 30 x 30 two-syllable and 30 x 30 x 30 three-syllable names,
/// about 28,000 distinct first and as many last names, so that a prefix matches a share of the
/// users like real names would (the bench prints the mean number of matches).
const SYLLABLES: [&str; 30] = [
    "ka", "lo", "mi", "ra", "ne", "to", "su", "vi", "da", "el", "an", "or", "be", "ti", "jo", "ma",
    "ri", "sa", "le", "no", "ha", "ye", "zu", "fi", "go", "pa", "qu", "wi", "ce", "xo",
];
const DOMAINS: usize = 50;

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn name(h: u64) -> String {
    let n = SYLLABLES.len() as u64;
    let mut s = String::new();
    s.push_str(SYLLABLES[(h % n) as usize]);
    s.push_str(SYLLABLES[((h / n) % n) as usize]);
    if !(h / (n * n)).is_multiple_of(3) {
        s.push_str(SYLLABLES[((h / (n * n * 3)) % n) as usize]);
    }
    s
}

/// A small deterministic generator (xorshift64*): the same users and queries every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// User number `k`: (username, email, first name, last name).
fn person(k: usize) -> (String, String, String, String) {
    let f = name(mix(k as u64));
    let l = name(mix(k as u64 ^ 0x5555_5555));
    let username = format!("{f}.{l}{k}");
    let email = format!("{username}@domain{}.example", k % DOMAINS);
    let capital = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|x| x.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    };
    (username, email, capital(&f), capital(&l))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Peak resident set of this process in kB (`VmHWM`).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct Row {
    db: &'static str,
    users: usize,
    what: String,
    p50: Duration,
    p99: Duration,
    max: Duration,
    rows: usize,
}

async fn measure<F, Fut>(
    samples: usize,
    rng: &mut Rng,
    mut f: F,
) -> (Duration, Duration, Duration, usize)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let warm = samples / 10;
    let mut times = Vec::with_capacity(samples);
    let mut rows = 0;
    for i in 0..warm + samples {
        let pick = rng.below(usize::MAX);
        let t = Instant::now();
        let n = f(pick).await;
        let e = t.elapsed();
        if i >= warm {
            times.push(e);
            rows += n;
        }
    }
    times.sort();
    (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        *times.last().expect("samples"),
        rows / samples.max(1),
    )
}

async fn connect(db: &str, dir: &std::path::Path) -> Store {
    let target = match db {
        "sqlite" => DbTarget::SqliteFile(dir.join("bench.db")),
        _ => DbTarget::Postgres {
            url: std::env::var("PORTCULLIS_TEST_PG_URL").expect("PORTCULLIS_TEST_PG_URL"),
            username: None,
            password: None,
            schema: Some(format!("bench_{}", uuid::Uuid::new_v4().simple())),
        },
    };
    Store::connect(&ConnectOptions::new(target))
        .await
        .expect("connect")
}

async fn run(db: &'static str, users: usize, samples: usize, out: &mut Vec<Row>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = connect(db, dir.path()).await;
    let rep: RealmRepresentation = serde_json::from_value(serde_json::json!({
        "realm": "bench", "enabled": true,
        "groups": [{"name": "everyone"}, {"name": "few"}]
    }))
    .expect("realm json");
    let built = build(rep, &BuildContext { now_ms: 0 }).expect("build");
    let realm_id = built.image.realm.id.clone();
    let group = |name: &str| {
        built
            .image
            .groups
            .iter()
            .find(|g| g.name == name)
            .map(|g| g.id.clone())
            .expect("group")
    };
    let (everyone, few) = (group("everyone"), group("few"));
    store.create_realm(&built.image, 0).await.expect("realm");

    let t = Instant::now();
    let chunk = 10_000;
    let mut k = 0;
    while k < users {
        let images: Vec<UserImage> = (k..(k + chunk).min(users))
            .map(|i| {
                let (username, email, f, l) = person(i);
                let mut group_ids = vec![everyone.clone()];
                if i % 1000 == 0 {
                    group_ids.push(few.clone());
                }
                UserImage {
                    user: UserRecord {
                        id: uuid::Uuid::new_v4().to_string(),
                        realm_id: realm_id.clone(),
                        username,
                        email: Some(email),
                        first_name: Some(f),
                        last_name: Some(l),
                        enabled: true,
                        email_verified: true,
                        created_timestamp: i as i64,
                        not_before: 0,
                        federation_link: None,
                        service_account_client_id: None,
                    },
                    attributes: Vec::new(),
                    required_actions: Vec::new(),
                    credentials: Vec::new(),
                    group_ids,
                    role_ids: Vec::new(),
                }
            })
            .collect();
        store.add_users(&images).await.expect("add users");
        k += chunk;
    }
    store.analyze().await.expect("analyze");
    eprintln!(
        "{db}: {users} users written in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ users as u64);
    let mut push = |what: &str, r: (Duration, Duration, Duration, usize)| {
        out.push(Row {
            db,
            users,
            what: what.to_string(),
            p50: r.0,
            p99: r.1,
            max: r.2,
            rows: r.3,
        })
    };
    let page = Page { first: 0, max: 100 };
    let s = &store;
    let rid = realm_id.as_str();

    let r = measure(samples, &mut rng, |_| async move {
        s.ping().await.expect("ping");
        0
    })
    .await;
    push("SELECT 1 round trip (floor)", r);

    let r = measure(samples, &mut rng, |pick| async move {
        let (username, ..) = person(pick % users);
        let q = UserQuery {
            any: Some(TextFilter::new(&username[..5], Match::Prefix)),
            ..UserQuery::default()
        };
        s.search_users(rid, &q, page).await.expect("search").len()
    })
    .await;
    push("search=<5-char prefix>, max=100", r);

    let r = measure(samples / 4, &mut rng, |pick| async move {
        let (username, ..) = person(pick % users);
        let q = UserQuery {
            any: Some(TextFilter::new(&username[..3], Match::Prefix)),
            ..UserQuery::default()
        };
        s.search_users(rid, &q, page).await.expect("search").len()
    })
    .await;
    push("search=<3-char prefix>, max=100 (no target)", r);

    for len in [5, 3] {
        let r = measure(samples / 4, &mut rng, |pick| async move {
            let (username, ..) = person(pick % users);
            let q = UserQuery {
                any: Some(TextFilter::new(&username[..len], Match::Prefix)),
                ..UserQuery::default()
            };
            s.count_matching_users(rid, &q).await.expect("count") as usize
        })
        .await;
        push(
            &format!("users/count?search=<{len}-char prefix> (rows = mean matches)"),
            r,
        );
    }

    let r = measure(samples, &mut rng, |pick| async move {
        let (_, email, ..) = person(pick % users);
        let q = UserQuery {
            any: Some(TextFilter::new(email, Match::Prefix)),
            ..UserQuery::default()
        };
        s.search_users(rid, &q, page).await.expect("search").len()
    })
    .await;
    push("search=<whole email>", r);

    let r = measure(samples, &mut rng, |pick| async move {
        let (_, email, ..) = person(pick % users);
        let q = UserQuery {
            email: Some(TextFilter::new(email, Match::Exact)),
            ..UserQuery::default()
        };
        s.search_users(rid, &q, page).await.expect("search").len()
    })
    .await;
    push("email=<address>&exact=true", r);

    let r = measure(samples / 4, &mut rng, |pick| async move {
        let (username, ..) = person(pick % users);
        let dot = username.find('.').unwrap_or(0);
        let q = UserQuery {
            username: Some(TextFilter::new(&username[dot..dot + 4], Match::Infix)),
            ..UserQuery::default()
        };
        s.search_users(rid, &q, page).await.expect("search").len()
    })
    .await;
    push("username=<infix> (no index can serve it)", r);

    let (ev, fw) = (everyone.as_str(), few.as_str());
    let r = measure(samples, &mut rng, |_| async move {
        s.group_members(rid, ev, page).await.expect("members").len()
    })
    .await;
    push("members of everyone, first=0, max=100", r);

    let r = measure(samples / 4, &mut rng, |pick| async move {
        let first = ((pick % users) / 100 * 100) as i64;
        let p = Page { first, max: 100 };
        s.group_members(rid, ev, p).await.expect("members").len()
    })
    .await;
    push(
        "members of everyone, random jump by offset (no cursor), max=100",
        r,
    );

    let r = measure(samples, &mut rng, |pick| async move {
        let (after, ..) = person(pick % users);
        s.group_members_after(rid, ev, &after, 100)
            .await
            .expect("members")
            .len()
    })
    .await;
    push(
        "members of everyone, next page of a walk at a random depth (seek), max=100",
        r,
    );

    let r = measure(samples, &mut rng, |_| async move {
        s.group_members(rid, fw, page).await.expect("members").len()
    })
    .await;
    push("members of few (1 in 1,000), first=0", r);

    let r = measure(samples, &mut rng, |pick| async move {
        let (after, ..) = person(pick % users);
        s.group_members_after(rid, fw, &after, 100)
            .await
            .expect("members")
            .len()
    })
    .await;
    push("members of few, next page of a walk (seek)", r);

    // Bounded memory while listing: walk every member page by page, as the API serves a
    // walk (each page seeks past the previous page's last username).
    let before = peak_rss_kb();
    let t = Instant::now();
    let mut after = String::new();
    let mut seen = 0;
    let mut slowest = Duration::ZERO;
    loop {
        let tp = Instant::now();
        let got = store
            .group_members_after(rid, ev, &after, 500)
            .await
            .expect("members");
        slowest = slowest.max(tp.elapsed());
        seen += got.len();
        match got.last() {
            Some(u) if got.len() == 500 => after = u.user.username.clone(),
            _ => break,
        }
    }
    eprintln!(
        "{db} {users}: walked {seen} members in {:.1} s (pages of 500, slowest page {:.1} ms); \
         peak RSS {} -> {} kB",
        t.elapsed().as_secs_f64(),
        ms(slowest),
        before,
        peak_rss_kb()
    );
    assert_eq!(seen, users, "the walk must see every member once");
    drop(store);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // and then it only checks that the bench works: 2,000 users, a few samples, SQLite.
    let smoke = !std::env::args().any(|a| a == "--bench");
    if smoke {
        let mut rows = Vec::new();
        run("sqlite", 2_000, 20, &mut rows).await;
        for what in [
            "search=<5-char prefix>",
            "search=<whole email>",
            "members of everyone",
        ] {
            assert!(
                rows.iter().any(|r| r.what.starts_with(what) && r.rows > 0),
                "{what} found nothing"
            );
        }
        println!("user_search: smoke run of {} measures passed", rows.len());
        return;
    }
    let sizes: Vec<usize> = std::env::var("BENCH_USERS")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("BENCH_USERS: numbers separated by commas")
        })
        .collect();
    let samples: usize = std::env::var("BENCH_SAMPLES")
        .ok()
        .map(|s| s.parse().expect("BENCH_SAMPLES"))
        .unwrap_or(400);
    let only = std::env::var("BENCH_DB").ok();
    let mut dbs = vec!["sqlite"];
    if std::env::var("PORTCULLIS_TEST_PG_URL").is_ok() {
        dbs.push("postgres");
    } else {
        eprintln!("PORTCULLIS_TEST_PG_URL is not set: SQLite only");
    }
    let mut rows = Vec::new();
    for &db in &dbs {
        if only.as_deref().is_some_and(|o| o != db) {
            continue;
        }
        for &n in &sizes {
            run(db, n, samples, &mut rows).await;
        }
    }
    println!("| database | users | query | p50 (ms) | p99 (ms) | max (ms) | rows |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {} |",
            r.db,
            r.users,
            r.what,
            ms(r.p50),
            ms(r.p99),
            ms(r.max),
            r.rows
        );
    }
}
