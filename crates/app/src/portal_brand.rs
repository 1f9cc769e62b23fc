//! The portal's branding and address: the organisation's logo (a PNG or JPEG, checked by
//! decoding it whole) and an optional host name of its own on which the portal answers.

use attest_domain::Timestamp;
use attest_store::portal::{self as store_portal, Settings};
use bytes::Bytes;
use futures::Stream;

use crate::audit_trail::{Event, record};
use crate::{App, AppError, AppResult, Caller, Permission};

/// The largest logo accepted, in bytes.
pub const LOGO_LIMIT: u64 = 512 * 1024;
/// The largest logo accepted, in pixels per side.
pub const LOGO_MAX_SIDE: u32 = 2048;

/// A logo as the portal serves it.
#[derive(Debug, Clone)]
pub struct Logo {
    /// `image/png` or `image/jpeg`.
    pub content_type: String,
    /// Its SHA-256 (hex), the entity tag.
    pub sha256: String,
    /// The file.
    pub bytes: Bytes,
}

/// Checks a logo: a PNG or JPEG, at most [`LOGO_MAX_SIDE`] pixels a side, that decodes whole
/// (a truncated or damaged file is refused). Answers its content type.
pub fn check_logo(bytes: &[u8]) -> AppResult<&'static str> {
    use image::{ImageFormat, ImageReader, Limits};
    let invalid = |m: String| AppError::invalid("logo", m);
    let format = image::guess_format(bytes)
        .map_err(|_| invalid("a logo is a PNG or JPEG image; this file is neither".into()))?;
    let content_type = match format {
        ImageFormat::Png => "image/png",
        ImageFormat::Jpeg => "image/jpeg",
        other => {
            return Err(invalid(format!(
                "a logo is a PNG or JPEG image; this file is {}",
                other.extensions_str().first().unwrap_or(&"another format")
            )));
        }
    };
    let reader = || ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let (w, h) = reader()
        .into_dimensions()
        .map_err(|e| invalid(format!("the image cannot be read: {e}")))?;
    if w == 0 || h == 0 || w > LOGO_MAX_SIDE || h > LOGO_MAX_SIDE {
        return Err(invalid(format!(
            "a logo is at most {LOGO_MAX_SIDE} × {LOGO_MAX_SIDE} pixels; this one is {w} × {h}"
        )));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(LOGO_MAX_SIDE);
    limits.max_image_height = Some(LOGO_MAX_SIDE);
    limits.max_alloc = Some(64 * 1024 * 1024);
    let mut r = reader();
    r.limits(limits);
    r.decode()
        .map_err(|e| invalid(format!("the image is damaged: {e}")))?;
    Ok(content_type)
}

/// The host of an address (`https://attest.example.com:8443/x` → `attest.example.com`).
pub fn url_host(url: &str) -> &str {
    url.split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
}

/// The refusal when the database keeps a host name for another organisation's portal.
pub(crate) fn host_clash(host: Option<&str>) -> impl Fn(attest_store::StoreError) -> AppError + '_ {
    move |e| match e {
        attest_store::StoreError::Unique { .. } => AppError::Conflict {
            field: "host".into(),
            message: format!(
                "another organisation's portal answers on {}",
                host.unwrap_or_default()
            ),
        },
        other => other.into(),
    }
}

