//! Test support: run the real `portcullis` binary in a private working folder.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // tests may panic on failure

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// A private working folder (the binary's cwd) with the example realm copied in.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Workdir { dir }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }
    pub fn example_realm() -> String {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/import/myrealm-realm.json");
        std::fs::read_to_string(path).expect("example realm")
    }
    /// Run a command to completion.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run portcullis")
    }
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A running server process; stopped with SIGTERM when dropped.
pub struct Server {
    pub child: Child,
    pub http: String,
    pub management: Option<String>,
    pub log: mpsc::Receiver<String>,
    pub lines: Vec<String>,
}

impl Server {
    /// Start `portcullis args...` in `dir` and wait until it reports it started.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Server, String> {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .args([
                "--http-port=0",
                "--http-management-port=0",
                "--http-host=127.0.0.1",
                "--http-management-host=127.0.0.1",
                "--log-console-output=json",
            ])
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut lines = Vec::new();
        let mut http = None;
        let mut management = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(i) = line.find("Listening on: http://") {
                        let rest = &line[i + "Listening on: ".len()..];
                        let end = rest.find(['"', ' ']).unwrap_or(rest.len());
                        http = Some(rest[..end].trim_end_matches('.').to_string());
                        if let Some(j) = rest.find("Management interface listening on ") {
                            let m = &rest[j + "Management interface listening on ".len()..];
                            let end = m.find(['"', ' ']).unwrap_or(m.len());
                            management = Some(m[..end].trim_end_matches('.').to_string());
                        }
                    }
                    let done = line.contains("Portcullis started in");
                    lines.push(line);
                    if done {
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    while let Ok(l) = rx.try_recv() {
                        lines.push(l);
                    }
                    return Err(format!(
                        "server did not start ({status:?}):\n{}",
                        lines.join("\n")
                    ));
                }
            }
        }
        let http = http.ok_or_else(|| format!("no listening line:\n{}", lines.join("\n")))?;
        Ok(Server {
            child,
            http,
            management,
            log: rx,
            lines,
        })
    }

    /// The address without the relative path: `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        origin_of(&self.http)
    }
    pub fn management_origin(&self) -> String {
        origin_of(self.management.as_deref().unwrap_or(""))
    }

    pub fn all_log(&mut self) -> String {
        while let Ok(l) = self.log.try_recv() {
            self.lines.push(l);
        }
        self.lines.join("\n")
    }

    /// SIGTERM and wait; returns the exit status success.
    pub fn stop(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        false
    }
}

fn origin_of(url: &str) -> String {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after..].find('/') {
        Some(j) => url[..after + j].to_string(),
        None => url.to_string(),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

pub fn pg_url() -> String {
    std::env::var("PORTCULLIS_TEST_PG_URL")
        .expect("PORTCULLIS_TEST_PG_URL is not set: run the suite with scripts/test, which starts PostgreSQL for it")
}

/// A JDBC URL for the test PostgreSQL with a fresh schema (as the platform writes KC_DB_URL).
pub fn pg_jdbc_with_fresh_schema() -> (String, String) {
    let url = pg_url();
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let rest = url.trim_start_matches("postgres://");
    let hostpart = rest.split_once('@').map(|(_, h)| h).unwrap_or(rest);
    (
        format!("jdbc:postgresql://{hostpart}?currentSchema={schema}"),
        schema,
    )
}

/// A form of an HTML page by its `id`: its `action` and its hidden fields (entities decoded).
#[allow(dead_code)]
pub fn html_form(page: &str, id: &str) -> Option<(String, Vec<(String, String)>)> {
    let at = page.find(&format!("id=\"{id}\""))?;
    let open = page[..at].rfind("<form")?;
    let close = page[open..]
        .find("</form>")
        .map_or(page.len(), |i| open + i);
    let form = &page[open..close];
    let tag_end = form.find('>')?;
    let action = html_attr(&form[..tag_end], "action")?;
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        let tail = &rest[i..];
        let end = tail.find('>').unwrap_or(tail.len());
        let tag = &tail[..end];
        if html_attr(tag, "type").as_deref() == Some("hidden")
            && let Some(name) = html_attr(tag, "name")
        {
            fields.push((name, html_attr(tag, "value").unwrap_or_default()));
        }
        rest = &tail[end..];
    }
    Some((action, fields))
}

/// A double-quoted attribute of a tag, with `&amp;`, `&quot;`, `&#39;`, `&lt;`, `&gt;` decoded.
#[allow(dead_code)]
pub fn html_attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let i = tag.find(&needle)? + needle.len();
    let v = &tag[i..];
    let j = v.find('"')?;
    Some(html_unescape(&v[..j]))
}

/// Decodes the named entities templates write and numeric ones (`&#x2f;`, `&#39;`).
#[allow(dead_code)]
pub fn html_unescape(s: &str) -> String {
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
