//! The real server against a careless or hostile client on a real socket:
//! a URL longer than the HTTP library takes, and guesses at a password.

use crate::harness::{Sandbox, cli_with_stdin};
use std::io::{Read, Write};

/// Sends `request` on a new connection and returns everything answered.
pub fn raw(url: &str, request: &[u8]) -> String {
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn urls_longer_than_the_http_library_takes_get_a_414_in_the_api_s_shape() {
    let sandbox = Sandbox::new();
    let server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data"]).unwrap();
    for ids in [10_000, 40_000] {
        let url = format!("/api/v1/jobs?ids={}", vec!["1"; ids].join(","));
        let answer = raw(&server.url, format!("GET {url} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes());
        assert!(answer.starts_with("HTTP/1.1 414"), "a {} byte URL: {}", url.len(), &answer[..answer.len().min(200)]);
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let error: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(error["error"]["code"], "uri_too_long", "{body}");
    }
    // The server still answers, on a new connection.
    let health = raw(&server.url, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    server.stop();
}

#[test]
fn failed_logins_are_counted_against_the_real_peer_address() {
    let sandbox = Sandbox::new();
    let server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data"]).unwrap();
    let home = sandbox.path("guesser");
    let guess =
        || cli_with_stdin(&home, &["login", "--url", &server.url, "admin", "--password-stdin"], "wrong-guess\n");
    for _ in 0..5 {
        let refused = guess();
        assert!(refused.stderr.contains("wrong user name or password"), "{}", refused.stderr);
    }
    let locked = guess();
    assert!(locked.stderr.contains("from your address"), "{}", locked.stderr);
    // A restart gives the guesser no fresh window: the counts are saved
    // every 5 s (here after SIGKILL) and when the server stops.
    std::thread::sleep(std::time::Duration::from_secs(6));
    server.kill9();
    let server = sandbox.start(&["up", "--listen", "127.0.0.1:0", "--data", "data"]).unwrap();
    let guess =
        || cli_with_stdin(&home, &["login", "--url", &server.url, "admin", "--password-stdin"], "wrong-guess\n");
    let still = guess();
    assert!(still.stderr.contains("from your address"), "after a restart: {}", still.stderr);
    server.stop();
}
