//! Before the programs start: the state folder, the dev PKI, and the external IAM's demo users
//! and web-app client, registered with the URIs of this stack's ports. The internal IAM's
//! registrations and Service A2's records are seeded by the programs themselves at start
//! (`--policy`, `--seed`).

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use dev_pki::DevPkiConfig;
use external_iam::admin::demo;
use wire::Program;

use crate::child::scrub_environment;
use crate::error::StartError;
use crate::stack::Stack;

/// What the preparation found or made.
#[derive(Debug)]
pub struct Prepared {
    /// What `dev-pki` kept, issued or reissued.
    pub pki: dev_pki::Report,
}

/// Creates the state folders, ensures the PKI and seeds the external IAM's database.
pub fn prepare(stack: &Stack) -> Result<Prepared, StartError> {
    for program in Program::ALL {
        create_dir(&stack.state_dir.join(program.name()))?;
    }
    create_dir(&stack.state_dir.join("logs"))?;
    // Kept when valid (`make pki` shares the demo's folder); issued when missing or expiring.
    let pki = dev_pki::ensure(
        &DevPkiConfig::new(stack.pki_dir(), stack.trust_domain.clone()),
        SystemTime::now(),
    )
    .map_err(|error| StartError::prepare("the dev PKI", error))?;
    let secret = seed_external_iam(stack)?;
    write_secret(&stack.client_secret_file(), &secret)?;
    Ok(Prepared { pki })
}

fn create_dir(dir: &Path) -> Result<(), StartError> {
    std::fs::create_dir_all(dir)
        .map_err(|error| StartError::prepare(format!("the folder {}", dir.display()), error))
}

/// `external-iam seed-demo` (idempotent: the users are reset to their documented secrets), then,
/// when this stack's web app is not on the demo's origin, the web-app client registered again
/// with this stack's redirect and post-logout URIs. Returns the client secret.
fn seed_external_iam(stack: &Stack) -> Result<String, StartError> {
    let redirect_uri = stack.redirect_uri();
    run_external_iam(
        stack,
        &[
            "seed-demo",
            "--web-app-redirect-uri",
            &redirect_uri,
            "--agent-b-resource",
            stack.agent_b_resource(),
        ],
    )?;
    if stack.post_logout_uri() == demo::WEB_APP_POST_LOGOUT_URI {
        return Ok(demo::WEB_APP_DEV_SECRET.to_owned());
    }
    // `seed-demo` registers the demo's fixed post-logout URI; `clients add` replaces the
    // registration with this stack's URIs and a fresh secret, printed once.
    let post_logout_uri = stack.post_logout_uri();
    let mut args = vec![
        "clients",
        "add",
        demo::WEB_APP_CLIENT_ID,
        "--auth-method",
        "client_secret_basic",
        "--redirect-uri",
        &redirect_uri,
        "--post-logout-redirect-uri",
        &post_logout_uri,
        "--resource",
        stack.agent_b_resource(),
    ];
    for scope in demo::WEB_APP_SCOPES {
        args.extend(["--scope", scope]);
    }
    let output = run_external_iam(stack, &args)?;
    output
        .lines()
        .find_map(|line| line.strip_prefix("client secret (shown once): "))
        .map(|secret| secret.trim().to_owned())
        .ok_or_else(|| {
            StartError::prepare(
                "the web app's client registration",
                "`external-iam clients add` printed no client secret",
            )
        })
}

/// Runs an `external-iam` operator command on this stack's database; returns its stdout.
fn run_external_iam(stack: &Stack, args: &[&str]) -> Result<String, StartError> {
    let path = stack.binaries.path(Program::ExternalIam)?;
    let database_url = stack.database_url(Program::ExternalIam);
    let issuer = stack.issuer();
    let mut command = Command::new(&path);
    command
        .args(args)
        .args(["--issuer", &issuer, "--database-url", &database_url]);
    scrub_environment(&mut command);
    let output = command
        .output()
        .map_err(|error| StartError::prepare(format!("running {}", path.display()), error))?;
    // Only the first two words: the rest can be long, and the output names no secret anyway.
    let command = format!("external-iam {}", args[..2.min(args.len())].join(" "));
    if !output.status.success() {
        return Err(StartError::Command {
            command,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    String::from_utf8(output.stdout)
        .map_err(|error| StartError::prepare(format!("the output of `{command}`"), error))
}

/// Writes the client secret readable by its owner only.
fn write_secret(path: &Path, secret: &str) -> Result<(), StartError> {
    let fail = |error| StartError::prepare(format!("the file {}", path.display()), error);
    // Replaced, not rewritten in place: the mode of a new file is set at creation.
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    file.write_all(secret.as_bytes()).map_err(fail)
}
