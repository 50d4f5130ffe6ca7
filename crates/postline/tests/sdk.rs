//! Smoke tests with the official Resend SDKs (npm `resend`, PyPI `resend`), unchanged
//! but for the base URL, against `postline serve`. The scripts live in `sdk-tests/`;
//! `scripts/test` installs their dependencies and sets `POSTLINE_REQUIRE_EXTERNAL_TESTS=1`,
//! so in CI a missing SDK is a failure, not a skip.

use std::{path::PathBuf, process::Command};

use postline_testkit::{files::FileServer, process::ServerProcess};

const BINARY: &str = env!("CARGO_BIN_EXE_postline");

fn sdk_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sdk-tests").join(name)
}

fn required() -> bool {
    std::env::var("POSTLINE_REQUIRE_EXTERNAL_TESTS").is_ok_and(|v| v == "1")
}

fn ready(marker: &std::path::Path, what: &str) -> bool {
    if marker.exists() {
        return true;
    }
    assert!(!required(), "{what} is not installed ({} missing); run scripts/test", marker.display());
    eprintln!("{what} is not installed; skipping (scripts/test installs it)");
    false
}

fn run_smoke(mut script: Command) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let files = runtime.block_on(FileServer::start());
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(BINARY, &dir.path().join("data"));
    let key = server.printed_key().expect("first start prints a key");
    let output = script
        .env("RESEND_BASE_URL", &server.url)
        .env("RESEND_API_URL", &server.url)
        .env("RESEND_API_KEY", &key)
        .env("FILES_URL", files.url(""))
        .output()
        .expect("run the smoke script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "smoke script failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
    server.terminate();
}

#[test]
fn the_official_node_sdk_works_unchanged() {
    let dir = sdk_dir("node");
    if !ready(&dir.join("node_modules/resend/package.json"), "the Node SDK") {
        return;
    }
    let mut script = Command::new("node");
    script.arg("smoke.mjs").current_dir(&dir);
    run_smoke(script);
}

#[test]
fn the_official_python_sdk_works_unchanged() {
    let dir = sdk_dir("python");
    let python = dir.join(".venv/bin/python");
    if !ready(&python, "the Python SDK") {
        return;
    }
    let mut script = Command::new(python);
    script.arg("smoke.py").current_dir(&dir);
    run_smoke(script);
}
