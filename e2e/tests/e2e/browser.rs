//! The browser walkthrough: Debian's Chromium, headless and off the network, driven through
//! ChromeDriver against the six real programs, as a customer would use them — with the keyboard:
//! the home page, the redirect to the external IAM, a wrong password, the right one, a wrong
//! one-time code, the right one, the chat, an answer from Agent A with the timeline of all 23
//! steps beside it, sign-out, and the back button, which must not bring the chat back.
//!
//! A screenshot of each stage goes to `target/e2e/screenshots/` (a failing run adds
//! `failure.png` of the page it stopped on). Chromium and ChromeDriver come from Debian's
//! packages (`make setup`); without them the test fails saying so, it never skips.

mod transport;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail, ensure};
use e2e::Program;
use e2e::chromium::ChromeDriver;
use e2e::kit::{TestEnv, code_at, demo_user};
use thirtyfour::prelude::*;

use self::transport::Loopback;
use e2e::kit::DemoRecords;

/// The window of every stage but the answer: a small laptop.
const WINDOW: (u32, u32) = (1000, 800);
/// The answer's window: wide enough for the timeline to sit beside the chat.
const WIDE_WINDOW: (u32, u32) = (1400, 1000);
/// How long an element may take to appear: a page after a form post that crossed five programs,
/// on a loaded two-core machine.
const WAIT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);
const CUSTOMER: &str = "alice";
const QUESTION: &str = "What is my balance?";

#[tokio::test]
async fn a_customer_signs_in_asks_and_signs_out_in_a_real_browser() {
    // First, so that a machine without the browser fails at once, saying how to install it.
    let chromedriver = ChromeDriver::start()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let env = TestEnv::start().await;
    let driver = open_browser(&chromedriver)
        .await
        .unwrap_or_else(|error| panic!("{error:#}\nchromedriver said:\n{}", chromedriver.output()));
    let shots = Screenshots::new(env.target_dir().join("e2e").join("screenshots"));

    let walked = walk(&env, &driver, &shots).await;
    if walked.is_err() {
        // The page the walk stopped on is the best clue; failing to take it changes nothing.
        let _ = shots.take(&driver, "failure").await;
    }
    let quit = driver.quit().await;
    if let Err(error) = walked {
        panic!(
            "the walkthrough failed: {error:#}\n(screenshots in {})\n{}",
            shots.dir.display(),
            last_lines(&env)
        );
    }
    quit.expect("the browser session closes");
}

