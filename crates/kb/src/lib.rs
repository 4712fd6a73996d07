//! The knowledge base (知识库) without I/O. See docs/kb.md for the contract.
//!
//! Bytes in, bytes out: the store, the index and the API do the I/O; the demo KB is compiled in.

pub mod archive;
pub mod categories;
pub mod demo;
pub mod diff;
pub mod model;
pub mod popularity;
pub mod render;
pub mod synonyms;
pub mod workflow;

pub use archive::{
    Archive, ArchiveError, ArchivedArticle, parse_markdown_file, read_xlsx, read_zip,
    write_markdown_file, write_xlsx, write_zip,
};
pub use diff::{DiffLine, DiffOp, diff};
pub use kefu_domain::{FieldError, FieldErrors};
pub use model::{
    ArticleDraft, ArticleFields, ArticleStatus, CategoryName, Slug, Tags, Title, Visibility,
    check_body, check_validity, is_valid_on, parse_date,
};
pub use popularity::{hot_score, popularity};
pub use render::{plain_text, render};
pub use synonyms::{SynonymGroup, Synonyms};
