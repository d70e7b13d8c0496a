//! Explaining TLS failures: OpenSSL's messages name internal functions and source files;
//! users need the reason and the setting that fixes it.

/// "error:0A000086:SSL routines:FUNC:certificate verify failed:FILE:LINE: (self-signed
/// certificate)" becomes "certificate verify failed (self-signed certificate)", with a hint.
pub fn describe_failure(text: &str) -> String {
    let reason = openssl_reason(text);
    let lower = reason.to_ascii_lowercase();
    if lower.contains("hostname mismatch") || lower.contains("ip address mismatch") {
        format!(
            "{reason}: the certificate is for another name; set host to a name the certificate lists"
        )
    } else if lower.contains("certificate has expired") {
        format!(
            "{reason}: the server's certificate is out of date; its operator must renew it (or this machine's clock is wrong)"
        )
    } else if lower.contains("not yet valid") {
        format!("{reason}: check this machine's clock")
    } else if lower.contains("certificate verify failed") {
        format!("{reason}: if the server uses a private CA, name its certificate in ca_file")
    } else if reason.contains("wrong version number") {
        format!(
            "{reason}: the port does not speak TLS; if it expects STARTTLS, set security = \"starttls\""
        )
    } else {
        reason
    }
}

/// Whether a handshake failed because the connection ended or broke, rather than
/// because of what the server presented.
pub fn is_cut(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "unexpected eof",
        "eof while reading",
        "connection reset",
        "broken pipe",
        "connection aborted",
    ]
    .iter()
    .any(|sign| lower.contains(sign))
}

fn openssl_reason(text: &str) -> String {
    let Some(start) = text.find("error:") else {
        return crate::error::one_line(text);
    };
    let fields: Vec<&str> = text[start..].splitn(7, ':').collect();
    match fields.as_slice() {
        [_, _, _, _, reason, _, rest] => {
            let detail = rest
                .split_once('(')
                .and_then(|(_, d)| d.split_once(')'))
                .map(|(d, _)| format!(" ({d})"))
                .unwrap_or_default();
            format!("{reason}{detail}")
        }
        _ => crate::error::one_line(text),
    }
}

/// What a verified certificate says, for `mailer check`: subject, issuer, the days to
/// its expiry. The handshake has already checked it against the host name.
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
pub fn describe_certificate(der: &[u8], host: &str) -> String {
    let Ok(cert) = openssl::x509::X509::from_der(der) else {
        return format!("verified for {host}");
    };
    let name = |n: &openssl::x509::X509NameRef| {
        n.entries()
            .filter_map(|e| {
                let key = e.object().nid().short_name().ok()?;
                let value = e.data().to_string().ok()?;
                Some(format!("{key}={value}"))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let days = openssl::asn1::Asn1Time::days_from_now(0)
        .ok()
        .and_then(|now| now.diff(cert.not_after()).ok())
        .map(|d| d.days);
    let expiry = match days {
        Some(d) if d < 0 => format!("expired {} days ago", -d),
        Some(d) => format!("expires in {d} days"),
        None => "expiry unknown".to_string(),
    };
    format!(
        "verified for {host}: subject {}; issuer {}; {expiry}",
        name(cert.subject_name()),
        name(cert.issuer_name())
    )
}

/// Without OpenSSL to read it: that the certificate was verified.
#[cfg(any(target_os = "macos", target_os = "windows"))]
pub fn describe_certificate(_der: &[u8], host: &str) -> String {
    format!("verified for {host}")
}

/// The TLS library mailer runs on, with its version, for `mailer --version`.
pub fn library() -> String {
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    return openssl::version::version().to_string();
    #[cfg(target_os = "macos")]
    return "native-tls on Security.framework".to_string();
    #[cfg(target_os = "windows")]
    return "native-tls on SChannel".to_string();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_openssl_internals() {
        let raw = "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889: (self-signed certificate)";
        let d = describe_failure(raw);
        assert!(
            d.starts_with("certificate verify failed (self-signed certificate): "),
            "{d}"
        );
        assert!(d.contains("ca_file"));
    }

    #[test]
    fn a_handshake_cut_short_is_told_from_a_refused_certificate() {
        assert!(is_cut(
            "error:0A000126:SSL routines::unexpected eof while reading:../ssl/record/rec_layer_s3.c:317:"
        ));
        assert!(is_cut("Connection reset by peer (os error 104)"));
        assert!(!is_cut(
            "error:0A000086:SSL routines::certificate verify failed: (self-signed certificate)"
        ));
    }

    #[test]
    fn the_hint_fits_the_reason() {
        let fail = |detail: &str| {
            describe_failure(&format!(
                "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889: ({detail})"
            ))
        };
        let mismatch = fail("Hostname mismatch");
        assert!(
            mismatch.contains("set host to a name the certificate lists"),
            "{mismatch}"
        );
        assert!(!mismatch.contains("ca_file"), "{mismatch}");
        let expired = fail("certificate has expired");
        assert!(expired.contains("renew"), "{expired}");
        assert!(!expired.contains("ca_file"), "{expired}");
        assert!(fail("unable to get local issuer certificate").contains("ca_file"));
    }
}
