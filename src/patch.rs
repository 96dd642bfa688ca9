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
