//! The configuration file: the shipped example parses and means what it says.

use std::path::Path;

use sync_engine::Config;
use sync_engine::config::Notifications;

#[test]
fn the_example_config_parses_and_derives_the_ews_url() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("engine.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let c = Config::parse("engine.example.toml", &text, |_| None).unwrap();
    assert_eq!(
        c.exchange.url,
        "https://exchange.contoso.local/EWS/Exchange.asmx"
    );
    assert!(
        matches!(c.notifications, Notifications::Push { listen, .. } if listen.port() == 21020)
    );
    assert_eq!(c.users.len(), 3);
    assert_eq!(c.users[2].email, None);
    assert_eq!(c.counters[0].slots.holidays.len(), 1);
    assert_eq!(
        c.counters[0].email.as_deref(),
        Some("registry1@contoso.com")
    );
    // Both the private user's and the private counter's mailboxes are free/busy only.
    assert_eq!(
        c.mailboxes()
            .into_iter()
            .filter(|(_, private)| *private)
            .count(),
        2
    );
}

#[test]
fn a_missing_file_is_an_error_naming_the_path() {
    let err = Config::load(Path::new("/nonexistent/engine.toml")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/engine.toml"),
        "{err}"
    );
}
