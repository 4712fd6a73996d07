//! From bytes to rows of cells: text decoding, CSV and XLSX, the header row, and the loop that hands
//! each row to a [`Kind`] and collects records and errors.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use kefu_domain::FieldError;

use crate::cell::{self, Cell};
use crate::{CFB_MAGIC, FileError, FileFormat, Parsed, RowError, ZIP_MAGIC};

/// One column a kind knows: its names (English first) and whether a file must have it.
pub(crate) struct Column {
    pub names: &'static [&'static str],
    pub required: bool,
}

impl Column {
    pub(crate) const fn required(names: &'static [&'static str]) -> Column {
        Column {
            names,
            required: true,
        }
    }

    pub(crate) const fn optional(names: &'static [&'static str]) -> Column {
        Column {
            names,
            required: false,
        }
    }
}

/// What a file holds: its columns and how one row becomes a record.
pub(crate) trait Kind {
    type Record;
    /// What makes two rows the same record.
    type Key: Hash + Eq;
    const COLUMNS: &'static [Column];
    /// The column a duplicate is reported on.
    const KEY_COLUMN: usize;

    /// Reads one row. Every problem is recorded in `row`; the record is `None` iff one was. The key is
    /// returned whenever its cells are good, even if others are not, so duplicates are found anyway.
    fn parse(&self, row: &mut RowCtx<'_>) -> (Option<Self::Key>, Option<Self::Record>);
}

/// A row as the source has it: CSV strings or workbook cells.
pub(crate) trait RowCells {
    fn width(&self) -> usize;
    /// The cell at `i`; text is trimmed and blank text is `Empty`.
    fn cell(&self, i: usize) -> Cell<'_>;

    fn is_blank(&self) -> bool {
        (0..self.width()).all(|i| matches!(self.cell(i), Cell::Empty))
    }
}

impl RowCells for csv::StringRecord {
    fn width(&self) -> usize {
        self.len()
    }

    fn cell(&self, i: usize) -> Cell<'_> {
        self.get(i).map_or(Cell::Empty, Cell::from_csv)
    }
}

impl RowCells for &[Data] {
    fn width(&self) -> usize {
        self.len()
    }

    fn cell(&self, i: usize) -> Cell<'_> {
        self.get(i).map_or(Cell::Empty, Cell::from_xlsx)
    }
}

/// Where each known column sits in the file.
struct Layout {
    /// Per known column: its index in a row and its header as written.
    fields: Vec<Option<(usize, String)>>,
    /// Per index of the header row: whether a known column sits there.
    named: Vec<bool>,
}

impl Layout {
    fn resolve<K: Kind>(header: &dyn RowCells, line: usize) -> Result<Layout, FileError> {
        let mut fields: Vec<Option<(usize, String)>> = vec![None; K::COLUMNS.len()];
        let mut named = vec![false; header.width()];
        let (mut unknown, mut duplicate) = (Vec::new(), Vec::new());
        for (i, is_named) in named.iter_mut().enumerate() {
            let Ok(Some(text)) = header.cell(i).text() else {
                continue;
            };
            let key = normalize(&text);
            match K::COLUMNS
                .iter()
                .position(|c| c.names.iter().any(|n| n.eq_ignore_ascii_case(&key)))
            {
                None => unknown.push(text.into_owned()),
                Some(f) => {
                    *is_named = true;
                    match &fields[f] {
                        Some((_, first)) => duplicate.push(format!("{first} = {text}")),
                        None => fields[f] = Some((i, text.into_owned())),
                    }
                }
            }
        }
        if fields.iter().all(Option::is_none) {
            let cells: Vec<String> = (0..header.width())
                .filter_map(|i| header.cell(i).text().ok().flatten())
                .map(|t| format!("{t:?}"))
                .collect();
            let cells = cell::clip(&cells.join(", "), 200);
            return Err(FileError::NoHeader { line, cells });
        }
        let missing: Vec<String> = K::COLUMNS
            .iter()
            .zip(&fields)
            .filter(|(c, f)| c.required && f.is_none())
            .map(|(c, _)| display_names(c))
            .collect();
        if !missing.is_empty() || !unknown.is_empty() || !duplicate.is_empty() {
            return Err(FileError::Columns {
                missing,
                unknown,
                duplicate,
            });
        }
        Ok(Layout { fields, named })
    }
}

/// `Customer No` → `customer_no`; Chinese names only lose surrounding blanks.
fn normalize(header: &str) -> String {
    header
        .trim()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

fn display_names(c: &Column) -> String {
    match c.names {
        [english] => english.to_string(),
        [english, chinese @ ..] => format!("{english} ({})", chinese.join("/")),
        [] => unreachable!("every column has a name"),
    }
}

/// One row being read: its cells, where the columns are, and the errors found so far.
pub(crate) struct RowCtx<'a> {
    line: usize,
    cells: &'a dyn RowCells,
    layout: &'a Layout,
    columns: &'static [Column],
    /// Errors with the file column they sit in, to report them left to right.
    errors: Vec<(usize, RowError)>,
}

