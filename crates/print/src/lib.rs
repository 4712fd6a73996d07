//! Printed documents as PDF. For now one: the service work order (服务工单) a handler takes on site.
//!
//! [`render`] turns a [`WorkOrderSheet`] (plain strings, already formatted by the caller) into an A4
//! PDF: company and title, the number with its Code 128 barcode and a QR code, the order's facts and
//! deadlines, the customer, the problem, custom fields, the timeline (flowing onto further pages with
//! its header row repeated), the feedback (or empty rows to fill in by hand) and signature lines, with
//! "第 1 页 / 共 2 页" in the footer. The fonts are embedded as subsets, so the sheet prints the same
//! on any machine, and text extraction finds the Chinese and the number.
//!
//! [`Fonts`] reads the fonts from disk once ([`Fonts::system`]: Debian's fonts-noto-cjk, about 40 MB
//! of Noto Sans CJK Regular and Bold held in memory); it is an `Arc` inside, cheap to clone and share
//! between threads rendering at the same time.
//!
//! # Why typst
//!
//! The sheet is laid out by [typst](https://typst.app) used as a library (`typst`, `typst-pdf`; no
//! package downloads, and no file access: the [`World`] here serves the one built-in template,
//! `work_order.typ`, and refuses every other file). Typst gives us, without code of ours: Chinese line
//! breaking, tables whose header row repeats on the next page, "page N of M" from the final page
//! counter, and a PDF writer (krilla) that subsets the CFF fonts inside Noto's `.ttc` collections and
//! writes ToUnicode maps. printpdf 0.12 would build much faster but leaves line breaking, table
//! pagination and page totals to us. The cost is compile time: typst brings about 175 crates. On the
//! 2-core development machine (with other builds running) a debug build took 2 min 30 s of wall time
//! (4 min 10 s CPU) on top of the workspace's already built dependencies, and a release build of
//! kefu-print from nothing 11 min 40 s (16 min CPU). A render takes 25-50 ms in a release build
//! (140 ms for the first, which sets up typst's standard library).
//!
//! # User text is data
//!
//! The template reads every string from `sys.inputs`, built here as typst values (never spliced into
//! markup), and shows it as text: `#`, `$`, `*`, `[`, `\`, `"`, `<` and the rest print as they are.
//! [`clean`] drops control characters and bidirectional overrides; a run of 32 or more printable
//! ASCII characters without a break (a long token) may break anywhere rather than run off the page.
//! Characters the fonts lack (emoji with Noto CJK) print as an empty box.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Array, Bytes, Datetime, Dict, Duration, Str, Value};
use typst::syntax::{FileId, Source};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

mod code128;

/// Everything printed on a work-order sheet, as display strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkOrderSheet {
    /// The issuing organisation, e.g. "宁波某某燃气集团有限公司 客户服务中心".
    pub company: String,
    /// The document title, e.g. "服务工单".
    pub title: String,
    /// The work-order number, e.g. "GD2611260001"; also printed as Code 128 when it is printable ASCII.
    pub number: String,
    /// What the QR code holds: the number, or a URL to the order.
    pub qr_payload: String,
    pub created_at: String,
    pub printed_at: String,
    pub type_name: String,
    pub priority: String,
    pub status: String,
    pub channel: String,
    /// 处理单位.
    pub unit: Option<String>,
    pub assignee: Option<String>,
    pub customer: Option<SheetCustomer>,
    /// The problem as reported; may span several lines.
    pub problem: String,
    /// Custom fields of the order's type, label → value.
    pub fields: Vec<(String, String)>,
    /// SLA deadlines, label → time.
    pub due: Vec<(String, String)>,
    pub timeline: Vec<SheetEvent>,
    /// What the handler reported; `None` prints empty rows to fill in by hand.
    pub feedback: Option<SheetFeedback>,
    pub labels: Labels,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetCustomer {
    pub name: String,
    pub customer_no: String,
    pub phones: Vec<String>,
    pub address: String,
}

/// One timeline entry: when, who, what, and a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetEvent {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetFeedback {
    /// 处理结果.
    pub result: String,
    /// 原因.
    pub cause: String,
    /// 材料.
    pub materials: String,
    /// 附件: file names, one a line.
    pub attachments: Vec<String>,
}

