//! User (login) events: what happened to whom, recorded at the one place each protocol step
//! succeeds or fails, then fanned out to the three listeners Keycloak has by default:
//!
//! - **the store**, when the realm's `eventsEnabled` and `enabledEventTypes` say so
//!   (`portcullis_model::events::stored`), read back through `GET /admin/realms/{realm}/events`;
//! - **the log** (Keycloak's `jboss-logging` listener, on unless the realm's `eventsListeners`
//!   leaves it out): successes at DEBUG, errors at WARN, target `org.keycloak.events` (so Keycloak's
//!   `--log-level=info,org.keycloak.events:debug` shows them);
//! - **the metric** `keycloak_user_events_total{realm, client_id, idp, event, error}` with
//!   `--event-metrics-user-enabled` (labels and events chosen by the `event-metrics-user-*`
//!   options, as in Keycloak).
//!
//! Stored events go through one writer task per process: `emit` queues the row (waiting only
//! when 10,000 are queued already) and the writer inserts whatever has queued up in one
//! transaction, so a busy token endpoint pays a queue push instead of an insert per request.
//! Reads of events ([`EventSink::flush`], called by `GET /events`) and shutdown wait for the
//! queue to be written, so a reader sees every event emitted before its request.
//!
//! Recording never fails the request it describes: a store error is logged and the events of
//! that batch are lost (as the admin-event recorder does). Details never carry secrets: callers
//! pass usernames, emails, redirect URIs, grant types and ids, never passwords, codes or
//! tokens.

use crate::app::AppState;
use crate::config::EventMetricsSettings;
use portcullis_model::events::{self, EventType};
use portcullis_model::records::{RealmRecord, new_id};
use portcullis_store::{LoginEventRecord, Store};
use std::collections::BTreeMap;

/// The metric's name and help text (Keycloak's).
pub const METRIC: &str = "keycloak_user_events_total";

/// Events queued for the writer before `emit` waits.
const QUEUE: usize = 10_000;
/// Rows per transaction at most.
const BATCH: usize = 500;

enum Queued {
    Event(Box<LoginEventRecord>),
    /// Answered once everything queued before it is written.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// The listeners' configuration that does not change per realm, and the store writer's queue.
#[derive(Debug)]
pub struct EventSink {
    metrics: Option<EventMetricsSettings>,
    queue: tokio::sync::mpsc::Sender<Queued>,
}

impl std::fmt::Debug for Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Queued::Event(_) => "Event",
            Queued::Flush(_) => "Flush",
        })
    }
}

impl EventSink {
    /// `metrics`: the user event metric's settings when it is on. Starts the writer task (on
    /// the current tokio runtime); it ends when the sink is dropped.
    pub fn new(store: Store, metrics: Option<EventMetricsSettings>) -> EventSink {
        if metrics.is_some() {
            metrics::describe_counter!(METRIC, "Keycloak user events");
        }
        let (queue, rx) = tokio::sync::mpsc::channel(QUEUE);
        tokio::spawn(write_queue(store, rx));
        EventSink { metrics, queue }
    }

    /// Wait until every event emitted before this call is in the store.
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.queue.send(Queued::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    async fn store(&self, record: LoginEventRecord) {
        if self
            .queue
            .send(Queued::Event(Box::new(record)))
            .await
            .is_err()
        {
            tracing::warn!("user event not stored: the event writer has stopped");
        }
    }
}

/// The writer: take what has queued up (at most [`BATCH`] rows), write it in one transaction,
/// answer the flushes that were behind it; until every sender is gone.
async fn write_queue(store: Store, mut rx: tokio::sync::mpsc::Receiver<Queued>) {
    let mut rows = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Queued::Event(e) => rows.push(*e),
                Queued::Flush(done) => flushes.push(done),
            }
            if rows.len() >= BATCH {
                break;
            }
            next = rx.try_recv().ok();
        }
        if let Err(e) = store.add_login_events(&rows).await {
            tracing::warn!(error = %e, lost = rows.len(), "user events could not be stored");
        }
        rows.clear();
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

