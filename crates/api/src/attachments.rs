//! Uploading and downloading files for work orders (photos from the field, voice notes, documents).
//!
//! A file's type is what its bytes are (detected with `infer`), and its name must agree: a renamed
//! executable, a PDF named `.png` or bytes of no known kind are refused with 415. Files are kept whole
//! in the database with the SHA-256 kefu computed; downloads are always `attachment`, `nosniff`, with
//! the name RFC 5987-encoded, so a stored file is never rendered as a page of kefu's origin.

use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use kefu_domain::{AttachmentId, FieldError, Role};
use kefu_store::NewAttachment;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::AppState;
use crate::access::Caller;
use crate::problem::{ApiError, ApiResult, Path};

#[derive(Serialize, ToSchema)]
pub struct Attachment {
    pub id: uuid::Uuid,
    /// As uploaded, without directory parts or control characters.
    pub filename: String,
    /// Detected from the bytes.
    pub content_type: String,
    pub size: i64,
    /// Hex SHA-256 of the bytes, computed by kefu.
    pub sha256: String,
    /// The order that uses it, once linked.
    pub work_order_id: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<kefu_store::AttachmentMeta> for Attachment {
    fn from(m: kefu_store::AttachmentMeta) -> Attachment {
        Attachment {
            id: m.id.0,
            filename: m.filename,
            content_type: m.content_type,
            size: m.size,
            sha256: m.sha256,
            work_order_id: m.work_order_id.map(|w| w.0),
            created_at: m.created_at,
        }
    }
}

/// The kinds of file kefu keeps: (name, extensions, content type stored and served).
const KINDS: &[(&str, &[&str], &str)] = &[
    ("JPEG image", &["jpg", "jpeg"], "image/jpeg"),
    ("PNG image", &["png"], "image/png"),
    ("GIF image", &["gif"], "image/gif"),
    ("WebP image", &["webp"], "image/webp"),
    ("PDF document", &["pdf"], "application/pdf"),
    ("MP3 audio", &["mp3"], "audio/mpeg"),
    ("WAV audio", &["wav"], "audio/wav"),
    ("AMR voice", &["amr"], "audio/amr"),
    ("AMR-WB voice", &["amr", "awb"], "audio/amr-wb"),
    (
        "Word document (DOCX)",
        &["docx"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "Excel workbook (XLSX)",
        &["xlsx"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("plain text", &["txt"], "text/plain; charset=utf-8"),
];

fn kind(content_type: &str) -> (&'static str, &'static [&'static str], &'static str) {
    *KINDS
        .iter()
        .find(|(_, _, ct)| *ct == content_type)
        .expect("a known kind")
}

/// Why an upload's type is refused.
#[derive(Debug, PartialEq)]
pub(crate) struct Refused(pub String);

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What the bytes are, as one of [`KINDS`]' content types, or what they were found to be instead.
fn detect(bytes: &[u8]) -> Result<&'static str, String> {
    // Formats infer misses: MPEG audio without an ID3 tag (frame sync, layer III) and AMR-WB.
    if bytes.len() > 3 && bytes[0] == 0xFF && bytes[1] & 0xE6 == 0xE2 {
        return Ok("audio/mpeg");
    }
    if bytes.starts_with(b"#!AMR-WB\n") {
        return Ok("audio/amr-wb");
    }
    match infer::get(bytes) {
        Some(t) => match t.mime_type() {
            "image/jpeg" => Ok("image/jpeg"),
            "image/png" => Ok("image/png"),
            "image/gif" => Ok("image/gif"),
            "image/webp" => Ok("image/webp"),
            "application/pdf" => Ok("application/pdf"),
            "audio/mpeg" => Ok("audio/mpeg"),
            "audio/x-wav" => Ok("audio/wav"),
            "audio/amr" => Ok("audio/amr"),
            m @ ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") => Ok(kind(m).2),
            // A zip whose Office parts infer did not find where it looks (LibreOffice orders them
            // differently): decided below from its entries and the file's extension.
            "application/zip" => Err("application/zip".into()),
            // Text-like kinds (HTML, XML, shell scripts) are fine as plain text if the name says .txt.
            _ if t.matcher_type() == infer::MatcherType::Text => Err("text".into()),
            other => Err(format!("{other} (.{})", t.extension())),
        },
        None => Err(String::new()),
    }
}

/// UTF-8 (a BOM allowed) without NUL bytes.
fn is_text(bytes: &[u8]) -> bool {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    !body.contains(&0) && std::str::from_utf8(body).is_ok()
}

/// The content type of `bytes` if it is a kind kefu keeps and `filename`'s extension agrees.
pub(crate) fn sniff(filename: &str, bytes: &[u8]) -> Result<&'static str, Refused> {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let named = if ext.is_empty() {
        "has no extension".to_string()
    } else {
        format!("is named .{ext}")
    };
    let ct = match detect(bytes) {
        Ok(ct) => ct,
        Err(found) if found == "application/zip" => {
            // DOCX and XLSX are zip containers: the name says which, the entries must agree.
            let office = contains(bytes, b"[Content_Types].xml");
            match ext.as_str() {
                "docx" if office && contains(bytes, b"word/") => kind_ct("docx"),
                "xlsx" if office && contains(bytes, b"xl/") => kind_ct("xlsx"),
                _ => {
                    return Err(Refused(format!(
                        "the file is a zip archive (application/zip) and {named}: only Word (.docx) and Excel (.xlsx) documents are accepted"
                    )));
                }
            }
        }
        Err(found) if found.is_empty() || found == "text" => {
            if ext == "txt" && is_text(bytes) {
                kind_ct("txt")
            } else if ext == "txt" {
                return Err(Refused(
                    "the file is named .txt but is not plain UTF-8 text (binary bytes or NUL characters)"
                        .into(),
                ));
            } else if found == "text" || is_text(bytes) {
                return Err(Refused(format!(
                    "the file is text and {named}: text is accepted only as .txt"
                )));
            } else {
                return Err(Refused(format!(
                    "the file's type is not recognized (it {named}): accepted are JPEG, PNG, GIF, WebP, PDF, MP3, WAV, AMR, DOCX, XLSX and UTF-8 .txt"
                )));
            }
        }
        Err(other) => {
            return Err(Refused(format!(
                "the file is {other}, which is not accepted (it {named}): accepted are JPEG, PNG, GIF, WebP, PDF, MP3, WAV, AMR, DOCX, XLSX and UTF-8 .txt"
            )));
        }
    };
    let (what, exts, _) = kind(ct);
    if !exts.contains(&ext.as_str()) {
        return Err(Refused(format!(
            "the file is a {what} ({ct}) but {named}: rename it .{} or upload the right file",
            exts[0]
        )));
    }
    Ok(ct)
}

fn kind_ct(ext: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(_, e, _)| e.contains(&ext))
        .expect("a known extension")
        .2
}

/// The name as shown: its last path part (browsers and phones send `C:\fakepath\a.jpg` or
/// `../a.jpg`), without control characters or bidirectional overrides (which make `gpj.exe` look like
/// `exe.jpg`), trimmed, 1 to 200 characters. Everything else is kept verbatim.
pub(crate) fn clean_filename(name: &str) -> Result<String, &'static str> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        return Err("the file needs a name");
    }
    if cleaned.chars().count() > 200 {
        return Err("a file name has at most 200 characters");
    }
    Ok(cleaned.to_string())
}