/// The fixed captions of the sheet. `page_of` holds `{page}` and `{total}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// Language and region for line breaking and punctuation (typst `text(lang, region)`): "zh", "cn".
    pub lang: String,
    pub region: String,
    pub number: String,
    pub facts: String,
    pub type_name: String,
    pub priority: String,
    pub status: String,
    pub channel: String,
    pub created_at: String,
    pub printed_at: String,
    pub unit: String,
    pub assignee: String,
    pub customer: String,
    pub customer_name: String,
    pub customer_no: String,
    pub phones: String,
    pub address: String,
    pub no_customer: String,
    pub problem: String,
    pub fields: String,
    pub timeline: String,
    pub timeline_time: String,
    pub timeline_actor: String,
    pub timeline_action: String,
    pub timeline_note: String,
    pub no_timeline: String,
    pub feedback: String,
    pub result: String,
    pub cause: String,
    pub materials: String,
    pub attachments: String,
    pub customer_signature: String,
    pub handler_signature: String,
    pub date: String,
    pub page_of: String,
    /// Shown for an absent value (no unit, no assignee).
    pub none: String,
    /// Between phone numbers.
    pub separator: String,
}

impl Labels {
    pub fn zh_cn() -> Labels {
        Labels {
            lang: "zh".into(),
            region: "cn".into(),
            number: "工单编号".into(),
            facts: "工单信息".into(),
            type_name: "工单类型".into(),
            priority: "优先级".into(),
            status: "状态".into(),
            channel: "来源渠道".into(),
            created_at: "创建时间".into(),
            printed_at: "打印时间".into(),
            unit: "处理单位".into(),
            assignee: "处理人".into(),
            customer: "客户信息".into(),
            customer_name: "客户名称".into(),
            customer_no: "客户编号".into(),
            phones: "联系电话".into(),
            address: "地址".into(),
            no_customer: "未关联客户".into(),
            problem: "问题描述".into(),
            fields: "附加信息".into(),
            timeline: "处理记录".into(),
            timeline_time: "时间".into(),
            timeline_actor: "操作人".into(),
            timeline_action: "操作".into(),
            timeline_note: "说明".into(),
            no_timeline: "暂无记录".into(),
            feedback: "处理反馈".into(),
            result: "处理结果".into(),
            cause: "原因".into(),
            materials: "材料".into(),
            attachments: "附件".into(),
            customer_signature: "客户签字".into(),
            handler_signature: "处理人签字".into(),
            date: "日期".into(),
            page_of: "第 {page} 页 / 共 {total} 页".into(),
            none: "—".into(),
            separator: "、".into(),
        }
    }

    pub fn en() -> Labels {
        Labels {
            lang: "en".into(),
            region: "gb".into(),
            number: "Work order no.".into(),
            facts: "Work order".into(),
            type_name: "Type".into(),
            priority: "Priority".into(),
            status: "Status".into(),
            channel: "Channel".into(),
            created_at: "Created".into(),
            printed_at: "Printed".into(),
            unit: "Unit".into(),
            assignee: "Assignee".into(),
            customer: "Customer".into(),
            customer_name: "Name".into(),
            customer_no: "Customer no.".into(),
            phones: "Phone".into(),
            address: "Address".into(),
            no_customer: "No customer linked".into(),
            problem: "Problem".into(),
            fields: "Details".into(),
            timeline: "Timeline".into(),
            timeline_time: "Time".into(),
            timeline_actor: "By".into(),
            timeline_action: "Action".into(),
            timeline_note: "Note".into(),
            no_timeline: "No entries".into(),
            feedback: "Feedback".into(),
            result: "Result".into(),
            cause: "Cause".into(),
            materials: "Materials".into(),
            attachments: "Attachments".into(),
            customer_signature: "Customer signature".into(),
            handler_signature: "Handler signature".into(),
            date: "Date".into(),
            page_of: "Page {page} of {total}".into(),
            none: "—".into(),
            separator: ", ".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("font path {}: {source}", path.display())]
    FontPath {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no font found (looked in {}); install a CJK font: apt-get install fonts-noto-cjk \
         (or fonts-wqy-microhei), or name a font file or directory",
        Searched(searched)
    )]
    NoFonts { searched: Vec<PathBuf> },
    #[error(
        "no font with Chinese characters among {families:?} (looked in {}); \
         install one: apt-get install fonts-noto-cjk (or fonts-wqy-microhei)",
        Searched(searched)
    )]
    NoCjkFont {
        searched: Vec<PathBuf>,
        families: Vec<String>,
    },
    #[error("QR code for {payload_bytes}-byte payload: {reason}")]
    Qr {
        payload_bytes: usize,
        reason: String,
    },
    #[error("laying out the sheet failed: {0}")]
    Layout(String),
    #[error("writing the PDF failed: {0}")]
    Export(String),
}

struct Searched<'a>(&'a [PathBuf]);

