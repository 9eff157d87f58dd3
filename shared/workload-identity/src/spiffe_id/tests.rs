//! The examples of SPIFFE-ID.md, valid and invalid, each invalid one with the exact rule it breaks.

use super::*;

fn err(id: &str) -> SpiffeIdError {
    match SpiffeId::parse(id) {
        Ok(parsed) => panic!("{id} was accepted as {parsed}"),
        Err(error) => error,
    }
}

#[test]
fn the_spec_examples_are_valid() {
    for id in [
        "spiffe://trust-domain-name/path",
        "spiffe://staging.example.com/payments/mysql",
        "spiffe://staging.example.com/payments/web-fe",
        "spiffe://k8s-west.example.com/ns/staging/sa/default",
        "spiffe://example.com/9eebccd2-12bf-40a6-b262-65fe0487d453",
        "spiffe://trust_domain_name.example.com/workload",
        // §2.1 does not exclude IPv4 addresses in dotted-quad notation.
        "spiffe://192.168.1.1/workload",
        // The path is case-sensitive and may use uppercase.
        "spiffe://example.com/Payments/MySQL",
        // A trust domain's own ID has no path.
        "spiffe://example.com",
    ] {
        let parsed = SpiffeId::parse(id).unwrap();
        assert_eq!(parsed.as_str(), id);
        assert_eq!(parsed.to_string(), id);
    }
}

#[test]
fn parts_are_exposed() {
    let id = SpiffeId::parse("spiffe://k8s-west.example.com/ns/staging/sa/default").unwrap();
    assert_eq!(id.trust_domain().as_str(), "k8s-west.example.com");
    assert_eq!(id.path(), "/ns/staging/sa/default");
    assert_eq!(id.namespace(), Some("staging"));
    assert_eq!(id.service_account(), Some("default"));
    assert!(id.is_member_of(&TrustDomain::new("k8s-west.example.com").unwrap()));
    assert!(!id.is_member_of(&TrustDomain::new("example.com").unwrap()));

    let root = SpiffeId::parse("spiffe://example.com").unwrap();
    assert_eq!(root.path(), "");
    assert_eq!(root, TrustDomain::new("example.com").unwrap().spiffe_id());
}

#[test]
fn namespace_and_service_account_need_exactly_the_service_account_form() {
    for id in [
        "spiffe://example.com/ns/staging",
        "spiffe://example.com/ns/staging/sa/default/extra",
        "spiffe://example.com/namespace/staging/sa/default",
        "spiffe://example.com/ns/staging/serviceaccount/default",
        "spiffe://example.com/payments/mysql",
        "spiffe://example.com",
    ] {
        let parsed = SpiffeId::parse(id).unwrap();
        assert_eq!(parsed.namespace(), None, "{id}");
        assert_eq!(parsed.service_account(), None, "{id}");
    }
}

#[test]
fn scheme_must_be_lowercase_spiffe() {
    assert_eq!(err(""), SpiffeIdError::Empty);
    assert_eq!(
        err("http://example.com/workload"),
        SpiffeIdError::WrongScheme
    );
    assert_eq!(
        err("spiffe:/example.com/workload"),
        SpiffeIdError::WrongScheme
    );
    assert_eq!(
        err("spiffe:example.com/workload"),
        SpiffeIdError::WrongScheme
    );
    assert_eq!(err("example.com/workload"), SpiffeIdError::WrongScheme);
    assert_eq!(
        err("SPIFFE://example.com/workload"),
        SpiffeIdError::WrongScheme
    );
}

#[test]
fn trust_domain_must_be_present_lowercase_and_from_the_charset() {
    assert_eq!(err("spiffe://"), SpiffeIdError::MissingTrustDomain);
    assert_eq!(err("spiffe:///workload"), SpiffeIdError::MissingTrustDomain);
    assert_eq!(
        err("spiffe://Example.com/workload"),
        SpiffeIdError::BadTrustDomainChar { found: 'E' }
    );
    assert_eq!(
        err("spiffe://exa mple.com/workload"),
        SpiffeIdError::BadTrustDomainChar { found: ' ' }
    );
    // IPv6 literals are excluded (§2.1).
    assert_eq!(
        err("spiffe://[::1]/workload"),
        SpiffeIdError::BadTrustDomainChar { found: '[' }
    );
    assert_eq!(
        err("spiffe://exämple.com/workload"),
        SpiffeIdError::BadTrustDomainChar { found: 'ä' }
    );
}

