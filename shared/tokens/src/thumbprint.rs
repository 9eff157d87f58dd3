//! Certificate thumbprints for certificate-bound tokens (RFC 8705 §3.1).

use ring::digest::{SHA256, digest};

/// The `x5t#S256` confirmation value of a certificate: base64url (no padding) of the SHA-256 of
/// the certificate's DER encoding.
///
/// RFC 8705 §3.1 hashes the whole certificate, not its SubjectPublicKeyInfo, and encodes with
/// base64url, not hex: both mistakes are common and both would make every binding check fail
/// against a conforming issuer.
pub fn x5t_s256(certificate_der: &[u8]) -> String {
    crate::b64::encode(digest(&SHA256, certificate_der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_is_base64url_sha256_of_the_der() {
        // SHA-256("abc") is the FIPS 180-2 example digest.
        assert_eq!(
            x5t_s256(b"abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }
}
