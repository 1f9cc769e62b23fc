//! The UI's own stylesheet and script, embedded in the binary and served under a
//! content-hashed name so browsers may cache them for a year.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    ext: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app",
        ext: "css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/app.css"),
    },
    Asset {
        name: "app",
        ext: "js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/app.js"),
    },
    Asset {
        name: "logo",
        ext: "svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../assets/logo.svg"),
    },
];

fn hashes() -> &'static Vec<String> {
    static H: OnceLock<Vec<String>> = OnceLock::new();
    H.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| hex::encode(&Sha256::digest(a.bytes)[..6]))
            .collect()
    })
}

/// The URL of an asset (`/assets/app.1a2b3c4d5e6f.css`).
pub fn url(name: &str, ext: &str) -> String {
    ASSETS
        .iter()
        .zip(hashes())
        .find(|(a, _)| a.name == name && a.ext == ext)
        .map(|(a, h)| format!("/assets/{}.{h}.{}", a.name, a.ext))
        .unwrap_or_default()
}

/// Serves an asset by its hashed file name.
pub async fn serve(Path(file): Path<String>) -> Response {
    let found = ASSETS
        .iter()
        .zip(hashes())
        .find(|(a, h)| file == format!("{}.{h}.{}", a.name, a.ext));
    match found {
        Some((a, _)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(a.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            a.bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