impl fmt::Display for Searched<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no path given");
        }
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", p.display())?;
        }
        Ok(())
    }
}

/// Fonts read from disk once, shared by every render (an `Arc` inside: clone freely).
#[derive(Clone)]
pub struct Fonts(Arc<FontSet>);

struct FontSet {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    /// Family names in order of preference for body text and for the number.
    text_families: Vec<String>,
    mono_families: Vec<String>,
}

impl fmt::Debug for Fonts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fonts")
            .field("faces", &self.0.fonts.len())
            .field("families", &self.0.text_families)
            .finish()
    }
}

/// Debian's CJK fonts, in order of preference; [`Fonts::system`] loads the first group found.
pub const SYSTEM_FONTS: &[&[&str]] = &[
    &[
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    ],
    &[
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    ],
    &["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"],
    &["/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"],
    &["/usr/share/fonts/truetype/arphic/uming.ttc"],
];

/// Preferred families, simplified Chinese first; any other loaded family follows.
const PREFERRED: &[&str] = &[
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "AR PL UMing CN",
];
const PREFERRED_MONO: &[&str] = &[
    "Noto Sans Mono CJK SC",
    "WenQuanYi Micro Hei Mono",
    "WenQuanYi Zen Hei Mono",
];

impl Fonts {
    /// Loads fonts (`.ttf`, `.otf`, `.ttc`, `.otc`) from files and directories (searched recursively).
    /// Fails if a path cannot be read, if there is no font at all, or if no font has Chinese characters.
    pub fn load(paths_or_dirs: &[PathBuf]) -> Result<Fonts, PrintError> {
        let mut files = Vec::new();
        for path in paths_or_dirs {
            collect_font_files(path, &mut files)?;
        }
        let mut fonts = Vec::new();
        for file in &files {
            let data = std::fs::read(file).map_err(|source| PrintError::FontPath {
                path: file.clone(),
                source,
            })?;
            fonts.extend(Font::iter(Bytes::new(data)));
        }
        if fonts.is_empty() {
            return Err(PrintError::NoFonts {
                searched: paths_or_dirs.to_vec(),
            });
        }
        let mut families: Vec<String> = Vec::new();
        for font in &fonts {
            if !families
                .iter()
                .any(|f| f.eq_ignore_ascii_case(&font.info().family))
            {
                families.push(font.info().family.clone());
            }
        }
        // 服 and 单: a font that has them has the common Chinese characters of a sheet.
        let cjk = |f: &Font| {
            f.info().coverage.contains('服' as u32) && f.info().coverage.contains('单' as u32)
        };
        if !fonts.iter().any(cjk) {
            return Err(PrintError::NoCjkFont {
                searched: paths_or_dirs.to_vec(),
                families,
            });
        }
        let ordered = |preferred: &[&str]| -> Vec<String> {
            let mut out: Vec<String> = preferred
                .iter()
                .filter(|p| families.iter().any(|f| f.eq_ignore_ascii_case(p)))
                .map(|p| p.to_string())
                .collect();
            // Then CJK families before the rest, so a glyph missing from the first is found in another.
            for f in families
                .iter()
                .filter(|f| fonts.iter().any(|x| &x.info().family == *f && cjk(x)))
            {
                if !out.iter().any(|o| o.eq_ignore_ascii_case(f)) {
                    out.push(f.clone());
                }
            }
            for f in &families {
                if !out.iter().any(|o| o.eq_ignore_ascii_case(f)) {
                    out.push(f.clone());
                }
            }
            out
        };
        let text_families = ordered(PREFERRED);
        let mut mono_families = ordered(PREFERRED_MONO);
        if !PREFERRED_MONO.iter().any(|p| {
            mono_families
                .first()
                .is_some_and(|f| f.eq_ignore_ascii_case(p))
        }) {
            mono_families = text_families.clone();
        }
        let book = LazyHash::new(FontBook::from_fonts(&fonts));
        Ok(Fonts(Arc::new(FontSet {
            book,
            fonts,
            text_families,
            mono_families,
        })))
    }

    /// Loads the first of Debian's CJK fonts found ([`SYSTEM_FONTS`]: fonts-noto-cjk, then
    /// fonts-wqy-microhei, fonts-wqy-zenhei, fonts-arphic-uming).
    pub fn system() -> Result<Fonts, PrintError> {
        for group in SYSTEM_FONTS {
            let present: Vec<PathBuf> = group
                .iter()
                .map(PathBuf::from)
                .filter(|p| p.is_file())
                .collect();
            if !present.is_empty() {
                return Fonts::load(&present);
            }
        }
        Err(PrintError::NoFonts {
            searched: SYSTEM_FONTS
                .iter()
                .flat_map(|g| g.iter().map(PathBuf::from))
                .collect(),
        })
    }

