//! Realm roles with their composites drawn as a hierarchy (expanded, cycles cut and marked).

use super::Page;
use crate::admin::auth::Action;
use crate::console::Admin;
use axum::extract::Path;
use portcullis_store::RoleNode;
use serde_json::{Value, json};
use std::collections::HashMap;

/// At most this many nodes are drawn under one role (a wide diamond-shaped graph repeats
/// shared members; this bounds the page).
const MAX_NODES: usize = 2_000;

/// How a role is named on the page: `name`, or `client › name` for a client role.
fn label(r: &RoleNode) -> String {
    match &r.client {
        Some(c) => format!("{c} › {}", r.name),
        None => r.name.clone(),
    }
}

/// The composite tree under `root`: nested `{label, client, children, cycle}`. A member that
/// is already on the path from the root closes a cycle: it is shown once, marked, and not
/// expanded. A role's members are ordered by label.
pub fn hierarchy(roles: &[RoleNode], edges: &[(String, String)], root: &str) -> Vec<Value> {
    let by_id: HashMap<&str, &RoleNode> = roles.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut members: HashMap<&str, Vec<&RoleNode>> = HashMap::new();
    for (p, c) in edges {
        if let Some(child) = by_id.get(c.as_str()) {
            members.entry(p.as_str()).or_default().push(child);
        }
    }
    for list in members.values_mut() {
        list.sort_by_key(|r| (r.client.is_some(), label(r)));
    }
    fn walk<'a>(
        id: &'a str,
        members: &HashMap<&'a str, Vec<&'a RoleNode>>,
        path: &mut Vec<&'a str>,
        budget: &mut usize,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        for m in members.get(id).map(Vec::as_slice).unwrap_or(&[]) {
            if *budget == 0 {
                out.push(json!({"label": "…", "truncated": true}));
                break;
            }
            *budget -= 1;
            if path.contains(&m.id.as_str()) {
                out.push(json!({"label": label(m), "client": m.client, "cycle": true}));
                continue;
            }
            path.push(m.id.as_str());
            let children = walk(m.id.as_str(), members, path, budget);
            path.pop();
            out.push(json!({"label": label(m), "client": m.client, "children": children}));
        }
        out
    }
    let mut budget = MAX_NODES;
    walk(root, &members, &mut vec![root], &mut budget)
}

/// GET `.../roles`.
pub async fn list(admin: Admin, Path(realm): Path<String>) -> Page {
    let ctx = admin.authorize(&realm, Action::ViewRoles).await?;
    let (roles, edges) = admin
        .store()
        .role_outline(&ctx.realm.id)
        .await
        .map_err(|_| admin.internal())?;
    let rows: Vec<Value> = roles
        .iter()
        .filter(|r| r.client.is_none())
        .map(|r| {
            let tree = hierarchy(&roles, &edges, &r.id);
            json!({
                "name": r.name,
                "description": r.description,
                "composite": !tree.is_empty(),
                "tree": tree,
            })
        })
        .collect();
    Ok(admin.page(
        "roles.html",
        Some(&realm),
        "roles",
        json!({ "roles": rows }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, client: Option<&str>) -> RoleNode {
        RoleNode {
            id: id.into(),
            name: id.into(),
            client: client.map(str::to_owned),
            description: None,
        }
    }

    fn e(p: &str, c: &str) -> (String, String) {
        (p.into(), c.into())
    }

    #[test]
    fn nested_composites_are_expanded() {
        let roles = [
            role("admin", None),
            role("editor", None),
            role("viewer", None),
            role("manage", Some("app")),
        ];
        let edges = [
            e("admin", "editor"),
            e("admin", "manage"),
            e("editor", "viewer"),
        ];
        let t = hierarchy(&roles, &edges, "admin");
        assert_eq!(t[0]["label"], "editor");
        assert_eq!(t[0]["children"][0]["label"], "viewer");
        assert_eq!(t[1]["label"], "app › manage");
        assert!(hierarchy(&roles, &edges, "viewer").is_empty());
    }

    #[test]
    fn cycles_are_cut_and_marked() {
        let roles = [role("a", None), role("b", None)];
        let edges = [e("a", "b"), e("b", "a"), e("a", "a")];
        let t = hierarchy(&roles, &edges, "a");
        // a → a closes at once; a → b → a closes one level down.
        let labels: Vec<&str> = t.iter().map(|n| n["label"].as_str().unwrap()).collect();
        assert_eq!(labels, ["a", "b"]);
        assert_eq!(t[0]["cycle"], true);
        assert_eq!(t[1]["children"][0]["label"], "a");
        assert_eq!(t[1]["children"][0]["cycle"], true);
    }

    #[test]
    fn a_wide_graph_is_bounded() {
        // 12 levels of 2 members each, all shared: 2^12 paths, cut at MAX_NODES.
        let roles: Vec<RoleNode> = (0..=24).map(|i| role(&format!("r{i}"), None)).collect();
        let mut edges = Vec::new();
        for level in 0..12 {
            for from in [2 * level, 2 * level + 1] {
                for to in [2 * level + 2, 2 * level + 3] {
                    edges.push(e(&format!("r{from}"), &format!("r{to}")));
                }
            }
        }
        fn count(v: &[Value]) -> usize {
            v.iter()
                .map(|n| 1 + n["children"].as_array().map_or(0, |c| count(c)))
                .sum()
        }
        let t = hierarchy(&roles, &edges, "r0");
        assert!(count(&t) <= MAX_NODES + 16);
    }
}
