//! A JSON body extractor whose errors name the offending field.
//!
//! actix's `web::Json` reports serde errors without a path ("invalid type:
//! integer `5`, expected a string"). This one deserializes through
//! `serde_path_to_error`, so a 400 says `email: invalid type…` and
//! `errors[0].field` is `email` (or `social_links.mastodon`). Bodies over
//! `http::JSON_LIMIT` are 413; a non-JSON `Content-Type` is 415.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError, Problem};

/// A deserialized JSON request body.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// serde names Rust types ("expected struct CreateUser"); clients need JSON words.
fn clean(msg: &str) -> String {
    let mut out = msg.to_owned();
    for (from, to) in
        [("expected struct ", "expected an object "), ("expected enum ", "expected one of the values of ")]
    {
        if let Some(i) = out.find(from) {
            let rest = &out[i + from.len()..];
            let end = rest.find(|c: char| !c.is_alphanumeric() && c != '_').unwrap_or(rest.len());
            out = format!("{}{}{}", &out[..i], to.trim_end(), &rest[end..]);
        }
    }
    out
}

fn field_error(field: String, message: String) -> ApiError {
    ApiError::BadRequest { detail: format!("{field}: {message}"), errors: vec![FieldError { field, message }] }
}

/// Finds a string holding U+0000, which PostgreSQL cannot store in text.
fn nul_path(v: &serde_json::Value, path: &str) -> Option<String> {
    let join = |k: &str| if path.is_empty() { k.to_owned() } else { format!("{path}.{k}") };
    match v {
        serde_json::Value::String(s) if s.contains('\0') => {
            Some(if path.is_empty() { "body".into() } else { path.into() })
        }
        serde_json::Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| nul_path(x, &join(&i.to_string()))),
        serde_json::Value::Object(m) => {
            m.iter().find_map(|(k, x)| if k.contains('\0') { Some(join("key")) } else { nul_path(x, &join(k)) })
        }
        _ => None,
    }
}

/// Rewrites numbers with a zero fraction (`7.0`, `-1e3`) as integers.
///
/// JSON Schema counts `7.0` as an `integer` (draft 2020-12, §6.1.1's note on
/// mathematical value), so a field the spec declares as an integer must take it;
/// serde's `i64` would refuse it as "invalid type: floating point".
fn integral_floats_as_integers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            // i64's range as doubles: -2^63 is one, 2^63 the first above it.
            if let Some(f) =
                n.as_f64().filter(|f| f.fract() == 0.0 && (i64::MIN as f64..-(i64::MIN as f64)).contains(f))
            {
                // Every such f64 is an integer that i64 holds exactly. Above
                // 2^53 it is the double nearest to what was written (as any
                // parser reading JSON numbers as doubles gets it); the spec's
                // `int64` admits it, and an id that large names no row (422).
                *v = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(integral_floats_as_integers),
        serde_json::Value::Object(m) => m.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// Parses `bytes` as `T`, naming the failing field in the error.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| field_error("body".into(), format!("is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(field_error("body".into(), "must be a JSON object".into()));
    }
    if let Some(field) = nul_path(&value, "") {
        return Err(field_error(field, "must not contain NUL (U+0000) characters".into()));
    }
    integral_floats_as_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let msg = clean(&e.into_inner().to_string());
        let at_root = path == "." || path.is_empty();
        let field = if msg.starts_with("missing field") {
            let name = crate::error::field_from_serde_message(&msg).unwrap_or_default();
            if at_root {
                name
            } else {
                format!("{path}.{name}")
            }
        } else if at_root {
            crate::error::field_from_serde_message(&msg)
                .filter(|_| msg.starts_with("unknown field"))
                .unwrap_or_else(|| "body".to_owned())
        } else {
            path
        };
        field_error(field, msg)
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
        let bytes = actix_web::web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                let p = Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "the request body must be sent as Content-Type: application/json".into(),
                    vec![],
                );
                return Err(actix_web::error::InternalError::from_response("not json", p.into_response()).into());
            }
            let bytes = bytes.await.map_err(|e| -> actix_web::Error {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(format!("the request body is over {} bytes", crate::http::JSON_LIMIT))
                        .into()
                } else {
                    ApiError::invalid("body", "could not be read (check Content-Encoding and Content-Length)").into()
                }
            })?;
            parse::<T>(&bytes).map(Json).map_err(Into::into)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[derive(Debug, serde::Deserialize)]
    struct Ids {
        id: i64,
        ids: Vec<i64>,
        ratio: f64,
    }

    #[test]
    fn integral_floats_are_integers_as_json_schema_counts_them() {
        let ok: Ids = parse(br#"{"id": 7.0, "ids": [-456289924.0, 1e3], "ratio": 2.0}"#).expect("integral floats");
        assert_eq!((ok.id, ok.ids, ok.ratio), (7, vec![-456_289_924, 1000], 2.0));
        // 2^51 - 1 written with 17 significant digits: serde_json's default
        // float parser rounded it to a fraction (schemathesis found it);
        // `float_roundtrip` parses it exactly.
        let big: Ids = parse(br#"{"id": 2251799813685247.0, "ids": [], "ratio": 0}"#).expect("exact");
        assert_eq!(big.id, 2_251_799_813_685_247);
        // 2^53 and beyond, up to i64's ends, written with a fraction: schema-valid
        // `int64` values that the stateful phase sent as a byline id.
        let huge: Ids = parse(br#"{"id": 9007199254740992.0, "ids": [-9.2e18, 9.2e18], "ratio": 0}"#).expect("int64");
        assert_eq!(
            (huge.id, huge.ids),
            (9_007_199_254_740_992, vec![-9_200_000_000_000_000_000, 9_200_000_000_000_000_000])
        );
        let err = parse::<Ids>(br#"{"id": 1e19, "ids": [], "ratio": 1}"#).expect_err("beyond i64");
        assert_eq!(err.problem().errors[0].field, "id");
        let err = parse::<Ids>(br#"{"id": 7.5, "ids": [], "ratio": 1}"#).expect_err("a fraction is not an id");
        assert_eq!(err.problem().errors[0].field, "id");
    }
}
