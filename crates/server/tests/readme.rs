//! The README's configuration table is the option table in the code, row for row.
//! `PORTCULLIS_BLESS=1 cargo test -p portcullis-server --test readme` rewrites it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

const BEGIN: &str = "<!-- options:begin (generated from crates/server/src/config/options.rs) -->\n";
const END: &str = "<!-- options:end -->";

#[test]
fn readme_configuration_table_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let start = readme.find(BEGIN).expect("README has the options markers") + BEGIN.len();
    let end = readme[start..]
        .find(END)
        .expect("README has the end marker")
        + start;
    let table = portcullis_server::config::markdown_table();
    if std::env::var("PORTCULLIS_BLESS").is_ok() {
        let updated = format!("{}{}{}", &readme[..start], table, &readme[end..]);
        std::fs::write(&path, updated).expect("write README.md");
        return;
    }
    assert_eq!(
        &readme[start..end],
        table,
        "README.md's configuration table is out of date: run PORTCULLIS_BLESS=1 cargo test -p portcullis-server --test readme"
    );
}