    /// Font family names in the order the sheet asks for them.
    pub fn families(&self) -> &[String] {
        &self.0.text_families
    }
}

fn collect_font_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), PrintError> {
    let io = |source| PrintError::FontPath {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_font_files(&entry, out)?;
        } else if entry.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            ["ttf", "otf", "ttc", "otc"].contains(&e.to_ascii_lowercase().as_str())
        }) {
            out.push(entry);
        }
    }
    Ok(())
}

/// Renders the sheet as a PDF. CPU-bound (tens of milliseconds and up): from async code call it
/// through `spawn_blocking`. Renders may run concurrently on any number of threads.
pub fn render(sheet: &WorkOrderSheet, fonts: &Fonts) -> Result<Vec<u8>, PrintError> {
    let inputs = inputs(sheet, fonts)?;
    let world = SheetWorld {
        library: LazyHash::new(Library::builder().with_inputs(inputs).build()),
        fonts: &fonts.0,
        main: TEMPLATE.clone(),
    };
    let document = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|e| PrintError::Layout(diagnostics(&e)));
    let pdf = document.and_then(|document| {
        let options = typst_pdf::PdfOptions {
            creator: typst::foundations::Smart::Custom(Some("kefu".into())),
            ..Default::default()
        };
        typst_pdf::pdf(&document, &options).map_err(|e| PrintError::Export(diagnostics(&e)))
    });
    // Typst memoizes across compilations; drop what the last few renders did not use so a server's
    // memory stays bounded.
    typst::comemo::evict(4);
    pdf
}

fn diagnostics(errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

static TEMPLATE: LazyLock<Source> =
    LazyLock::new(|| Source::detached(include_str!("work_order.typ")));

/// The typst world of one render: the template, the fonts, and nothing else.
struct SheetWorld<'a> {
    library: LazyHash<Library>,
    fonts: &'a FontSet,
    main: Source,
}

impl World for SheetWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, _id: FileId) -> FileResult<Bytes> {
        Err(FileError::AccessDenied)
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

/// Makes a caller's string printable as it is: line breaks become `\n` and a tab a space; other control
/// characters (no glyph, nothing to print) and the bidirectional embedding, override and isolate
/// controls (they would reorder the text printed after them) are dropped. Everything else is kept.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            c if c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') => {}
            c => out.push(c),
        }
    }
    out
}

fn s(text: &str) -> Value {
    Value::Str(Str::from(clean(text)))
}

fn dict<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Dict(
        entries
            .into_iter()
            .map(|(k, v)| (Str::from(k), v))
            .collect::<Dict>(),
    )
}

fn pairs<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    Value::Array(
        items
            .into_iter()
            .map(|(k, v)| Value::Array([s(k), s(v)].into_iter().collect::<Array>()))
            .collect(),
    )
}

fn ints<const N: usize>(values: [usize; N]) -> Value {
    Value::Array(values.into_iter().map(|v| Value::Int(v as i64)).collect())
}

