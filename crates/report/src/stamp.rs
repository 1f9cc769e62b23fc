//! Stamping a restricted document for the customer who takes it: every page of the PDF gets
//! the recipient's name, e-mail, company and the time, as text (a watermark that survives
//! text extraction, in any script the installed fonts cover).
//!
//! The stamp is typeset once per download with typst (which embeds the fonts it needs, with
//! their Unicode maps) as one transparent page; that page becomes a form XObject of the
//! original document, drawn over each page scaled to its media box. The original's own
//! content is wrapped in `q`/`Q` so whatever graphics state it leaves cannot move the stamp.

use std::collections::BTreeSet;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, dictionary};
use serde::Serialize;

use crate::{ReportError, ReportResult};

const TEMPLATE: &str = include_str!("stamp.typ");
const XOBJECT: &[u8] = b"AttestStamp";

/// Who takes the document, and when.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    /// Their name.
    pub name: String,
    /// Their e-mail address.
    pub email: String,
    /// Their company.
    pub company: String,
    /// When they took it (UTC, as shown).
    pub at: String,
    /// The organisation whose document it is.
    pub organisation: String,
    /// The download's id (for the log).
    pub reference: String,
}

#[derive(Serialize)]
struct StampData {
    watermark: String,
    line: String,
    header: String,
}

/// The stamp page for `r`, typeset (a one-page PDF).
pub fn overlay(r: &Recipient, today: time::Date) -> ReportResult<Vec<u8>> {
    let data = StampData {
        watermark: format!("{} · {}", r.name, r.company),
        line: format!(
            "Provided to {} <{}>, {} · {} · download {} · Confidential: do not distribute",
            r.name, r.email, r.company, r.at, r.reference
        ),
        header: format!(
            "{} · confidential · provided to {} ({}) on {}",
            r.organisation, r.name, r.company, r.at
        ),
    };
    let text = format!("{}{}{}{}", r.name, r.email, r.company, r.organisation);
    crate::pdf::render(TEMPLATE, &data, &text, today)
}

fn pdf_error(what: &str, e: impl std::fmt::Display) -> ReportError {
    ReportError::Pdf(format!("{what}: {e}"))
}

/// Checks that a PDF can be stamped (parsed, not encrypted, has pages); what is refused at
/// upload rather than at a customer's download.
pub fn check(pdf: &[u8]) -> ReportResult<usize> {
    let doc = Document::load_mem(pdf).map_err(|e| pdf_error("the PDF cannot be read", e))?;
    if doc.is_encrypted() {
        return Err(ReportError::Pdf(
            "the PDF is encrypted: upload it without a password".into(),
        ));
    }
    let n = doc.get_pages().len();
    if n == 0 {
        return Err(ReportError::Pdf("the PDF has no pages".into()));
    }
    Ok(n)
}

/// An entry of a page, its own or inherited from the page tree.
fn inherited(doc: &Document, page: ObjectId, key: &[u8]) -> Option<Object> {
    let mut id = page;
    for _ in 0..64 {
        let dict = doc.get_dictionary(id).ok()?;
        if let Ok(v) = dict.get(key) {
            return Some(v.clone());
        }
        id = dict.get(b"Parent").ok()?.as_reference().ok()?;
    }
    None
}

/// Follows a reference to the object it names (a copy).
fn resolved(doc: &Document, o: Object) -> Object {
    match o {
        Object::Reference(id) => doc.get_object(id).cloned().unwrap_or(Object::Null),
        other => other,
    }
}

fn number(o: &Object) -> Option<f32> {
    match o {
        Object::Integer(i) => Some(*i as f32),
        Object::Real(r) => Some(*r),
        _ => None,
    }
}

/// A page's media box (llx, lly, urx, ury); A4 when it has none.
fn media_box(doc: &Document, page: ObjectId) -> (f32, f32, f32, f32) {
    let a4 = (0.0, 0.0, 595.28, 841.89);
    let Some(Object::Array(a)) = inherited(doc, page, b"MediaBox").map(|o| resolved(doc, o)) else {
        return a4;
    };
    let v: Vec<f32> = a
        .iter()
        .filter_map(|o| number(&resolved(doc, o.clone())))
        .collect();
    match v.as_slice() {
        [x0, y0, x1, y1] if x1 > x0 && y1 > y0 => (*x0, *y0, *x1, *y1),
        _ => a4,
    }
}

/// Every object `o` refers to, transitively.
fn reachable(doc: &Document, o: &Object, seen: &mut BTreeSet<ObjectId>) {
    match o {
        Object::Reference(id) => {
            if seen.insert(*id)
                && let Ok(x) = doc.get_object(*id)
            {
                reachable(doc, x, seen);
            }
        }
        Object::Array(a) => a.iter().for_each(|x| reachable(doc, x, seen)),
        Object::Dictionary(d) => d.iter().for_each(|(_, x)| reachable(doc, x, seen)),
        Object::Stream(s) => s.dict.iter().for_each(|(_, x)| reachable(doc, x, seen)),
        _ => {}
    }
}

