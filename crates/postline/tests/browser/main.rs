//! End-to-end tests in a real browser: headless Chromium (from Debian, driven over
//! WebDriver by `postline_testkit::browser`). `scripts/test` installs Chromium and
//! requires these tests to run; screenshots go to `target/screenshots/`.
//! One module per area of the product.

mod audience;
mod broadcasts;
mod dashboard;
mod domains;
mod exports;
mod inbox;
mod preferences;
mod quality;