impl App {
    /// Sets (or, empty, removes) the host name of the portal's own, keeping the other
    /// settings as they are.
    pub async fn set_portal_host(&self, caller: &Caller, host: &str) -> AppResult<Settings> {
        let org = caller.require(Permission::PortalManage)?;
        let host = self.check_host(host)?;
        let mut tx = self.store.begin().await?;
        let before = self.locked_settings(&mut tx, org).await?;
        let after = Settings {
            host,
            updated_at: Timestamp::now(),
            ..before.clone()
        };
        store_portal::put_settings(&mut tx, org, &after)
            .await
            .map_err(host_clash(after.host.as_deref()))?;
        record(
            &mut tx,
            caller,
            Event::org(org, "portal.settings", "organisation", org)
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The settings in a transaction, their row locked until it ends (saved with the
    /// defaults first when the organisation never saved any).
    async fn locked_settings(
        &self,
        tx: &mut attest_store::Tx,
        org: attest_domain::OrgId,
    ) -> AppResult<Settings> {
        if let Some(s) = store_portal::settings_in(tx, org).await? {
            return Ok(s);
        }
        let name = attest_store::org::get(&self.store, org).await?.name;
        let s = Self::default_settings(&name);
        store_portal::put_settings(tx, org, &s).await?;
        Ok(s)
    }

    /// The host name a portal may answer on: lower case, a domain name, not Attest's own
    /// (empty: none).
    pub(crate) fn check_host(&self, host: &str) -> AppResult<Option<String>> {
        let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if h.is_empty() {
            return Ok(None);
        }
        let numeric_tld = h
            .rsplit('.')
            .next()
            .is_some_and(|t| t.chars().all(|c| c.is_ascii_digit()));
        if !crate::portal::is_domain(&h) || numeric_tld {
            return Err(AppError::invalid(
                "host",
                format!(
                    "`{h}` is not a host name (example: trust.example.com; no port, no address)"
                ),
            ));
        }
        if url_host(&self.config.public_url).eq_ignore_ascii_case(&h) {
            return Err(AppError::invalid(
                "host",
                format!("{h} is Attest's own address; the portal is at /trust/… there already"),
            ));
        }
        Ok(Some(h))
    }

    /// The slug of the portal that answers on `host` (a host name staff set, lower case,
    /// without port), if any. Read from the database on every call, so every node agrees.
    pub async fn portal_slug_for_host(&self, host: &str) -> AppResult<Option<String>> {
        Ok(store_portal::slug_for_host(&self.store, host).await?)
    }

    /// Sets the portal's logo from an uploaded PNG or JPEG (at most [`LOGO_LIMIT`] bytes).
    pub async fn set_portal_logo<S, E>(&self, caller: &Caller, body: S) -> AppResult<Settings>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let org = caller.require(Permission::PortalManage)?;
        let stored = self.blobs.put_stream(org, body, LOGO_LIMIT, None).await?;
        let bytes = self.blobs.get_bytes(org, &stored.sha256).await?;
        let checked = tokio::task::spawn_blocking(move || check_logo(&bytes))
            .await
            .map_err(|e| AppError::Internal(format!("reading the logo: {e}")))?;
        let content_type = match checked {
            Ok(ct) => ct,
            Err(e) => {
                if !stored.deduplicated {
                    // Nothing refers to these bytes: they leave with the refusal.
                    let _ = self.blobs.delete(org, &stored.sha256).await;
                }
                return Err(e);
            }
        };
        let sha = hex::encode(stored.sha256);
        self.put_logo(caller, Some((sha, content_type.to_owned(), stored.size)))
            .await
    }

    /// Removes the portal's logo (the file stays in the blob store, as the audit trail names it).
    pub async fn remove_portal_logo(&self, caller: &Caller) -> AppResult<Settings> {
        self.put_logo(caller, None).await
    }

    async fn put_logo(
        &self,
        caller: &Caller,
        logo: Option<(String, String, u64)>,
    ) -> AppResult<Settings> {
        let org = caller.require(Permission::PortalManage)?;
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let before = self.locked_settings(&mut tx, org).await?;
        if let Some((sha, content_type, size)) = &logo {
            attest_store::evidence::put_blob(&mut tx, org, sha, *size as i64, content_type, now)
                .await?;
        }
        store_portal::put_logo(
            &mut tx,
            org,
            logo.as_ref().map(|(s, c, _)| (s.as_str(), c.as_str())),
            now,
        )
        .await?;
        let after = Settings {
            logo: logo.map(|(s, c, _)| (s, c)),
            updated_at: now,
            ..before.clone()
        };
        record(
            &mut tx,
            caller,
            Event::org(org, "portal.logo", "organisation", org)
                .before(&serde_json::json!({"logo": before.logo}))
                .after(&serde_json::json!({"logo": after.logo})),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The logo of a portal that is on (not found when it has none).
    pub async fn portal_logo(&self, slug: &str) -> AppResult<Logo> {
        let (org, s) = self.portal_org(slug).await?;
        self.logo_of(org, s).await
    }

    /// The logo as staff see it, whether the portal is on or not.
    pub async fn staff_portal_logo(&self, caller: &Caller) -> AppResult<Logo> {
        let org = caller.require(Permission::PortalManage)?;
        let s = store_portal::settings(&self.store, org)
            .await?
            .ok_or(AppError::NotFound("logo"))?;
        self.logo_of(org, s).await
    }

    async fn logo_of(&self, org: attest_domain::OrgId, s: Settings) -> AppResult<Logo> {
        let (sha, content_type) = s.logo.ok_or(AppError::NotFound("logo"))?;
        let hash = crate::evidence::parse_sha256(&sha).map_err(|_| {
            AppError::Internal(format!("the stored logo address {sha} is not a SHA-256"))
        })?;
        let bytes = self.blobs.get_bytes(org, &hash).await?;
        Ok(Logo {
            content_type,
            sha256: sha,
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([29, 78, 216]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn the_host_of_an_address() {
        assert_eq!(
            url_host("https://attest.example.com:8443/x"),
            "attest.example.com"
        );
        assert_eq!(url_host("http://127.0.0.1:8080"), "127.0.0.1");
    }

    #[test]
    fn a_logo_is_a_whole_png_or_jpeg_of_bounded_size() {
        assert_eq!(check_logo(&png(120, 40)).unwrap(), "image/png");
        let mut jpeg = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(8, 8, image::Rgb([0, 0, 0]))
            .write_to(&mut jpeg, image::ImageFormat::Jpeg)
            .unwrap();
        assert_eq!(check_logo(jpeg.get_ref()).unwrap(), "image/jpeg");
        let text = check_logo(b"<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap_err();
        assert!(text.to_string().contains("PNG or JPEG"), "{text}");
        let whole = png(64, 64);
        let cut = check_logo(&whole[..whole.len() / 2]).unwrap_err();
        assert!(
            cut.to_string().contains("damaged") || cut.to_string().contains("cannot be read"),
            "{cut}"
        );
        let big = check_logo(&png(LOGO_MAX_SIDE + 1, 1)).unwrap_err();
        assert!(big.to_string().contains("at most 2048"), "{big}");
        let gif = check_logo(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap_err();
        assert!(gif.to_string().contains("gif"), "{gif}");
    }
}
