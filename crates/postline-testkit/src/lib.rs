//! Test kit: [`TestApp`] runs the real app (router, store, workers) on a loopback
//! port against SQLite or PostgreSQL, with a manual clock; [`contract`] checks every
//! JSON response against the OpenAPI contract; [`files`] serves files for remote
//! attachment tests.

pub mod browser;
pub mod clock;
pub mod contract;
pub mod dns;
pub mod files;
pub mod process;
pub mod smtp_sink;
pub mod test_app;
pub mod webhook_receiver;

pub use clock::ManualClock;
pub use test_app::{Backend, TestApp, TestResponse};

/// Declares each listed `async fn name(app: TestApp)` as two tests,
/// `sqlite::name` and `postgres::name`; the PostgreSQL one runs when
/// `POSTLINE_TEST_POSTGRES_URL` is set (CI sets it) and says so when it is not.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestApp::start($crate::Backend::Sqlite).await).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if !$crate::test_app::postgres_configured() {
                        eprintln!("POSTLINE_TEST_POSTGRES_URL is not set: skipping the PostgreSQL run");
                        return;
                    }
                    super::$name($crate::TestApp::start($crate::Backend::Postgres).await).await
                }
            )+
        }
    };
}