impl<'a> RowCtx<'a> {
    pub(crate) fn cell(&self, field: usize) -> Cell<'a> {
        match &self.layout.fields[field] {
            Some((i, _)) => self.cells.cell(*i),
            None => Cell::Empty,
        }
    }

    pub(crate) fn error(&mut self, field: usize, reason: impl Into<String>) {
        let (position, column) = match &self.layout.fields[field] {
            Some((i, header)) => (*i, header.clone()),
            None => (usize::MAX, self.columns[field].names[0].to_string()),
        };
        let reason = cell::clip(&reason.into(), 300);
        self.errors.push((
            position,
            RowError {
                line: self.line,
                column,
                reason,
            },
        ));
    }

    /// A required cell through `parse`: empty is an error.
    pub(crate) fn required<T>(
        &mut self,
        field: usize,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Option<T> {
        match self.optional(field, parse) {
            Some(Some(v)) => Some(v),
            Some(None) => {
                self.error(field, "must not be empty");
                None
            }
            None => None,
        }
    }

    /// An optional cell through `parse`: `Some(None)` if empty, `None` if bad (the error is recorded).
    pub(crate) fn optional<T>(
        &mut self,
        field: usize,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Option<Option<T>> {
        let parsed = self
            .cell(field)
            .text()
            .and_then(|text| text.map(|t| parse(&t).map_err(|e| e.reason)).transpose());
        self.check(field, parsed)
    }

    /// Keeps an `Ok`, records an `Err` under `field`.
    pub(crate) fn check<T>(&mut self, field: usize, result: Result<T, String>) -> Option<T> {
        result.map_err(|reason| self.error(field, reason)).ok()
    }
}

/// Reads `bytes` as a file of `kind`.
pub(crate) fn read<K: Kind>(
    kind: &K,
    bytes: &[u8],
    format: FileFormat,
    progress: impl FnMut(usize, usize),
) -> Result<Parsed<K::Record>, FileError> {
    match format {
        FileFormat::Csv => read_csv(kind, bytes, progress),
        FileFormat::Xlsx => read_xlsx(kind, bytes, progress),
    }
}

fn read_csv<K: Kind>(
    kind: &K,
    bytes: &[u8],
    progress: impl FnMut(usize, usize),
) -> Result<Parsed<K::Record>, FileError> {
    let text = decode(bytes)?;
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = if first_line.contains('\t') && !first_line.contains(',') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let lines = text.as_bytes().iter().filter(|&&b| b == b'\n').count()
        + usize::from(!text.ends_with('\n'));

    // The reader's own line numbers ignore the blank lines it skips: count them from byte offsets.
    let bytes = text.as_bytes();
    let (mut offset, mut line_at_offset) = (0, 1);
    let mut record = csv::StringRecord::new();
    let mut next = |record: &mut csv::StringRecord| -> Result<Option<usize>, FileError> {
        match reader.read_record(record) {
            Ok(true) => {
                while offset < bytes.len() && matches!(bytes[offset], b'\n' | b'\r') {
                    line_at_offset += usize::from(bytes[offset] == b'\n');
                    offset += 1;
                }
                let start = line_at_offset;
                let end = (reader.position().byte() as usize).clamp(offset, bytes.len());
                line_at_offset += bytes[offset..end].iter().filter(|&&b| b == b'\n').count();
                offset = end;
                Ok(Some(start))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(FileError::Csv {
                line: line_at_offset,
                message: e.to_string(),
            }),
        }
    };
    let header_line = loop {
        match next(&mut record)? {
            None => return Err(FileError::EmptyFile),
            Some(line) if !record.is_blank() => break line,
            Some(_) => {}
        }
    };
    let layout = Layout::resolve::<K>(&record, header_line)?;
    let mut rows = Rows::new(kind, &layout, lines.saturating_sub(header_line), progress);
    while let Some(line) = next(&mut record)? {
        rows.row(line, line - header_line, &record);
    }
    Ok(rows.finish())
}

fn read_xlsx<K: Kind>(
    kind: &K,
    bytes: &[u8],
    progress: impl FnMut(usize, usize),
) -> Result<Parsed<K::Record>, FileError> {
    if bytes.starts_with(CFB_MAGIC) {
        return Err(FileError::LegacyXls);
    }
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(|e| FileError::Xlsx(e.to_string()))?;
    let Some(sheet) = workbook.sheet_names().first().cloned() else {
        return Err(FileError::EmptySheet {
            sheet: String::new(),
        });
    };
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| FileError::Xlsx(e.to_string()))?;
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    let mut rows_in = range
        .rows()
        .enumerate()
        .map(|(i, cells)| (first_row + i + 1, cells));
    let (header_line, header) = loop {
        match rows_in.next() {
            None => return Err(FileError::EmptySheet { sheet }),
            Some((line, cells)) if !cells.is_blank() => break (line, cells),
            Some(_) => {}
        }
    };
    let layout = Layout::resolve::<K>(&header, header_line)?;
    let total = (first_row + range.height()).saturating_sub(header_line);
    let mut rows = Rows::new(kind, &layout, total, progress);
    for (line, cells) in rows_in {
        rows.row(line, line - header_line, &cells);
    }
    Ok(rows.finish())
}

/// Text from bytes: a BOM decides; else UTF-8; else GB18030 (a superset of GBK and GB2312).
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, FileError> {
    if bytes.starts_with(ZIP_MAGIC) {
        return Err(FileError::ZipNotCsv);
    }
    if bytes.starts_with(CFB_MAGIC) {
        return Err(FileError::LegacyXls);
    }
    let text = if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        encoding
            .decode_without_bom_handling_and_without_replacement(&bytes[bom..])
            .ok_or(FileError::NotText)?
    } else {
        match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => encoding_rs::GB18030
                .decode_without_bom_handling_and_without_replacement(bytes)
                .ok_or(FileError::NotText)?,
        }
    };
    // GB18030 takes almost any byte sequence; a NUL says "binary", not "text".
    if text.contains('\0') {
        return Err(FileError::NotText);
    }
    Ok(text)
}

