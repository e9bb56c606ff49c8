//! HTTPS for `--tls` / [`MockEwsBuilder::tls`](crate::MockEwsBuilder::tls): a self-signed
//! certificate for `localhost` and `127.0.0.1`, generated at start-up (rcgen, ring), so a
//! client's private-CA path (on-premises Exchange rarely has a public certificate) is tested
//! end to end without a fixture that expires or a key checked into the repository.
//!
//! The handshake runs in a task per connection, off the accept loop: a client that connects
//! and never speaks TLS (or rejects the certificate) must not hold up the others.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A handshake that has not finished after this long is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the server to take them.
const BACKLOG: usize = 64;

/// Why the TLS identity could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate the self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("rustls refused the generated certificate: {0}")]
    Config(#[from] rustls::Error),
}

/// The generated certificate (PEM, for clients to trust) and the server configuration.
#[derive(Clone)]
pub(crate) struct TlsIdentity {
    cert_pem: String,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// A fresh key pair and a self-signed certificate whose subject alternative names are
    /// `localhost` and `127.0.0.1` (both of the names a test client uses for a loopback
    /// server), valid from 1975 to 4096 (rcgen's defaults: the virtual clock never matters).
    pub(crate) fn generate() -> Result<Self, TlsError> {
        let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        Ok(TlsIdentity {
            cert_pem: cert.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The certificate in PEM form: what a client adds to its trust store.
    pub(crate) fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Accepts on `listener` and hands out the connections whose handshake succeeded. The
    /// accept task stops when the receiver is dropped (and is aborted then by
    /// [`TlsIncoming`]'s drop, as it may be parked in `accept`).
    pub(crate) fn incoming(&self, listener: TcpListener) -> std::io::Result<TlsIncoming> {
        let local = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(BACKLOG);
        let acceptor = self.acceptor.clone();
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((tcp, addr)) => {
                        let _ = tcp.set_nodelay(true);
                        let acceptor = acceptor.clone();
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
                                .await
                            {
                                Ok(Ok(tls)) => {
                                    let _ = tx.send((tls, addr)).await;
                                }
                                // A client that does not trust the certificate ends here: its
                                // own error says why, this side only sees the alert.
                                Ok(Err(err)) => {
                                    tracing::debug!(%addr, "TLS handshake failed: {err}")
                                }
                                Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                            }
                        });
                    }
                    Err(err) => {
                        tracing::warn!("accept failed: {err}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                if tx.is_closed() {
                    break;
                }
            }
        });
        Ok(TlsIncoming {
            local,
            rx,
            task: task.abort_handle(),
        })
    }
}

/// Connections that completed the TLS handshake, in arrival order.
#[derive(Debug)]
pub(crate) struct TlsIncoming {
    pub(crate) local: SocketAddr,
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    task: tokio::task::AbortHandle,
}

impl TlsIncoming {
    pub(crate) async fn next(&mut self) -> (TlsStream<TcpStream>, SocketAddr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept task is gone (it never ends on its own): serve nothing more.
            None => std::future::pending().await,
        }
    }
}

impl Drop for TlsIncoming {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use rustls::pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A client trusting only the generated certificate completes a handshake for `name`.
    async fn handshake(id: &TlsIdentity, name: &'static str) -> Result<(), std::io::Error> {
        let mut roots = rustls::RootCertStore::empty();
        for der in CertificateDer::pem_slice_iter(id.cert_pem().as_bytes()) {
            roots.add(der.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let (client, server) = tokio::io::duplex(64 * 1024);
        let acceptor = id.acceptor.clone();
        let server = tokio::spawn(async move {
            let mut tls = acceptor.accept(server).await?;
            tls.write_all(b"ok").await?;
            tls.shutdown().await
        });
        let mut tls = connector
            .connect(ServerName::try_from(name).unwrap(), client)
            .await?;
        let mut got = Vec::new();
        tls.read_to_end(&mut got).await?;
        assert_eq!(got, b"ok");
        server.await.unwrap()
    }

    #[tokio::test]
    async fn the_certificate_verifies_for_localhost_and_the_loopback_address() {
        let id = TlsIdentity::generate().unwrap();
        assert!(id.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        handshake(&id, "localhost").await.unwrap();
        handshake(&id, "127.0.0.1").await.unwrap();
        let err = handshake(&id, "exchange.contoso.com").await.unwrap_err();
        assert!(err.to_string().contains("certificate"), "{err}");
    }

    #[test]
    fn each_start_generates_its_own_key() {
        let a = TlsIdentity::generate().unwrap();
        let b = TlsIdentity::generate().unwrap();
        assert_ne!(a.cert_pem(), b.cert_pem());
    }
}