/// The last lines of the programs a browser talks to, for a failure report.
fn last_lines(env: &TestEnv) -> String {
    [Program::ExternalIam, Program::WebApp]
        .into_iter()
        .map(|program| {
            let lines = env.lines(program);
            let last = lines[lines.len().saturating_sub(8)..].join("\n");
            format!("{}'s last lines:\n{last}", program.name())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every stage, in order; the first that does not hold ends the walk with its reason.
async fn walk(env: &TestEnv, driver: &WebDriver, shots: &Screenshots) -> Result<()> {
    // Open the web app, and follow its sign-in link to the external IAM.
    driver.goto(env.web_url("/")).await?;
    let sign_in = wait_for(
        driver,
        "a.button[href='/chat']",
        "the home page's sign-in link",
    )
    .await?;
    ensure!(
        sign_in.text().await? == "Sign in to chat",
        "the home page offers to sign in"
    );
    shots.take(driver, "home").await?;
    sign_in.send_keys(Key::Enter).await?;

    // The IAM's sign-in page: labelled fields with password-manager hints, the cursor in the
    // first one.
    let username = wait_for(driver, "input#username", "the IAM's sign-in page").await?;
    let url = driver.current_url().await?;
    ensure!(
        url.as_str().starts_with(&env.iam_url("/login")),
        "the web app redirected to the IAM's sign-in page, not {url}"
    );
    expect_label(driver, "username", "Username").await?;
    expect_label(driver, "password", "Password").await?;
    expect_attr(&username, "autocomplete", "username").await?;
    let password = driver.find(By::Css("input#password")).await?;
    expect_attr(&password, "autocomplete", "current-password").await?;
    expect_focus(driver, &username, "the username field").await?;
    expect_styled(driver, "the IAM's sign-in page").await?;
    shots.take(driver, "login").await?;

    // A wrong password: a readable error beside the form, the username kept, the cursor in the
    // password field.
    username.send_keys(CUSTOMER).await?;
    password
        .send_keys("not-".to_owned() + demo_user(CUSTOMER).password + Key::Enter)
        .await?;
    let error = wait_for(
        driver,
        "#form-error[role=alert]",
        "the wrong-password error",
    )
    .await?;
    ensure!(
        error.text().await? == "The username or password is incorrect.",
        "the wrong-password error reads {:?}",
        error.text().await?
    );
    let password = driver.find(By::Css("input#password")).await?;
    expect_attr(&password, "aria-invalid", "true").await?;
    expect_focus(
        driver,
        &password,
        "the password field after a wrong password",
    )
    .await?;
    let kept = driver
        .find(By::Css("input#username"))
        .await?
        .prop("value")
        .await?;
    ensure!(
        kept.as_deref() == Some(CUSTOMER),
        "the username is kept: {kept:?}"
    );
    shots.take(driver, "error-password").await?;

    // The right password leads to the code page: a numeric one-time-code field, focused.
    password
        .send_keys(demo_user(CUSTOMER).password.to_owned() + Key::Enter)
        .await?;
    let code = wait_for(driver, "input#code", "the one-time code page").await?;
    expect_label(driver, "code", "Code").await?;
    expect_attr(&code, "autocomplete", "one-time-code").await?;
    expect_attr(&code, "inputmode", "numeric").await?;
    expect_focus(driver, &code, "the code field").await?;
    shots.take(driver, "code").await?;

    // A wrong code: a readable error, still on the code page.
    code.send_keys(wrong_code(CUSTOMER) + Key::Enter).await?;
    let error = wait_for(driver, "#form-error[role=alert]", "the wrong-code error").await?;
    ensure!(
        error.text().await?.starts_with("The code is incorrect."),
        "the wrong-code error reads {:?}",
        error.text().await?
    );
    shots.take(driver, "error-code").await?;

    // The right code: back at the web app, on the chat page, the cursor in the message box.
    let code = driver.find(By::Css("input#code")).await?;
    code.send_keys(env.totp_code(CUSTOMER).await + Key::Enter)
        .await?;
    wait_for(driver, "#chat-heading", "the chat page after sign-in").await?;
    let url = driver.current_url().await?;
    ensure!(
        url.as_str() == env.web_url("/chat"),
        "signed in, the browser is on {url}"
    );
    let message = driver.find(By::Css("textarea#message")).await?;
    expect_label(driver, "message", "Your message").await?;
    expect_focus(driver, &message, "the message box").await?;
    expect_styled(driver, "the chat page").await?;

    // A question only Agent A can answer (it needs the account's records), sent with the
    // keyboard: Tab leads from the message box to the Send button.
    message.send_keys(QUESTION.to_owned() + Key::Tab).await?;
    let send = driver
        .find(By::Css("form[action='/chat'] button[type=submit]"))
        .await?;
    expect_focus(driver, &send, "the Send button, one Tab after the message").await?;
    send.send_keys(Key::Enter).await?;
    let answer = wait_for(driver, ".answer .bubble.bot", "the chat's answer").await?;
    let balance = DemoRecords::shipped().account_of(CUSTOMER).balance();
    let said = answer.text().await?;
    // Thousands separators are presentation; the amount is the record.
    ensure!(
        said.replace(',', "").contains(&balance),
        "the answer {said:?} holds {balance}"
    );
    expect_timeline(driver).await?;
    driver
        .set_window_rect(0, 0, WIDE_WINDOW.0, WIDE_WINDOW.1)
        .await?;
    shots.take(driver, "chat-answer").await?;
    shots.take_whole_page(driver, "timeline").await?;
    driver.set_window_rect(0, 0, WINDOW.0, WINDOW.1).await?;

    // The chat page again (a plain GET, as a bookmark would open it), then sign out.
    let chat_link = driver.find(By::Css("header nav a[href='/chat']")).await?;
    chat_link.click().await?;
    ensure!(
        driver
            .query(By::Css(".answer"))
            .wait(WAIT, POLL)
            .not_exists()
            .await?,
        "the chat page opened from the header shows no answer"
    );
    wait_for(
        driver,
        "#chat-heading",
        "the chat page opened from the header",
    )
    .await?;
    driver
        .find(By::Css(
            "header form[action='/auth/logout'] button[type=submit]",
        ))
        .await?
        .click()
        .await?;
    let home = wait_for(
        driver,
        "a.button[href='/chat']",
        "the home page after sign-out",
    )
    .await?;
    ensure!(
        home.text().await? == "Sign in to chat",
        "signed out, the home page offers to sign in"
    );
    shots.take(driver, "signed-out").await?;

    // Back: the chat is not shown again; asking for it starts a new sign-in at the IAM.
    driver.back().await?;
    wait_for(driver, "input#username", "a new sign-in after going back")
        .await
        .with_context(|| "the back button after sign-out")?;
    ensure!(
        driver
            .query(By::Css("#chat-heading"))
            .nowait()
            .not_exists()
            .await?,
        "going back after sign-out shows the chat"
    );
    ensure!(
        !driver.source().await?.contains(&balance),
        "going back after sign-out shows the balance"
    );
    shots.take(driver, "logged-out").await?;
    Ok(())
}

/// A Chromium session on `chromedriver`: headless, off the network, a fresh profile.
async fn open_browser(chromedriver: &ChromeDriver) -> Result<WebDriver> {
    let mut capabilities = DesiredCapabilities::chrome();
    let binary = chromedriver
        .chromium()
        .to_str()
        .context("a UTF-8 path to chromium")?;
    capabilities.set_binary(binary)?;
    for arg in chromedriver.chromium_args(WINDOW.0, WINDOW.1) {
        capabilities.add_arg(&arg)?;
    }
    let driver = WebDriver::builder(chromedriver.url(), capabilities)
        .client(Loopback::new())
        .connect()
        .await
        .context("a Chromium session through chromedriver")?;
    Ok(driver)
}

/// Waits (at most [`WAIT`]) for an element matching `css`, named `what` in the failure.
async fn wait_for(driver: &WebDriver, css: &str, what: &str) -> Result<WebElement> {
    match driver.query(By::Css(css)).wait(WAIT, POLL).first().await {
        Ok(element) => Ok(element),
        Err(error) => {
            let url = driver
                .current_url()
                .await
                .map(String::from)
                .unwrap_or_default();
            let text = match driver.find(By::Css("body")).await {
                Ok(body) => body.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            bail!("no {what} ({css}) within {WAIT:?}: {error}\nat {url}, showing:\n{text}")
        }
    }
}

/// The field `id` has a `<label for=id>` reading `text`.
async fn expect_label(driver: &WebDriver, id: &str, text: &str) -> Result<()> {
    let label = driver.find(By::Css(format!("label[for='{id}']"))).await?;
    let shown = label.text().await?;
    ensure!(
        shown == text,
        "the label of #{id} reads {shown:?}, not {text:?}"
    );
    Ok(())
}

async fn expect_attr(element: &WebElement, name: &str, value: &str) -> Result<()> {
    let found = element.attr(name).await?;
    ensure!(
        found.as_deref() == Some(value),
        "{name}={found:?} on {:?}, not {value:?}",
        element.id().await?
    );
    Ok(())
}

/// The keyboard's focus is on `element` (autofocus, so the customer can type at once). The
/// browser applies autofocus when it next renders the page, which may be a moment after the
/// element exists: polled, at most [`WAIT`].
async fn expect_focus(driver: &WebDriver, element: &WebElement, what: &str) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let active = driver.active_element().await?;
        if active == *element {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "{what} does not have the focus; {:?} has",
                active.id().await?
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The page's inline stylesheet applied: each site's `Content-Security-Policy` allows it by
/// its hash, and a hash that no longer matched would leave the page unstyled, silently. The
/// submit button has the shared accent colour (light scheme: headless Chromium's default).
async fn expect_styled(driver: &WebDriver, what: &str) -> Result<()> {
    let button = driver.find(By::Css("main button[type=submit]")).await?;
    let colour = button.css_value("background-color").await?;
    ensure!(
        colour == "rgba(47, 91, 211, 1)",
        "{what} is not styled: its button's background is {colour:?}"
    );
    Ok(())
}

/// The timeline beside the answer: five phases, every one of the 23 steps, none refused.
async fn expect_timeline(driver: &WebDriver) -> Result<()> {
    let phases = driver.find_all(By::Css("section.phase")).await?.len();
    ensure!(phases == 5, "the timeline shows {phases} phases, not 5");
    let mut steps = BTreeSet::new();
    for row in driver
        .find_all(By::Css("table.steps tr[data-step]"))
        .await?
    {
        let step = row.attr("data-step").await?.unwrap_or_default();
        steps.insert(
            step.parse::<u8>()
                .with_context(|| format!("step {step:?}"))?,
        );
    }
    ensure!(
        steps == (1..=23).collect::<BTreeSet<u8>>(),
        "the timeline shows steps {steps:?}, not 1 to 23"
    );
    let refused = driver
        .find_all(By::Css(".outcome.rejected, .outcome.failed"))
        .await?
        .len();
    ensure!(
        refused == 0,
        "{refused} steps of the timeline were refused or failed"
    );
    let summary = driver.find(By::Css("ul.summary")).await?.text().await?;
    ensure!(
        summary.contains("23 steps"),
        "the timeline's summary reads {summary:?}"
    );
    Ok(())
}

/// A six-digit code `user`'s authenticator shows at no time near now.
fn wrong_code(user: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    let near: Vec<String> = (-3..=3)
        .map(|step| code_at(user, now + 30 * step))
        .collect();
    (0..)
        .map(|n| format!("{n:06}"))
        .find(|code| !near.contains(code))
        .expect("seven codes leave others free")
}

/// Where the stages' pictures go.
struct Screenshots {
    dir: PathBuf,
}

impl Screenshots {
    /// The folder, emptied of an earlier run's pictures, so that what is there is this run's.
    fn new(dir: PathBuf) -> Self {
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        for entry in std::fs::read_dir(&dir)
            .expect("the screenshot folder")
            .flatten()
        {
            if entry.path().extension().is_some_and(|ext| ext == "png") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Self { dir }
    }

    /// The window as it is, as `<name>.png`.
    async fn take(&self, driver: &WebDriver, name: &str) -> Result<()> {
        let png = driver.screenshot_as_png().await?;
        let path = self.dir.join(format!("{name}.png"));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))
    }

    /// The whole page, as `<name>.png`: the window is made as tall as the page for the picture,
    /// then given its size back.
    async fn take_whole_page(&self, driver: &WebDriver, name: &str) -> Result<()> {
        let before = driver.get_window_rect().await?;
        let (width, height) = (u32::try_from(before.width)?, u32::try_from(before.height)?);
        let page = driver.find(By::Css("html")).await?.rect().await?;
        // Whole pixels; a page is far shorter than u32::MAX.
        let page_height = page.height.ceil().clamp(0.0, f64::from(u32::MAX)) as u32;
        driver
            .set_window_rect(0, 0, width, page_height.max(height))
            .await?;
        let taken = self.take(driver, name).await;
        driver.set_window_rect(0, 0, width, height).await?;
        taken
    }
}
