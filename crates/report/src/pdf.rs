//! Typesetting with typst: a template of ours plus the document's data as JSON, read by the
//! template with `json(...)`, so nothing a user typed is ever evaluated as markup.

use std::collections::HashSet;
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::layout::PagedDocument;
use typst::syntax::{FileId, Source, VirtualPath};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_kit::fonts::{FontSearcher, Fonts};

use crate::{ReportError, ReportResult};

/// The fonts, found once per process: typst's embedded ones, the system's, and the
/// directory named by `ATTEST_FONT_DIR`.
fn fonts() -> &'static (LazyHash<FontBook>, Fonts) {
    static FONTS: OnceLock<(LazyHash<FontBook>, Fonts)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let dirs: Vec<std::path::PathBuf> = std::env::var_os("ATTEST_FONT_DIR")
            .map(|d| std::env::split_paths(&d).collect())
            .unwrap_or_default();
        let fonts = FontSearcher::new()
            .include_system_fonts(true)
            .search_with(dirs);
        (LazyHash::new(fonts.book.clone()), fonts)
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

/// Characters of `text` that no font covers (at most a few, for the message).
fn uncovered(text: &str) -> String {
    let (book, _) = fonts();
    let mut seen = HashSet::new();
    let mut out = String::new();
    for c in text
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
    {
        if !seen.insert(c) {
            continue;
        }
        let covered = (0..)
            .map_while(|i| book.info(i))
            .any(|info| info.coverage.contains(c as u32));
        if !covered {
            out.push(c);
            if out.chars().count() >= 8 {
                break;
            }
        }
    }
    out
}

struct Doc {
    main: Source,
    data: Bytes,
    today: Datetime,
}

impl World for Doc {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().0
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotFound(id.vpath().as_rootless_path().into()))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id.vpath().as_rootless_path() == std::path::Path::new("data.json") {
            Ok(self.data.clone())
        } else {
            Err(FileError::NotFound(id.vpath().as_rootless_path().into()))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().1.fonts.get(index)?.get()
    }

    fn today(&self, _offset: Option<i64>) -> Option<Datetime> {
        Some(self.today)
    }
}

/// Typesets `template` with `data` (readable in the template as `json("data.json")`).
/// `text` is every user-supplied string in the data, checked for glyphs no font has.
pub fn render(
    template: &str,
    data: &impl serde::Serialize,
    text: &str,
    today: time::Date,
) -> ReportResult<Vec<u8>> {
    let missing = uncovered(text);
    if !missing.is_empty() {
        return Err(ReportError::MissingGlyphs { sample: missing });
    }
    let doc = Doc {
        main: Source::new(
            FileId::new(None, VirtualPath::new("main.typ")),
            template.to_owned(),
        ),
        data: Bytes::new(serde_json::to_vec(data)?),
        today: Datetime::from_ymd(today.year(), today.month() as u8, today.day())
            .ok_or_else(|| ReportError::Typeset(format!("date {today}")))?,
    };
    let document: PagedDocument = typst::compile(&doc)
        .output
        .map_err(|errors| ReportError::Typeset(messages(&errors)))?;
    typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
        .map_err(|errors| ReportError::Typeset(messages(&errors)))
}

fn messages(errors: &[typst::diag::SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}
