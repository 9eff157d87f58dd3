//! Operator commands of the `external-iam` binary. They talk to the same database as the
//! server (a running server picks up their changes: keys within its refresh interval, the rest
//! on the next request).
#![allow(clippy::print_stdout, reason = "operator commands print their results")]

pub mod demo;

use std::io::BufRead as _;
use std::time::Duration;

use anyhow::{Context as _, bail};
use ring::rand::{SecureRandom as _, SystemRandom};
use tokens::{SharedClock, SystemClock};

use crate::auth::opaque::{self, Opaque, random_id};
use crate::auth::password::{Password, PasswordHasherPool};
use crate::cli::{ClientsCommand, Command, KeysCommand, TotpCommand, UsersCommand};
use crate::config::Config;
use crate::mfa::Totp;
use crate::mfa::totp::SECRET_BYTES;
use crate::oauth::redirect_uri::validate_for_registration;
use crate::store::audit;
use crate::store::clients::{self, AuthMethod, Client};
use crate::store::users::{self, NewUser};

/// The label authenticator apps show for accounts of this provider.
pub const TOTP_ISSUER: &str = "Demo Identity";

/// Runs an operator command.
pub async fn run(command: Command, config: &Config) -> anyhow::Result<()> {
    let clock: SharedClock = std::sync::Arc::new(SystemClock);
    let (db, keys) = crate::open_storage(config, clock.clone()).await?;
    let pool = db.pool();
    let now = clock.now();
    let hasher = PasswordHasherPool::new()?;
    let rng = SystemRandom::new();
    match command {
        Command::Serve => bail!("`serve` is handled by main"),
        Command::Users(UsersCommand::Add {
            username,
            name,
            email,
            entitlements,
        }) => {
            let password = read_password()?;
            let totp = new_totp(&rng)?;
            let user = NewUser {
                id: random_id(&rng)?,
                username: username.clone(),
                display_name: name,
                email,
                password_hash: hasher.hash(password).await?,
                totp: totp.clone(),
                entitlements,
            };
            users::insert(pool, &user, now)
                .await
                .context("adding the user")?;
            println!("added {username} (sub {})", user.id);
            println!("TOTP: {}", totp.otpauth_uri(TOTP_ISSUER, &username));
        }
        Command::Users(UsersCommand::SetPassword { username }) => {
            let hash = hasher.hash(read_password()?).await?;
            if !users::set_password(pool, &username, &hash).await? {
                bail!("no user named {username:?}");
            }
            println!("password set for {username}");
        }
        Command::Users(UsersCommand::ResetTotp { username }) => {
            let totp = new_totp(&rng)?;
            if !users::set_totp(pool, &username, &totp).await? {
                bail!("no user named {username:?}");
            }
            println!("TOTP: {}", totp.otpauth_uri(TOTP_ISSUER, &username));
        }
        Command::Users(UsersCommand::List) => {
            for user in users::list(pool).await? {
                println!(
                    "{}\t{}\t{}",
                    user.username,
                    user.id,
                    user.entitlements.join(" ")
                );
            }
        }
        Command::Clients(ClientsCommand::Add {
            client_id,
            auth_method,
            redirect_uris,
            post_logout_redirect_uris,
            scopes,
            resources,
            jwks_file,
        }) => {
            let method: AuthMethod = auth_method.parse().map_err(anyhow::Error::msg)?;
            let jwks_json = match (&method, jwks_file) {
                (AuthMethod::PrivateKeyJwt, Some(path)) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    tokens::Jwks::from_json(text.as_bytes()).context("the JWK Set is invalid")?;
                    Some(text)
                }
                (AuthMethod::PrivateKeyJwt, None) => bail!("private_key_jwt needs --jwks-file"),
                (_, Some(_)) => bail!("--jwks-file is only for private_key_jwt"),
                (_, None) => None,
            };
            let secret = (method == AuthMethod::ClientSecretBasic)
                .then(|| Opaque::generate(&rng))
                .transpose()?;
            let client = registration(
                client_id.clone(),
                method,
                secret.as_ref().map(|s| opaque::hash(s.expose())),
                jwks_json.as_deref(),
                redirect_uris,
                post_logout_redirect_uris,
                scopes,
                resources,
            )?;
            clients::upsert(pool, &client, jwks_json, now).await?;
            println!("registered {client_id} ({method})");
            if let Some(secret) = secret {
                println!("client secret (shown once): {}", secret.expose());
            }
        }
        Command::Clients(ClientsCommand::List) => {
            for client in clients::list(pool).await? {
                println!(
                    "{}\t{}\tredirect_uris={}\tscopes={}\tresources={}",
                    client.client_id,
                    client.auth_method,
                    client.redirect_uris.join(","),
                    client.scopes.join(" "),
                    client.resources.join(",")
                );
            }
        }
        Command::Clients(ClientsCommand::Remove { client_id }) => {
            if !clients::remove(pool, &client_id).await? {
                bail!("no client {client_id:?}");
            }
            println!("removed {client_id}");
        }
        Command::Keys(KeysCommand::Rotate { delay }) => {
            let info = keys.rotate(Duration::from_secs(delay)).await?;
            println!(
                "new key {} published now, signing from {}",
                info.kid, info.active_from
            );
        }
        Command::Keys(KeysCommand::List) => {
            keys.ensure_key().await?;
            for key in keys.list().await? {
                println!(
                    "{}\t{}\t{}\tcreated {}\tactive from {}",
                    key.kid,
                    key.alg,
                    key.state.label(),
                    key.created_at,
                    key.active_from
                );
            }
        }
        Command::SeedDemo {
            web_app_secret,
            web_app_secret_file,
            web_app_redirect_uri,
            agent_b_resource,
        } => {
            let secret = match (web_app_secret, web_app_secret_file) {
                (Some(secret), _) => secret,
                (None, Some(path)) => std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?
                    .trim()
                    .to_owned(),
                (None, None) => demo::WEB_APP_DEV_SECRET.to_owned(),
            };
            seed_demo(
                pool,
                &hasher,
                &secret,
                &web_app_redirect_uri,
                &agent_b_resource,
                now,
            )
            .await?;
            println!("demo data written (development only; see the README for the credentials)");
            for user in demo::USERS {
                println!(
                    "  {:<6} password {:<20} TOTP secret {}",
                    user.username, user.password, user.totp_secret
                );
            }
            println!(
                "  client {} (client_secret_basic), redirect {}, resource {}",
                demo::WEB_APP_CLIENT_ID,
                web_app_redirect_uri,
                agent_b_resource
            );
            // Printed here, once, so the web app can be configured with it.
            println!("  client secret: {secret}");
        }
        Command::Totp(TotpCommand::Now { username }) => {
            let user = users::by_username(pool, &username)
                .await?
                .with_context(|| format!("no user named {username:?}"))?;
            println!("{}", user.totp.code_at(now));
        }
        Command::Audit => {
            for row in audit::list(pool).await? {
                println!(
                    "{}\t{}\tclient={}\tuser={}\tname={}\tip={}\t{}",
                    row.at,
                    row.event,
                    row.client_id.unwrap_or_default(),
                    row.user_id.unwrap_or_default(),
                    row.username.unwrap_or_default(),
                    row.ip.unwrap_or_default(),
                    row.reason.unwrap_or_default()
                );
            }
        }
    }
    db.close().await;
    Ok(())
}