/// `original` with the one-page `overlay` drawn over every page.
pub fn apply(original: &[u8], overlay: &[u8]) -> ReportResult<Vec<u8>> {
    let mut doc =
        Document::load_mem(original).map_err(|e| pdf_error("the PDF cannot be read", e))?;
    if doc.is_encrypted() {
        return Err(ReportError::Pdf("the PDF is encrypted".into()));
    }
    let mut ov = Document::load_mem(overlay).map_err(|e| pdf_error("the stamp", e))?;
    ov.renumber_objects_with(doc.max_id + 1);
    let ov_page = *ov
        .get_pages()
        .values()
        .next()
        .ok_or_else(|| ReportError::Pdf("the stamp has no page".into()))?;
    let content = ov.get_page_content(ov_page);
    if content.is_empty() {
        return Err(ReportError::Pdf("the stamp has no content".into()));
    }
    let resources = inherited(&ov, ov_page, b"Resources")
        .map(|o| resolved(&ov, o))
        .unwrap_or_else(|| Object::Dictionary(Dictionary::new()));
    let (ox0, oy0, ox1, oy1) = media_box(&ov, ov_page);
    let (ow, oh) = (ox1 - ox0, oy1 - oy0);
    // The stamp's fonts and graphics states move into the document.
    let mut needed = BTreeSet::new();
    reachable(&ov, &resources, &mut needed);
    for id in needed {
        if let Some(o) = ov.objects.remove(&id) {
            doc.objects.insert(id, o);
        }
    }
    doc.max_id = doc.max_id.max(ov.max_id);
    let mut form = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![ox0.into(), oy0.into(), ox1.into(), oy1.into()],
            "Resources" => resources,
        },
        content,
    );
    let _ = form.compress();
    let form_id = doc.add_object(form);
    let open_id = doc.add_object(Stream::new(Dictionary::new(), b"q\n".to_vec()));
    let pages: Vec<ObjectId> = doc.get_pages().values().copied().collect();
    for page in pages {
        let (x0, y0, x1, y1) = media_box(&doc, page);
        let (w, h) = (x1 - x0, y1 - y0);
        let s = (w / ow).min(h / oh);
        let (tx, ty) = (x0 + (w - ow * s) / 2.0, y0 + (h - oh * s) / 2.0);
        let draw = format!(
            "Q\nq {s:.5} 0 0 {s:.5} {tx:.3} {ty:.3} cm /{} Do Q\n",
            String::from_utf8_lossy(XOBJECT)
        );
        let draw_id = doc.add_object(Stream::new(Dictionary::new(), draw.into_bytes()));
        let mut res = match inherited(&doc, page, b"Resources").map(|o| resolved(&doc, o)) {
            Some(Object::Dictionary(d)) => d,
            _ => Dictionary::new(),
        };
        let mut xobjects = match res.get(b"XObject").ok().cloned().map(|o| resolved(&doc, o)) {
            Some(Object::Dictionary(d)) => d,
            _ => Dictionary::new(),
        };
        xobjects.set(XOBJECT, Object::Reference(form_id));
        res.set("XObject", Object::Dictionary(xobjects));
        let contents = doc
            .get_dictionary(page)
            .ok()
            .and_then(|d| d.get(b"Contents").ok().cloned());
        let mut list = vec![Object::Reference(open_id)];
        match contents {
            Some(Object::Array(a)) => list.extend(a),
            Some(Object::Reference(r)) => match doc.get_object(r) {
                Ok(Object::Array(a)) => list.extend(a.iter().cloned()),
                _ => list.push(Object::Reference(r)),
            },
            _ => {}
        }
        list.push(Object::Reference(draw_id));
        let dict = doc
            .get_dictionary_mut(page)
            .map_err(|e| pdf_error("a page", e))?;
        dict.set("Resources", Object::Dictionary(res));
        dict.set("Contents", Object::Array(list));
    }
    let mut out = Vec::with_capacity(original.len() + 64 * 1024);
    doc.save_to(&mut out)
        .map_err(|e| pdf_error("writing the PDF", e))?;
    Ok(out)
}

/// `original` stamped for `r` on every page.
pub fn stamp(original: &[u8], r: &Recipient, today: time::Date) -> ReportResult<Vec<u8>> {
    let ov = overlay(r, today)?;
    apply(original, &ov)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(pages: usize) -> Vec<u8> {
        crate::sample::pdf(&crate::sample::SampleDocument {
            title: "SOC 2 Type 2 report".into(),
            organisation: "Hanbit Cloud".into(),
            issuer: "Example Assurance LLP".into(),
            dated: "2026-10-30".into(),
            paragraphs: (0..pages * 9)
                .map(|i| format!("Paragraph {i}: {}", "text of the report ".repeat(12)))
                .collect(),
            generated_on: time::macros::date!(2026 - 11 - 24),
        })
        .unwrap()
    }

    fn recipient(name: &str) -> Recipient {
        Recipient {
            name: name.into(),
            email: "jiwoo@customer.example".into(),
            company: "Customer Co".into(),
            at: "2026-11-24 09:30 UTC".into(),
            organisation: "Hanbit Cloud".into(),
            reference: "0190-abc".into(),
        }
    }

    #[test]
    fn every_page_carries_the_stamp_and_the_original_stays_readable() {
        let original = sample(3);
        let pages = check(&original).unwrap();
        assert!(pages >= 2, "{pages}");
        let out = stamp(
            &original,
            &recipient("Jiwoo Park"),
            time::macros::date!(2026 - 11 - 24),
        )
        .unwrap();
        assert_eq!(check(&out).unwrap(), pages);
        let doc = Document::load_mem(&out).unwrap();
        for (_, page) in doc.get_pages() {
            let content = doc.get_page_content(page);
            let text = String::from_utf8_lossy(&content);
            assert!(text.contains("/AttestStamp Do"), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_pdf() {
        assert!(matches!(
            check(b"%PDF-1.7\nnot really"),
            Err(ReportError::Pdf(_))
        ));
        assert!(matches!(
            apply(b"hello", b"hello"),
            Err(ReportError::Pdf(_))
        ));
    }
}
