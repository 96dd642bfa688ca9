//! Helpers for partial updates (`PATCH`).

use serde::{Deserialize, Deserializer};

/// For `Option<Option<T>>` fields with `#[serde(default)]`: an absent key is
/// `None` (leave alone), `null` is `Some(None)` (clear), a value is
/// `Some(Some(v))` (set).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// For `Option<T>` fields of a PATCH body that cannot be cleared: an absent
/// key is `None`, a value is `Some(v)`, and `null` is an error (naming the
/// field) instead of being silently read as "leave alone".
pub fn non_null<'de, T, D>(de: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(de).map(Some)
}
