//! The checks X509-SVID.md §5.2 adds to path validation: what makes a certificate an SVID leaf.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use super::error::{KeyUsageFault, SvidError};
use crate::spiffe_id::SpiffeId;

/// What the leaf says about itself, once its form has been checked. Nothing here is trusted
/// until the chain has been verified too.
#[derive(Debug)]
pub(crate) struct LeafFacts {
    pub(crate) spiffe_id: SpiffeId,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
}

/// Checks that `der` is shaped like a leaf X.509-SVID: exactly one URI SAN holding a valid SPIFFE
/// ID with a path, not a CA, key usage with `digitalSignature` and without the signing bits.
pub(crate) fn inspect(der: &[u8]) -> Result<LeafFacts, SvidError> {
    let certificate = parse(der)?;
    let spiffe_id = spiffe_id_of_parsed(&certificate)?;
    if spiffe_id.path().is_empty() {
        return Err(SvidError::MissingPath { id: spiffe_id });
    }
    check_not_ca(&certificate)?;
    check_key_usage(&certificate)?;
    let validity = certificate.validity();
    Ok(LeafFacts {
        spiffe_id,
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
    })
}

/// The SPIFFE ID in a certificate's single URI SAN.
pub(crate) fn spiffe_id_of(der: &[u8]) -> Result<SpiffeId, SvidError> {
    spiffe_id_of_parsed(&parse(der)?)
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, SvidError> {
    match x509_parser::parse_x509_certificate(der) {
        Ok((rest, _)) if !rest.is_empty() => Err(SvidError::Malformed(format!(
            "{} bytes after the certificate",
            rest.len()
        ))),
        Ok((_, certificate)) => Ok(certificate),
        Err(error) => Err(SvidError::Malformed(error.to_string())),
    }
}

fn spiffe_id_of_parsed(certificate: &X509Certificate<'_>) -> Result<SpiffeId, SvidError> {
    // x509-parser refuses a certificate with two SAN extensions, so counting within the one
    // extension counts them all.
    let san = certificate
        .subject_alternative_name()
        .map_err(|error| SvidError::Malformed(error.to_string()))?;
    let mut uris = san.iter().flat_map(|san| {
        san.value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::URI(uri) => Some(*uri),
                _ => None,
            })
    });
    let first = uris.next().ok_or(SvidError::NoUriSan)?;
    let others = uris.count();
    if others > 0 {
        return Err(SvidError::MultipleUriSans { count: others + 1 });
    }
    SpiffeId::parse(first).map_err(SvidError::InvalidSpiffeId)
}

fn check_not_ca(certificate: &X509Certificate<'_>) -> Result<(), SvidError> {
    let constraints = certificate
        .basic_constraints()
        .map_err(|error| SvidError::Malformed(error.to_string()))?;
    // An absent extension means cA=false (RFC 5280 §4.2.1.9).
    match constraints {
        Some(constraints) if constraints.value.ca => Err(SvidError::LeafIsCa),
        _ => Ok(()),
    }
}

fn check_key_usage(certificate: &X509Certificate<'_>) -> Result<(), SvidError> {
    let key_usage = certificate
        .key_usage()
        .map_err(|error| SvidError::Malformed(error.to_string()))?
        .ok_or(SvidError::BadKeyUsage(KeyUsageFault::Missing))?
        .value;
    if key_usage.key_cert_sign() {
        return Err(SvidError::BadKeyUsage(KeyUsageFault::KeyCertSign));
    }
    if key_usage.crl_sign() {
        return Err(SvidError::BadKeyUsage(KeyUsageFault::CrlSign));
    }
    if !key_usage.digital_signature() {
        return Err(SvidError::BadKeyUsage(KeyUsageFault::NoDigitalSignature));
    }
    Ok(())
}
