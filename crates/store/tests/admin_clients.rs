//! The storage methods of `src/admin_clients.rs` (protocol mappers, client scopes and links,
//! realm settings, realm creation linked to master, admin events), every test on SQLite and
//! on PostgreSQL.
//!
//! PostgreSQL comes from `PORTCULLIS_TEST_PG_URL`; each test gets a fresh schema there and a
//! fresh SQLite file here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use portcullis_model::import::{BuildContext, build, master_link};
use portcullis_model::records::*;
use portcullis_model::repr::*;
use portcullis_store::{
    AdminEventQuery, AdminEventRecord, ConnectOptions, DbTarget, MapperOwner, NameTaken, Page,
    ScopeRemoval, Store,
};
use std::collections::BTreeMap;

struct Db {
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&ConnectOptions::new(DbTarget::SqliteFile(
        dir.path().join("data/portcullis.db"),
    )))
    .await
    .expect("sqlite connect");
    Db {
        store,
        _dir: Some(dir),
    }
}

async fn postgres() -> Db {
    let url = std::env::var("PORTCULLIS_TEST_PG_URL").expect(
        "PORTCULLIS_TEST_PG_URL is not set: run the suite with scripts/test, which starts PostgreSQL for it",
    );
    let store = Store::connect(&ConnectOptions::new(DbTarget::Postgres {
        url,
        username: None,
        password: None,
        schema: Some(format!("t_{}", uuid::Uuid::new_v4().simple())),
    }))
    .await
    .expect("postgres connect");
    Db { store, _dir: None }
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::sqlite().await.store).await }) *
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::postgres().await.store).await }) *
        }
    };
}

suite!(
    mappers_crud_and_name_conflicts,
    client_with_mappers_is_all_or_nothing,
    client_scopes_crud_and_links,
    realm_settings_and_linked_creation,
    admin_events_filters_pages_and_purge,
);

fn realm_rep(name: &str) -> RealmRepresentation {
    serde_json::from_value(serde_json::json!({
        "realm": name,
        "enabled": true,
        "clients": [{"clientId": "app", "secret": "s"}],
        "clientScopes": [{"name": "extra", "protocol": "openid-connect"}],
        "users": [{"username": "alice", "enabled": true}]
    }))
    .expect("realm")
}

async fn setup(store: &Store) -> RealmRecord {
    let image = build(realm_rep("acme"), &BuildContext { now_ms: 1 })
        .expect("valid realm")
        .image;
    store.create_realm(&image, 1).await.unwrap();
    store.get_realm("acme").await.unwrap().unwrap()
}

fn mapper(id: &str, owner: &str, name: &str) -> ProtocolMapperRecord {
    ProtocolMapperRecord {
        id: id.into(),
        owner_id: owner.into(),
        name: name.into(),
        protocol: "openid-connect".into(),
        mapper_type: "oidc-hardcoded-claim-mapper".into(),
        config: BTreeMap::from([("claim.name".to_string(), name.to_string())]),
    }
}

async fn app(store: &Store, realm: &RealmRecord) -> ClientRecord {
    store
        .client_by_client_id(&realm.id, "app")
        .await
        .unwrap()
        .unwrap()
}

