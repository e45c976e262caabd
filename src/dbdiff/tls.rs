//! TLS for `db-diff`: rustls with the `ring` provider (no OpenSSL), set up as libpq's
//! `sslmode` asks.
//!
//! | sslmode | TLS | the server's certificate |
//! | --- | --- | --- |
//! | `disable` | never | — |
//! | `allow`, `prefer` (default) | when the server offers it | not checked (as libpq) |
//! | `require` | always | not checked; with a root certificate file, checked as `verify-ca` (as libpq) |
//! | `verify-ca` | always | must chain to a root |
//! | `verify-full` | always | must chain to a root and name the host |
//!
//! The roots are `sslrootcert` (a PEM file), `~/.postgresql/root.crt` when it exists, or the
//! system's trusted roots (`sslrootcert=system`). libpq refuses `verify-ca`/`verify-full`
//! without a root file; db-diff uses the system's roots then, which is what managed services
//! with publicly signed certificates (Neon, Supabase's pooler) need, and what a browser does.
//! Whether a password may be sent without TLS is decided by [`super::wire`], not here.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::url::{DatabaseUrl, RootCerts, SslMode};

/// The rustls client configuration the URL asks for; `None` for `sslmode=disable`.
pub fn client_config(url: &DatabaseUrl) -> Result<Option<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let mut config = match url.sslmode {
        SslMode::Disable => return Ok(None),
        SslMode::Allow | SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth(),
        SslMode::VerifyCa => {
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots(url)?), provider)
                    .build()
                    .map_err(|e| format!("cannot set up certificate verification: {e}"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(verifier)))
                .with_no_client_auth()
        }
        SslMode::VerifyFull => builder
            .with_root_certificates(roots(url)?)
            .with_no_client_auth(),
    };
    // PostgreSQL 17 checks the protocol name on direct TLS; older servers ignore it.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(Some(config))
}

/// The roots a certificate must chain to.
fn roots(url: &DatabaseUrl) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match &url.root_certs {
        Some(RootCerts::File(path)) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    format!(
                        "cannot read the root certificate file `{}` (sslrootcert): {e}",
                        path.display()
                    )
                })?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "the root certificate file `{}` (sslrootcert) holds no usable PEM certificate",
                    path.display()
                ));
            }
        }
        Some(RootCerts::System) | None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(format!(
                    "sslmode={} needs root certificates, and this system has none that can be read (install the `ca-certificates` package), or pass `sslrootcert=/path/to/ca.pem` (your provider's CA certificate)",
                    url.sslmode.as_str()
                ));
            }
        }
    }
    Ok(store)
}

/// `prefer`/`require`: encrypt, without checking who the server is (libpq's meaning). The
/// handshake's signatures are still verified, so the session key belongs to the certificate
/// shown.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must reach a root; the name in the certificate is not compared.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // rustls checks the name last, after the chain: a name error means the chain is good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> DatabaseUrl {
        DatabaseUrl::parse(text, &|_| None).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn disable_has_no_tls_and_the_other_modes_do() {
        assert!(
            client_config(&url("postgresql://u@h/d?sslmode=disable"))
                .expect("valid")
                .is_none()
        );
        for mode in ["allow", "prefer", "require"] {
            let config = client_config(&url(&format!("postgresql://u@h/d?sslmode={mode}")))
                .expect("valid")
                .expect("TLS");
            assert_eq!(config.alpn_protocols, vec![b"postgresql".to_vec()]);
        }
    }

    #[test]
    fn a_root_file_that_cannot_be_read_says_which() {
        let err = client_config(&url(
            "postgresql://u@h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        ))
        .unwrap_err();
        assert!(err.contains("`/nonexistent/ca.pem` (sslrootcert)"), "{err}");
        let dir = tempfile::tempdir().expect("temp dir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let err = client_config(&url(&format!(
            "postgresql://u@h/d?sslmode=verify-ca&sslrootcert={}",
            empty.display()
        )))
        .unwrap_err();
        assert!(err.contains("holds no usable PEM certificate"), "{err}");
    }
}
