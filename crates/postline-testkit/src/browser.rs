//! A real headless browser for tests of server-rendered pages: [`Browser`] owns a
//! `chromedriver` child process on a free loopback port and one WebDriver session
//! (through `fantoccini`) with Debian's Chromium in headless mode, and offers the few
//! steps a test of an HTML form needs: open a URL, tick or untick checkboxes, click,
//! read the visible text and the current URL.
//!
//! `scripts/test` installs `chromium` and `chromium-driver` and sets
//! `POSTLINE_REQUIRE_EXTERNAL_TESTS=1`, so in CI a missing browser is a failure; elsewhere
//! [`Browser::start`] returns `None` and the test skips.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// The Chromium command-line flags of every session. `--no-sandbox` is needed because
/// tests (and CI) run as root, where Chromium refuses to start sandboxed;
/// `--disable-dev-shm-usage` keeps it working where `/dev/shm` is small (containers).
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
];

/// How long `chromedriver` may take to listen and report itself ready.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a page may take to load.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// A headless Chromium driven through a `chromedriver` this value owns.
///
/// Dropping it ends the session and the driver (and so the browser); [`Browser::close`]
/// does the same and reports a failure to end the session.
pub struct Browser {
    client: Client,
    driver: Child,
    /// `http://127.0.0.1:PORT`, where `chromedriver` listens.
    pub driver_url: String,
    /// Holds `chromedriver.log`, quoted when something fails.
    log_dir: tempfile::TempDir,
}

fn required() -> bool {
    std::env::var("POSTLINE_REQUIRE_EXTERNAL_TESTS").is_ok_and(|v| v == "1")
}

/// The first of `names` found as an executable file on `PATH`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |name| dir.join(name))).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Debian's `chromium` (its launcher script in `/usr/bin`), else one on `PATH`.
fn find_chromium() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/bin/chromium");
    if is_executable(&debian) {
        return Some(debian);
    }
    on_path(&["chromium", "chromium-browser"])
}

impl Browser {
    /// Starts `chromedriver` and opens a headless Chromium session.
    ///
    /// Returns `None`, saying why on stderr, when `chromedriver` or `chromium` is not
    /// installed; with `POSTLINE_REQUIRE_EXTERNAL_TESTS=1` (as `scripts/test` sets) that
    /// panics instead. Panics when they are installed but do not start.
    pub async fn start() -> Option<Browser> {
        let (chromedriver, chromium) = Self::locate()?;
        Some(Self::start_with(&chromedriver, &chromium).await)
    }

    fn locate() -> Option<(PathBuf, PathBuf)> {
        let chromedriver = on_path(&["chromedriver"]);
        let chromium = find_chromium();
        if let (Some(chromedriver), Some(chromium)) = (&chromedriver, &chromium) {
            return Some((chromedriver.clone(), chromium.clone()));
        }
        let missing = [(chromedriver.is_none(), "chromedriver (on PATH)"), (chromium.is_none(), "chromium")]
            .into_iter()
            .filter_map(|(missing, what)| missing.then_some(what))
            .collect::<Vec<_>>()
            .join(" and ");
        assert!(
            !required(),
            "POSTLINE_REQUIRE_EXTERNAL_TESTS=1 but {missing} is not installed; \
             run scripts/test, or `apt-get install chromium chromium-driver`"
        );
        eprintln!("{missing} is not installed; skipping the browser test (scripts/test installs it)");
        None
    }