const PROGRESS_EVERY: usize = 1024;

/// Collects records and errors, row after row.
struct Rows<'a, K: Kind, P> {
    kind: &'a K,
    layout: &'a Layout,
    seen: HashMap<K::Key, usize>,
    parsed: Parsed<K::Record>,
    done: usize,
    total: usize,
    progress: P,
}

impl<'a, K: Kind, P: FnMut(usize, usize)> Rows<'a, K, P> {
    fn new(kind: &'a K, layout: &'a Layout, total: usize, mut progress: P) -> Self {
        progress(0, total);
        // Sized up front (growing a vector of 100,000 records copies it again and again), but not
        // beyond what a file of blank lines could make us reserve for nothing.
        let capacity = total.min(1 << 18);
        let parsed = Parsed {
            records: Vec::with_capacity(capacity),
            errors: Vec::new(),
            total_rows: 0,
            headers: K::COLUMNS
                .iter()
                .zip(&layout.fields)
                .map(|(c, f)| {
                    let header = f.as_ref().map_or(c.names[0], |(_, h)| h.as_str());
                    (c.names[0], header.to_string())
                })
                .collect(),
        };
        Rows {
            kind,
            layout,
            seen: HashMap::with_capacity(capacity),
            parsed,
            done: 0,
            total,
            progress,
        }
    }

    /// Reads the row on `line`; `done` lines after the header have been consumed once it is read.
    fn row(&mut self, line: usize, done: usize, cells: &dyn RowCells) {
        let tick = self.done / PROGRESS_EVERY != done / PROGRESS_EVERY;
        self.done = done;
        self.total = self.total.max(done);
        if tick {
            (self.progress)(done, self.total);
        }
        if cells.is_blank() {
            return;
        }
        self.parsed.total_rows += 1;
        let mut row = RowCtx {
            line,
            cells,
            layout: self.layout,
            columns: K::COLUMNS,
            errors: Vec::new(),
        };
        for i in 0..cells.width() {
            if !self.layout.named.get(i).copied().unwrap_or(false)
                && !matches!(cells.cell(i), Cell::Empty)
            {
                let error = RowError {
                    line,
                    column: format!("column {}", i + 1),
                    reason: "a value in a column without a header".to_string(),
                };
                row.errors.push((i, error));
            }
        }
        let (key, record) = self.kind.parse(&mut row);
        if let Some(key) = key {
            match self.seen.entry(key) {
                Entry::Occupied(first) => {
                    let reason = format!("duplicate of line {}", first.get());
                    row.error(K::KEY_COLUMN, reason);
                }
                Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
        }
        match record {
            Some(record) if row.errors.is_empty() => self.parsed.records.push((line, record)),
            _ => {
                debug_assert!(
                    !row.errors.is_empty(),
                    "a row without a record must say why"
                );
                row.errors.sort_by_key(|(position, _)| *position);
                self.parsed
                    .errors
                    .extend(row.errors.into_iter().map(|(_, e)| e));
            }
        }
    }

    fn finish(mut self) -> Parsed<K::Record> {
        (self.progress)(self.total, self.total);
        self.parsed
    }
}
