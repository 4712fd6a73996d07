//! Stand-ins for `kefu_kb`'s types until that crate provides them.

use serde::{Deserialize, Serialize};

/// Who may read an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Internal,
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }
}

/// Groups of words that mean the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
}

impl Synonyms {
    pub fn from_groups(groups: Vec<Vec<String>>) -> Synonyms {
        Synonyms { groups }
    }

    pub fn groups(&self) -> &[Vec<String>] {
        &self.groups
    }
}
