//! The servers and quirks of the providers people use, so that `mailer account add` can
//! set up an account from its address alone. Each entry says how its users log in
//! (a password, an app password, an authorization code, OAuth2) and what to do first.

use super::account::Security;
use super::token::Provider;

/// One server of a preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub host: &'static str,
    pub port: u16,
    pub security: Security,
}

/// How the provider's users log in from a mail client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// The account's own password.
    Password,
    /// A password made for mail clients in the provider's settings.
    AppPassword,
    /// A code the provider's web mail gives once IMAP/SMTP is enabled (QQ, NetEase).
    AuthorizationCode,
    /// OAuth2 with this provider's preset (`mailer auth login`).
    OAuth2(Provider),
}

#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// Its name in messages and for `account add --preset`.
    pub id: &'static str,
    pub name: &'static str,
    /// The address domains it serves (custom domains pick a preset by `--preset`).
    pub domains: &'static [&'static str],
    pub imap: Option<Endpoint>,
    pub pop3: Option<Endpoint>,
    pub smtp: Endpoint,
    pub login: Login,
    /// False for servers that offer SASL-IR and refuse it.
    pub sasl_ir: bool,
    /// A certificate the user must trust (Proton Mail Bridge's own).
    pub needs_ca_file: bool,
    /// What to do before the first login, shown by `account add`.
    pub hint: &'static str,
}

const fn tls(host: &'static str, port: u16) -> Endpoint {
    Endpoint {
        host,
        port,
        security: Security::Tls,
    }
}

const fn starttls(host: &'static str, port: u16) -> Endpoint {
    Endpoint {
        host,
        port,
        security: Security::Starttls,
    }
}

/// A preset with the usual ports: IMAPS 993, POP3S 995, SMTPS 465.
const fn usual(
    id: &'static str,
    name: &'static str,
    domains: &'static [&'static str],
    hosts: [&'static str; 3],
    login: Login,
    hint: &'static str,
) -> Preset {
    Preset {
        id,
        name,
        domains,
        imap: Some(tls(hosts[0], 993)),
        pop3: Some(tls(hosts[1], 995)),
        smtp: tls(hosts[2], 465),
        login,
        sasl_ir: true,
        needs_ca_file: false,
        hint,
    }
}

const NETEASE_HINT: &str = "enable IMAP/SMTP in the web mail's settings (设置 → POP3/SMTP/IMAP) and use the authorization code (授权码) it shows as the password";
const QQ_HINT: &str = "enable IMAP/SMTP in QQ Mail's settings (设置 → 账户) and use the authorization code (授权码) it gives as the password";