fn inputs(sheet: &WorkOrderSheet, fonts: &Fonts) -> Result<Dict, PrintError> {
    let l = &sheet.labels;
    let families = |names: &[String]| {
        Value::Array(
            names
                .iter()
                .map(|n| Value::Str(n.as_str().into()))
                .collect(),
        )
    };
    let none = l.none.as_str();

    let mut facts = vec![
        (l.type_name.as_str(), sheet.type_name.as_str()),
        (l.priority.as_str(), sheet.priority.as_str()),
        (l.status.as_str(), sheet.status.as_str()),
        (l.channel.as_str(), sheet.channel.as_str()),
        (l.created_at.as_str(), sheet.created_at.as_str()),
        (l.printed_at.as_str(), sheet.printed_at.as_str()),
        (l.unit.as_str(), sheet.unit.as_deref().unwrap_or(none)),
        (
            l.assignee.as_str(),
            sheet.assignee.as_deref().unwrap_or(none),
        ),
    ];
    facts.extend(sheet.due.iter().map(|(k, v)| (k.as_str(), v.as_str())));

    let customer = match &sheet.customer {
        None => Value::None,
        Some(c) => dict([
            ("name", s(&c.name)),
            ("customer_no", s(&c.customer_no)),
            ("phones", s(&c.phones.join(&l.separator))),
            ("address", s(&c.address)),
        ]),
    };
    let feedback = match &sheet.feedback {
        None => Value::None,
        Some(f) => dict([
            ("result", s(&f.result)),
            ("cause", s(&f.cause)),
            ("materials", s(&f.materials)),
            ("attachments", s(&f.attachments.join("\n"))),
        ]),
    };
    let timeline = Value::Array(
        sheet
            .timeline
            .iter()
            .map(|e| {
                dict([
                    ("time", s(&e.at)),
                    ("actor", s(&e.actor)),
                    ("action", s(&e.action)),
                    ("note", s(&e.note)),
                ])
            })
            .collect(),
    );

    let qr = qrcode::QrCode::with_error_correction_level(
        sheet.qr_payload.as_bytes(),
        qrcode::EcLevel::M,
    )
    .map_err(|e| PrintError::Qr {
        payload_bytes: sheet.qr_payload.len(),
        reason: e.to_string(),
    })?;
    let width = qr.width();
    let dark: Vec<bool> = qr
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    let mut runs = Vec::new();
    for (y, row) in dark.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] {
                let start = x;
                while x < width && row[x] {
                    x += 1;
                }
                runs.push(ints([start, y, x - start]));
            } else {
                x += 1;
            }
        }
    }
    let qr = dict([
        ("size", Value::Int(width as i64)),
        ("runs", Value::Array(runs.into_iter().collect())),
    ]);

    let barcode = match code128::encode(&sheet.number) {
        None => Value::None,
        Some(modules) => {
            let mut bars = Vec::new();
            let mut x = 0;
            for (i, &w) in modules.iter().enumerate() {
                if i % 2 == 0 {
                    bars.push(ints([x, usize::from(w)]));
                }
                x += usize::from(w);
            }
            dict([
                ("modules", Value::Int(x as i64)),
                ("bars", Value::Array(bars.into_iter().collect())),
            ])
        }
    };

    let labels = dict([
        ("lang", Value::Str(l.lang.as_str().into())),
        ("region", Value::Str(l.region.as_str().into())),
        ("number", s(&l.number)),
        ("facts", s(&l.facts)),
        ("customer", s(&l.customer)),
        ("customer_name", s(&l.customer_name)),
        ("customer_no", s(&l.customer_no)),
        ("phones", s(&l.phones)),
        ("address", s(&l.address)),
        ("no_customer", s(&l.no_customer)),
        ("problem", s(&l.problem)),
        ("fields", s(&l.fields)),
        ("timeline", s(&l.timeline)),
        ("timeline_time", s(&l.timeline_time)),
        ("timeline_actor", s(&l.timeline_actor)),
        ("timeline_action", s(&l.timeline_action)),
        ("timeline_note", s(&l.timeline_note)),
        ("no_timeline", s(&l.no_timeline)),
        ("feedback", s(&l.feedback)),
        ("result", s(&l.result)),
        ("cause", s(&l.cause)),
        ("materials", s(&l.materials)),
        ("attachments", s(&l.attachments)),
        ("customer_signature", s(&l.customer_signature)),
        ("handler_signature", s(&l.handler_signature)),
        ("date", s(&l.date)),
        ("page_of", s(&l.page_of)),
    ]);

    let sheet_value = dict([
        ("labels", labels),
        ("fonts", families(&fonts.0.text_families)),
        ("mono_fonts", families(&fonts.0.mono_families)),
        ("doc_title", s(&format!("{} {}", sheet.title, sheet.number))),
        ("company", s(&sheet.company)),
        ("title", s(&sheet.title)),
        ("number", s(&sheet.number)),
        (
            "printed",
            s(&format!("{} {}", l.printed_at, sheet.printed_at)),
        ),
        ("qr", qr),
        ("barcode", barcode),
        ("facts", pairs(facts)),
        ("customer", customer),
        ("problem", s(&sheet.problem)),
        (
            "fields",
            pairs(sheet.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        ),
        ("timeline", timeline),
        ("feedback", feedback),
    ]);
    Ok([(Str::from("sheet"), sheet_value)].into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn clean_keeps_text_and_line_breaks_and_drops_controls() {
        assert_eq!(clean("a\r\nb\rc\nd\te"), "a\nb\nc\nd e");
        assert_eq!(clean("前\u{0}\u{7}\u{1b}[31m后\u{7f}\u{85}"), "前[31m后");
        assert_eq!(clean("\u{202e}反向\u{202c}\u{2067}x\u{2069}"), "反向x");
        let kept = r##"#set $x$ *b* _i_ [a](b) \ "q" <b>&amp;</b> {} 🔥 ZWJ‍ 燃气泄漏"##;
        assert_eq!(clean(kept), kept);
    }
}
