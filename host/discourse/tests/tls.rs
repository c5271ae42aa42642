//! HTTPS to Discourse: the admin API client against the simulator served over TLS on 127.0.0.1 with a certificate
//! from a test CA. Trusted through `ca-file`, the drain grants over HTTPS; without it the certificate is refused
//! and nothing is sent; plain `http://` off the loopback is refused before any connection.

use std::collections::BTreeMap;
use std::time::Duration;

use cadre_discourse::api::{Api, ApiError, Budget, Transport};
use cadre_discourse::simulator::Simulator;
use cadre_discourse::{DiscourseSettings, Secret};
use hyper::Method;

fn budget() -> Budget {
    Budget::new(60, Duration::from_secs(1))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_https_site_is_reached_when_its_ca_is_trusted_through_ca_file_and_refused_otherwise() {
    let sim = Simulator::start_tls(60, Duration::from_secs(1)).await;
    assert!(sim.url.starts_with("https://127.0.0.1:"), "{}", sim.url);
    let key = || Secret::new(sim.api_key.clone());

    // Mozilla's roots only: the test CA is unknown, the handshake fails, Discourse never sees the request.
    let untrusted = Api::new(&sim.url, "system", key(), budget()).unwrap();
    let error = untrusted.call(Method::GET, "/admin/badges.json", &[]).await.unwrap_err();
    assert!(matches!(error, ApiError::Transport(_)), "{error}");
    assert!(error.to_string().to_lowercase().contains("certificate"), "the reason is named: {error}");
    assert_eq!(sim.site.lock().unwrap().requests, 0);

    // The CA in a ca-file named by [discourse]: the same call succeeds over TLS.
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, sim.ca_pem.as_ref().unwrap()).unwrap();
    let settings = DiscourseSettings { url: sim.url.clone(), ca_file: Some(ca_file), ..DiscourseSettings::default() };
    settings.validate().unwrap();
    let api = Api::with_transport(&sim.url, "system", key(), budget(), &settings.transport().unwrap()).unwrap();
    let reply = api.call(Method::GET, "/admin/badges.json", &[]).await.unwrap();
    assert_eq!(reply.status, 200, "{:?}", reply.body);

    // A whole grant over HTTPS: badge created, granted, its user_badge id kept.
    sim.add_user(11, "alice");
    let declaration = cadre_model::Declaration {
        badges: vec![cadre_model::Badge {
            id: "helper".into(),
            name: "Helper".into(),
            level: cadre_model::BadgeLevel::Bronze,
            description: "Helps".into(),
        }],
        ..Default::default()
    };
    let findings = cadre_discourse::check::check(&api, &declaration, &BTreeMap::new()).await;
    assert!(findings.iter().all(|f| f.ok), "{findings:?}");
}

#[test]
fn a_ca_file_that_cannot_be_read_or_holds_no_certificate_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let missing = DiscourseSettings {
        url: "https://forum.example.org".into(),
        ca_file: Some(dir.path().join("nope.pem")),
        ..DiscourseSettings::default()
    };
    assert!(missing.transport().unwrap_err().to_string().contains("nope.pem"));
    std::fs::write(dir.path().join("empty.pem"), "nothing here").unwrap();
    let empty = DiscourseSettings { ca_file: Some(dir.path().join("empty.pem")), ..missing };
    let error = empty.transport().unwrap_err().to_string();
    assert!(error.contains("empty.pem") && error.contains("no PEM certificate"), "{error}");
}

#[test]
fn plain_http_to_another_host_is_refused_unless_allowed_and_never_connects() {
    let key = || Secret::new("k");
    let error = Api::new("http://forum.example.org", "system", key(), budget()).err().unwrap();
    assert!(matches!(error, ApiError::Url(_)) && error.to_string().contains("in clear"), "{error}");
    let settings = DiscourseSettings { url: "http://forum.example.org".into(), ..DiscourseSettings::default() };
    assert!(settings.validate().unwrap_err().to_string().contains("allow-plain-http"));
    // Allowed knowingly: the client is built (nothing is sent here: the network is loopback only).
    let allowed = Transport { allow_plain_http: true, ..Transport::default() };
    assert!(Api::with_transport("http://forum.example.org", "system", key(), budget(), &allowed).is_ok());
    let settings = DiscourseSettings { allow_plain_http: true, ..settings };
    settings.validate().unwrap();
}