#[test]
fn authority_has_no_userinfo_port_or_percent_encoding() {
    assert_eq!(
        err("spiffe://user@example.com/workload"),
        SpiffeIdError::HasUserInfo
    );
    assert_eq!(
        err("spiffe://user:secret@example.com/workload"),
        SpiffeIdError::HasUserInfo
    );
    assert_eq!(
        err("spiffe://example.com:8443/workload"),
        SpiffeIdError::HasPort
    );
    // Not even the `:` delimiter with an empty port.
    assert_eq!(
        err("spiffe://example.com:/workload"),
        SpiffeIdError::HasPort
    );
    assert_eq!(
        err("spiffe://exa%6Dple.com/workload"),
        SpiffeIdError::PercentEncoded
    );
}

#[test]
fn no_query_or_fragment() {
    assert_eq!(
        err("spiffe://example.com/workload?query"),
        SpiffeIdError::HasQuery
    );
    assert_eq!(err("spiffe://example.com?query"), SpiffeIdError::HasQuery);
    assert_eq!(
        err("spiffe://example.com/workload#fragment"),
        SpiffeIdError::HasFragment
    );
    assert_eq!(
        err("spiffe://example.com#fragment"),
        SpiffeIdError::HasFragment
    );
    // A `?` inside a fragment is part of the fragment.
    assert_eq!(
        err("spiffe://example.com/workload#a?b"),
        SpiffeIdError::HasFragment
    );
}

#[test]
fn path_segments_are_not_empty_dot_or_trailing() {
    assert_eq!(
        err("spiffe://example.com/a//b"),
        SpiffeIdError::EmptySegment
    );
    assert_eq!(err("spiffe://example.com//"), SpiffeIdError::EmptySegment);
    assert_eq!(err("spiffe://example.com/a/./b"), SpiffeIdError::DotSegment);
    assert_eq!(
        err("spiffe://example.com/a/../b"),
        SpiffeIdError::DotSegment
    );
    assert_eq!(err("spiffe://example.com/.."), SpiffeIdError::DotSegment);
    assert_eq!(err("spiffe://example.com/"), SpiffeIdError::TrailingSlash);
    assert_eq!(err("spiffe://example.com/a/"), SpiffeIdError::TrailingSlash);
}

#[test]
fn path_segments_use_only_the_charset_without_percent_encoding() {
    assert_eq!(
        err("spiffe://example.com/p%61th"),
        SpiffeIdError::PercentEncoded
    );
    assert_eq!(
        err("spiffe://example.com/a b"),
        SpiffeIdError::BadPathChar { found: ' ' }
    );
    assert_eq!(
        err("spiffe://example.com/a:b"),
        SpiffeIdError::BadPathChar { found: ':' }
    );
    assert_eq!(
        err("spiffe://example.com/caf\u{e9}"),
        SpiffeIdError::BadPathChar { found: '\u{e9}' }
    );
}

#[test]
fn length_limits() {
    let trust_domain = "a".repeat(MAX_TRUST_DOMAIN_LEN);
    assert!(TrustDomain::new(&trust_domain).is_ok());
    assert_eq!(
        TrustDomain::new(&format!("{trust_domain}a")).unwrap_err(),
        SpiffeIdError::TrustDomainTooLong {
            len: MAX_TRUST_DOMAIN_LEN + 1
        }
    );

    let prefix = "spiffe://example.com/";
    let longest = format!("{prefix}{}", "p".repeat(MAX_SPIFFE_ID_LEN - prefix.len()));
    assert_eq!(SpiffeId::parse(&longest).unwrap().as_str().len(), 2048);
    assert_eq!(
        err(&format!("{longest}p")),
        SpiffeIdError::TooLong {
            len: MAX_SPIFFE_ID_LEN + 1
        }
    );
}