/// One event under construction (see [`Event::new`]); hand it to [`emit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventType,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub ip_address: Option<String>,
    /// Keycloak's error code (`invalid_user_credentials`, `user_not_found`, ...); makes the
    /// event the `_ERROR` form of its type.
    pub error: Option<String>,
    pub details: BTreeMap<String, String>,
}

impl Event {
    pub fn new(kind: EventType) -> Event {
        Event {
            kind,
            client_id: None,
            user_id: None,
            session_id: None,
            ip_address: None,
            error: None,
            details: BTreeMap::new(),
        }
    }

    /// The client's `clientId`.
    pub fn client(mut self, client_id: &str) -> Event {
        self.client_id = Some(client_id.to_owned());
        self
    }

    pub fn user(mut self, user_id: &str) -> Event {
        self.user_id = Some(user_id.to_owned());
        self
    }

    /// The SSO session (`sid`).
    pub fn session(mut self, session_id: &str) -> Event {
        self.session_id = Some(session_id.to_owned());
        self
    }

    pub fn ip(mut self, ip: Option<&str>) -> Event {
        self.ip_address = ip.map(str::to_owned);
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<String>) -> Event {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// Turn the event into its error form.
    pub fn error(mut self, error: &str) -> Event {
        self.error = Some(error.to_owned());
        self
    }

    /// The stored type name (`LOGIN` or `LOGIN_ERROR`).
    pub fn type_name(&self) -> String {
        self.kind.name(self.error.is_some())
    }
}

/// The metric's labels for an event, in a fixed order.
pub fn metric_labels(
    m: &EventMetricsSettings,
    realm: &str,
    e: &Event,
) -> Option<Vec<(&'static str, String)>> {
    if let Some(only) = &m.events
        && !only.contains(&e.kind)
    {
        return None;
    }
    let mut labels = Vec::with_capacity(5);
    if m.realm {
        labels.push(("realm", realm.to_owned()));
    }
    if m.client_id {
        labels.push(("client_id", e.client_id.clone().unwrap_or_default()));
    }
    if m.idp {
        labels.push(("idp", String::new()));
    }
    labels.push(("event", e.kind.metric_name()));
    labels.push(("error", e.error.clone().unwrap_or_default()));
    Some(labels)
}

/// Whether the realm's listeners include the log (`jboss-logging`, the default).
fn logs(realm: &RealmRecord) -> bool {
    realm
        .settings
        .events_listeners
        .as_ref()
        .is_none_or(|l| l.iter().any(|n| n == "jboss-logging"))
}

/// Record `e` for `realm` with every listener (see the module header).
pub async fn emit(s: &AppState, realm: &RealmRecord, e: Event) {
    let type_name = e.type_name();
    let level = if e.error.is_some() {
        tracing::Level::WARN
    } else {
        tracing::Level::DEBUG
    };
    let log_enabled = match level {
        tracing::Level::WARN => {
            tracing::enabled!(target: "org.keycloak.events", tracing::Level::WARN)
        }
        _ => tracing::enabled!(target: "org.keycloak.events", tracing::Level::DEBUG),
    };
    if log_enabled && logs(realm) {
        let fields = e
            .details
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let client = e.client_id.as_deref().unwrap_or("");
        let user = e.user_id.as_deref().unwrap_or("");
        let ip = e.ip_address.as_deref().unwrap_or("");
        match &e.error {
            Some(err) => tracing::warn!(
                target: "org.keycloak.events",
                r#type = %type_name, realm = %realm.name, client = %client, user = %user,
                ip = %ip, error = %err, details = %fields, "user event"
            ),
            None => tracing::debug!(
                target: "org.keycloak.events",
                r#type = %type_name, realm = %realm.name, client = %client, user = %user,
                ip = %ip, details = %fields, "user event"
            ),
        }
    }
    if let Some(m) = &s.events.metrics
        && let Some(labels) = metric_labels(m, &realm.name, &e)
    {
        let labels: Vec<metrics::Label> = labels
            .into_iter()
            .map(|(k, v)| metrics::Label::new(k, v))
            .collect();
        metrics::counter!(METRIC, labels).increment(1);
    }
    if events::stored(&realm.settings, e.kind, e.error.is_some()) {
        let record = LoginEventRecord {
            id: new_id(),
            realm_id: realm.id.clone(),
            time: crate::clock::now_ms(),
            type_: type_name,
            client_id: e.client_id,
            user_id: e.user_id,
            session_id: e.session_id,
            ip_address: e.ip_address,
            error: e.error,
            details: e.details,
        };
        s.events.store(record).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer stores what was queued, in order, in batches; a flush waits for it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writer_stores_every_queued_event_before_a_flush_answers() {
        #![allow(clippy::unwrap_used)]
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&portcullis_store::ConnectOptions::new(
            portcullis_store::DbTarget::SqliteFile(dir.path().join("db.sqlite")),
        ))
        .await
        .unwrap();
        let rep =
            serde_json::from_value(serde_json::json!({"realm": "r", "enabled": true})).unwrap();
        let (image, _) = crate::realms::prepare(rep, 1).unwrap();
        store.create_realm(&image, 1).await.unwrap();
        let realm_id = image.realm.id.clone();
        let sink = EventSink::new(store.clone(), None);
        let n = BATCH * 2 + 7;
        for i in 0..n {
            sink.store(LoginEventRecord {
                id: format!("e{i:05}"),
                realm_id: realm_id.clone(),
                time: i64::try_from(i).unwrap(),
                type_: "LOGIN".into(),
                client_id: None,
                user_id: None,
                session_id: None,
                ip_address: None,
                error: None,
                details: BTreeMap::new(),
            })
            .await;
        }
        sink.flush().await;
        let page = portcullis_store::Page {
            first: 0,
            max: 10_000,
        };
        let stored = store
            .login_events(&realm_id, &Default::default(), page)
            .await
            .unwrap();
        assert_eq!(stored.len(), n);
        assert_eq!(stored[0].id, format!("e{:05}", n - 1), "newest first");
    }

    fn settings(realm: bool, client_id: bool, idp: bool) -> EventMetricsSettings {
        EventMetricsSettings {
            realm,
            client_id,
            idp,
            events: None,
        }
    }

    #[test]
    fn events_build_their_type_names() {
        let e = Event::new(EventType::Login)
            .client("app")
            .user("u1")
            .ip(Some("192.0.2.1"))
            .detail("username", "alice");
        assert_eq!(e.type_name(), "LOGIN");
        assert_eq!(e.details.get("username").map(String::as_str), Some("alice"));
        let e = e.error("invalid_user_credentials");
        assert_eq!(e.type_name(), "LOGIN_ERROR");
    }

    #[test]
    fn metric_labels_follow_the_tag_options() {
        let e = Event::new(EventType::Login)
            .client("app")
            .error("invalid_user_credentials");
        assert_eq!(
            metric_labels(&settings(true, false, false), "acme", &e),
            Some(vec![
                ("realm", "acme".to_string()),
                ("event", "login".to_string()),
                ("error", "invalid_user_credentials".to_string()),
            ])
        );
        assert_eq!(
            metric_labels(&settings(true, true, true), "acme", &e),
            Some(vec![
                ("realm", "acme".to_string()),
                ("client_id", "app".to_string()),
                ("idp", String::new()),
                ("event", "login".to_string()),
                ("error", "invalid_user_credentials".to_string()),
            ])
        );
        let ok = Event::new(EventType::CodeToToken);
        assert_eq!(
            metric_labels(&settings(false, false, false), "acme", &ok),
            Some(vec![
                ("event", "code_to_token".to_string()),
                ("error", String::new()),
            ])
        );
        let only_logins = EventMetricsSettings {
            events: Some(vec![EventType::Login]),
            ..settings(true, false, false)
        };
        assert_eq!(metric_labels(&only_logins, "acme", &ok), None);
        assert!(metric_labels(&only_logins, "acme", &e).is_some());
    }
}
