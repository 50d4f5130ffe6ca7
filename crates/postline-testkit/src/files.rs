//! A loopback HTTP server for remote-attachment tests: fixed files, a large file
//! without `Content-Length`, a redirect, a 404, a delayed file and an endpoint too slow to wait for.

use std::{net::SocketAddr, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{StatusCode, header},
    response::{IntoResponse, Redirect},
    routing::get,
};

/// Bytes served at `/logo.png`.
pub const LOGO: &[u8] = b"\x89PNG\r\n\x1a\nnot-really-a-png";
/// Bytes served at `/invoice.pdf`.
pub const INVOICE: &[u8] = b"%PDF-1.4 test invoice";

/// A running file server.
pub struct FileServer {
    pub address: SocketAddr,
}

impl FileServer {
    /// Starts the server on an ephemeral loopback port.
    pub async fn start() -> Self {
        let router = Router::new()
            .route("/logo.png", get(|| async { ([(header::CONTENT_TYPE, "image/png")], LOGO) }))
            .route("/invoice.pdf", get(|| async { ([(header::CONTENT_TYPE, "application/pdf")], INVOICE) }))
            .route(
                "/delayed",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    ([(header::CONTENT_TYPE, "application/pdf")], INVOICE)
                }),
            )
            .route(
                "/redirect",
                get(|| async { Redirect::temporary("/invoice.pdf") })
                    .post(|| async { Redirect::temporary("/invoice.pdf") }),
            )
            .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
            .route(
                "/huge",
                get(|| async {
                    // Streamed without Content-Length: the limit must hold while reading.
                    let chunks = (0..50).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1024 * 1024]));
                    Body::from_stream(futures::stream::iter(chunks)).into_response()
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    "too late"
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the file server");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FileServer { address }
    }

    /// The URL of a path on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}