#[test]
fn bare_trust_domain_names() {
    assert_eq!(TrustDomain::new("demo.test").unwrap().as_str(), "demo.test");
    assert_eq!(
        TrustDomain::new("").unwrap_err(),
        SpiffeIdError::MissingTrustDomain
    );
    assert_eq!(
        TrustDomain::new("Demo.test").unwrap_err(),
        SpiffeIdError::BadTrustDomainChar { found: 'D' }
    );
    assert_eq!(
        TrustDomain::new("demo.test:443").unwrap_err(),
        SpiffeIdError::HasPort
    );
    // A URI is not a trust domain name.
    assert_eq!(
        TrustDomain::new("spiffe://demo.test").unwrap_err(),
        SpiffeIdError::HasPort
    );
}

#[test]
fn building_from_segments_validates_each_segment() {
    let trust_domain = TrustDomain::new("demo.test").unwrap();
    let id = SpiffeId::for_service_account(&trust_domain, "namespace-b", "agent-b").unwrap();
    assert_eq!(id.as_str(), "spiffe://demo.test/ns/namespace-b/sa/agent-b");
    assert_eq!(id, SpiffeId::parse(id.as_str()).unwrap());

    assert_eq!(
        SpiffeId::from_segments(&trust_domain, &["a/b"]).unwrap_err(),
        SpiffeIdError::BadPathChar { found: '/' }
    );
    assert_eq!(
        SpiffeId::from_segments(&trust_domain, &[""]).unwrap_err(),
        SpiffeIdError::EmptySegment
    );
    assert_eq!(
        SpiffeId::from_segments(&trust_domain, &[".."]).unwrap_err(),
        SpiffeIdError::DotSegment
    );
    assert_eq!(
        SpiffeId::for_service_account(&trust_domain, "name%20space", "x").unwrap_err(),
        SpiffeIdError::PercentEncoded
    );
    let long = "s".repeat(MAX_SPIFFE_ID_LEN);
    assert!(matches!(
        SpiffeId::from_segments(&trust_domain, &[&long]).unwrap_err(),
        SpiffeIdError::TooLong { .. }
    ));
}

/// Deterministic mutations of valid IDs (xorshift64*, fixed seed): parsing never panics, and
/// whatever it accepts is exactly the canonical form (nothing repaired, nothing normalised).
#[test]
fn mutated_ids_never_panic_and_only_canonical_forms_are_accepted() {
    const ALPHABET: &[char] = &[
        'a', 'Z', '0', '.', '-', '_', '/', ':', '@', '%', '?', '#', '\\', ' ', '\0', '\n', 'é',
        '\u{2215}', '\u{ff0f}', '\u{200b}',
    ];
    let mut state: u64 = 0x5851_f42d_4c95_7f2d;
    let mut below = |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        usize::try_from(state.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64).unwrap()
    };
    let seeds = [
        "spiffe://demo.test/ns/namespace-b/sa/agent-b",
        "spiffe://demo.test",
        "spiffe://a-b_c.d/x/y.z/...",
    ];
    let mut accepted = 0;
    for round in 0..6000 {
        let mut chars: Vec<char> = seeds[round % seeds.len()].chars().collect();
        for _ in 0..=below(2) {
            let at = below(chars.len() + 1);
            match below(4) {
                0 if at < chars.len() => chars[at] = ALPHABET[below(ALPHABET.len())],
                1 => chars.insert(at, ALPHABET[below(ALPHABET.len())]),
                2 if at < chars.len() => {
                    chars.remove(at);
                }
                _ => chars.truncate(at),
            }
        }
        let id: String = chars.into_iter().collect();
        let Ok(parsed) = SpiffeId::parse(&id) else {
            continue;
        };
        accepted += 1;
        assert_eq!(parsed.as_str(), id);
        let trust_domain = parsed.trust_domain().as_str();
        assert!(
            trust_domain
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)),
            "{id:?}"
        );
        if let Some(path) = parsed.path().strip_prefix('/') {
            for segment in path.split('/') {
                assert!(
                    !segment.is_empty() && segment != "." && segment != "..",
                    "{id:?}"
                );
                assert!(
                    segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
                    "{id:?}"
                );
            }
        } else {
            assert!(parsed.path().is_empty(), "{id:?}");
        }
        assert_eq!(SpiffeId::parse(parsed.as_str()), Ok(parsed.clone()));
    }
    assert!(accepted > 100, "{accepted}");
}
