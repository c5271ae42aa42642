//! A small blocking HTTP/1.1 client for the web load bench: one keep-alive connection per simulated member, a
//! cookie jar, `Content-Length` and chunked bodies. Loopback only (it refuses any other address), no TLS, no
//! redirects followed (the bench checks the `303` a form answers and reads its `Location`).
//!
//! Owns the wire format only; what is sent and what an answer means is `web`'s business. It never retries a
//! request by itself: a request whose answer was lost is reported as lost, so the kill -9 test can tell an
//! acknowledged write from one that may or may not have happened.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header of this name (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// How a request failed before an answer came back.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The connection could not be opened: the request was certainly not received.
    #[error("could not connect to {addr}: {source}")]
    Connect {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The request was (perhaps) sent but no complete answer came back: it may or may not have been applied.
    #[error("no answer from {addr}: {source}")]
    Lost {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Not a loopback address.
    #[error("{0} is not a loopback address (the bench only talks to this machine)")]
    NotLoopback(SocketAddr),
}

impl HttpError {
    /// True when the server certainly never received the request.
    pub fn never_sent(&self) -> bool {
        matches!(self, HttpError::Connect { .. } | HttpError::NotLoopback(_))
    }
}

/// One client: a keep-alive connection (reopened after a failure) and its cookies.
pub struct Client {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
    cookies: BTreeMap<String, String>,
    timeout: Duration,
}

impl Client {
    /// A client of the server at `addr` (a loopback address), with no connection yet.
    pub fn new(addr: SocketAddr) -> Client {
        Client { addr, stream: None, cookies: BTreeMap::new(), timeout: Duration::from_secs(30) }
    }

    /// A cookie the server set, if any.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Forget the connection (the next request opens a new one).
    pub fn disconnect(&mut self) {
        self.stream = None;
    }

    /// `GET path`.
    pub fn get(&mut self, path: &str) -> Result<Response, HttpError> {
        self.request("GET", path, None, &[], b"")
    }

    /// `POST path` with a JSON body and the API's CSRF header.
    pub fn post_json(&mut self, path: &str, csrf: &str, body: &serde_json::Value) -> Result<Response, HttpError> {
        let body = body.to_string();
        self.request("POST", path, Some("application/json"), &[("x-cadre-csrf", csrf)], body.as_bytes())
    }

    /// `POST path` with a form (`application/x-www-form-urlencoded`), as a browser sends it.
    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Result<Response, HttpError> {
        let body = fields.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&");
        self.request("POST", path, Some("application/x-www-form-urlencoded"), &[], body.as_bytes())
    }

    /// Send one request and read its answer; cookies set by the answer are kept.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, HttpError> {
        if !self.addr.ip().is_loopback() {
            return Err(HttpError::NotLoopback(self.addr));
        }
        let addr = self.addr;
        if self.stream.is_none() {
            let stream = TcpStream::connect_timeout(&addr, self.timeout)
                .map_err(|source| HttpError::Connect { addr, source })?;
            let _ = stream.set_nodelay(true);
            let _ = stream.set_read_timeout(Some(self.timeout));
            let _ = stream.set_write_timeout(Some(self.timeout));
            self.stream = Some(BufReader::new(stream));
        }
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            head.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        if let Some(content_type) = content_type {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let result = self.exchange(head.as_bytes(), body);
        if result.is_err() {
            self.stream = None;
        }
        let response = result.map_err(|source| HttpError::Lost { addr, source })?;
        for value in response.headers.iter().filter(|(n, _)| n == "set-cookie").map(|(_, v)| v) {
            if let Some((name, value)) = value.split(';').next().and_then(|pair| pair.trim().split_once('=')) {
                if value.is_empty() || value.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        if response.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
            self.stream = None;
        }
        Ok(response)
    }

    fn exchange(&mut self, head: &[u8], body: &[u8]) -> std::io::Result<Response> {
        let stream = self.stream.as_mut().expect("connected above");
        let mut request = Vec::with_capacity(head.len() + body.len());
        request.extend_from_slice(head);
        request.extend_from_slice(body);
        stream.get_mut().write_all(&request)?;
        let mut line = String::new();
        if stream.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the connection closed"));
        }
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not HTTP: {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            if stream.read_line(&mut line)? == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the connection closed"));
            }
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if let Some((name, value)) = trimmed.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v): &(String, String)| v.clone());
        let mut body = Vec::new();
        if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                line.clear();
                stream.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                if size == 0 {
                    line.clear();
                    stream.read_line(&mut line)?;
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                stream.read_exact(&mut body[start..])?;
                let mut crlf = [0u8; 2];
                stream.read_exact(&mut crlf)?;
            }
        } else if let Some(length) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
            body.resize(length, 0);
            stream.read_exact(&mut body)?;
        }
        Ok(Response { status, headers, body })
    }
}

/// Percent-encode a form value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The value of the first `<input … name="csrf" value="…">` in a page.
pub fn form_token(page: &str) -> Option<String> {
    let at = page.find("name=\"csrf\"")?;
    let rest = &page[at..];
    let value = rest.split("value=\"").nth(1)?;
    Some(value.split('"').next()?.to_owned())
}
