//! The forum over real HTTP, for tests that need what only a real connection has — `Set-Cookie` as a browser
//! receives it, the client's address: [`serve`] puts a forum on a loopback port the way `cadre serve` does, and
//! [`Browser`] is a small client that keeps cookies as a browser would and connects from the loopback address it
//! is given (127.0.0.2 is another client than 127.0.0.1, to the server).

use std::collections::BTreeMap;
use std::net::IpAddr;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use cadre::web::{self, AppState};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

/// Serve `state` on a free loopback port (until the test's runtime ends); returns the base URL.
pub async fn serve(state: AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(web::serve(listener, state, std::future::pending()));
    base
}

/// One answer: status, headers, body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// Every `Set-Cookie` header's value.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    }

    /// The `Location` header, or "".
    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).map_or("", |v| v.to_str().unwrap())
    }
}

/// A browser-like client: keeps the cookies it is given and sends them back, from one source address.
pub struct Browser {
    http: Client<HttpConnector, Body>,
    base: String,
    cookies: BTreeMap<String, String>,
    /// An `X-Forwarded-For` header to send (as a proxy in front of the server would).
    pub forwarded_for: Option<String>,
}

impl Browser {
    /// A client of the server at `base`, connecting from `from` (any 127.x.y.z works on Linux).
    pub fn new(base: &str, from: &str) -> Browser {
        let mut connector = HttpConnector::new();
        connector.set_local_address(Some(from.parse::<IpAddr>().unwrap()));
        let http = Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        Browser { http, base: base.to_owned(), cookies: BTreeMap::new(), forwarded_for: None }
    }

    /// Send a request with the cookies kept so far; keep the ones the answer sets (and drop the ones it clears).
    pub async fn send(&mut self, request: axum::http::request::Builder, body: Body) -> Answer {
        let mut request = request;
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header(header::COOKIE, jar.join("; "));
        }
        if let Some(forwarded) = &self.forwarded_for {
            request = request.header("x-forwarded-for", forwarded.as_str());
        }
        let response = self.http.request(request.body(body).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(Body::new(body), 1 << 24).await.unwrap();
        let answer =
            Answer { status: parts.status, headers: parts.headers, body: String::from_utf8(body.to_vec()).unwrap() };
        for cookie in answer.set_cookies() {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        answer
    }

    /// GET a path.
    pub async fn get(&mut self, path: &str) -> Answer {
        let request = Request::get(format!("{}{path}", self.base));
        self.send(request, Body::empty()).await
    }

    /// POST a form, its fields URL-encoded as a browser does.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let encoded: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        let request = Request::post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.send(request, Body::from(encoded.join("&"))).await
    }

    /// POST JSON to the API with an `X-Cadre-CSRF` header.
    pub async fn post_json(&mut self, path: &str, json: serde_json::Value, csrf: &str) -> Answer {
        let request = Request::post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/json")
            .header(web::CSRF_HEADER, csrf);
        self.send(request, Body::from(json.to_string())).await
    }

    /// Open a page and read the CSRF token its first form carries (as a browser would submit it).
    pub async fn form_token(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        token_in(&page.body).unwrap_or_else(|| panic!("{path} has no form with a CSRF token"))
    }
}

/// The value of the first `csrf` field in a page.
pub fn token_in(page: &str) -> Option<String> {
    let at = page.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(page[at..].split('"').next()?.to_owned())
}

/// Percent-encode a form value (everything but letters and digits).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
