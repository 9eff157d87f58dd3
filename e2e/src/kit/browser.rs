//! A scripted browser for the real forms: it follows no redirect by itself (each hop of a login
//! is checked), keeps cookies as a browser does for one host (cookies ignore ports, so the
//! external IAM's and the web app's share one jar, as in a real browser on 127.0.0.1), and
//! sends what the pages' forms send.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode, header};
use url::Url;

use super::html::input_value;
use super::totp::{TotpCodes, demo_user};

/// One request may take this long: a chat action crosses five programs on a loaded machine.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL requested.
    pub url: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// A response header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Location`, resolved against the URL requested (the IAM redirects with paths).
    pub fn location(&self) -> Option<String> {
        let location = self.header(header::LOCATION.as_str())?;
        Url::parse(&self.url)
            .and_then(|base| base.join(location))
            .map(String::from)
            .ok()
    }

    /// The request id the program answered with (`X-Request-Id`); panics without one.
    pub fn request_id(&self) -> String {
        self.header(wire::headers::X_REQUEST_ID.as_str())
            .unwrap_or_else(|| panic!("no X-Request-Id from {}: {self}", self.url))
            .to_owned()
    }

    /// The value of the form field `name` (hidden or not) on this page.
    pub fn input(&self, name: &str) -> Option<String> {
        input_value(&self.body, name)
    }

    /// Panics, quoting the page, unless the status is `expected`.
    #[track_caller]
    pub fn assert_status(&self, expected: StatusCode, what: &str) -> &Self {
        assert_eq!(self.status, expected, "{what}: {self}");
        self
    }

    /// The `Location` of a 303, panicking (quoting the page) otherwise.
    #[track_caller]
    pub fn redirect(&self, what: &str) -> String {
        self.assert_status(StatusCode::SEE_OTHER, what);
        self.location()
            .unwrap_or_else(|| panic!("{what}: a 303 without a usable Location: {self}"))
    }

    /// A form field the page must have.
    #[track_caller]
    fn field(&self, name: &str) -> String {
        self.input(name)
            .unwrap_or_else(|| panic!("no {name:?} field on {}: {self}", self.url))
    }
}

impl std::fmt::Display for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} from {}", self.status, self.url)?;
        if let Some(location) = self.header(header::LOCATION.as_str()) {
            write!(f, " (Location: {location})")?;
        }
        write!(f, "\n{}", self.body)
    }
}

/// A completed login.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: String,
    /// The web app's request id of the login: steps 1, 2 and 6–9 (and the external IAM's steps
    /// 7 and 8, which the web app's token request carries) are logged under it.
    pub request_id: String,
    /// Wall time just before the first request of the login.
    pub started: SystemTime,
    /// Wall time just after its last response.
    pub finished: SystemTime,
}

/// The scripted browser. Cheap to create; one per simulated person.
#[derive(Debug)]
pub struct Browser {
    http: reqwest::Client,
    jar: Mutex<BTreeMap<String, String>>,
    web: String,
    totp: Arc<TotpCodes>,
}

impl Browser {
    pub(crate) fn new(web: String, totp: Arc<TotpCodes>) -> Self {
        let http = crate::http_client(REQUEST_TIMEOUT)
            .unwrap_or_else(|error| panic!("cannot build the browser's HTTP client: {error}"));
        Self {
            http,
            jar: Mutex::new(BTreeMap::new()),
            web,
            totp,
        }
    }

    /// A cookie's value, if the browser holds it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.lock_jar().get(name).cloned()
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> Page {
        self.send(url, self.http.get(url)).await
    }

    /// `POST url` with a URL-encoded form, as an HTML form sends it.
    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Page {
        self.send(url, self.http.post(url).form(form)).await
    }

    /// Logs `user` in (a demo user: password from the seed, TOTP from the seeded secret)
    /// through the real forms, checking every hop: the web app sends the browser to the IAM,
    /// the IAM's password form, its TOTP form, the redirect to the web app's callback, and the
    /// callback's redirect to the chat. Panics, quoting the page, at the first unexpected
    /// answer.
    pub async fn login(&self, user: &str) -> Login {
        let started = SystemTime::now();
        // Steps 1–2.
        let chat = self.get(&format!("{}/chat", self.web)).await;
        let authorize = chat.redirect("the chat page without a session");
        let request_id = chat.request_id();
        // Step 3: the IAM's login form.
        let login = self
            .get(&authorize)
            .await
            .redirect("the authorization request");
        let form = self.get(&login).await;
        form.assert_status(StatusCode::OK, "the IAM's login form");
        let password = self
            .post(
                &form_action(&form, "/login"),
                &[
                    ("csrf_token", &form.field("csrf_token")),
                    ("request", &form.field("request")),
                    ("username", user),
                    ("password", demo_user(user).password),
                ],
            )
            .await
            .redirect("the password");
        // Steps 4–5: the second factor, and the code back to the web app.
        let totp_form = self.get(&password).await;
        totp_form.assert_status(StatusCode::OK, "the IAM's TOTP form");
        let code = self.totp.fresh(user).await;
        let callback = self
            .post(
                &form_action(&totp_form, "/login/totp"),
                &[
                    ("csrf_token", &totp_form.field("csrf_token")),
                    ("request", &totp_form.field("request")),
                    ("code", &code),
                ],
            )
            .await
            .redirect("the TOTP code");
        assert!(
            callback.starts_with(&format!("{}/auth/callback?", self.web)),
            "the IAM redirected to {callback}, not the web app's callback"
        );
        // Steps 6–9.
        let landing = self.get(&callback).await.redirect("the web app's callback");
        assert_eq!(landing, format!("{}/chat", self.web), "after the callback");
        Login {
            user: user.to_owned(),
            request_id,
            started,
            finished: SystemTime::now(),
        }
    }

    /// The chat page, which must be served (a session is needed).
    pub async fn chat_page(&self) -> Page {
        let page = self.get(&format!("{}/chat", self.web)).await;
        page.assert_status(StatusCode::OK, "the chat page");
        page
    }

    /// Steps 10–23: posts `message` with the chat page's CSRF token; returns the answer page
    /// (its `request_id()` names the chat action in every program's step events).
    pub async fn chat(&self, message: &str) -> Page {
        let page = self.chat_page().await;
        let csrf = page.field("csrf_token");
        self.post(
            &format!("{}/chat", self.web),
            &[("csrf_token", &csrf), ("message", message)],
        )
        .await
    }

    async fn send(&self, url: &str, mut request: reqwest::RequestBuilder) -> Page {
        let cookies = self
            .lock_jar()
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        if !cookies.is_empty() {
            request = request.header(header::COOKIE, cookies);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("request to {url} failed: {error}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .text()
            .await
            .unwrap_or_else(|error| panic!("reading the answer from {url} failed: {error}"));
        self.store_cookies(&headers);
        Page {
            url: url.to_owned(),
            status,
            headers,
            body,
        }
    }

    /// `Set-Cookie`: the name and value; `Max-Age=0` or an empty value deletes.
    fn store_cookies(&self, headers: &HeaderMap) {
        let mut jar = self.lock_jar();
        for value in headers.get_all(header::SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            let expired = value.is_empty()
                || text
                    .split(';')
                    .any(|attribute| attribute.trim().eq_ignore_ascii_case("max-age=0"));
            if expired {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn lock_jar(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.jar.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `path` on the page's origin: where the IAM's sign-in forms post.
fn form_action(page: &Page, path: &str) -> String {
    Url::parse(&page.url)
        .and_then(|base| base.join(path))
        .map(String::from)
        .unwrap_or_else(|error| panic!("{path} on {}: {error}", page.url))
}
