//! Live parts of a page over server-sent events: an element with `data-stream`
//! (an email's timeline, the developer inbox) opens an `EventSource` on that URL
//! (`app.js`), and the server sends the element's new HTML as an `update` event
//! whenever it changes — at once when this node is poked (a captured message), and
//! otherwise as it finds by re-reading the store every second, which also catches
//! changes made by other nodes. A `settled` event says nothing more will change
//! (a delivered email), and the browser closes the stream. A stream ends after a
//! while anyway; `EventSource` reconnects by itself.

use std::{convert::Infallible, future::Future, sync::Arc, time::Duration};

use axum::response::{
    IntoResponse, Response,
    sse::{Event, KeepAlive, Sse},
};
use postline_core::Error;
use tokio::sync::Notify;

/// How often the store is re-read.
const INTERVAL: Duration = Duration::from_secs(1);
/// How long one stream lasts before the browser is asked to reconnect.
const LIFETIME: Duration = Duration::from_secs(600);

/// What a render gives: the element's HTML, and whether it will change again.
pub type Rendered = (String, bool);

struct Progress<F> {
    render: F,
    wake: Option<Arc<Notify>>,
    last: Option<String>,
    settled: bool,
    said_settled: bool,
    ends: tokio::time::Instant,
}

impl<F> Progress<F> {
    /// True the first time it is asked after settling: the `settled` event is due.
    fn ends_now(&mut self) -> bool {
        !std::mem::replace(&mut self.said_settled, true)
    }
}

/// An SSE response sending `render`'s HTML each time it changes (first at once).
pub fn stream<F, Fut>(wake: Option<Arc<Notify>>, render: F) -> Response
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<Rendered, Error>> + Send + 'static,
{
    let start = Progress {
        render,
        wake,
        last: None,
        settled: false,
        said_settled: false,
        ends: tokio::time::Instant::now() + LIFETIME,
    };
    let events = futures::stream::unfold(start, |mut progress| async move {
        if progress.settled {
            // Said once, after the last update: the browser closes the stream on it
            // (ending the response alone would make `EventSource` reconnect).
            return progress.ends_now().then(|| (Ok(Event::default().event("settled").data("")), progress));
        }
        loop {
            if progress.last.is_some() {
                if tokio::time::Instant::now() >= progress.ends {
                    return None;
                }
                match &progress.wake {
                    Some(wake) => {
                        let _ = tokio::time::timeout(INTERVAL, wake.notified()).await;
                    }
                    None => tokio::time::sleep(INTERVAL).await,
                }
            }
            let (html, settled) = match (progress.render)().await {
                Ok(rendered) => rendered,
                Err(error) => {
                    // The browser reconnects and the page's next read shows the problem.
                    tracing::warn!(%error, "a live dashboard stream could not read");
                    return None;
                }
            };
            progress.settled = settled;
            if progress.last.as_deref() != Some(html.as_str()) {
                progress.last = Some(html.clone());
                return Some((Ok::<_, Infallible>(Event::default().event("update").data(html)), progress));
            }
            if settled {
                progress.said_settled = true;
                return Some((Ok(Event::default().event("settled").data("")), progress));
            }
        }
    });
    let mut response = Sse::new(events).keep_alive(KeepAlive::default()).into_response();
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    async fn next_text(body: &mut axum::body::BodyDataStream) -> String {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next()).await.expect("in time");
        String::from_utf8(chunk.expect("an event").expect("bytes").to_vec()).unwrap()
    }

    #[tokio::test]
    async fn updates_are_sent_when_the_html_changes_then_settled_once() {
        let count = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let wake = Arc::new(Notify::new());
        let seen = count.clone();
        let response = stream(Some(wake.clone()), move || {
            let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // Renders: a, a, b, b (settled).
            async move { Ok((if n < 2 { "a".to_string() } else { "b".to_string() }, n >= 3)) }
        });
        let mut body = response.into_body().into_data_stream();
        assert_eq!(next_text(&mut body).await, "event: update\ndata: a\n\n");
        wake.notify_waiters();
        assert_eq!(next_text(&mut body).await, "event: update\ndata: b\n\n");
        assert_eq!(next_text(&mut body).await, "event: settled\n\n");
        assert!(body.next().await.is_none(), "the stream ends after settling");
    }
}
