//! The Bearer downgrade and the request headers (RFC 9449 §4.3 point 1, §7.1, §7.2).

use http::{HeaderMap, HeaderValue};
use serde_json::json;
use tokens::DpopError;
use tokens::dpop::{
    AuthScheme, Presentation, bound_jkt, check_presentation, credentials, proof_header,
};

use crate::helpers::Forge;

const JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

#[test]
fn a_dpop_bound_token_presented_as_bearer_is_refused() {
    let err = check_presentation(AuthScheme::Bearer, Some(JKT), false).unwrap_err();
    assert_eq!(err, DpopError::BoundTokenAsBearer);
    assert_eq!(err.error_code(), "invalid_token");
    // Sending a proof as well does not make the Bearer scheme acceptable.
    assert_eq!(
        check_presentation(AuthScheme::Bearer, Some(JKT), true),
        Err(DpopError::BoundTokenAsBearer)
    );
}

#[test]
fn the_dpop_scheme_needs_a_proof_and_a_bound_token() {
    let err = check_presentation(AuthScheme::Dpop, Some(JKT), false).unwrap_err();
    assert_eq!(err, DpopError::MissingProof);
    assert_eq!(err.error_code(), "invalid_dpop_proof");
    let err = check_presentation(AuthScheme::Dpop, None, true).unwrap_err();
    assert_eq!(err, DpopError::TokenNotBound);
    assert_eq!(err.error_code(), "invalid_token");
    assert_eq!(
        check_presentation(AuthScheme::Dpop, Some(JKT), true),
        Ok(Presentation::Dpop { jkt: JKT })
    );
    assert_eq!(
        check_presentation(AuthScheme::Bearer, None, false),
        Ok(Presentation::Bearer)
    );
}

#[test]
fn downgrade_through_real_headers() {
    // A thief with the token but not the key tries `Authorization: Bearer`.
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_static("Bearer abc.def.ghi"),
    );
    let claims = json!({"sub": "customer", "cnf": {"jkt": JKT}});
    let creds = credentials(&headers).unwrap().unwrap();
    let proof = proof_header(&headers).unwrap();
    assert_eq!(
        check_presentation(
            creds.scheme,
            bound_jkt(claims.as_object().unwrap()).unwrap(),
            proof.is_some()
        ),
        Err(DpopError::BoundTokenAsBearer)
    );
}

#[test]
fn more_than_one_dpop_header_is_refused() {
    let mut headers = HeaderMap::new();
    let proof = Forge::es256().sign();
    headers.append("dpop", HeaderValue::from_str(&proof).unwrap());
    assert_eq!(proof_header(&headers), Ok(Some(proof.as_str())));
    headers.append("DPoP", HeaderValue::from_str(&proof).unwrap());
    let err = proof_header(&headers).unwrap_err();
    assert_eq!(err, DpopError::MultipleProofs);
    assert_eq!(err.error_code(), "invalid_dpop_proof");
}

#[test]
fn ambiguous_authorization_is_an_invalid_request() {
    let mut headers = HeaderMap::new();
    headers.append("authorization", HeaderValue::from_static("Bearer abc"));
    headers.append("authorization", HeaderValue::from_static("DPoP abc"));
    let err = credentials(&headers).unwrap_err();
    assert_eq!(err, DpopError::MultipleAuthorization);
    assert_eq!(err.error_code(), "invalid_request");
}
