//! Signing keys stored in the database (no `JWT_SECRET`): shared by
//! instances, rotated without restarts.

use serde_json::Value;

use crate::helpers::{backend_tests, Backend, TestApp};

backend_tests!(
    instances_starting_together_create_one_key,
    instances_on_one_database_accept_each_others_tokens,
    rotation_keeps_old_tokens_valid_until_their_key_expires,
);

const NO_SECRET: [(&str, &str); 1] = [("JWT_SECRET", "")];

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).expect("a JWT").kid.expect("a kid header")
}

async fn me(app: &TestApp, token: &str) -> u16 {
    app.authed("GET", "/api/v1/auth/me", token, None).await.status.as_u16()
}

async fn token(app: &TestApp, email: &str) -> String {
    app.login(email).await["access_token"].as_str().unwrap().to_owned()
}

async fn instances_starting_together_create_one_key(backend: Backend) {
    let Some(db) = crate::helpers::TestDb::create(backend) else { return };

    let threads: Vec<_> = (0..4)
        .map(|_| {
            let pool = db.pool.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().expect("connection");
                broadsheet::auth::keys::load_or_create(&mut conn).expect("keys")[0].kid.clone()
            })
        })
        .collect();
    let kids: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    assert!(kids.windows(2).all(|w| w[0] == w[1]), "every instance got the same key: {kids:?}");
    use broadsheet::db::schema::signing_keys;
    use diesel::prelude::*;
    let stored: i64 = signing_keys::table.count().get_result(&mut *db.conn()).unwrap();
    assert_eq!(stored, 1);
}

async fn instances_on_one_database_accept_each_others_tokens(backend: Backend) {
    let Some(one) = TestApp::spawn_with(backend, &NO_SECRET).await else { return };
    let two = one.another_instance(&NO_SECRET).await;
    one.create_user("shared@example.com", "author", None);

    let from_one = token(&one, "shared@example.com").await;
    let from_two = token(&two, "shared@example.com").await;

    assert_eq!(kid(&from_one), kid(&from_two), "one stored key for both");
    assert_eq!(me(&two, &from_one).await, 200);
    assert_eq!(me(&one, &from_two).await, 200);
    use broadsheet::db::schema::signing_keys;
    use diesel::prelude::*;
    let stored: i64 = signing_keys::table.count().get_result(&mut *one.db.conn()).unwrap();
    assert_eq!(stored, 1, "the second instance reused the first one's key");
}

async fn rotation_keeps_old_tokens_valid_until_their_key_expires(backend: Backend) {
    use broadsheet::db::schema::signing_keys;
    use diesel::prelude::*;
    let Some(one) = TestApp::spawn_with(backend, &NO_SECRET).await else { return };
    one.create_user("rot@example.com", "author", None);
    let before = token(&one, "rot@example.com").await;
    let old_kid = kid(&before);

    // Act: rotate (what `broadsheet keys rotate` runs), then a new instance
    // signs with the new key; the running one learns it from the first token
    // that names it, without a restart.
    let new_kid = broadsheet::auth::keys::rotate(&mut one.db.conn(), 3600 + 300).expect("rotated");
    let two = one.another_instance(&NO_SECRET).await;
    let after = token(&two, "rot@example.com").await;
    let old_on_new = me(&two, &before).await;
    let new_on_old = me(&one, &after).await;
    let reissued = token(&one, "rot@example.com").await;

    assert_ne!(old_kid, new_kid);
    assert_eq!(kid(&after), new_kid, "new tokens carry the new kid");
    assert_eq!(old_on_new, 200, "a token signed before the rotation still verifies");
    assert_eq!(new_on_old, 200, "the running instance picked up the new key");
    assert_eq!(kid(&reissued), new_kid, "and signs with it");
    assert_eq!(me(&one, &before).await, 200);

    // The retired key's grace has passed: an instance loading now refuses it.
    diesel::update(signing_keys::table.filter(signing_keys::kid.eq(&old_kid)))
        .set(signing_keys::not_after.eq(broadsheet::db::now() - chrono::Duration::seconds(1)))
        .execute(&mut *one.db.conn())
        .unwrap();
    let three = one.another_instance(&NO_SECRET).await;
    let refused = three.authed("GET", "/api/v1/auth/me", &before, None).await;
    let forged = forge(&after, "no-such-kid");

    assert_eq!(refused.assert_problem(401)["code"], "unauthorized");
    assert_eq!(me(&three, &after).await, 200);
    assert_eq!(me(&three, &forged).await, 401, "an unknown kid is refused");
}

/// `token` with its header's kid replaced (signature left as is).
fn forge(token: &str, kid: &str) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let header: Value = serde_json::from_slice(&engine.decode(parts.next().unwrap()).unwrap()).unwrap();
    let mut header = header;
    header["kid"] = Value::from(kid);
    let rest: Vec<&str> = parts.collect();
    format!("{}.{}", engine.encode(header.to_string()), rest.join("."))
}
