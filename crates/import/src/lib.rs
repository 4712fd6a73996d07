//! Billing-system export files into validated domain records, row by row.
//!
//! The billing system of a gas company exports customers and bills as CSV (often GBK-encoded) or as
//! Excel workbooks. This crate turns such a file into [`CustomerRecord`]s or [`BillRecord`]s and, for
//! every row it cannot take, says which line, which column and why, so that a person can fix the file
//! and import it again.
//!
//! ```
//! use kefu_domain::AreaCode;
//! use kefu_import::{FileFormat, read_customers};
//!
//! let csv = "户号,户名,电话,地址,区域,气种\n\
//!            NB-0001,张三,13812345678；87654321,海曙区中山西路1号,海曙区,管道气\n\
//!            NB-0002,李四,12345,江北区人民路2号,江北区,煤气\n";
//! let format = FileFormat::detect("customers.csv", csv.as_bytes()).unwrap();
//! let parsed = read_customers(csv.as_bytes(), format, &AreaCode::default(), |_done, _total| {}).unwrap();
//! assert_eq!(parsed.records.len(), 1);
//! assert_eq!(parsed.records[0].1.phones[1].as_str(), "057487654321");
//! assert_eq!(parsed.errors.len(), 2); // line 3: a bad phone number and an unknown service type
//! assert_eq!(parsed.errors[0].line, 3);
//! assert_eq!(parsed.errors[0].column, "电话");
//! ```
//!
//! # The contract
//!
//! - [`read_customers`] and [`read_bills`] take the whole file as bytes and return a [`Parsed`]: the good
//!   records with their line numbers, and one [`RowError`] per bad cell. A row with any error yields no
//!   record; the other rows are unaffected. Whether to persist a partly bad file is the caller's call.
//! - A [`FileError`] means the file cannot be read at all: not text, not a workbook, no header row, or a
//!   header with missing, unknown or duplicate columns. An unknown column is an error, not ignored: a
//!   typo'd `adress` must not silently drop every address.
//! - Line numbers are the ones a person sees: the header is line 1 if it is the first line; in a workbook
//!   the line is the spreadsheet's row number. A quoted CSV cell spanning lines is reported at the line
//!   its row starts on.
//! - [`RowError::column`] is the column's header as written in the file (`电话`, `Phones`), or the
//!   English column name when the column is absent (e.g. `fax` required by `notice_preference = fax`).
//! - Fully empty rows are skipped silently and do not count in [`Parsed::total_rows`].
//! - Within one file the same customer number (customers), or the same customer number and period
//!   (bills), a second time is an error on the later line: "duplicate of line N". The first line wins even
//!   if it is itself bad, so fixing that line never uncovers a new duplicate.
//! - `progress(done, total)` is called at the start, every 1,024 rows and at the end with
//!   `done == total`. Both count data lines after the header (blank lines included), so the total is
//!   known before the first row is parsed.
//!
//! CSV: UTF-8 with or without BOM, UTF-16 with BOM, and GBK/GB18030 (tried when the bytes are not
//! UTF-8); comma-separated, or tab-separated when the header line holds tabs and no comma. XLSX: the first
//! sheet; date cells and numeric cells are understood (amounts are rounded to cents the way Excel
//! displays them, never through float arithmetic on money). Legacy `.xls` is refused with a hint.
//!
//! Architecture invariant: no I/O beyond the bytes handed in, no database, no clock. [`write_customers_csv`]
//! and [`write_bills_csv`] are the inverse of the readers, for round-trip tests, benchmarks and demo data.

use std::fmt;
use std::str::FromStr;

use kefu_domain::{AreaCode, BillRecord, CustomerRecord};

mod bills;
mod cell;
mod customers;
mod sample;
mod sheet;
mod write;

#[cfg(test)]
mod tests;

pub use sample::{sample_bills, sample_customers};
pub use write::{write_bills_csv, write_customers_csv};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportKind {
    Customers,
    Bills,
}

impl ImportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Customers => "customers",
            ImportKind::Bills => "bills",
        }
    }

    /// The header names accepted for this kind, one entry per column: the English name first, then the
    /// Chinese ones, and whether the column is required. For help texts and import templates.
    pub fn columns(self) -> Vec<(&'static [&'static str], bool)> {
        let columns = match self {
            ImportKind::Customers => customers::COLUMNS,
            ImportKind::Bills => bills::COLUMNS,
        };
        columns.iter().map(|c| (c.names, c.required)).collect()
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImportKind {
    type Err = String;

    /// `customers` or `bills`, case-insensitive.
    fn from_str(s: &str) -> Result<ImportKind, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "customers" => Ok(ImportKind::Customers),
            "bills" => Ok(ImportKind::Bills),
            other => Err(format!(
                "unknown import kind {other:?}: expected customers or bills"
            )),
        }
    }
}

/// The container of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

