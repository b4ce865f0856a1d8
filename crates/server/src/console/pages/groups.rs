//! The group tree: nested outline, create (top level or child), rename, delete after a
//! confirmation page, members (paged).

use super::{PAGE_SIZE, Page, first, pager, required};
use crate::admin::auth::Action;
use crate::console::Admin;
use crate::console::api::{realm_path, seg};
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, Method};
use portcullis_store::GroupNode;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// At most this many groups are drawn in the tree.
pub const MAX_GROUPS: i64 = 5_000;
/// Longest group name accepted.
const MAX_NAME: usize = 255;

fn group_api(realm: &str, id: &str) -> String {
    format!("{}/groups/{}", realm_path(realm), seg(id))
}

/// The outline as nested `{id, name, children}`, children by name. A parent missing from the
/// outline (cut by the limit) makes its children roots; a loop is cut where it closes.
pub fn nest(nodes: &[GroupNode]) -> Vec<Value> {
    let ids: HashSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let mut children: HashMap<Option<&str>, Vec<&GroupNode>> = HashMap::new();
    for n in nodes {
        let parent = n.parent_id.as_deref().filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(n);
    }
    fn build<'a>(
        parent: Option<&'a str>,
        children: &HashMap<Option<&'a str>, Vec<&'a GroupNode>>,
        seen: &mut HashSet<&'a str>,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        for n in children.get(&parent).map(Vec::as_slice).unwrap_or(&[]) {
            if !seen.insert(n.id.as_str()) {
                continue;
            }
            let kids = build(Some(n.id.as_str()), children, seen);
            out.push(json!({"id": n.id, "name": n.name, "children": kids}));
        }
        out
    }
    build(None, &children, &mut HashSet::new())
}

/// Every group's id and full path (`/a/b`), in outline order.
pub fn paths(nodes: &[GroupNode]) -> Vec<(String, String)> {
    fn walk(level: &[Value], prefix: &str, out: &mut Vec<(String, String)>) {
        for g in level {
            let path = format!("{prefix}/{}", g["name"].as_str().unwrap_or(""));
            out.push((g["id"].as_str().unwrap_or("").to_owned(), path.clone()));
            if let Some(kids) = g["children"].as_array() {
                walk(kids, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&nest(nodes), "", &mut out);
    out
}

/// GET `.../groups`: the tree.
pub async fn tree(admin: Admin, Path(realm): Path<String>) -> Page {
    let ctx = admin.authorize(&realm, Action::ListGroups).await?;
    let nodes = admin
        .store()
        .group_outline(&ctx.realm.id, MAX_GROUPS + 1)
        .await
        .map_err(|_| admin.internal())?;
    let truncated = nodes.len() as i64 > MAX_GROUPS;
    let shown = &nodes[..nodes.len().min(MAX_GROUPS as usize)];
    Ok(admin.page(
        "groups.html",
        Some(&realm),
        "groups",
        json!({ "groups": nest(shown), "count": shown.len(), "truncated": truncated }),
    ))
}

/// POST `.../groups`: a top-level group.
pub async fn create(
    admin: Admin,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let p = admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, "/groups");
    let name = match required(&p, "name", "Group name", MAX_NAME) {
        Ok(n) => n,
        Err(m) => return Ok(admin.back_with_error(&m, &back)),
    };
    let outcome = admin
        .write(
            Method::POST,
            &format!("{}/groups", realm_path(&realm)),
            Some(json!({ "name": name })),
        )
        .await?;
    Ok(admin.after(outcome, &format!("Group {name} created."), &back))
}

/// GET `.../groups/{id}`: the group, its sub-groups and members (paged).
pub async fn detail(
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let first = first(&admin, &q)?;
    let group = admin.get(&group_api(&realm, &id)).await?;
    let children = admin
        .get(&format!(
            "{}/children?first=0&max=1000",
            group_api(&realm, &id)
        ))
        .await?;
    let mut members = admin
        .get(&format!(
            "{}/members?first={first}&max={}&briefRepresentation=true",
            group_api(&realm, &id),
            PAGE_SIZE + 1
        ))
        .await?;
    let rows = members
        .as_array_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let has_more = rows.len() as i64 > PAGE_SIZE;
    let rows: Vec<Value> = rows.into_iter().take(PAGE_SIZE as usize).collect();
    Ok(admin.page(
        "group.html",
        Some(&realm),
        "groups",
        json!({ "group": group, "children": children, "members": rows, "pager": pager(first, has_more) }),
    ))
}

/// POST `.../groups/{id}`: rename.
pub async fn rename(
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let p = admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, &format!("/groups/{}", seg(&id)));
    let name = match required(&p, "name", "Group name", MAX_NAME) {
        Ok(n) => n,
        Err(m) => return Ok(admin.back_with_error(&m, &back)),
    };
    let outcome = admin
        .write(
            Method::PUT,
            &group_api(&realm, &id),
            Some(json!({ "name": name })),
        )
        .await?;
    Ok(admin.after(outcome, "Group renamed.", &back))
}

/// POST `.../groups/{id}/children`: a sub-group.
pub async fn add_child(
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let p = admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, &format!("/groups/{}", seg(&id)));
    let name = match required(&p, "name", "Group name", MAX_NAME) {
        Ok(n) => n,
        Err(m) => return Ok(admin.back_with_error(&m, &back)),
    };
    let outcome = admin
        .write(
            Method::POST,
            &format!("{}/children", group_api(&realm, &id)),
            Some(json!({ "name": name })),
        )
        .await?;
    Ok(admin.after(outcome, &format!("Sub-group {name} created."), &back))
}

/// GET `.../groups/{id}/delete`: the confirmation page.
pub async fn confirm_delete(admin: Admin, Path((realm, id)): Path<(String, String)>) -> Page {
    let group = admin.get(&group_api(&realm, &id)).await?;
    Ok(admin.page(
        "group-delete.html",
        Some(&realm),
        "groups",
        json!({ "group": group }),
    ))
}

/// POST `.../groups/{id}/delete`: delete (with its sub-groups), back to the tree.
pub async fn delete(
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    admin.form(&headers, &body)?;
    let outcome = admin
        .write(Method::DELETE, &group_api(&realm, &id), None)
        .await?;
    let back = match &outcome {
        Ok(_) => admin.realm_url(&realm, "/groups"),
        Err(_) => admin.realm_url(&realm, &format!("/groups/{}", seg(&id))),
    };
    Ok(admin.after(outcome, "Group deleted.", &back))
}
