//! Explaining TLS failures: OpenSSL's messages name internal functions and source files;
//! users need the reason and the setting that fixes it.

/// "error:0A000086:SSL routines:FUNC:certificate verify failed:FILE:LINE: (self-signed
/// certificate)" becomes "certificate verify failed (self-signed certificate)", with a hint.
pub fn describe_failure(text: &str) -> String {
    let reason = openssl_reason(text);
    if reason.contains("certificate verify failed") {
        format!("{reason}: if the server uses a private CA, name its certificate in ca_file")
    } else if reason.contains("wrong version number") {
        format!(
            "{reason}: the port does not speak TLS; if it expects STARTTLS, set security = \"starttls\""
        )
    } else {
        reason
    }
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
}
