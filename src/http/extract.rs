//! Typed path extractors.
//!
//! [`Id`] reads one numeric path segment (named by a [`Segment`] type,
//! `{id}` by default) and refuses anything but a positive integer without sign
//! or leading zeros with a 400 naming the segment, before the handler runs.

use std::future::{ready, Ready};
use std::marker::PhantomData;

use actix_web::{FromRequest, HttpRequest};

use crate::error::ApiError;

/// Names the path segment an [`Id`] is read from.
pub trait Segment {
    /// The segment's name in the route template, e.g. `id` for `/media/{id}`.
    const NAME: &'static str;
}

/// The `{id}` segment.
#[derive(Debug)]
pub struct IdSegment;

impl Segment for IdSegment {
    const NAME: &'static str = "id";
}

/// The `{rev}` segment (a revision of an article).
#[derive(Debug)]
pub struct RevSegment;

impl Segment for RevSegment {
    const NAME: &'static str = "rev";
}

/// A positive 64-bit id from the path segment `S::NAME`.
#[derive(Debug)]
pub struct Id<S: Segment = IdSegment> {
    value: i64,
    segment: PhantomData<S>,
}

impl<S: Segment> Id<S> {
    /// The id.
    pub fn get(&self) -> i64 {
        self.value
    }
}

impl<S: Segment> FromRequest for Id<S> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let raw = req.match_info().get(S::NAME).unwrap_or_default();
        ready(parse_id(S::NAME, raw).map(|value| Self { value, segment: PhantomData }))
    }
}

/// Parses a positive integer id (from a path segment or a query parameter);
/// anything else is a 400 naming `field`.
pub fn parse_id(field: &str, raw: &str) -> Result<i64, ApiError> {
    Some(raw)
        .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()) && !r.starts_with('0'))
        // Any value up to i64::MAX (19 digits) is an id the spec allows
        // (`format: int64, minimum: 1`); a larger one fails to parse.
        .and_then(|r| r.parse::<i64>().ok())
        .ok_or_else(|| ApiError::invalid(field, "must be a positive integer without sign or leading zeros"))
}

#[cfg(test)]
mod tests {
    use super::parse_id;

    #[test]
    fn ids_are_positive_integers_without_sign_or_leading_zeros() {
        assert_eq!(parse_id("id", "42").ok(), Some(42));
        assert_eq!(parse_id("id", "9223372036854775807").ok(), Some(i64::MAX));
        for bad in ["", "0", "007", "-1", "+1", "1e3", "9223372036854775808", "9999999999999999999", "abc"] {
            let err = parse_id("id", bad).expect_err(bad);
            assert_eq!(err.problem().errors[0].field, "id", "{bad}");
        }
    }
}