impl FileFormat {
    /// Tells the format from the content first (an `.xlsx` is a zip: `PK\x03\x04`), then from the file
    /// name's extension; anything else is taken as CSV. A legacy Excel 97-2003 `.xls` is refused.
    pub fn detect(file_name: &str, bytes: &[u8]) -> Result<FileFormat, FileError> {
        if bytes.starts_with(ZIP_MAGIC) {
            return Ok(FileFormat::Xlsx);
        }
        if bytes.starts_with(CFB_MAGIC) {
            return Err(FileError::LegacyXls);
        }
        let ext = file_name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "xlsx" | "xlsm" => Ok(FileFormat::Xlsx),
            "xls" => Err(FileError::LegacyXls),
            _ => Ok(FileFormat::Csv),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FileFormat {
    type Err = String;

    /// `csv` or `xlsx`, case-insensitive.
    fn from_str(s: &str) -> Result<FileFormat, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(FileFormat::Csv),
            "xlsx" => Ok(FileFormat::Xlsx),
            other => Err(format!(
                "unknown file format {other:?}: expected csv or xlsx"
            )),
        }
    }
}

/// One bad cell of one row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// The line (CSV) or row (XLSX) number as a person sees it; the header is usually line 1.
    pub line: usize,
    /// The column's header as written in the file, or the English column name if the file lacks it.
    pub column: String,
    /// A sentence a person can act on.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, {}: {}", self.line, self.column, self.reason)
    }
}

/// The outcome of reading a file that could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    /// The good rows, in file order, each with its line number.
    pub records: Vec<(usize, T)>,
    /// Every bad cell, in file order; a bad row may have several.
    pub errors: Vec<RowError>,
    /// Data rows seen (good and bad), without the header and without fully empty rows.
    pub total_rows: usize,
    /// Each column of the kind: its English name and its header as written in the file (the English
    /// name if the file lacks the column).
    pub headers: Vec<(&'static str, String)>,
}

impl<T> Parsed<T> {
    /// How many rows were rejected.
    pub fn bad_rows(&self) -> usize {
        self.total_rows - self.records.len()
    }

    /// The header the file gives the column named `english`, e.g. `户号` for `customer_no`: for
    /// [`RowError`]s found after reading (a bill for an unknown customer).
    pub fn header(&self, english: &str) -> String {
        self.headers
            .iter()
            .find(|(e, _)| *e == english)
            .map_or_else(|| english.to_string(), |(_, h)| h.clone())
    }
}

/// Why a file could not be read at all. Bad cells are not file errors: they are [`RowError`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is not text in UTF-8 or GBK/GB18030: save it as CSV (UTF-8) or as .xlsx")]
    NotText,
    #[error("this is a zip file (an .xlsx workbook?), not CSV: upload it as .xlsx")]
    ZipNotCsv,
    #[error("legacy Excel 97-2003 (.xls) files are not supported: save the sheet as .xlsx or CSV")]
    LegacyXls,
    #[error("cannot open the workbook: {0}")]
    Xlsx(String),
    #[error("the file is empty: it has no header row")]
    EmptyFile,
    #[error("sheet {sheet:?} is empty: it has no header row")]
    EmptySheet { sheet: String },
    #[error("line {line} is not a header row (none of its cells names a known column): {cells}")]
    NoHeader { line: usize, cells: String },
    #[error("{}", columns_message(missing, unknown, duplicate))]
    Columns {
        /// Required columns absent, as `customer_no (户号)`.
        missing: Vec<String>,
        /// Header cells that name no column, as written.
        unknown: Vec<String>,
        /// Columns named twice, as `户号 = customer_no`.
        duplicate: Vec<String>,
    },
    #[error("line {line}: {message}")]
    Csv { line: usize, message: String },
}

fn columns_message(missing: &[String], unknown: &[String], duplicate: &[String]) -> String {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing required columns: {}", missing.join(", ")));
    }
    if !unknown.is_empty() {
        let quoted: Vec<String> = unknown.iter().map(|u| format!("{u:?}")).collect();
        parts.push(format!("unknown columns: {}", quoted.join(", ")));
    }
    if !duplicate.is_empty() {
        parts.push(format!("columns given twice: {}", duplicate.join(", ")));
    }
    format!("bad header row: {}", parts.join("; "))
}

/// Reads a customers file. Phone numbers without an area code get `area`.
pub fn read_customers(
    bytes: &[u8],
    format: FileFormat,
    area: &AreaCode,
    progress: impl FnMut(usize, usize),
) -> Result<Parsed<CustomerRecord>, FileError> {
    sheet::read(&customers::Customers { area }, bytes, format, progress)
}

/// Reads a bills file.
pub fn read_bills(
    bytes: &[u8],
    format: FileFormat,
    progress: impl FnMut(usize, usize),
) -> Result<Parsed<BillRecord>, FileError> {
    sheet::read(&bills::Bills, bytes, format, progress)
}
