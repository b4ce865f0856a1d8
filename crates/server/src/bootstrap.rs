//! The master realm's first administrator: from `KC_BOOTSTRAP_ADMIN_USERNAME/PASSWORD` at
//! start-up (only while no enabled user holds master's `admin` role), a development admin in
//! `start-dev` when nothing is configured, and the `bootstrap-admin user` command.

use anyhow::{Context, Result, anyhow, bail};
use portcullis_model::password::{HashPolicy, hash_password};
use portcullis_model::records::{
    CredentialRecord, CredentialSecret, UserImage, UserRecord, new_id,
};
use portcullis_store::Store;

/// Create a master-realm administrator with `password`. Fails if the username is taken.
pub async fn create_admin(
    store: &Store,
    username: &str,
    password: &str,
    now_ms: i64,
) -> Result<()> {
    let username = username.trim().to_lowercase();
    if username.is_empty() {
        bail!("the admin username is empty");
    }
    if password.is_empty() {
        bail!("the admin password is empty");
    }
    let master = store
        .get_realm("master")
        .await?
        .ok_or_else(|| anyhow!("the master realm does not exist"))?;
    if store
        .find_user_by_username(&master.id, &username)
        .await?
        .is_some()
    {
        bail!("user '{username}' already exists in the master realm");
    }
    let admin = store
        .realm_role(&master.id, "admin")
        .await?
        .ok_or_else(|| anyhow!("the master realm has no 'admin' role"))?;
    let policy =
        HashPolicy::parse(master.password_policy()).context("master realm password policy")?;
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password, &policy)).await??;
    let (secret_data, credential_data) = hash.to_keycloak();
    let user_id = new_id();
    let image = UserImage {
        user: UserRecord {
            id: user_id.clone(),
            realm_id: master.id.clone(),
            username: username.clone(),
            email: None,
            first_name: None,
            last_name: None,
            enabled: true,
            email_verified: false,
            created_timestamp: now_ms,
            not_before: 0,
            federation_link: None,
            service_account_client_id: None,
        },
        attributes: vec![("is_temporary_admin".into(), "true".into())],
        required_actions: Vec::new(),
        credentials: vec![CredentialRecord {
            id: new_id(),
            user_id,
            type_: "password".into(),
            user_label: None,
            created_date: now_ms,
            priority: 10,
            secret: CredentialSecret::Stored {
                secret_data,
                credential_data,
            },
        }],
        group_ids: Vec::new(),
        role_ids: vec![admin.id.clone(), master.default_role_id.clone()],
    };
    store
        .add_users(&[image])
        .await
        .map_err(|e| anyhow!("cannot create user '{username}': {e}"))?;
    Ok(())
}

/// Whether master has an enabled administrator already.
pub async fn has_admin(store: &Store) -> Result<bool> {
    let Some(master) = store.get_realm("master").await? else {
        return Ok(false);
    };
    let Some(admin) = store.realm_role(&master.id, "admin").await? else {
        return Ok(false);
    };
    Ok(store.count_role_holders(&admin.id).await? > 0)
}
