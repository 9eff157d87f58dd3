//! The real external IAM on 127.0.0.1:0 with the demo users and the web app registered with
//! the test's redirect and post-logout URIs.

use std::sync::Arc;

use external_iam::admin::{demo, registration, seed_demo};
use external_iam::auth::password::PasswordHasherPool;
use external_iam::mfa::Totp;
use external_iam::store::clients::{self, AuthMethod};
use external_iam::{App, Config, Issuer};
use tokens::{ManualClock, SharedClock};

use super::{RESOURCE, SECRET, START};

pub struct TestIam {
    pub issuer: String,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestIam {
    pub async fn start(
        clock: Arc<ManualClock>,
        redirect_uri: &str,
        post_logout_uri: &str,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let issuer = format!("http://127.0.0.1:{}", addr.port());
        let db = format!("sqlite://{}", dir.path().join("iam.db").display());
        let mut config = Config::new(addr, Issuer::parse(&issuer).unwrap(), db);
        adjust(&mut config);
        let shared: SharedClock = clock;
        let app = App::build_on(listener, config, shared).await.unwrap();
        let state = app.state();
        let hasher = PasswordHasherPool::new().unwrap();
        seed_demo(state.pool(), &hasher, SECRET, redirect_uri, RESOURCE, START)
            .await
            .unwrap();
        // The demo registration names the demo's post-logout URI; the test's web app listens
        // elsewhere.
        let client = registration(
            demo::WEB_APP_CLIENT_ID.to_owned(),
            AuthMethod::ClientSecretBasic,
            Some(external_iam::auth::opaque::hash(SECRET)),
            None,
            vec![redirect_uri.to_owned()],
            vec![post_logout_uri.to_owned()],
            demo::WEB_APP_SCOPES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            vec![RESOURCE.to_owned()],
        )
        .unwrap();
        clients::upsert(state.pool(), &client, None, START)
            .await
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Self {
            issuer,
            _dir: dir,
            _stop: stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// The demo TOTP secret of `user`.
pub fn totp_of(user: &str) -> Totp {
    let demo = demo::USERS.iter().find(|u| u.username == user).unwrap();
    Totp::from_base32(demo.totp_secret).unwrap()
}

pub fn password_of(user: &str) -> &'static str {
    demo::USERS
        .iter()
        .find(|u| u.username == user)
        .unwrap()
        .password
}

/// The `sub` of a demo user.
pub fn subject_of(user: &str) -> &'static str {
    demo::USERS.iter().find(|u| u.username == user).unwrap().id
}
