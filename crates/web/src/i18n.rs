//! The trust portal's own interface in English and Korean, with Project Fluent: the messages
//! live in `i18n/en.ftl` and `i18n/ko.ftl`, compiled into the binary and checked to have the
//! same messages (test).

use std::sync::OnceLock;

use attest_app::portal::Lang;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

const EN: &str = include_str!("../i18n/en.ftl");
const KO: &str = include_str!("../i18n/ko.ftl");

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: &str, source: &str) -> Bundle {
    let id: unic_langid::LanguageIdentifier = lang.parse().expect("a valid language tag");
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // Pages are HTML, escaped by the templates: no bidi isolation marks in them.
    b.set_use_isolating(false);
    let res = FluentResource::try_new(source.to_owned()).expect("the FTL file parses");
    b.add_resource(res).expect("no message is defined twice");
    b
}

fn bundles() -> &'static (Bundle, Bundle) {
    static B: OnceLock<(Bundle, Bundle)> = OnceLock::new();
    B.get_or_init(|| (bundle("en", EN), bundle("ko", KO)))
}

/// The messages of one language.
#[derive(Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    fn bundle(self) -> &'static Bundle {
        match self.0 {
            Lang::En => &bundles().0,
            Lang::Ko => &bundles().1,
        }
    }

    /// A message with arguments (`("org", "Hanbit")`); a missing one shows its id.
    pub fn args(self, id: &str, args: &[(&str, &str)]) -> String {
        let b = self.bundle();
        let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
            return id.to_owned();
        };
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            // Numbers select plural forms.
            match v.parse::<i64>() {
                Ok(n) => fa.set(*k, FluentValue::from(n)),
                Err(_) => fa.set(*k, FluentValue::from(*v)),
            }
        }
        let mut errors = Vec::new();
        b.format_pattern(pattern, Some(&fa), &mut errors)
            .into_owned()
    }

    /// A message without arguments.
    pub fn t(self, id: &str) -> String {
        self.args(id, &[])
    }
}

/// The language of a request: `?lang=` first, then the browser's preference, else English.
pub fn negotiate(query: Option<&str>, accept_language: Option<&str>) -> Lang {
    match query {
        Some("ko") => return Lang::Ko,
        Some("en") => return Lang::En,
        _ => {}
    }
    let Some(header) = accept_language else {
        return Lang::En;
    };
    let mut best: Option<(f32, Lang)> = None;
    for part in header.split(',').take(20) {
        let mut it = part.trim().split(';');
        let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let lang = if tag == "ko" || tag.starts_with("ko-") {
            Lang::Ko
        } else if tag == "en" || tag.starts_with("en-") {
            Lang::En
        } else {
            continue;
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map_or(Lang::En, |(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(src: &str) -> Vec<String> {
        src.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && l.contains(" ="))
            .map(|l| l.split(" =").next().unwrap_or("").to_owned())
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        assert_eq!(ids(EN), ids(KO));
        for id in ids(EN) {
            assert_ne!(Tr(Lang::En).t(&id), id);
            assert_ne!(Tr(Lang::Ko).t(&id), id);
        }
    }

    #[test]
    fn arguments_and_plurals() {
        assert_eq!(
            Tr(Lang::En).args("portal-title", &[("org", "Hanbit")]),
            "Hanbit Trust Center"
        );
        assert_eq!(
            Tr(Lang::En).args("portal-current", &[("count", "1")]),
            "one current report or certificate"
        );
        assert_eq!(
            Tr(Lang::Ko).args("portal-current", &[("count", "3")]),
            "현재 유효한 보고서 및 인증서 3건"
        );
    }

    #[test]
    fn the_language_follows_the_query_then_the_browser() {
        assert_eq!(negotiate(Some("ko"), Some("en")), Lang::Ko);
        assert_eq!(negotiate(None, Some("ko-KR,ko;q=0.9,en;q=0.8")), Lang::Ko);
        assert_eq!(negotiate(None, Some("en-US,ko;q=0.5")), Lang::En);
        assert_eq!(negotiate(None, Some("fr-FR")), Lang::En);
        assert_eq!(negotiate(Some("xx"), None), Lang::En);
    }
}