pub const PRESETS: &[Preset] = &[
    Preset {
        id: "google",
        name: "Gmail / Google Workspace",
        domains: &["gmail.com", "googlemail.com"],
        imap: Some(tls("imap.gmail.com", 993)),
        pop3: Some(tls("pop.gmail.com", 995)),
        smtp: tls("smtp.gmail.com", 465),
        login: Login::OAuth2(Provider::Google),
        sasl_ir: true,
        needs_ca_file: false,
        hint: "register an OAuth2 client (docs/oauth2.md), put its client_id and client_secret_command in [accounts.NAME.oauth2], then run \"mailer auth login\"; or use an app password",
    },
    Preset {
        id: "outlook",
        name: "Outlook.com / Hotmail",
        domains: &[
            "outlook.com",
            "hotmail.com",
            "live.com",
            "msn.com",
            "hotmail.co.uk",
            "hotmail.fr",
            "hotmail.de",
            "outlook.de",
            "outlook.fr",
            "live.co.uk",
        ],
        imap: Some(tls("outlook.office365.com", 993)),
        pop3: Some(tls("outlook.office365.com", 995)),
        smtp: starttls("smtp-mail.outlook.com", 587),
        login: Login::OAuth2(Provider::Microsoft),
        sasl_ir: true,
        needs_ca_file: false,
        hint: "register an app in Microsoft Entra (docs/oauth2.md), put its client_id in [accounts.NAME.oauth2], then run \"mailer auth login\"",
    },
    Preset {
        id: "microsoft365",
        name: "Microsoft 365",
        domains: &[],
        imap: Some(tls("outlook.office365.com", 993)),
        pop3: Some(tls("outlook.office365.com", 995)),
        smtp: starttls("smtp.office365.com", 587),
        login: Login::OAuth2(Provider::Microsoft),
        sasl_ir: true,
        needs_ca_file: false,
        hint: "register an app in Microsoft Entra (docs/oauth2.md), put its client_id and your tenant in [accounts.NAME.oauth2], then run \"mailer auth login\"; an administrator may have to allow SMTP AUTH",
    },
    Preset {
        id: "icloud",
        name: "iCloud Mail",
        domains: &["icloud.com", "me.com", "mac.com"],
        imap: Some(tls("imap.mail.me.com", 993)),
        pop3: None,
        smtp: starttls("smtp.mail.me.com", 587),
        login: Login::AppPassword,
        sasl_ir: true,
        needs_ca_file: false,
        hint: "create an app-specific password at account.apple.com (Sign-In and Security → App-Specific Passwords)",
    },
    usual(
        "fastmail",
        "Fastmail",
        &[
            "fastmail.com",
            "fastmail.fm",
            "fastmail.net",
            "messagingengine.com",
        ],
        ["imap.fastmail.com", "pop.fastmail.com", "smtp.fastmail.com"],
        Login::AppPassword,
        "create an app password in Fastmail's settings (Privacy & Security → Integrations)",
    ),
    usual(
        "yahoo",
        "Yahoo Mail",
        &[
            "yahoo.com",
            "ymail.com",
            "rocketmail.com",
            "yahoo.co.uk",
            "yahoo.fr",
            "yahoo.de",
        ],
        [
            "imap.mail.yahoo.com",
            "pop.mail.yahoo.com",
            "smtp.mail.yahoo.com",
        ],
        Login::AppPassword,
        "create an app password in Yahoo's account security settings",
    ),
    usual(
        "aol",
        "AOL Mail",
        &["aol.com", "aim.com"],
        ["imap.aol.com", "pop.aol.com", "smtp.aol.com"],
        Login::AppPassword,
        "create an app password in AOL's account security settings",
    ),
    usual(
        "gmx",
        "GMX",
        &["gmx.de", "gmx.net", "gmx.at", "gmx.ch"],
        ["imap.gmx.net", "pop.gmx.net", "mail.gmx.net"],
        Login::Password,
        "allow POP3/IMAP access in GMX's settings (E-Mail → POP3/IMAP Abruf) first",
    ),
    usual(
        "gmx.com",
        "GMX (international)",
        &["gmx.com", "gmx.us", "gmx.co.uk"],
        ["imap.gmx.com", "pop.gmx.com", "mail.gmx.com"],
        Login::Password,
        "allow POP3/IMAP access in GMX's settings first",
    ),
    Preset {
        id: "webde",
        name: "WEB.DE",
        domains: &["web.de"],
        imap: Some(tls("imap.web.de", 993)),
        pop3: Some(tls("pop3.web.de", 995)),
        smtp: starttls("smtp.web.de", 587),
        login: Login::Password,
        sasl_ir: true,
        needs_ca_file: false,
        hint: "allow POP3/IMAP access in WEB.DE's settings (E-Mail → POP3/IMAP Abruf) first",
    },
    usual(
        "yandex",
        "Yandex Mail",
        &["yandex.ru", "yandex.com", "ya.ru", "yandex.by", "yandex.kz"],
        ["imap.yandex.com", "pop.yandex.com", "smtp.yandex.com"],
        Login::AppPassword,
        "enable mail clients in Yandex Mail's settings and create an app password (id.yandex.com → Security)",
    ),
    usual(
        "mailru",
        "Mail.ru",
        &["mail.ru", "inbox.ru", "list.ru", "bk.ru", "internet.ru"],
        ["imap.mail.ru", "pop.mail.ru", "smtp.mail.ru"],
        Login::AppPassword,
        "create a password for external applications in Mail.ru's security settings",
    ),
    usual(
        "zoho.eu",
        "Zoho Mail (EU data centre)",
        &["zoho.eu", "zohomail.eu"],
        ["imap.zoho.eu", "pop.zoho.eu", "smtp.zoho.eu"],
        Login::AppPassword,
        "enable IMAP access in Zoho Mail's settings; with two-factor sign-in, create an app-specific password",
    ),
    usual(
        "zoho",
        "Zoho Mail",
        &["zoho.com", "zohomail.com"],
        ["imap.zoho.com", "pop.zoho.com", "smtp.zoho.com"],
        Login::AppPassword,
        "enable IMAP access in Zoho Mail's settings; with two-factor sign-in, create an app-specific password",
    ),
    usual(
        "posteo",
        "Posteo",
        &[
            "posteo.de",
            "posteo.net",
            "posteo.org",
            "posteo.eu",
            "posteo.at",
            "posteo.ch",
        ],
        ["posteo.de", "posteo.de", "posteo.de"],
        Login::Password,
        "",
    ),
    usual(
        "mailbox.org",
        "mailbox.org",
        &["mailbox.org"],
        ["imap.mailbox.org", "pop3.mailbox.org", "smtp.mailbox.org"],
        Login::Password,
        "",
    ),
    usual(
        "qq",
        "QQ Mail / Foxmail",
        &["qq.com", "vip.qq.com", "foxmail.com"],
        ["imap.qq.com", "pop.qq.com", "smtp.qq.com"],
        Login::AuthorizationCode,
        QQ_HINT,
    ),
    netease(
        "163",
        "NetEase 163",
        &["163.com"],
        ["imap.163.com", "pop.163.com", "smtp.163.com"],
    ),
    netease(
        "126",
        "NetEase 126",
        &["126.com"],
        ["imap.126.com", "pop.126.com", "smtp.126.com"],
    ),
    netease(
        "yeah",
        "NetEase yeah.net",
        &["yeah.net"],
        ["imap.yeah.net", "pop.yeah.net", "smtp.yeah.net"],
    ),
    usual(
        "exmail",
        "Tencent Exmail",
        &["exmail.qq.com"],
        [
            "imap.exmail.qq.com",
            "pop.exmail.qq.com",
            "smtp.exmail.qq.com",
        ],
        Login::AuthorizationCode,
        "enable IMAP/SMTP in Exmail's settings; with WeChat sign-in on, use a client-specific password",
    ),
    usual(
        "aliyun",
        "Aliyun Mail",
        &["aliyun.com"],
        ["imap.aliyun.com", "pop3.aliyun.com", "smtp.aliyun.com"],
        Login::Password,
        "enable IMAP/SMTP in Aliyun Mail's settings first",
    ),
    usual(
        "sina",
        "Sina Mail",
        &["sina.com", "sina.cn"],
        ["imap.sina.com", "pop.sina.com", "smtp.sina.com"],
        Login::AuthorizationCode,
        "enable IMAP/SMTP in Sina Mail's settings and use the authorization code it gives",
    ),
    Preset {
        id: "proton",
        name: "Proton Mail (through Proton Mail Bridge)",
        domains: &["proton.me", "protonmail.com", "protonmail.ch", "pm.me"],
        imap: Some(starttls("127.0.0.1", 1143)),
        pop3: None,
        smtp: starttls("127.0.0.1", 1025),
        login: Login::Password,
        sasl_ir: true,
        needs_ca_file: true,
        hint: "run Proton Mail Bridge; use the password it shows for this mailbox, and export its certificate (Settings → Advanced → Export TLS certificates) to ~/.config/mailer/proton-bridge.pem, the ca_file written",
    },
];

/// NetEase's Coremail servers: they offer SASL-IR and refuse it, and want IMAP ID
/// (which mailer always sends when offered).
const fn netease(
    id: &'static str,
    name: &'static str,
    domains: &'static [&'static str],
    hosts: [&'static str; 3],
) -> Preset {
    let mut preset = usual(
        id,
        name,
        domains,
        hosts,
        Login::AuthorizationCode,
        NETEASE_HINT,
    );
    preset.sasl_ir = false;
    preset
}

/// The preset for an address's domain.
pub fn for_domain(domain: &str) -> Option<&'static Preset> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    PRESETS
        .iter()
        .find(|p| p.domains.iter().any(|d| *d == domain))
}

/// A preset by its id, for `--preset`.
pub fn by_id(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id.eq_ignore_ascii_case(id))
}