async fn mappers_crud_and_name_conflicts(store: Store) {
    let realm = setup(&store).await;
    let client = app(&store, &realm).await;
    let owner = MapperOwner::Client(&client.id);
    assert!(store.owner_mappers(owner).await.unwrap().is_empty());
    store
        .add_mappers(
            &realm.id,
            owner,
            &[mapper("m1", &client.id, "b"), mapper("m2", &client.id, "a")],
        )
        .await
        .unwrap()
        .unwrap();
    let names: Vec<String> = store
        .owner_mappers(owner)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, vec!["a", "b"]);
    // A taken name, or one used twice in the batch: nothing is added.
    assert_eq!(
        store
            .add_mappers(
                &realm.id,
                owner,
                &[mapper("m3", &client.id, "c"), mapper("m4", &client.id, "a")]
            )
            .await
            .unwrap(),
        Err(NameTaken)
    );
    assert_eq!(
        store
            .add_mappers(
                &realm.id,
                owner,
                &[mapper("m3", &client.id, "c"), mapper("m4", &client.id, "c")]
            )
            .await
            .unwrap(),
        Err(NameTaken)
    );
    assert_eq!(store.owner_mappers(owner).await.unwrap().len(), 2);
    assert!(store.owner_mapper(owner, "m3").await.unwrap().is_none());

    let mut m = store.owner_mapper(owner, "m1").await.unwrap().unwrap();
    m.config.insert("claim.value".into(), "v".into());
    assert_eq!(store.update_mapper(owner, &m).await.unwrap(), Ok(true));
    assert_eq!(
        store
            .owner_mapper(owner, "m1")
            .await
            .unwrap()
            .unwrap()
            .config["claim.value"],
        "v"
    );
    m.name = "a".into();
    assert_eq!(
        store.update_mapper(owner, &m).await.unwrap(),
        Err(NameTaken)
    );
    let ghost = mapper("nope", &client.id, "z");
    assert_eq!(store.update_mapper(owner, &ghost).await.unwrap(), Ok(false));
    // The token path sees the same mappers.
    assert_eq!(
        store
            .mappers_of(std::slice::from_ref(&client.id))
            .await
            .unwrap()
            .len(),
        2
    );
    // Another owner is another namespace; the wrong owner finds nothing.
    let scope = store
        .realm_client_scopes(&realm.id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name == "extra")
        .unwrap();
    let sowner = MapperOwner::Scope(&scope.id);
    store
        .add_mappers(&realm.id, sowner, &[mapper("s1", &scope.id, "a")])
        .await
        .unwrap()
        .unwrap();
    assert!(store.owner_mapper(sowner, "m1").await.unwrap().is_none());
    assert!(!store.delete_mapper(sowner, "m1").await.unwrap());
    assert!(store.delete_mapper(owner, "m1").await.unwrap());
    assert!(!store.delete_mapper(owner, "m1").await.unwrap());
    assert_eq!(store.owner_mappers(owner).await.unwrap().len(), 1);
}

async fn client_with_mappers_is_all_or_nothing(store: Store) {
    let realm = setup(&store).await;
    let client = ClientRecord {
        id: "c-new".into(),
        realm_id: realm.id.clone(),
        client_id: "new".into(),
        secret: None,
        repr: ClientRepresentation::default(),
    };
    let bad = [mapper("x1", "c-new", "same"), mapper("x2", "c-new", "same")];
    assert!(
        store
            .create_client_with_mappers(&client, &[], None, &bad)
            .await
            .is_err()
    );
    assert!(
        store
            .client_by_client_id(&realm.id, "new")
            .await
            .unwrap()
            .is_none()
    );
    store
        .create_client_with_mappers(&client, &[], None, &[mapper("x1", "c-new", "one")])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .owner_mappers(MapperOwner::Client("c-new"))
            .await
            .unwrap()
            .len(),
        1
    );
    let again = ClientRecord {
        id: "c-other".into(),
        ..client.clone()
    };
    assert_eq!(
        store
            .create_client_with_mappers(&again, &[], None, &[])
            .await
            .unwrap(),
        Err(NameTaken)
    );
}

