//! The inbound server's certificate: the operator's PEM files, or — for
//! development, when none are configured — a self-signed certificate for the
//! node's host name made at start-up. Sending MTAs use opportunistic TLS and do
//! not authenticate MX certificates, so self-signed still encrypts the hop.

use std::{path::Path, sync::Arc};

use anyhow::Context;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio_rustls::TlsAcceptor;

/// An acceptor over the operator's certificate chain and key (PEM files).
pub fn from_files(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading the SMTP certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing the SMTP certificate {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading the SMTP key {}", key.display()))?;
    acceptor(chain, key)
}

/// An acceptor over a fresh self-signed certificate for `hostname`.
pub fn self_signed(hostname: &str) -> anyhow::Result<TlsAcceptor> {
    let certified = rcgen::generate_simple_self_signed(vec![hostname.to_string()])
        .context("making a self-signed SMTP certificate")?;
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    acceptor(vec![cert], key)
}

fn acceptor(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> anyhow::Result<TlsAcceptor> {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the SMTP certificate and key do not match")?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
