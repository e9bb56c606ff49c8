//! TLS end to end: a TLS front (tokio-rustls, a test CA's certificate for localhost) before a
//! plain wiremock EWS; the client verifies with the custom CA bundle, refuses without it,
//! and connects with the loudly logged opt-out.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ews_clock::Clock;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sync_engine::ews::EwsClient;
use sync_engine::{Config, Exchange, ExchangeError};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// Accepts TLS on a loopback port and relays the plain bytes to `upstream`.
async fn tls_front(upstream: SocketAddr) -> SocketAddr {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("server.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(mut plain) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    addr
}

async fn ews_behind_tls() -> (MockServer, SocketAddr) {
    let server = MockServer::start().await;
    let probe = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/ews-samples/convertid-versionprobe-error-response.xml"),
    )
    .or_else(|_| {
        std::fs::read_to_string(
            "/work/shared/ews-samples/convertid-versionprobe-error-response.xml",
        )
    })
    .unwrap();
    Mock::given(method("POST"))
        .and(body_string_contains("ConvertId"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(probe.into_bytes(), "text/xml"))
        .mount(&server)
        .await;
    let front = tls_front(*server.address()).await;
    (server, front)
}

fn client(front: SocketAddr, tls: &str) -> EwsClient {
    let text = format!(
        "[exchange]\nurl = \"https://localhost:{}/EWS/Exchange.asmx\"\nusername = \"u\"\npassword = \"p\"\n[exchange.tls]\n{tls}",
        front.port()
    );
    let config = Config::parse("t", &text, |_| None).unwrap();
    EwsClient::new(&config.exchange, Clock::system()).unwrap()
}

#[tokio::test]
async fn a_private_ca_bundle_verifies_the_server() {
    let (_server, front) = ews_behind_tls().await;
    let ca = fixture("ca.pem");
    let c = client(front, &format!("ca_bundle = \"{}\"\n", ca.display()));
    let version = c.server_version().await.unwrap();
    assert_eq!(version.to_string(), "v15.01.2345.6789");
}

#[tokio::test]
async fn without_the_bundle_the_certificate_is_refused_as_a_tls_error() {
    let (_server, front) = ews_behind_tls().await;
    let c = client(front, "");
    let err = c.server_version().await.unwrap_err();
    assert!(matches!(err, ExchangeError::Tls { .. }), "{err}");
}

#[tokio::test]
async fn the_insecure_opt_out_connects_to_an_unknown_certificate() {
    let (_server, front) = ews_behind_tls().await;
    let c = client(front, "danger_accept_invalid_certs = true\n");
    assert!(c.server_version().await.is_ok());
}
