//! The demo data `seed-demo` writes: documented, fixed, and for development only.
//!
//! The passwords and TOTP secrets below are public (they are in the README). They exist so
//! that `make demo`, the end-to-end tests and a person trying the system can log in; a
//! deployment never runs `seed-demo`.

/// Agent B's API identifier: the RFC 8707 resource the web app asks for, the `aud` of the
/// customer's access token, and the audience the internal IAM checks on token exchange.
pub const AGENT_B_RESOURCE: &str = "https://agent-b.namespace-b.demo.test";

/// The web app's client id.
pub const WEB_APP_CLIENT_ID: &str = "web-app";
/// The web app's callback.
pub const WEB_APP_REDIRECT_URI: &str = "http://localhost:8080/auth/callback";
/// Where the web app sends the browser after logout.
pub const WEB_APP_POST_LOGOUT_URI: &str = "http://localhost:8080/";
/// The web app's dev client secret, used unless `EXTERNAL_IAM_WEB_APP_SECRET(_FILE)` is set.
pub const WEB_APP_DEV_SECRET: &str = "dev-web-app-secret-not-for-production-0000";
/// The scopes the web app may request.
pub const WEB_APP_SCOPES: [&str; 5] = [
    "openid",
    "profile",
    "email",
    "chatbot:access",
    "agent:invoke",
];

/// A demo customer.
#[derive(Debug, Clone, Copy)]
pub struct DemoUser {
    /// The fixed `sub`, so other programs' demo data can refer to the customer.
    pub id: &'static str,
    pub username: &'static str,
    pub display_name: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    /// Base32, 160 bits.
    pub totp_secret: &'static str,
    pub entitlements: &'static [&'static str],
}

pub const USERS: [DemoUser; 3] = [
    DemoUser {
        id: "demo-user-alice",
        username: "alice",
        display_name: "Alice Example",
        email: "alice@example.test",
        password: "alice-dev-password",
        totp_secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        entitlements: &["chatbot:access", "agent:invoke"],
    },
    DemoUser {
        id: "demo-user-bob",
        username: "bob",
        display_name: "Bob Example",
        email: "bob@example.test",
        password: "bob-dev-password",
        totp_secret: "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
        entitlements: &["chatbot:access", "agent:invoke"],
    },
    // Carol may log in but not use the chatbot: the web app must answer her with 403.
    DemoUser {
        id: "demo-user-carol",
        username: "carol",
        display_name: "Carol Example",
        email: "carol@example.test",
        password: "carol-dev-password",
        totp_secret: "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
        entitlements: &["agent:invoke"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mfa::Totp;

    #[test]
    fn demo_secrets_are_160_bit_base32() {
        for user in USERS {
            let totp = Totp::from_base32(user.totp_secret).unwrap();
            assert_eq!(totp.to_base32(), user.totp_secret);
            assert_eq!(
                crate::mfa::base32::decode(user.totp_secret).unwrap().len(),
                20
            );
        }
    }
}
