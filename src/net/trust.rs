//! The TLS client context where TLS is OpenSSL's (not macOS or Windows): built once per
//! process for each `ca_file`, and with the system's roots looked up lazily.
//!
//! native-tls builds a new OpenSSL context for every connection and parses the whole
//! system bundle into it twice (once as OpenSSL's default paths, once as the file
//! openssl-probe found): about 150 certificates before the first byte is sent. Here the
//! roots come from OpenSSL's hashed directory (`/etc/ssl/certs` with its `<hash>.0`
//! links), which reads only the root a server's chain names, when it is needed. A
//! bundle that is not that directory's copy is parsed, once per process. Verification is native-tls's: the peer's chain against those roots and
//! `ca_file`, and the host name (SNI, no partial wildcards).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslFiletype, SslMethod, SslMode};
use openssl::ssl::{SslOptions, SslVerifyMode};
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509CheckFlags;

/// Why a session could not be set up: OpenSSL's reason, or the `ca_file`'s.
pub enum Failure {
    Library(openssl::error::ErrorStack),
    NotPem(openssl::error::ErrorStack),
}

impl From<openssl::error::ErrorStack> for Failure {
    fn from(e: openssl::error::ErrorStack) -> Self {
        Failure::Library(e)
    }
}

/// A session for `host`, with SNI and the name to verify, on the context of `ca`
/// (the `ca_file`'s path and its bytes), built once.
pub fn client(host: &str, ca: Option<(&Path, &[u8])>) -> Result<Ssl, Failure> {
    let context = context(ca)?;
    let mut ssl = Ssl::new(&context)?;
    let param = ssl.param_mut();
    param.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
    match host.parse::<IpAddr>() {
        Ok(ip) => param.set_ip(ip)?,
        Err(_) => {
            param.set_host(host)?;
            ssl.set_hostname(host)?;
        }
    }
    Ok(ssl)
}

/// Builds the context for `ca` ahead of the first session that needs it. A failure is
/// not kept: that session's [`client`] meets it again and reports it.
pub fn prepare(ca: Option<(&Path, &[u8])>) {
    let _ = context(ca);
}

/// The context for `ca`, built on first use.
fn context(ca: Option<(&Path, &[u8])>) -> Result<SslContext, Failure> {
    static BUILT: Mutex<Option<HashMap<Option<PathBuf>, SslContext>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    let key = ca.map(|(path, _)| path.to_path_buf());
    if let Some(context) = built.get(&key) {
        return Ok(context.clone());
    }
    let context = build(ca.map(|(_, pem)| pem))?;
    built.insert(key, context.clone());
    Ok(context)
}

fn build(ca_pem: Option<&[u8]>) -> Result<SslContext, Failure> {
    let mut builder = SslContextBuilder::new(SslMethod::tls_client())?;
    // The options and ciphers of the openssl crate's SslConnector, which native-tls uses.
    let mut options = SslOptions::ALL
        | SslOptions::NO_COMPRESSION
        | SslOptions::NO_SSLV2
        | SslOptions::NO_SSLV3
        | SslOptions::SINGLE_DH_USE
        | SslOptions::SINGLE_ECDH_USE;
    options &= !SslOptions::DONT_INSERT_EMPTY_FRAGMENTS;
    builder.set_options(options);
    builder.set_mode(
        SslMode::AUTO_RETRY
            | SslMode::ACCEPT_MOVING_WRITE_BUFFER
            | SslMode::ENABLE_PARTIAL_WRITE
            | SslMode::RELEASE_BUFFERS,
    );
    // Reading ahead, OpenSSL takes what the socket holds into its buffer in one read;
    // without, it asks for each record's 5-byte header and then its body: two system
    // calls per record, tens of thousands in a large fetch.
    builder.set_read_ahead(true);
    builder.set_cipher_list(
        "DEFAULT:!aNULL:!eNULL:!MD5:!3DES:!DES:!RC4:!IDEA:!SEED:!aDSS:!SRP:!PSK",
    )?;
    builder.set_verify(SslVerifyMode::PEER);
    builder.set_min_proto_version(Some(openssl::ssl::SslVersion::TLS1_2))?;
    let mut store = system_roots()?;
    if let Some(pem) = ca_pem {
        let cert = openssl::x509::X509::from_pem(pem).map_err(Failure::NotPem)?;
        store.add_cert(cert)?;
    }
    builder.set_cert_store(store.build());
    Ok(builder.build())
}

/// The system's roots, where openssl-probe finds them (`SSL_CERT_FILE` and
/// `SSL_CERT_DIR` first, as OpenSSL itself reads them): every hashed directory, read
/// lazily, and the bundle file unless it lies in one of them (Debian's
/// `/etc/ssl/certs/ca-certificates.crt` is that directory's certificates again, written
/// by the same update-ca-certificates). A bundle elsewhere, such as Fedora's or one
/// named in `SSL_CERT_FILE`, is parsed, once per process.
fn system_roots() -> Result<X509StoreBuilder, openssl::error::ErrorStack> {
    let found = openssl_probe::probe();
    let mut store = X509StoreBuilder::new()?;
    let hashed: Vec<PathBuf> = found
        .cert_dir
        .iter()
        .filter(|d| is_hashed(d))
        .filter_map(|d| d.canonicalize().ok())
        .collect();
    if !hashed.is_empty() {
        let lookup = store.add_lookup(X509Lookup::hash_dir())?;
        for dir in hashed.iter().filter_map(|d| d.to_str()) {
            lookup.add_dir(dir, SslFiletype::PEM)?;
        }
    }
    let bundle = found.cert_file.and_then(|f| f.canonicalize().ok());
    let mirrored = |file: &PathBuf| file.parent().is_some_and(|p| hashed.iter().any(|d| d == p));
    if let Some(file) = bundle.filter(|f| !mirrored(f)) {
        let lookup = store.add_lookup(X509Lookup::file())?;
        if let Err(e) = lookup.load_cert_file(&file, SslFiletype::PEM) {
            tracing::debug!("loading {}: {e}", file.display());
        }
    }
    Ok(store)
}

/// Whether `dir` holds OpenSSL's `<8 hex digits>.<n>` links (c_rehash,
/// update-ca-certificates), which its hashed lookup needs.
fn is_hashed(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        match name.split_once('.') {
            Some((hash, n)) => {
                hash.len() == 8
                    && hash.bytes().all(|b| b.is_ascii_hexdigit())
                    && !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
            }
            None => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn a_hashed_directory_is_told_from_a_plain_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca-bundle.crt"), "").unwrap();
        assert!(!is_hashed(dir.path()));
        std::fs::write(dir.path().join("5ad8a5d6.0"), "").unwrap();
        assert!(is_hashed(dir.path()));
    }
}
