//! Tests of the authentication decision through [`HttpAuthenticator::authenticate`].

use super::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

const KEY: &[u8] = b"jwt-key";

fn credentials() -> Credentials {
    Credentials::parse(r#"{"credentials":[{"principal":"ops","secret":"pw"}]}"#).unwrap()
}

fn both(realms: &[Realm]) -> HttpAuthenticator {
    HttpAuthenticator::new(
        NodeKind::Master,
        realms,
        Some(credentials()),
        Some(JwtKey(KEY.to_vec())),
    )
    .unwrap()
}

fn with_auth(value: &str) -> RequestHeaders {
    RequestHeaders::from_pairs([("Authorization", value)])
}

fn basic(principal: &str, secret: &str) -> RequestHeaders {
    with_auth(&format!(
        "Basic {}",
        STANDARD.encode(format!("{principal}:{secret}"))
    ))
}

fn bearer(claims: serde_json::Value) -> RequestHeaders {
    let token = jwt::sign(claims.as_object().unwrap(), KEY);
    with_auth(&format!("Bearer {token}"))
}

fn challenges(r: &Refusal) -> Vec<&str> {
    r.error
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("WWW-Authenticate"))
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn a_guarded_realm_without_an_authenticator_is_refused_naming_the_flag() {
    let e = HttpAuthenticator::new(NodeKind::Agent, &[Realm::Readonly], None, None).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "--authenticate-http-readonly needs --http-credentials or --jwt-secret-file"
        ),
        "{e}"
    );
    let e = HttpAuthenticator::new(NodeKind::Master, &[Realm::Framework], None, None).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("--authenticate-http-frameworks needs --credentials or --jwt-secret-file"),
        "{e}"
    );
    // Executors authenticate with tokens signed by the agent's key: Basic alone will not do.
    let e = HttpAuthenticator::new(
        NodeKind::Agent,
        &[Realm::Executor],
        Some(credentials()),
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("--authenticate-http-executors needs --jwt-secret-file"),
        "{e}"
    );
    assert!(HttpAuthenticator::new(NodeKind::Agent, &[], None, None).is_ok());
}

#[test]
fn tokens_signed_by_the_node_pass_its_own_check() {
    let auth = both(&[Realm::Executor]);
    let token = auth
        .sign(json!({"cid": "c1"}).as_object().unwrap())
        .unwrap();
    let p = auth
        .authenticate(
            Some(Realm::Executor),
            &with_auth(&format!("Bearer {token}")),
            0.0,
        )
        .unwrap()
        .unwrap();
    assert_eq!(p.claims["cid"], "c1");
    assert_eq!(p.value, None);
    let basic_only =
        HttpAuthenticator::new(NodeKind::Master, &[], Some(credentials()), None).unwrap();
    assert_eq!(basic_only.sign(json!({"a": 1}).as_object().unwrap()), None);
}

#[test]
fn missing_credentials_get_401_with_every_configured_challenge() {
    let auth = both(&[Realm::Readonly]);
    let r = auth
        .authenticate(Some(Realm::Readonly), &RequestHeaders::new(), 0.0)
        .unwrap_err();
    assert_eq!(r.error.status, 401);
    assert!(!r.attempted);
    assert_eq!(
        challenges(&r),
        [
            "Basic realm=\"mesos-master-readonly\"",
            "Bearer realm=\"mesos-master-readonly\""
        ]
    );
    assert!(
        r.error.body.contains("no 'Authorization' header"),
        "{}",
        r.error.body
    );
}

#[test]
fn right_basic_passes_and_wrong_secret_or_principal_is_an_attempt_refused() {
    let auth = both(&[Realm::Readwrite]);
    let p = auth
        .authenticate(Some(Realm::Readwrite), &basic("ops", "pw"), 0.0)
        .unwrap()
        .unwrap();
    assert_eq!(p.value.as_deref(), Some("ops"));
    for (who, secret) in [("ops", "nope"), ("eve", "pw"), ("ops", "")] {
        let r = auth
            .authenticate(Some(Realm::Readwrite), &basic(who, secret), 0.0)
            .unwrap_err();
        assert_eq!(r.error.status, 401);
        assert!(r.attempted);
        assert!(
            !r.error.body.contains("pw"),
            "the secret must not be echoed"
        );
    }
    let r = auth
        .authenticate(Some(Realm::Readwrite), &with_auth("Basic %%%"), 0.0)
        .unwrap_err();
    assert!(r.error.body.contains("not base64"), "{}", r.error.body);
}

#[test]
fn a_valid_token_passes_with_its_claims_and_an_expired_one_is_refused() {
    let auth = both(&[Realm::Framework]);
    let p = auth
        .authenticate(
            Some(Realm::Framework),
            &bearer(json!({"sub":"fw","exp":100})),
            99.0,
        )
        .unwrap()
        .unwrap();
    assert_eq!(p.value.as_deref(), Some("fw"));
    assert_eq!(p.claims["exp"], "100");
    let r = auth
        .authenticate(
            Some(Realm::Framework),
            &bearer(json!({"sub":"fw","exp":100})),
            100.0,
        )
        .unwrap_err();
    assert!(r.error.body.contains("expired"), "{}", r.error.body);
    let forged = jwt::sign(json!({"sub":"fw"}).as_object().unwrap(), b"guess");
    let r = auth
        .authenticate(
            Some(Realm::Framework),
            &with_auth(&format!("Bearer {forged}")),
            0.0,
        )
        .unwrap_err();
    assert!(r.error.body.contains("signature"), "{}", r.error.body);
}

#[test]
fn only_guarded_realms_and_configured_schemes_apply() {
    let basic_only = HttpAuthenticator::new(
        NodeKind::Agent,
        &[Realm::Readonly],
        Some(credentials()),
        None,
    )
    .unwrap();
    // Not guarded, and always-open endpoints: no credentials needed.
    assert_eq!(
        basic_only.authenticate(Some(Realm::Readwrite), &RequestHeaders::new(), 0.0),
        Ok(None)
    );
    assert_eq!(
        basic_only.authenticate(None, &RequestHeaders::new(), 0.0),
        Ok(None)
    );
    assert_eq!(
        HttpAuthenticator::open().authenticate(Some(Realm::Readonly), &RequestHeaders::new(), 0.0),
        Ok(None)
    );
    // A token where only Basic is configured is an unsupported scheme.
    let r = basic_only
        .authenticate(Some(Realm::Readonly), &bearer(json!({"sub":"x"})), 0.0)
        .unwrap_err();
    assert!(
        r.error
            .body
            .contains("Unsupported authentication scheme 'Bearer'"),
        "{}",
        r.error.body
    );
    assert_eq!(challenges(&r), ["Basic realm=\"mesos-agent-readonly\""]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_authorization_headers_never_pass_or_panic(value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        let auth = both(&[Realm::Readonly]);
        let headers = RequestHeaders::from_pairs([("Authorization", value)]);
        let r = auth.authenticate(Some(Realm::Readonly), &headers, 0.0);
        proptest::prop_assert!(r.is_err());
        let r = r.unwrap_err();
        proptest::prop_assert_eq!(r.error.status, 401);
        proptest::prop_assert!(!r.error.body.is_empty());
    }

    #[test]
    fn basic_passes_exactly_for_the_right_pair(principal in "[a-z]{0,6}", secret in "[a-z:]{0,6}") {
        let auth = both(&[Realm::Readonly]);
        let passed = auth.authenticate(Some(Realm::Readonly), &basic(&principal, &secret), 0.0).is_ok();
        proptest::prop_assert_eq!(passed, principal == "ops" && secret == "pw");
    }
}
