//! The rate limiter: headers, no lockout, client addresses behind proxies,
//! Redis sharing between instances and Redis outages.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{backend_tests, redis_url, unique_prefix, Backend, Response, TestApp, PASSWORD};

backend_tests!(
    limited_answers_carry_ratelimit_headers,
    a_wrong_password_storm_does_not_lock_the_owner_out,
    spoofed_forwarding_headers_do_not_move_the_client,
    instances_sharing_redis_share_one_budget,
    a_redis_outage_falls_back_to_limits_in_process,
);

async fn login_from(app: &TestApp, ip: Option<&str>, email: &str, password: &str) -> Response {
    let headers: Vec<(&str, &str)> = ip.map(|ip| vec![("x-forwarded-for", ip)]).unwrap_or_default();
    app.send("POST", "/api/v1/auth/login", &headers, Some(&json!({"email": email, "password": password}))).await
}

async fn limited_answers_carry_ratelimit_headers(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT", "3")]).await else {
        return;
    };
    app.create_user("h@example.com", "author", None);

    let ok = login_from(&app, None, "h@example.com", PASSWORD).await;
    for _ in 0..3 {
        login_from(&app, None, "h@example.com", "wrong password!").await.assert_problem(401);
    }
    let refused = login_from(&app, None, "h@example.com", "wrong password!").await;
    let token = ok.json()["data"]["access_token"].as_str().unwrap().to_owned();
    let change = json!({"current_password": PASSWORD, "new_password": "a brand new long passphrase"});
    let changed = app.authed("PUT", "/api/v1/auth/password", &token, Some(&change)).await;

    assert_eq!(ok.status.as_u16(), 200);
    assert_eq!(changed.status.as_u16(), 200, "{}", String::from_utf8_lossy(&changed.body));
    assert_eq!(
        changed.header("ratelimit-policy"),
        Some("\"password-client\";q=20;w=900, \"password-account\";q=3;w=900")
    );
    assert_eq!(changed.header("ratelimit"), Some("\"password-client\";r=20;t=0, \"password-account\";r=3;t=0"));
    assert_eq!(ok.header("ratelimit-policy"), Some("\"login-client\";q=20;w=900, \"login-account\";q=3;w=900"));
    assert_eq!(ok.header("ratelimit"), Some("\"login-client\";r=20;t=0, \"login-account\";r=3;t=0"));
    assert_eq!(refused.assert_problem(429)["code"], "too_many_requests");
    let retry: u64 = refused.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((890..=900).contains(&retry), "Retry-After {retry}");
    assert_eq!(refused.header("ratelimit-policy"), ok.header("ratelimit-policy"));
    let remaining = refused.header("ratelimit").expect("RateLimit on the 429");
    assert!(remaining.starts_with("\"login-client\";r=17;t=") && remaining.contains("\"login-account\";r=0;t="));
}

async fn a_wrong_password_storm_does_not_lock_the_owner_out(backend: Backend) {
    // The test client is the trusted proxy, so X-Forwarded-For names the
    // two addresses.
    let Some(app) = TestApp::spawn_with(backend, &[("TRUSTED_PROXIES", "127.0.0.1")]).await else { return };
    app.create_user("editor@example.com", "editor", None);

    let mut statuses = Vec::new();
    for i in 0..40 {
        let res = login_from(&app, Some("203.0.113.66"), "editor@example.com", &format!("guess {i}")).await;
        statuses.push(res.status.as_u16());
    }
    let started = Instant::now();
    let owner = login_from(&app, Some("198.51.100.7"), "editor@example.com", PASSWORD).await;
    let took = started.elapsed();

    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "the guessing address is refused: {statuses:?}");
    assert_eq!(owner.status.as_u16(), 200, "{}", String::from_utf8_lossy(&owner.body));
    assert!(took < Duration::from_secs(2), "the owner waited {took:?}");
    let again = login_from(&app, Some("203.0.113.66"), "editor@example.com", PASSWORD).await;
    again.assert_problem(429);
}