fn file_problem(status: StatusCode, kind: &'static str, reason: String) -> ApiError {
    let mut e = ApiError::new(status, kind, format!("invalid field file: {reason}"));
    e.errors.push(FieldError::new("file", reason));
    e
}

fn too_big(limit: usize) -> ApiError {
    let size = if limit >= 1024 * 1024 && limit.is_multiple_of(1024 * 1024) {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{limit} bytes")
    };
    file_problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!("a file may have at most {size}"),
    )
}

fn unreadable(e: MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_big(limit)
    } else {
        ApiError::field("file", format!("unreadable upload: {}", e.body_text()))
    }
}

/// Uploads one file: a `multipart/form-data` body with one part named `file` (with a filename).
/// Accepted: JPEG, PNG, GIF, WebP, PDF, MP3, WAV, AMR, DOCX, XLSX and UTF-8 `.txt`, up to the
/// configured size (10 MiB by default). The file is the caller's until a work order uses it.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "work orders",
    request_body(content_type = "multipart/form-data", description = "one part named `file`"),
    responses((status = 201, body = Attachment), (status = 413, body = crate::problem::Problem), (status = 415, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn upload(
    State(app): State<AppState>,
    caller: Caller,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, axum::Json<Attachment>)> {
    let limit = app.settings.max_attachment_bytes;
    let mut form = form.map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the file as Content-Type: multipart/form-data with one part named file",
        )
    })?;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(mut field) = form.next_field().await.map_err(|e| unreadable(e, limit))? {
        if field.name() != Some("file") {
            let name = field.name().unwrap_or("").to_string();
            return Err(ApiError::field(
                if name.is_empty() { "file" } else { &name },
                "only one part, named file, is expected",
            ));
        }
        if file.is_some() {
            return Err(ApiError::field("file", "one file per upload"));
        }
        let name = field
            .file_name()
            .ok_or_else(|| ApiError::field("file", "the part needs a filename"))?
            .to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| unreadable(e, limit))? {
            if bytes.len() + chunk.len() > limit {
                return Err(too_big(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        file = Some((name, bytes));
    }
    let (name, bytes) = file.ok_or_else(|| ApiError::field("file", "no file was sent"))?;
    let filename = clean_filename(&name).map_err(|r| ApiError::field("file", r))?;
    if bytes.is_empty() {
        return Err(ApiError::field("file", "the file is empty"));
    }
    let content_type = sniff(&filename, &bytes).map_err(|Refused(reason)| {
        file_problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            reason,
        )
    })?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let meta = app
        .store
        .create_attachment(
            &caller.actor,
            NewAttachment {
                filename,
                content_type: content_type.to_string(),
                sha256,
                content: bytes,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(meta.into())))
}

/// `Content-Disposition` for a download: an ASCII fallback `filename` (other characters as `_`) and
/// the exact name as RFC 5987 `filename*`.
pub(crate) fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%')) || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        // RFC 5987 attr-char; everything else percent-encoded.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Downloads a file: for its uploader, or anyone who may read the work order using it (site staff:
/// orders of their own unit). Anyone else gets 404, as for a file that does not exist.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "work orders", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "the file, as attachment", content_type = "application/octet-stream"), (status = 304, description = "not modified (If-None-Match)"), (status = 404, body = crate::problem::Problem)))]
pub async fn download(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<uuid::Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = AttachmentId(id);
    let meta = app.store.attachment_meta(id).await?;
    let me = &caller.principal.user;
    let allowed = meta.uploaded_by == Some(me.id)
        || (meta.work_order_id.is_some()
            && (me.role != Role::SiteStaff || meta.order_unit_id == Some(me.unit_id)));
    if !allowed {
        return Err(ApiError::not_found("attachment"));
    }
    let etag = format!("\"{}\"", meta.sha256);
    let common = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "private, no-cache".to_string()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
    ];
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == etag || t.trim() == "*");
    if fresh {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let bytes = app.store.attachment_content(id).await?;
    let mut resp = (common, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&meta.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(&meta.filename))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    // Never run as a page of kefu's origin, even if opened directly.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

    #[test]
    fn names_keep_their_last_part_without_control_characters() {
        assert_eq!(
            clean_filename("C:\\fakepath\\现场照片.jpg").unwrap(),
            "现场照片.jpg"
        );
        assert_eq!(clean_filename("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_filename("a\u{0}b\r\n.txt").unwrap(), "ab.txt");
        assert_eq!(
            clean_filename("invoice\u{202E}gpj.exe").unwrap(),
            "invoicegpj.exe"
        );
        assert_eq!(
            clean_filename("<script>\"x\";'.txt").unwrap(),
            "<script>\"x\";'.txt"
        );
        assert!(clean_filename("..").is_err());
        assert!(clean_filename("dir/").is_err());
        assert!(clean_filename(&format!("{}.txt", "长".repeat(197))).is_err());
        assert!(clean_filename(&format!("{}.txt", "长".repeat(196))).is_ok());
    }

    #[test]
    fn types_come_from_the_bytes_and_the_name_must_agree() {
        assert_eq!(sniff("a.png", PNG).unwrap(), "image/png");
        assert_eq!(sniff("A.PNG", PNG).unwrap(), "image/png");
        assert!(sniff("a.pdf", PNG).unwrap_err().0.contains("image/png"));
        let elf = [b"\x7fELF\x02\x01\x01".as_slice(), &[0u8; 60]].concat();
        assert!(sniff("a.jpg", &elf).unwrap_err().0.contains("elf"));
        assert!(sniff("a.jpg", b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff").is_err());
        assert_eq!(
            sniff("说明.txt", "燃气".as_bytes()).unwrap(),
            "text/plain; charset=utf-8"
        );
        assert!(sniff("a.txt", b"a\0b").is_err());
        assert!(sniff("a.jpg", "燃气".as_bytes()).is_err());
        assert!(sniff("a.txt", b"\xff\xd8\xff\xe0").is_err());
        assert!(sniff("a.txt", &[0x80, 0x81, 0x82]).is_err());
        assert_eq!(
            sniff("a.amr", b"#!AMR\n\0\0\0\0\0\0\0").unwrap(),
            "audio/amr"
        );
        assert_eq!(sniff("a.mp3", b"ID3\x03\0\0\0").unwrap(), "audio/mpeg");
        assert_eq!(sniff("a.mp3", b"\xff\xf3\x84\xc4").unwrap(), "audio/mpeg");
        let zip = [
            b"PK\x03\x04".as_slice(),
            &[0u8; 26],
            b"[Content_Types].xml",
            b"word/document.xml",
        ]
        .concat();
        assert!(sniff("a.docx", &zip).is_ok());
        assert!(sniff("a.xlsx", &zip).is_err());
        let plain_zip = [b"PK\x03\x04".as_slice(), &[0u8; 26], b"hello.txt"].concat();
        assert!(sniff("a.docx", &plain_zip).unwrap_err().0.contains("zip"));
        assert!(sniff("a.zip", &plain_zip).is_err());
    }

    #[test]
    fn download_names_are_encoded() {
        assert_eq!(
            content_disposition("现场 照片\".jpg"),
            "attachment; filename=\"__ ___.jpg\"; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87%22.jpg"
        );
        assert!(HeaderValue::from_str(&content_disposition("a\"b;\\c%.txt")).is_ok());
    }
}