async fn client_scopes_crud_and_links(store: Store) {
    let realm = setup(&store).await;
    let client = app(&store, &realm).await;
    let scope = ClientScopeRecord {
        id: "sc1".into(),
        realm_id: realm.id.clone(),
        name: "reports".into(),
        repr: ClientScopeRepresentation {
            protocol: Some("openid-connect".into()),
            ..Default::default()
        },
    };
    store
        .create_client_scope(&scope, &[mapper("sm", "sc1", "claim")])
        .await
        .unwrap()
        .unwrap();
    let dup = ClientScopeRecord {
        id: "sc2".into(),
        ..scope.clone()
    };
    assert_eq!(
        store.create_client_scope(&dup, &[]).await.unwrap(),
        Err(NameTaken)
    );
    assert!(
        store
            .client_scope(&realm.id, "sc2")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .client_scope(&realm.id, "sc1")
            .await
            .unwrap()
            .unwrap()
            .name,
        "reports"
    );
    assert!(
        store
            .client_scope("other-realm", "sc1")
            .await
            .unwrap()
            .is_none()
    );

    let mut renamed = scope.clone();
    renamed.name = "extra".into();
    assert_eq!(
        store.update_client_scope(&renamed).await.unwrap(),
        Err(NameTaken)
    );
    renamed.name = "reporting".into();
    assert_eq!(store.update_client_scope(&renamed).await.unwrap(), Ok(true));
    let ghost = ClientScopeRecord {
        id: "nope".into(),
        name: "n".into(),
        ..scope.clone()
    };
    assert_eq!(store.update_client_scope(&ghost).await.unwrap(), Ok(false));

    // Client links: added once, removed by kind.
    store
        .link_client_scope(&client.id, "sc1", false)
        .await
        .unwrap();
    store
        .link_client_scope(&client.id, "sc1", true)
        .await
        .unwrap();
    let linked = store.client_scopes_of(&client.id).await.unwrap();
    let l = linked.iter().find(|(s, _)| s.id == "sc1").unwrap();
    assert!(!l.1, "an existing link is kept");
    assert!(
        !store
            .unlink_client_scope(&client.id, "sc1", true)
            .await
            .unwrap()
    );
    assert!(
        store
            .unlink_client_scope(&client.id, "sc1", false)
            .await
            .unwrap()
    );
    // Realm lists: a scope moves between them.
    store
        .set_realm_default_scope(&realm.id, "sc1", true)
        .await
        .unwrap();
    store
        .set_realm_default_scope(&realm.id, "sc1", false)
        .await
        .unwrap();
    let d = store.realm_default_scopes(&realm.id).await.unwrap();
    assert_eq!(
        d.iter()
            .filter(|(s, _)| s.id == "sc1")
            .map(|(_, f)| *f)
            .collect::<Vec<_>>(),
        vec![false]
    );
    assert!(
        !store
            .remove_realm_default_scope(&realm.id, "sc1", true)
            .await
            .unwrap()
    );
    assert!(
        store
            .remove_realm_default_scope(&realm.id, "sc1", false)
            .await
            .unwrap()
    );
    // A scope a client uses stays; otherwise delete cascades to mappers and realm lists.
    store
        .link_client_scope(&client.id, "sc1", true)
        .await
        .unwrap();
    store
        .set_realm_default_scope(&realm.id, "sc1", true)
        .await
        .unwrap();
    let removal = store.delete_client_scope(&realm.id, "sc1").await.unwrap();
    assert_eq!(removal, ScopeRemoval::InUse);
    assert!(
        store
            .client_scope(&realm.id, "sc1")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .unlink_client_scope(&client.id, "sc1", true)
            .await
            .unwrap()
    );
    let removal = store.delete_client_scope(&realm.id, "sc1").await.unwrap();
    assert_eq!(removal, ScopeRemoval::Removed);
    let removal = store.delete_client_scope(&realm.id, "sc1").await.unwrap();
    assert_eq!(removal, ScopeRemoval::NotFound);
    assert!(
        store
            .client_scopes_of(&client.id)
            .await
            .unwrap()
            .iter()
            .all(|(s, _)| s.id != "sc1")
    );
    assert!(
        store
            .realm_default_scopes(&realm.id)
            .await
            .unwrap()
            .iter()
            .all(|(s, _)| s.id != "sc1")
    );
    assert!(
        store
            .owner_mappers(MapperOwner::Scope("sc1"))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn realm_settings_and_linked_creation(store: Store) {
    let master_image = build(
        serde_json::from_value(serde_json::json!({"realm": "master", "enabled": true})).unwrap(),
        &BuildContext { now_ms: 1 },
    )
    .unwrap()
    .image;
    store.create_realm(&master_image, 1).await.unwrap();
    let master = store.get_realm("master").await.unwrap().unwrap();
    let admin = store
        .realm_role(&master.id, "admin")
        .await
        .unwrap()
        .unwrap();
    let creator = store.find_user_by_username(&master.id, "x").await.unwrap();
    assert!(creator.is_none());

    let mut users = build(
        serde_json::from_value(
            serde_json::json!({"realm": "tmp", "users": [{"username": "maker"}]}),
        )
        .unwrap(),
        &BuildContext { now_ms: 1 },
    )
    .unwrap()
    .image
    .users;
    let mut maker = users.remove(0);
    maker.user.realm_id = master.id.clone();
    maker.role_ids.clear();
    store.add_users(std::slice::from_ref(&maker)).await.unwrap();

    let image = build(realm_rep("beta"), &BuildContext { now_ms: 1 })
        .unwrap()
        .image;
    let link = master_link(&master.id, &admin.id, "beta");
    store
        .create_realm_linked(&image, Some(&link), Some(&maker.user.id), 2)
        .await
        .unwrap();
    assert!(
        store
            .client_by_client_id(&master.id, "beta-realm")
            .await
            .unwrap()
            .is_some()
    );
    let held = store.effective_roles(&maker.user.id).await.unwrap();
    assert_eq!(held.len(), link.roles.len());
    // The same realm again: a conflict, and nothing of the second attempt stays.
    let again = build(realm_rep("beta"), &BuildContext { now_ms: 1 })
        .unwrap()
        .image;
    assert!(
        store
            .create_realm_linked(&again, Some(&link), None, 3)
            .await
            .is_err()
    );

    let mut beta = store.get_realm("beta").await.unwrap().unwrap();
    beta.enabled = false;
    beta.settings.display_name = Some("Beta".into());
    beta.settings.admin_events_enabled = Some(true);
    assert!(store.update_realm_settings(&beta).await.unwrap());
    let read = store.get_realm("beta").await.unwrap().unwrap();
    assert!(!read.enabled);
    assert_eq!(read.settings.display_name.as_deref(), Some("Beta"));
    assert_eq!(read.settings.admin_events_enabled, Some(true));
    // Renaming: the master management client follows; a taken name is refused.
    let mut renamed = read.clone();
    renamed.name = "gamma".into();
    assert_eq!(
        store.rename_realm(&renamed, "beta").await.unwrap(),
        Ok(true)
    );
    assert!(store.get_realm("beta").await.unwrap().is_none());
    assert!(
        store
            .client_by_client_id(&master.id, "gamma-realm")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .client_by_client_id(&master.id, "beta-realm")
            .await
            .unwrap()
            .is_none()
    );
    renamed.name = "master".into();
    assert_eq!(
        store.rename_realm(&renamed, "gamma").await.unwrap(),
        Err(NameTaken)
    );
    renamed.name = "beta".into();
    assert_eq!(
        store.rename_realm(&renamed, "gamma").await.unwrap(),
        Ok(true)
    );
    let ghost = RealmRecord {
        id: "nope".into(),
        ..read
    };
    assert!(!store.update_realm_settings(&ghost).await.unwrap());
    assert!(store.delete_realm("beta").await.unwrap());
    assert!(
        store
            .client_by_client_id(&master.id, "beta-realm")
            .await
            .unwrap()
            .is_none()
    );
}

fn event(id: &str, realm: &str, time: i64, op: &str, kind: &str, path: &str) -> AdminEventRecord {
    AdminEventRecord {
        id: id.into(),
        realm_id: realm.into(),
        time,
        operation_type: op.into(),
        resource_type: kind.into(),
        resource_path: path.into(),
        auth_realm_id: Some("mr".into()),
        auth_client_id: Some("cli".into()),
        auth_user_id: Some(if id == "e3" { "u2" } else { "u1" }.into()),
        ip_address: Some("10.0.0.1".into()),
        representation: (id == "e1").then(|| "{\"a\":1}".to_string()),
        error: None,
    }
}

async fn admin_events_filters_pages_and_purge(store: Store) {
    let realm = setup(&store).await;
    let r = realm.id.as_str();
    for e in [
        event("e1", r, 1_000, "CREATE", "USER", "users/a"),
        event("e2", r, 2_000, "UPDATE", "USER", "users/a"),
        event("e3", r, 3_000, "ACTION", "USER", "users/a/reset-password"),
        event("e4", r, 4_000, "CREATE", "GROUP", "groups/g_1"),
    ] {
        store.add_admin_event(&e).await.unwrap();
    }
    let all = Page { first: 0, max: 100 };
    let ids = |v: Vec<AdminEventRecord>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let q = AdminEventQuery::default();
    assert_eq!(
        ids(store.admin_events(r, &q, all).await.unwrap()),
        vec!["e4", "e3", "e2", "e1"]
    );
    let got = store.admin_events(r, &q, all).await.unwrap();
    assert_eq!(got[3].representation.as_deref(), Some("{\"a\":1}"));
    assert_eq!(got[3].ip_address.as_deref(), Some("10.0.0.1"));
    let q = AdminEventQuery {
        operation_types: vec!["CREATE".into(), "ACTION".into()],
        ..Default::default()
    };
    assert_eq!(
        ids(store.admin_events(r, &q, all).await.unwrap()),
        vec!["e4", "e3", "e1"]
    );
    let q = AdminEventQuery {
        resource_types: vec!["GROUP".into()],
        ..Default::default()
    };
    assert_eq!(
        ids(store.admin_events(r, &q, all).await.unwrap()),
        vec!["e4"]
    );
    let q = AdminEventQuery {
        resource_path: Some("users/*".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(store.admin_events(r, &q, all).await.unwrap()),
        vec!["e3", "e2", "e1"]
    );
    let q = AdminEventQuery {
        resource_path: Some("users/a".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(store.admin_events(r, &q, all).await.unwrap()),
        vec!["e2", "e1"]
    );
    // `_` is not a wildcard.
    let q = AdminEventQuery {
        resource_path: Some("groups/g__".into()),
        ..Default::default()
    };
    assert!(store.admin_events(r, &q, all).await.unwrap().is_empty());
    let q = AdminEventQuery {
        auth_user: Some("u2".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(store.admin_events(r, &q, all).await.unwrap()),
        vec!["e3"]
    );
    let q = AdminEventQuery {
        auth_realm: Some("mr".into()),
        auth_client: Some("cli".into()),
        auth_ip_address: Some("10.0.0.1".into()),
        from_ms: Some(2_000),
        to_ms: Some(4_000),
        ..Default::default()
    };
    assert_eq!(
        ids(store.admin_events(r, &q, all).await.unwrap()),
        vec!["e3", "e2"]
    );
    let q = AdminEventQuery::default();
    assert_eq!(
        ids(store
            .admin_events(r, &q, Page { first: 1, max: 2 })
            .await
            .unwrap()),
        vec!["e3", "e2"]
    );
    assert!(
        store
            .admin_events("other", &q, all)
            .await
            .unwrap()
            .is_empty()
    );
    // Purge by age, then everything.
    assert_eq!(store.delete_admin_events(r, Some(2_500)).await.unwrap(), 2);
    assert_eq!(
        ids(store.admin_events(r, &q, all).await.unwrap()),
        vec!["e4", "e3"]
    );
    assert_eq!(store.delete_admin_events(r, None).await.unwrap(), 2);
    assert!(store.admin_events(r, &q, all).await.unwrap().is_empty());
    // Deleting the realm deletes its events.
    store
        .add_admin_event(&event("e5", r, 5_000, "CREATE", "USER", "users/b"))
        .await
        .unwrap();
    assert!(store.delete_realm("acme").await.unwrap());
    assert!(store.admin_events(r, &q, all).await.unwrap().is_empty());
}