async fn spoofed_forwarding_headers_do_not_move_the_client(backend: Backend) {
    let limit = [("LOGIN_MAX_FAILURES_PER_CLIENT", "3")];
    let Some(direct) = TestApp::spawn_with(backend, &limit).await else { return };
    let proxied =
        direct.another_instance(&[("LOGIN_MAX_FAILURES_PER_CLIENT", "3"), ("TRUSTED_PROXIES", "127.0.0.0/8")]).await;

    // No trusted proxy: every forwarding header is ignored.
    for i in 0..3 {
        let spoof = format!("10.9.8.{i}");
        login_from(&direct, Some(&spoof), &format!("a{i}@example.com"), "x").await.assert_problem(401);
    }
    let fourth = direct
        .send(
            "POST",
            "/api/v1/auth/login",
            &[("forwarded", "for=10.1.1.1"), ("x-real-ip", "10.1.1.2")],
            Some(&json!({"email": "z@example.com", "password": "x"})),
        )
        .await;
    // Behind a trusted proxy: entries the client wrote left of the proxy's
    // own entry do not matter.
    for i in 0..3 {
        let chain = format!("10.9.8.{i}, 198.51.100.20");
        login_from(&proxied, Some(&chain), &format!("b{i}@example.com"), "x").await.assert_problem(401);
    }
    let spoofed = login_from(&proxied, Some("10.9.8.200, 198.51.100.20"), "c@example.com", "x").await;
    let other = login_from(&proxied, Some("198.51.100.21"), "c@example.com", "x").await;

    fourth.assert_problem(429);
    spoofed.assert_problem(429);
    other.assert_problem(401);
}

async fn instances_sharing_redis_share_one_budget(backend: Backend) {
    let Some(redis) = redis_url() else { return };
    let prefix = unique_prefix("shared");
    let vars = [
        ("REDIS_URL", redis.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
        ("LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT", "3"),
    ];
    let Some(one) = TestApp::spawn_with(backend, &vars).await else { return };
    let two = one.another_instance(&vars).await;
    one.create_user("shared@example.com", "author", None);

    login_from(&one, None, "shared@example.com", "wrong 1").await.assert_problem(401);
    login_from(&two, None, "shared@example.com", "wrong 2").await.assert_problem(401);
    login_from(&one, None, "shared@example.com", "wrong 3").await.assert_problem(401);
    let on_two = login_from(&two, None, "shared@example.com", PASSWORD).await;
    let on_one = login_from(&one, None, "shared@example.com", PASSWORD).await;

    let body = on_two.assert_problem(429);
    assert!(body["detail"].as_str().unwrap().contains("retry"), "{body}");
    on_one.assert_problem(429);
    assert!(on_two.header("ratelimit").unwrap().contains("\"login-account\";r=0;"), "{:?}", on_two.header("ratelimit"));
}

async fn a_redis_outage_falls_back_to_limits_in_process(backend: Backend) {
    // A port nothing listens on: every Redis call fails at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", closed.local_addr().unwrap());
    drop(closed);
    let vars = [("REDIS_URL", url.as_str()), ("LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT", "3")];
    let Some(app) = TestApp::spawn_with(backend, &vars).await else { return };
    app.create_user("down@example.com", "author", None);

    let started = Instant::now();
    let ok = login_from(&app, None, "down@example.com", PASSWORD).await;
    let first = started.elapsed();
    for _ in 0..3 {
        login_from(&app, None, "down@example.com", "wrong password!").await.assert_problem(401);
    }
    let refused = login_from(&app, None, "down@example.com", "wrong password!").await;

    assert_eq!(ok.status.as_u16(), 200, "{}", String::from_utf8_lossy(&ok.body));
    // Redis calls give up after 250 ms; a hang would be a connect timeout
    // per call. The bound is loose because argon2 in a debug build on a
    // loaded 2-core machine alone took over 2 s once.
    assert!(first < Duration::from_secs(15), "login took {first:?} with Redis down");
    refused.assert_problem(429);
    assert!(refused.header("retry-after").is_some());
}
