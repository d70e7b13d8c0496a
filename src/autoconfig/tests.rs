//! Unit tests of the parent module.

use super::*;

const FILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.org">
    <domain>example.org</domain>
    <incomingServer type="imap">
      <hostname>plain.example.org</hostname>
      <port>143</port>
      <socketType>plain</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.example.org</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.org</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.org</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <authentication>OAuth2</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>"#;

#[test]
fn takes_the_first_encrypted_server_of_each_kind() {
    let found = parse(FILE, "alice@example.org").unwrap();
    let imap = found.imap.unwrap();
    assert_eq!(
        (imap.host.as_str(), imap.port, imap.security),
        ("imap.example.org", 993, Security::Tls)
    );
    assert_eq!(imap.user.as_deref(), Some("alice"));
    let smtp = found.smtp.unwrap();
    assert_eq!(
        (smtp.port, smtp.security, smtp.oauth2),
        (587, Security::Starttls, true)
    );
    assert_eq!(smtp.user, None);
    assert_eq!(found.pop3.unwrap().host, "pop.example.org");
}

#[test]
fn garbage_and_hostile_files_give_nothing() {
    assert_eq!(parse("not xml at all <<<", "a@b.c"), None);
    assert_eq!(parse("<clientConfig/>", "a@b.c"), None);
    let deep = "<a>".repeat(10_000);
    assert_eq!(parse(&deep, "a@b.c"), None);
    let bad_host = FILE.replace("imap.example.org", "evil host;rm -rf");
    let found = parse(&bad_host, "alice@example.org").unwrap();
    assert_eq!(found.imap, None);
}