/// Writes the demo users and the web-app client (idempotent).
pub async fn seed_demo(
    pool: &sqlx::AnyPool,
    hasher: &PasswordHasherPool,
    web_app_secret: &str,
    redirect_uri: &str,
    agent_b_resource: &str,
    now: i64,
) -> anyhow::Result<()> {
    for user in demo::USERS {
        let record = NewUser {
            id: user.id.to_owned(),
            username: user.username.to_owned(),
            display_name: Some(user.display_name.to_owned()),
            email: Some(user.email.to_owned()),
            password_hash: hasher.hash(Password::new(user.password)).await?,
            totp: Totp::from_base32(user.totp_secret)?,
            entitlements: user.entitlements.iter().map(|s| (*s).to_owned()).collect(),
        };
        users::replace(pool, &record, now).await?;
    }
    let client = registration(
        demo::WEB_APP_CLIENT_ID.to_owned(),
        AuthMethod::ClientSecretBasic,
        Some(opaque::hash(web_app_secret)),
        None,
        vec![redirect_uri.to_owned()],
        vec![demo::WEB_APP_POST_LOGOUT_URI.to_owned()],
        demo::WEB_APP_SCOPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        vec![agent_b_resource.to_owned()],
    )?;
    clients::upsert(pool, &client, None, now).await?;
    Ok(())
}

/// A client registration, checked: redirect URIs in exact normal form, scopes well formed,
/// resources absolute URIs without fragments (RFC 8707 §2).
#[allow(
    clippy::too_many_arguments,
    reason = "one argument per registration field"
)]
pub fn registration(
    client_id: String,
    auth_method: AuthMethod,
    secret_hash: Option<String>,
    jwks_json: Option<&str>,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    scopes: Vec<String>,
    resources: Vec<String>,
) -> anyhow::Result<Client> {
    if client_id.is_empty() || client_id.len() > 128 || client_id.contains(':') {
        bail!("a client id is 1 to 128 characters without ':'");
    }
    for uri in redirect_uris.iter().chain(&post_logout_redirect_uris) {
        validate_for_registration(uri).with_context(|| format!("redirect URI {uri:?}"))?;
    }
    tokens::claims::Scopes::parse(&scopes.join(" ")).context("scopes")?;
    for resource in &resources {
        let url = url::Url::parse(resource).with_context(|| format!("resource {resource:?}"))?;
        if url.fragment().is_some() {
            bail!("resource {resource:?} must not have a fragment");
        }
    }
    let jwks = jwks_json
        .map(|text| tokens::Jwks::from_json(text.as_bytes()))
        .transpose()
        .context("the JWK Set is invalid")?;
    Ok(Client {
        client_id,
        auth_method,
        secret_hash,
        jwks,
        redirect_uris,
        post_logout_redirect_uris,
        scopes,
        resources,
    })
}

fn new_totp(rng: &SystemRandom) -> anyhow::Result<Totp> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rng.fill(&mut secret)
        .map_err(|_| anyhow::anyhow!("no randomness"))?;
    Ok(Totp::new(secret))
}

fn read_password() -> anyhow::Result<Password> {
    if let Ok(password) = std::env::var("EXTERNAL_IAM_USER_PASSWORD") {
        return Ok(Password::new(password));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(Password::new(line.trim_end_matches(['\r', '\n'])))
}