    /// Starts the given `chromedriver` driving the given Chromium binary.
    pub async fn start_with(chromedriver: &Path, chromium: &Path) -> Browser {
        let log_dir = tempfile::tempdir().expect("a directory for the chromedriver log");
        let log_path = log_dir.path().join("chromedriver.log");
        // Port 0: chromedriver picks a free port itself and prints it, so no other
        // process can take it between our choice and its bind.
        let mut driver = Command::new(chromedriver)
            .arg("--port=0")
            .arg(format!("--log-path={}", log_path.display()))
            // Chromium's own stderr into that log too: why a browser did not start
            // (e.g. "Running as root without --no-sandbox") is only said there.
            .arg("--enable-chrome-logs")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display()));
        let stdout = driver.stdout.take().expect("chromedriver stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match lines.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = driver.kill();
                    let _ = driver.wait();
                    panic!(
                        "chromedriver did not say which port it listens on within {STARTUP_TIMEOUT:?}\n{}",
                        log_tail(&log_path)
                    );
                }
            };
            // "ChromeDriver was started successfully on port 37849."
            if let Some(port) = line
                .split_once("started successfully on port ")
                .and_then(|(_, rest)| rest.trim().trim_end_matches('.').parse::<u16>().ok())
            {
                break port;
            }
        };
        let driver_url = format!("http://127.0.0.1:{port}");
        let session = match wait_until_ready(&driver_url, &mut driver, deadline).await {
            Ok(()) => {
                connect(&driver_url, chromium).await.map_err(|e| format!("could not start {}: {e}", chromium.display()))
            }
            Err(why) => Err(format!("did not become ready: {why}")),
        };
        let client = match session {
            Ok(client) => client,
            Err(why) => {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("chromedriver at {driver_url} {why}\n{}", log_tail(&log_path));
            }
        };
        let browser = Browser { client, driver, driver_url, log_dir };
        // Fail fast rather than hang a test on an element or a page that never comes:
        // no implicit wait for elements, 30 s for a page load, 5 s for a script.
        browser
            .client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(Duration::from_secs(5)),
                Some(PAGE_TIMEOUT),
                Some(Duration::ZERO),
            ))
            .await
            .unwrap_or_else(|e| browser.fail("set the session timeouts", e));
        browser
    }

    /// The WebDriver session, for steps the helpers here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| self.fail(&format!("open {url}"), e));
    }

    /// The element matching the CSS `selector`; panics when there is none.
    pub async fn find(&self, selector: &str) -> Element {
        self.client.find(Locator::Css(selector)).await.unwrap_or_else(|e| self.fail(&format!("find `{selector}`"), e))
    }

    /// Clicks the element matching the CSS `selector`, as a person would (it must be
    /// visible and enabled), and returns at once: for a click that stays on the page,
    /// such as ticking a box. For a click that loads another page (a submit button, a
    /// link) use [`Browser::click_and_wait_for_page`]: right after this one returns the
    /// old page may still be there, or no page at all.
    pub async fn click(&self, selector: &str) {
        let element = self.find(selector).await;
        element.click().await.unwrap_or_else(|e| self.fail(&format!("click `{selector}`"), e));
    }

    /// Clicks the element matching `selector` (a submit button, a link) and waits until
    /// the browser has loaded the page that follows: a new document, even when it has
    /// the same URL (a form posting to itself), fully loaded.
    pub async fn click_and_wait_for_page(&self, selector: &str) {
        let element = self.find(selector).await;
        // Marks the current document; the next one, a new document, does not have it.
        self.client
            .execute("window.__postlineOldPage = true;", vec![])
            .await
            .unwrap_or_else(|e| self.fail("mark the current page", e));
        element.click().await.unwrap_or_else(|e| self.fail(&format!("click `{selector}`"), e));
        let deadline = Instant::now() + PAGE_TIMEOUT;
        let loaded = "return window.__postlineOldPage === undefined && document.readyState === 'complete';";
        loop {
            // Between two documents a script may fail to run: that is not an answer yet.
            let last = match self.client.execute(loaded, vec![]).await {
                Ok(Value::Bool(true)) => return,
                Ok(_) => "the old page, or the new one still loading".to_string(),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                self.fail(
                    &format!("load the page after clicking `{selector}` within {PAGE_TIMEOUT:?}"),
                    format!("last: {last}"),
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Types `text` into the field matching `selector` (after clearing it).
    pub async fn type_into(&self, selector: &str, text: &str) {
        let element = self.find(selector).await;
        element.clear().await.unwrap_or_else(|e| self.fail(&format!("clear `{selector}`"), e));
        element.send_keys(text).await.unwrap_or_else(|e| self.fail(&format!("type into `{selector}`"), e));
    }

    /// Waits until the text of the element matching `selector` contains `wanted` (the
    /// page may update itself), up to `within`; that text at the end.
    pub async fn wait_for_text_in(&self, selector: &str, wanted: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let element = self.find(selector).await;
            let text = element.text().await.unwrap_or_else(|e| self.fail(&format!("read `{selector}`"), e));
            if text.contains(wanted) {
                return text;
            }
            if Instant::now() >= deadline {
                self.fail(&format!("see `{wanted}` within {within:?}"), format!("the page says: {text}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG of the window as `NAME.png` in the screenshots folder
    /// (`POSTLINE_SCREENSHOTS`, else `target/screenshots` of the workspace), for a
    /// person to look at; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // A desktop-sized window, so the saved pages look as people see them.
        let _ = self.client.set_window_size(1280, 1000).await;
        let png = self.client.screenshot().await.unwrap_or_else(|e| self.fail("take a screenshot", e));
        let dir = std::env::var_os("POSTLINE_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"));
        std::fs::create_dir_all(&dir).expect("create the screenshots folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("save the screenshot");
        path
    }

    /// Runs `script` in the page (`return …` gives its value).
    pub async fn run(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| self.fail("run a script in the page", e))
    }

    /// Runs `script`, which calls `arguments[0]` with its value when done (within 5 s).
    pub async fn run_async(&self, script: &str) -> Value {
        let script = format!("const done = arguments[arguments.length - 1]; {script}");
        self.client.execute_async(&script, vec![]).await.unwrap_or_else(|e| self.fail("run a script in the page", e))
    }

    /// Resizes the window (a phone is about 375 × 800).
    pub async fn set_size(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap_or_else(|e| self.fail("resize the window", e));
    }

    /// Makes pages see `prefers-color-scheme: dark` (or light), through Chromium's
    /// DevTools protocol, which chromedriver passes on.
    pub async fn prefer_dark(&self, dark: bool) {
        let session = self.client.session_id().await.unwrap_or_else(|e| self.fail("read the session id", e));
        let session = session.unwrap_or_else(|| self.fail("read the session id", "no session"));
        let url = format!("{}/session/{session}/goog/cdp/execute", self.driver_url);
        let scheme = if dark { "dark" } else { "light" };
        let body = json!({"cmd": "Emulation.setEmulatedMedia",
                          "params": {"features": [{"name": "prefers-color-scheme", "value": scheme}]}});
        let response = reqwest::Client::new().post(&url).json(&body).send().await;
        match response {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => self.fail("emulate a colour scheme", r.status()),
            Err(e) => self.fail("emulate a colour scheme", e),
        }
    }

    /// Whether the checkbox (or radio button) matching `selector` is checked.
    pub async fn is_checked(&self, selector: &str) -> bool {
        let element = self.find(selector).await;
        element.is_selected().await.unwrap_or_else(|e| self.fail(&format!("read whether `{selector}` is checked"), e))
    }

    /// Ticks (`true`) or unticks (`false`) the checkbox matching `selector` by clicking
    /// it when it is not already so; panics when the click did not change it.
    pub async fn set_checked(&self, selector: &str, checked: bool) {
        if self.is_checked(selector).await != checked {
            self.click(selector).await;
        }
        assert_eq!(self.is_checked(selector).await, checked, "clicking `{selector}` did not set it to {checked}");
    }

    /// The text of the page as rendered (`body`'s visible text, one line per block).
    pub async fn text(&self) -> String {
        let body = self.find("body").await;
        body.text().await.unwrap_or_else(|e| self.fail("read the page text", e))
    }

    /// The page's HTML as the browser now has it.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap_or_else(|e| self.fail("read the page source", e))
    }

    /// The URL of the current page.
    pub async fn current_url(&self) -> String {
        self.client.current_url().await.unwrap_or_else(|e| self.fail("read the current URL", e)).to_string()
    }

    /// Ends the session (closing Chromium) and stops `chromedriver`.
    pub async fn close(self) {
        // `Client::close` consumes the client; `self` still owns the driver, stopped on drop.
        self.client.clone().close().await.unwrap_or_else(|e| self.fail("end the WebDriver session", e));
    }

    fn fail(&self, what: &str, error: impl std::fmt::Display) -> ! {
        panic!("browser: could not {what}: {error}\n{}", log_tail(&self.log_dir.path().join("chromedriver.log")))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver's /shutdown quits its sessions' browsers, then itself; a kill
        // alone could leave Chromium running. Plain blocking I/O: this may run inside
        // an async runtime, or while a panic unwinds.
        let _ = shutdown_request(&self.driver_url);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.driver.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Polls `GET /status` until chromedriver reports `ready: true`.
async fn wait_until_ready(driver_url: &str, driver: &mut Child, deadline: Instant) -> Result<(), String> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().map_err(|e| e.to_string())?;
    loop {
        if let Ok(Some(status)) = driver.try_wait() {
            return Err(format!("chromedriver exited with {status}"));
        }
        let last = match http.get(format!("{driver_url}/status")).send().await {
            Ok(response) => match response.json::<Value>().await {
                Ok(body) if body["value"]["ready"] == json!(true) => return Ok(()),
                Ok(body) => format!("/status answered {body}"),
                Err(e) => format!("/status answered something not JSON: {e}"),
            },
            Err(e) => format!("GET /status failed: {e}"),
        };
        if Instant::now() >= deadline {
            return Err(format!("not ready within {STARTUP_TIMEOUT:?}; last: {last}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens a session with headless Chromium at `chromium`.
async fn connect(driver_url: &str, chromium: &Path) -> Result<Client, fantoccini::error::NewSessionError> {
    let mut capabilities = fantoccini::wd::Capabilities::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities
        .insert("goog:chromeOptions".into(), json!({ "binary": chromium.to_string_lossy(), "args": CHROMIUM_FLAGS }));
    // Plain HTTP: chromedriver listens on loopback only.
    ClientBuilder::new(HttpConnector::new()).capabilities(capabilities).connect(driver_url).await
}

/// `GET /shutdown` on chromedriver, with short timeouts.
fn shutdown_request(driver_url: &str) -> std::io::Result<()> {
    let address = driver_url.trim_start_matches("http://");
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(
        &address.parse().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        timeout,
    )?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(stream, "GET /shutdown HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    Ok(())
}

/// The last lines of chromedriver's log (with Chromium's stderr), for a failure
/// message: without the JSON it dumps over many indented lines, each line cut short.
fn log_tail(path: &Path) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = log.lines().filter(|line| !line.starts_with([' ', '\t', '}', ']'])).collect();
    let tail = lines[lines.len().saturating_sub(30)..]
        .iter()
        .map(|line| match line.char_indices().nth(300) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!("chromedriver log, last lines:\n{tail}")
}
