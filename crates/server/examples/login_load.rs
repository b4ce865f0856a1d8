//! Load driver for `bench/load`: the authorization-code flow through the login form, with
//! concurrent virtual users, and the argon2 floor that bounds it.
//!
//! ```text
//! login_load flow --base http://127.0.0.1:8080/auth --realm bench --client bench-web \
//!     --secret S --username U --password P --redirect-uri http://127.0.0.1:9/cb \
//!     --concurrency 8 --warmup 2 --seconds 10
//! login_load argon2 --seconds 5
//! ```
//!
//! `flow`: each virtual user loops until the time is up; one iteration is, with a fresh cookie
//! jar: GET the authorization endpoint (200, the login page), POST the login form to its
//! `action` with every hidden field plus `username` and `password` (302 to the redirect URI
//! with `code` and the same `state`), POST the code to the token endpoint with HTTP Basic
//! client authentication (200 with an `access_token`). Anything else is an error, counted and
//! sampled. Prints one JSON object on stdout: iterations/s, requests/s, p50/p99 of the
//! iteration and of each step, error count and samples.
//!
//! `argon2`: verifies a password against a hash made with the default hash policy (argon2id,
//! Keycloak's parameters: 7168 KiB, 5 iterations, parallelism 1, 32 bytes) on this thread for
//! the given time, with the server's own code, and prints the rate. Pin it with `taskset`.
//!
//! Cookies are kept by hand (name → value, dropped on `Max-Age=0`): every cookie of the flow
//! lives under the realm path, and reqwest's cookie store would withhold `Secure` cookies on
//! plain-HTTP loopback, which Keycloak sets and browsers send to localhost.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use portcullis_model::password::{HashPolicy, hash_password};
use serde_json::{Value, json};

struct Args {
    mode: String,
    base: String,
    realm: String,
    client: String,
    secret: String,
    username: String,
    password: String,
    redirect_uri: String,
    concurrency: usize,
    warmup: f64,
    seconds: f64,
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let mode = it.next().unwrap_or_default();
    let mut a = Args {
        mode,
        base: "http://127.0.0.1:8080/auth".into(),
        realm: "bench".into(),
        client: "bench-web".into(),
        secret: "bench-web-secret".into(),
        username: "loaduser".into(),
        password: "load-password-1".into(),
        redirect_uri: "http://127.0.0.1:9/cb".into(),
        concurrency: 8,
        warmup: 2.0,
        seconds: 10.0,
    };
    while let Some(flag) = it.next() {
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => (
                flag.clone(),
                it.next()
                    .unwrap_or_else(|| usage(&format!("{flag} needs a value"))),
            ),
        };
        match name.as_str() {
            "--base" => a.base = value.trim_end_matches('/').to_string(),
            "--realm" => a.realm = value,
            "--client" => a.client = value,
            "--secret" => a.secret = value,
            "--username" => a.username = value,
            "--password" => a.password = value,
            "--redirect-uri" => a.redirect_uri = value,
            "--concurrency" => {
                a.concurrency = value.parse().unwrap_or_else(|_| usage("bad --concurrency"))
            }
            "--warmup" => a.warmup = value.parse().unwrap_or_else(|_| usage("bad --warmup")),
            "--seconds" => a.seconds = value.parse().unwrap_or_else(|_| usage("bad --seconds")),
            other => usage(&format!("unknown option {other}")),
        }
    }
    if a.seconds <= 0.0 || a.seconds > 600.0 || a.warmup < 0.0 || a.warmup > 60.0 {
        usage("--seconds must be in (0, 600] and --warmup in [0, 60]");
    }
    if a.concurrency == 0 || a.concurrency > 1024 {
        usage("--concurrency must be 1..=1024");
    }
    a
}

fn usage(msg: &str) -> ! {
    eprintln!("login_load: {msg}");
    eprintln!(
        "usage: login_load flow [--base URL] [--realm R] [--client ID] [--secret S] [--username U]"
    );
    eprintln!(
        "                       [--password P] [--redirect-uri URI] [--concurrency N] [--warmup S] [--seconds S]"
    );
    eprintln!("       login_load argon2 [--seconds S]");
    std::process::exit(2);
}

fn main() {
    let args = parse_args();
    match args.mode.as_str() {
        "flow" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            let out = rt.block_on(flow(args));
            println!("{out}");
        }
        "argon2" => println!("{}", argon2_rate(&args)),
        _ => usage("mode must be `flow` or `argon2`"),
    }
}

// --- argon2 floor -----------------------------------------------------------------------------

