//! Vendors Swagger UI into the gateway at build time: the `dist/` bundle and
//! stylesheet are taken from the `utoipa-swagger-ui-vendored` crate's archive
//! (which ships inside the crate: nothing is fetched, at build or at run time)
//! and written to `OUT_DIR/swagger-ui/` for `include_bytes!`.

use std::{env, error::Error, fs, path::PathBuf};

/// The files the docs page serves, as named in the archive's `dist/`.
const ASSETS: [&str; 2] = ["swagger-ui-bundle.js", "swagger-ui.css"];

fn main() -> Result<(), Box<dyn Error>> {
    let zip = utoipa_swagger_ui_vendored::SWAGGER_UI_VENDORED;
    let out = PathBuf::from(env::var("OUT_DIR")?).join("swagger-ui");
    fs::create_dir_all(&out)?;
    for asset in ASSETS {
        let bytes = extract(zip, &format!("/dist/{asset}"))?;
        fs::write(out.join(asset), bytes)?;
    }
    println!("cargo:rerun-if-changed=build.rs");
    Ok(())
}

fn u16_at(b: &[u8], at: usize) -> Result<usize, Box<dyn Error>> {
    let s = b.get(at..at + 2).ok_or("zip: truncated")?;
    Ok(u16::from_le_bytes([s[0], s[1]]) as usize)
}

fn u32_at(b: &[u8], at: usize) -> Result<usize, Box<dyn Error>> {
    let s = b.get(at..at + 4).ok_or("zip: truncated")?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// The content of the one entry whose name ends with `suffix`, read through
/// the central directory (stored or deflated).
fn extract(zip: &[u8], suffix: &str) -> Result<Vec<u8>, Box<dyn Error>> {
    let end = (0..zip.len().saturating_sub(21))
        .rev()
        .find(|&at| zip[at..].starts_with(&[0x50, 0x4b, 0x05, 0x06]))
        .ok_or("zip: no end of central directory")?;
    let (entries, mut at) = (u16_at(zip, end + 10)?, u32_at(zip, end + 16)?);
    for _ in 0..entries {
        if !zip[at..].starts_with(&[0x50, 0x4b, 0x01, 0x02]) {
            return Err("zip: bad central directory entry".into());
        }
        let (method, size) = (u16_at(zip, at + 10)?, u32_at(zip, at + 20)?);
        let (name_len, extra_len, comment_len) = (
            u16_at(zip, at + 28)?,
            u16_at(zip, at + 30)?,
            u16_at(zip, at + 32)?,
        );
        let local = u32_at(zip, at + 42)?;
        let name = zip
            .get(at + 46..at + 46 + name_len)
            .ok_or("zip: truncated name")?;
        at += 46 + name_len + extra_len + comment_len;
        if !name.ends_with(suffix.as_bytes()) {
            continue;
        }
        let data = local + 30 + u16_at(zip, local + 26)? + u16_at(zip, local + 28)?;
        let raw = zip.get(data..data + size).ok_or("zip: truncated data")?;
        return match method {
            0 => Ok(raw.to_vec()),
            8 => miniz_oxide::inflate::decompress_to_vec(raw)
                .map_err(|e| format!("zip: inflate {suffix}: {e:?}").into()),
            other => Err(format!("zip: method {other} for {suffix}").into()),
        };
    }
    Err(format!("zip: no entry ending with {suffix}").into())
}
