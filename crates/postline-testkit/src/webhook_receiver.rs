//! A webhook receiver on a loopback port that checks every delivery's signature with
//! an independent implementation (the `standardwebhooks` crate, the reference
//! library behind Svix's verification — not Postline's signing code; the `svix` crate
//! itself does not build against this workspace's hyper-util), answers with a
//! scripted status, and records what arrived. Svix headers are mapped to the
//! `webhook-*` names the library reads, exactly as the Node SDK does.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use serde_json::Value;

/// A delivery as received.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Whether the svix verifier accepted the signature.
    pub verified: bool,
    pub message_id: String,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    secret: Option<String>,
    status: u16,
    received: Vec<Delivery>,
}

/// A running receiver.
#[derive(Clone)]
pub struct WebhookReceiver {
    pub address: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

async fn receive(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut inner = inner.lock().unwrap();
    let mut standard = HeaderMap::new();
    for (svix, standard_name) in
        [("svix-id", "webhook-id"), ("svix-timestamp", "webhook-timestamp"), ("svix-signature", "webhook-signature")]
    {
        if let Some(value) = headers.get(svix) {
            standard.insert(standard_name, value.clone());
        }
    }
    let verified = inner
        .secret
        .as_deref()
        .and_then(|s| standardwebhooks::Webhook::new(s).ok())
        .is_some_and(|verifier| verifier.verify(&body, &standard).is_ok());
    let message_id = headers.get("svix-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    inner.received.push(Delivery { verified, message_id, body });
    StatusCode::from_u16(inner.status).unwrap_or(StatusCode::OK)
}

impl WebhookReceiver {
    /// Starts a receiver answering 200.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner { status: 200, ..Inner::default() }));
        let router = Router::new().route("/hook", post(receive)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        WebhookReceiver { address, inner }
    }

    /// The endpoint URL to register.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// The signing secret to verify with (from the create response).
    pub fn set_secret(&self, secret: &str) {
        self.inner.lock().unwrap().secret = Some(secret.to_string());
    }

    /// The status to answer with from now on.
    pub fn respond_with(&self, status: u16) {
        self.inner.lock().unwrap().status = status;
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Delivery> {
        self.inner.lock().unwrap().received.clone()
    }

    /// How many deliveries arrived, and how many of them carried a valid signature.
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap();
        (inner.received.len(), inner.received.iter().filter(|d| d.verified).count())
    }
}