fn argon2_rate(args: &Args) -> Value {
    let policy = HashPolicy::default();
    let hash = hash_password(&args.password, &policy).expect("hash");
    let params = hash.argon2_params().expect("argon2 parameters");
    assert!(hash.verify(&args.password), "verify of a fresh hash failed");
    // Warm-up: one second (page faults of the 7 MiB block, frequency).
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_secs(1) {
        std::hint::black_box(hash.verify(std::hint::black_box(&args.password)));
    }
    let t0 = Instant::now();
    let mut n = 0u64;
    while t0.elapsed().as_secs_f64() < args.seconds {
        assert!(hash.verify(std::hint::black_box(&args.password)));
        n += 1;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    json!({
        "verifies": n,
        "seconds": elapsed,
        "per_s": n as f64 / elapsed,
        "ms_each": elapsed * 1000.0 / n as f64,
        "algorithm": format!("{:?}", hash.algorithm()),
        "iterations": hash.iterations(),
        "params": format!("{params:?}"),
    })
}

// --- the code flow ----------------------------------------------------------------------------

#[derive(Default)]
struct Tally {
    iterations: Vec<u32>, // µs per successful iteration
    auth: Vec<u32>,
    login: Vec<u32>,
    token: Vec<u32>,
    requests: u64,
    errors: u64,
    samples: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.iterations.extend(other.iterations);
        self.auth.extend(other.auth);
        self.login.extend(other.login);
        self.token.extend(other.token);
        self.requests += other.requests;
        self.errors += other.errors;
        for s in other.samples {
            if self.samples.len() < 10 {
                self.samples.push(s);
            }
        }
    }

    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.samples.len() < 10 {
            self.samples.push(what);
        }
    }
}

struct Flow {
    http: reqwest::Client,
    auth_url: String,
    token_url: String,
    client: String,
    secret: String,
    username: String,
    password: String,
    redirect_uri: String,
}

