//! Password blacklists for the `passwordBlacklist(file)` policy: plain-text files, one password
//! per line, in `<data-dir>/password-blacklists/` (Keycloak's default folder). A file is read
//! once, on first use, into a set of lower-cased entries (comparison is case-insensitive, as in
//! Keycloak); a change to the file needs a restart. The file name comes from the realm's policy,
//! which refuses anything but a plain name (`portcullis_model::password_policy`), and is checked
//! again here so no policy string can reach outside the folder.
//!
//! Memory: the set holds every entry (about 60 bytes per line): 100,000 common passwords cost
//! about 6 MB. Keycloak keeps a bloom filter instead; exact sets never refuse a good password.

use anyhow::{Context as _, Result, bail};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Lines longer than this are ignored (no real password is that long).
const MAX_LINE: usize = 256;

/// The blacklist folder and the lists read from it so far.
#[derive(Debug)]
pub struct Blacklists {
    dir: PathBuf,
    loaded: Mutex<HashMap<String, Arc<HashSet<Box<str>>>>>,
}

impl Blacklists {
    pub fn new(dir: PathBuf) -> Blacklists {
        Blacklists {
            dir,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `password` is on the list `file` (read on first use).
    pub async fn contains(&self, file: &str, password: &str) -> Result<bool> {
        let list = self.list(file).await?;
        Ok(list.contains(password.to_lowercase().as_str()))
    }

    async fn list(&self, file: &str) -> Result<Arc<HashSet<Box<str>>>> {
        if let Some(l) = self.cached(file) {
            return Ok(l);
        }
        if file.is_empty() || file.contains(['/', '\\']) || file.starts_with('.') {
            bail!("password blacklist name {file:?} is not a plain file name");
        }
        let path = self.dir.join(file);
        let read = path.clone();
        let set = tokio::task::spawn_blocking(move || -> Result<HashSet<Box<str>>> {
            let text = std::fs::read_to_string(&read)
                .with_context(|| format!("cannot read password blacklist {}", read.display()))?;
            Ok(parse(&text))
        })
        .await
        .context("password blacklist reader")??;
        tracing::info!(file = %path.display(), entries = set.len(), "password blacklist loaded");
        let set = Arc::new(set);
        if let Ok(mut m) = self.loaded.lock() {
            m.insert(file.to_owned(), set.clone());
        }
        Ok(set)
    }

    fn cached(&self, file: &str) -> Option<Arc<HashSet<Box<str>>>> {
        self.loaded.lock().ok()?.get(file).cloned()
    }
}

/// One entry per non-empty line, trimmed and lower-cased.
fn parse(text: &str) -> HashSet<Box<str>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && l.len() <= MAX_LINE)
        .map(|l| l.to_lowercase().into_boxed_str())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn lists_are_read_once_and_compared_without_case() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("common.txt"),
            "Password1\n  letmein \n\nqwerty\n",
        )
        .unwrap();
        let b = Blacklists::new(dir.path().to_path_buf());
        assert!(b.contains("common.txt", "password1").await.unwrap());
        assert!(b.contains("common.txt", "LETMEIN").await.unwrap());
        assert!(!b.contains("common.txt", "correct horse").await.unwrap());
        // Read once: removing the file changes nothing until a restart.
        std::fs::remove_file(dir.path().join("common.txt")).unwrap();
        assert!(b.contains("common.txt", "qwerty").await.unwrap());
        assert!(b.contains("missing.txt", "x").await.is_err());
        for bad in ["../common.txt", "a/b", ".hidden", ""] {
            assert!(b.contains(bad, "x").await.is_err(), "{bad}");
        }
    }
}
