//! Generated avatars: `GET /api/v1/avatars/{key}.svg`.
//!
//! The key is a reader's avatar key (32 lowercase hex digits, a keyed hash
//! made with a server-side secret: `crate::readers::model::avatar_key`), so
//! an avatar says nothing about the address. The image is an identicon: a
//! 5×5 grid, mirrored left to right, whose cells and colour come from the
//! key's bytes alone. The same key always gives the same bytes, so the
//! answer is cacheable forever, and no database is read.

/// Length of a key, in hex digits.
pub const KEY_LEN: usize = 32;
/// `Cache-Control` of every avatar (the bytes never change for a key).
pub const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// The 16 bytes of `key` when it is exactly 32 lowercase hex digits.
pub fn parse_key(key: &str) -> Option<[u8; 16]> {
    if key.len() != KEY_LEN || !key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut out = [0u8; 16];
    hex::decode_to_slice(key, &mut out).ok()?;
    Some(out)
}

/// The SVG identicon of a parsed key: 80×80 px, a light background and a
/// mirrored 5×5 pattern in one colour (hue from the key, fixed saturation
/// and lightness for contrast).
pub fn svg(bytes: &[u8; 16]) -> String {
    let hue = u16::from_be_bytes([bytes[0], bytes[1]]) % 360;
    let saturation = 45 + bytes[2] % 20;
    let lightness = 40 + bytes[3] % 15;
    // 15 cells (3 columns × 5 rows) decide the pattern; columns 3 and 4 mirror 1 and 0.
    let bits = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let mut path = String::new();
    for row in 0..5u32 {
        for col in 0..3u32 {
            if bits >> (row * 3 + col) & 1 == 1 {
                path.push_str(&format!("M{col} {row}h1v1h-1z"));
                if col != 2 {
                    path.push_str(&format!("M{} {row}h1v1h-1z", 4 - col));
                }
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"80\" height=\"80\" viewBox=\"-0.5 -0.5 6 6\" \
         shape-rendering=\"crispEdges\"><rect x=\"-0.5\" y=\"-0.5\" width=\"6\" height=\"6\" fill=\"#f2f2f2\"/>\
         <path fill=\"hsl({hue},{saturation}%,{lightness}%)\" d=\"{path}\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_32_lowercase_hex_digits_and_images_are_deterministic() {
        let k = parse_key("5f0c1b2a9d8e7f6a5b4c3d2e1f0a9b8c").expect("a key");
        assert_eq!(svg(&k), svg(&k));
        assert_ne!(svg(&k), svg(&parse_key("00000000000000000000000000000001").unwrap()));
        for bad in [
            "",
            "5F0C1B2A9D8E7F6A5B4C3D2E1F0A9B8C",
            "5f0c1b2a9d8e7f6a5b4c3d2e1f0a9b8",
            "zz0c1b2a9d8e7f6a5b4c3d2e1f0a9b8c",
        ] {
            assert!(parse_key(bad).is_none(), "{bad}");
        }
    }
}
