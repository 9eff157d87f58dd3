//! The signed example proofs of RFC 9449, verified with the clock pinned to their `iat`.

use http::{HeaderMap, HeaderValue, Method};
use serde_json::json;
use tokens::dpop::{
    AuthScheme, DpopConfig, DpopVerifier, Htu, Presentation, bound_jkt, check_presentation,
    credentials, proof_header,
};
use tokens::{DpopError, ManualClock};

/// The thumbprint of the example key (RFC 9449 §6.1, Figure 9).
const RFC_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

/// §4.1 Figure 2, repeated in §5 Figure 5: `POST https://server.example.com/token`.
const TOKEN_REQUEST_PROOF: &str = concat!(
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik",
    "VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR",
    "nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE",
    "QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIj",
    "oiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwia",
    "WF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg",
    "4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg",
);
const TOKEN_REQUEST_IAT: i64 = 1_562_262_616;

/// §5 Figure 7: the refresh-token request, same key and `jti`, later `iat`.
const REFRESH_REQUEST_PROOF: &str = concat!(
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik",
    "VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR",
    "nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE",
    "QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIj",
    "oiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwia",
    "WF0IjoxNTYyMjY1Mjk2fQ.pAqut2IRDm_De6PR93SYmGBPXpwrAk90e8cP2hjiaG5Qs",
    "GSuKDYW7_X620BxqhvYC8ynrrvZLTk41mSRroapUA",
);
const REFRESH_REQUEST_IAT: i64 = 1_562_265_296;

/// §7.1 Figure 13: `GET https://resource.example.org/protectedresource` with an access token.
const RESOURCE_PROOF: &str = concat!(
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik",
    "VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR",
    "nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE",
    "QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIj",
    "oiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0Z",
    "WRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNF",
    "c05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71E",
    "OptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA",
);
const RESOURCE_IAT: i64 = 1_562_262_618;
const RESOURCE_TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";

fn verifier_at(now: i64) -> DpopVerifier {
    DpopVerifier::new(DpopConfig::default(), ManualClock::new(now)).unwrap()
}

#[test]
fn token_request_proof_of_section_4_1_verifies() {
    let verifier = verifier_at(TOKEN_REQUEST_IAT);
    let htu = Htu::parse("https://server.example.com/token").unwrap();
    let proof = verifier
        .verify(
            TOKEN_REQUEST_PROOF,
            &Method::POST,
            &htu,
            None,
            Some(RFC_JKT),
        )
        .unwrap();
    assert_eq!(proof.jkt(), RFC_JKT);
    assert_eq!(proof.jti(), "-BwC3ESc6acc2lTc");
    assert_eq!(proof.iat(), TOKEN_REQUEST_IAT);
}

#[test]
fn token_request_proof_matches_an_equivalent_spelling_of_the_uri() {
    let verifier = verifier_at(TOKEN_REQUEST_IAT);
    let htu = Htu::parse("HTTPS://Server.Example.com:443/token?grant=x#f").unwrap();
    verifier
        .verify(TOKEN_REQUEST_PROOF, &Method::POST, &htu, None, None)
        .unwrap();
}

#[test]
fn refresh_request_proof_of_section_5_verifies() {
    let verifier = verifier_at(REFRESH_REQUEST_IAT + 30);
    let htu = Htu::parse("https://server.example.com/token").unwrap();
    let proof = verifier
        .verify(
            REFRESH_REQUEST_PROOF,
            &Method::POST,
            &htu,
            None,
            Some(RFC_JKT),
        )
        .unwrap();
    assert_eq!(proof.iat(), REFRESH_REQUEST_IAT);
}

#[test]
fn resource_proof_of_section_7_verifies_with_its_access_token() {
    let verifier = verifier_at(RESOURCE_IAT);
    let htu = Htu::parse("https://resource.example.org/protectedresource").unwrap();
    let proof = verifier
        .verify(
            RESOURCE_PROOF,
            &Method::GET,
            &htu,
            Some(RESOURCE_TOKEN),
            Some(RFC_JKT),
        )
        .unwrap();
    assert_eq!(proof.jti(), "e1j3V_bKic8-LAEB");
}

#[test]
fn section_7_request_end_to_end_through_the_headers() {
    // Figure 13's request as a server receives it, with Figure 9's claims for the token.
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("DPoP {RESOURCE_TOKEN}")).unwrap(),
    );
    headers.insert("dpop", HeaderValue::from_static(RESOURCE_PROOF));
    let token_claims = json!({
        "sub": "someone@example.com", "iss": "https://server.example.com",
        "nbf": 1_562_262_611, "exp": 1_562_266_216,
        "cnf": {"jkt": RFC_JKT}
    });
    let token_claims = token_claims.as_object().unwrap();

    let creds = credentials(&headers).unwrap().unwrap();
    assert_eq!(creds.scheme, AuthScheme::Dpop);
    let proof = proof_header(&headers).unwrap();
    let Presentation::Dpop { jkt } = check_presentation(
        creds.scheme,
        bound_jkt(token_claims).unwrap(),
        proof.is_some(),
    )
    .unwrap() else {
        panic!("a DPoP-bound token with the DPoP scheme");
    };
    let verifier = verifier_at(RESOURCE_IAT + 1);
    let htu = Htu::parse("https://resource.example.org/protectedresource").unwrap();
    verifier
        .verify(
            proof.unwrap(),
            &Method::GET,
            &htu,
            Some(creds.token),
            Some(jkt),
        )
        .unwrap();
}

#[test]
fn rfc_proofs_are_refused_when_replayed_or_out_of_their_window() {
    let clock = ManualClock::new(TOKEN_REQUEST_IAT);
    let verifier = DpopVerifier::new(DpopConfig::default(), clock.clone()).unwrap();
    let htu = Htu::parse("https://server.example.com/token").unwrap();
    verifier
        .verify(TOKEN_REQUEST_PROOF, &Method::POST, &htu, None, None)
        .unwrap();
    assert_eq!(
        verifier.verify(TOKEN_REQUEST_PROOF, &Method::POST, &htu, None, None),
        Err(DpopError::Replayed)
    );
    clock.advance(61);
    assert_eq!(
        verifier.verify(TOKEN_REQUEST_PROOF, &Method::POST, &htu, None, None),
        Err(DpopError::IatTooOld {
            iat: TOKEN_REQUEST_IAT,
            now: TOKEN_REQUEST_IAT + 61,
            max_age: 60
        })
    );
    // The resource proof is not a token-request proof, and not without its token.
    let verifier = verifier_at(RESOURCE_IAT);
    assert!(matches!(
        verifier.verify(RESOURCE_PROOF, &Method::POST, &htu, None, None),
        Err(DpopError::HtmMismatch { .. })
    ));
    let resource = Htu::parse("https://resource.example.org/protectedresource").unwrap();
    assert_eq!(
        verifier.verify(
            RESOURCE_PROOF,
            &Method::GET,
            &resource,
            Some("another-token"),
            Some(RFC_JKT)
        ),
        Err(DpopError::AthMismatch)
    );
}