async fn flow(args: Args) -> Value {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .expect("http client");
    let oidc = format!(
        "{}/realms/{}/protocol/openid-connect",
        args.base, args.realm
    );
    let f = std::sync::Arc::new(Flow {
        http,
        auth_url: format!("{oidc}/auth"),
        token_url: format!("{oidc}/token"),
        client: args.client.clone(),
        secret: args.secret.clone(),
        username: args.username.clone(),
        password: args.password.clone(),
        redirect_uri: args.redirect_uri.clone(),
    });
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let end = measure_from + Duration::from_secs_f64(args.seconds);
    let mut tasks = Vec::new();
    for vu in 0..args.concurrency {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut i = 0u64;
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let measured = now >= measure_from;
                let mut t = Tally::default();
                let state = format!("s{vu}x{i}");
                i += 1;
                one_iteration(&f, &state, &mut t).await;
                // An iteration counts in the window it started in and must finish by the end.
                if measured && Instant::now() <= end + Duration::from_secs(5) {
                    tally.merge(t);
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for t in tasks {
        total.merge(t.await.expect("virtual user"));
    }
    let ok = total.iterations.len() as f64;
    json!({
        "concurrency": args.concurrency,
        "warmup_s": args.warmup,
        "seconds": args.seconds,
        "iterations": total.iterations.len(),
        "iterations_per_s": ok / args.seconds,
        "requests": total.requests,
        "requests_per_s": total.requests as f64 / args.seconds,
        "errors": total.errors,
        "error_samples": total.samples,
        "latency_ms": {
            "iteration": pct(&mut total.iterations),
            "authorize_get": pct(&mut total.auth),
            "login_post": pct(&mut total.login),
            "token_post": pct(&mut total.token),
        },
    })
}

fn pct(xs: &mut [u32]) -> Value {
    if xs.is_empty() {
        return Value::Null;
    }
    xs.sort_unstable();
    let at = |p: f64| {
        let i = ((p / 100.0) * xs.len() as f64).ceil() as usize;
        f64::from(xs[i.clamp(1, xs.len()) - 1]) / 1000.0
    };
    json!({ "p50": at(50.0), "p99": at(99.0), "max": at(100.0) })
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

async fn one_iteration(f: &Flow, state: &str, t: &mut Tally) {
    let mut jar: BTreeMap<String, String> = BTreeMap::new();
    let t0 = Instant::now();

    // 1. The authorization endpoint: the login page.
    let url = match reqwest::Url::parse_with_params(
        &f.auth_url,
        &[
            ("response_type", "code"),
            ("client_id", f.client.as_str()),
            ("redirect_uri", f.redirect_uri.as_str()),
            ("scope", "openid"),
            ("state", state),
        ],
    ) {
        Ok(u) => u,
        Err(e) => return t.error(format!("authorization URL: {e}")),
    };
    t.requests += 1;
    let resp = match f.http.get(url.clone()).send().await {
        Ok(r) => r,
        Err(e) => return t.error(format!("GET auth: {e}")),
    };
    let status = resp.status();
    keep_cookies(&mut jar, resp.headers());
    let page = resp.text().await.unwrap_or_default();
    let t1 = Instant::now();
    if status != reqwest::StatusCode::OK {
        return t.error(format!("GET auth: {status}: {}", snippet(&page)));
    }
    let Some((action, mut fields)) = login_form(&page) else {
        return t.error(format!(
            "GET auth: no kc-form-login form in {}",
            snippet(&page)
        ));
    };
    let action = match url.join(&action) {
        Ok(u) => u,
        Err(e) => return t.error(format!("form action {action:?}: {e}")),
    };
    fields.push(("username".into(), f.username.clone()));
    fields.push(("password".into(), f.password.clone()));

    // 2. The login form: a redirect to the client with the code.
    t.requests += 1;
    let resp = match f
        .http
        .post(action)
        .header("cookie", cookie_header(&jar))
        .form(&fields)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return t.error(format!("POST login: {e}")),
    };
    let status = resp.status();
    keep_cookies(&mut jar, resp.headers());
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.text().await.unwrap_or_default();
    let t2 = Instant::now();
    let Some(location) = location.filter(|_| status == reqwest::StatusCode::FOUND) else {
        return t.error(format!("POST login: {status}: {}", snippet(&body)));
    };
    let Ok(back) = reqwest::Url::parse(&location) else {
        return t.error(format!("POST login: bad Location {location:?}"));
    };
    if !location.starts_with(&f.redirect_uri) {
        return t.error(format!(
            "POST login: Location {location:?} is not the redirect URI"
        ));
    }
    let q: BTreeMap<_, _> = back.query_pairs().into_owned().collect();
    if q.get("state").map(String::as_str) != Some(state) {
        return t.error(format!("POST login: state not echoed in {location:?}"));
    }
    let Some(code) = q.get("code") else {
        return t.error(format!("POST login: no code in {location:?}"));
    };

    // 3. The token endpoint.
    t.requests += 1;
    let resp = match f
        .http
        .post(&f.token_url)
        .basic_auth(&f.client, Some(&f.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", f.redirect_uri.as_str()),
        ])
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return t.error(format!("POST token: {e}")),
    };
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    let t3 = Instant::now();
    if status != reqwest::StatusCode::OK {
        return t.error(format!("POST token: {status}: {}", snippet(&body)));
    }
    let token: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if !token["access_token"].is_string() || !token["id_token"].is_string() {
        return t.error(format!(
            "POST token: no access_token/id_token in {}",
            snippet(&body)
        ));
    }
    t.iterations.push(micros(t3 - t0));
    t.auth.push(micros(t1 - t0));
    t.login.push(micros(t2 - t1));
    t.token.push(micros(t3 - t2));
}

fn snippet(s: &str) -> String {
    let s: String = s.chars().take(200).collect();
    s.replace('\n', " ")
}

fn keep_cookies(jar: &mut BTreeMap<String, String>, headers: &reqwest::header::HeaderMap) {
    for v in headers.get_all("set-cookie") {
        let Ok(v) = v.to_str() else { continue };
        let mut parts = v.split(';');
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
            continue;
        };
        let expired = parts.any(|a| {
            let a = a.trim().to_ascii_lowercase();
            a == "max-age=0" || a.starts_with("max-age=-")
        });
        if expired || value.is_empty() {
            jar.remove(name.trim());
        } else {
            jar.insert(name.trim().to_string(), value.trim().to_string());
        }
    }
}

fn cookie_header(jar: &BTreeMap<String, String>) -> String {
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `kc-form-login` form: its action and its hidden fields, HTML entities decoded.
fn login_form(page: &str) -> Option<(String, Vec<(String, String)>)> {
    let at = page.find("id=\"kc-form-login\"")?;
    let open = page[..at].rfind("<form")?;
    let close = page[open..]
        .find("</form>")
        .map_or(page.len(), |i| open + i);
    let form = &page[open..close];
    let tag_end = form.find('>')?;
    let action = attr(&form[..tag_end], "action")?;
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        let tail = &rest[i..];
        let end = tail.find('>').unwrap_or(tail.len());
        let tag = &tail[..end];
        if attr(tag, "type").as_deref() == Some("hidden")
            && let Some(name) = attr(tag, "name")
        {
            fields.push((name, attr(tag, "value").unwrap_or_default()));
        }
        rest = &tail[end..];
    }
    Some((action, fields))
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = tag[from..].find(name) {
        let i = from + i;
        from = i + name.len();
        let before_ok = i == 0 || tag.as_bytes()[i - 1].is_ascii_whitespace();
        let rest = &tag[from..];
        if before_ok && rest.starts_with("=\"") {
            let v = &rest[2..];
            return v.find('"').map(|j| unescape(&v[..j]));
        }
        if before_ok && rest.starts_with("='") {
            let v = &rest[2..];
            return v.find('\'').map(|j| unescape(&v[..j]));
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..end];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
