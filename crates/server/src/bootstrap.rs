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
    let (master, admin) = master_and_admin_role(store).await?;
    if store
        .find_user_by_username(&master.id, &username)
        .await?
        .is_some()
    {
        bail!("user '{username}' already exists in the master realm");
    }
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

/// The master realm and its `admin` role.
async fn master_and_admin_role(
    store: &Store,
) -> Result<(
    portcullis_model::records::RealmRecord,
    portcullis_model::records::RoleRecord,
)> {
    let master = store
        .get_realm("master")
        .await?
        .ok_or_else(|| anyhow!("the master realm does not exist"))?;
    let admin = store
        .realm_role(&master.id, "admin")
        .await?
        .ok_or_else(|| anyhow!("the master realm has no 'admin' role"))?;
    Ok((master, admin))
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

/// Create a confidential master-realm client whose service account holds the `admin` role
/// (`KC_BOOTSTRAP_ADMIN_CLIENT_ID/SECRET`, `bootstrap-admin service`). Fails if it exists.
pub async fn create_admin_service(
    store: &Store,
    client_id: &str,
    secret: &str,
    now_ms: i64,
) -> Result<()> {
    use portcullis_model::records::{ClientRecord, ScopeLink};
    use portcullis_model::repr::ClientRepresentation;
    let client_id = client_id.trim();
    if client_id.is_empty() {
        bail!("the admin client id is empty");
    }
    if secret.is_empty() {
        bail!("the admin client secret is empty");
    }
    let (master, admin) = master_and_admin_role(store).await?;
    if store
        .client_by_client_id(&master.id, client_id)
        .await?
        .is_some()
    {
        bail!("client '{client_id}' already exists in the master realm");
    }
    let id = new_id();
    let repr = ClientRepresentation {
        name: Some("Temporary admin service account".into()),
        enabled: Some(true),
        public_client: Some(false),
        client_authenticator_type: Some("client-secret".into()),
        standard_flow_enabled: Some(false),
        direct_access_grants_enabled: Some(false),
        service_accounts_enabled: Some(true),
        full_scope_allowed: Some(true),
        protocol: Some("openid-connect".into()),
        attributes: Some(
            [("is_temporary_admin".to_string(), "true".to_string())]
                .into_iter()
                .collect(),
        ),
        ..Default::default()
    };
    let client = ClientRecord {
        id: id.clone(),
        realm_id: master.id.clone(),
        client_id: client_id.to_string(),
        secret: Some(zeroize::Zeroizing::new(secret.to_string())),
        repr,
    };
    let scopes: Vec<ScopeLink> = store
        .realm_default_scopes(&master.id)
        .await?
        .into_iter()
        .filter(|(s, _)| s.repr.protocol.as_deref().unwrap_or("openid-connect") == "openid-connect")
        .map(|(s, default_scope)| ScopeLink {
            owner_id: id.clone(),
            scope_id: s.id,
            default_scope,
        })
        .collect();
    let account = UserImage {
        user: UserRecord {
            id: new_id(),
            realm_id: master.id.clone(),
            username: format!("service-account-{}", client_id.to_lowercase()),
            email: None,
            first_name: None,
            last_name: None,
            enabled: true,
            email_verified: false,
            created_timestamp: now_ms,
            not_before: 0,
            federation_link: None,
            service_account_client_id: Some(id.clone()),
        },
        attributes: Vec::new(),
        required_actions: Vec::new(),
        credentials: Vec::new(),
        group_ids: Vec::new(),
        role_ids: vec![admin.id.clone(), master.default_role_id.clone()],
    };
    store
        .add_client(&client, &scopes, &[account])
        .await
        .map_err(|e| anyhow!("cannot create client '{client_id}': {e}"))?;
    Ok(())
}
