//! A scripted browser: follows no redirect by itself (each hop is asserted), keeps cookies the
//! way a browser does for one host (cookies ignore ports, so the IAM's and the web app's share
//! one jar, as they would in a real browser on localhost), and remembers everything it saw.

use std::collections::BTreeMap;
use std::sync::Mutex;

use http::{HeaderMap, StatusCode, header};
use reqwest::redirect::Policy;
use url::Url;

/// A response, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body))
            .to_str()
            .unwrap()
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn request_id(&self) -> String {
        self.header("x-request-id").unwrap().to_owned()
    }

    /// The `Set-Cookie` values.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

pub struct Browser {
    http: reqwest::Client,
    jar: Mutex<BTreeMap<String, String>>,
    /// Every URL requested, `Location`, `Set-Cookie` and body seen, in order.
    seen: Mutex<Vec<String>>,
}

impl Browser {
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            jar: Mutex::new(BTreeMap::new()),
            seen: Mutex::new(Vec::new()),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: Option<&str>) {
        let mut jar = self.jar.lock().unwrap();
        match value {
            Some(value) => jar.insert(name.to_owned(), value.to_owned()),
            None => jar.remove(name),
        };
    }

    pub fn cookies(&self) -> BTreeMap<String, String> {
        self.jar.lock().unwrap().clone()
    }

    /// Everything this browser saw or sent, concatenated (for "no token ever reached the
    /// browser" checks).
    pub fn everything_seen(&self) -> String {
        let mut all = self.seen.lock().unwrap().join("\n");
        for (name, value) in self.cookies() {
            all.push_str(&format!("\n{name}={value}"));
        }
        all
    }

    pub async fn get(&self, url: &str) -> Page {
        let request = self.http.get(url);
        self.send(url, request).await
    }

    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Page {
        let request = self.http.post(url).form(form);
        self.send(url, request).await
    }

    async fn send(&self, url: &str, mut request: reqwest::RequestBuilder) -> Page {
        self.seen.lock().unwrap().push(url.to_owned());
        let cookie = self
            .cookies()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        if !cookie.is_empty() {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        let mut seen = self.seen.lock().unwrap();
        for value in headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            seen.push(text.to_owned());
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let expired = text.contains("Max-Age=0") || value.is_empty();
            self.set_cookie(name, (!expired).then_some(value));
        }
        if let Some(location) = headers.get(header::LOCATION) {
            seen.push(location.to_str().unwrap().to_owned());
        }
        seen.push(body.clone());
        Page {
            status,
            headers,
            body,
        }
    }
}

/// The value of a hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
