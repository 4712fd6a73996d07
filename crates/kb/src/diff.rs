//! Line diffs between two versions of a body (`GET /articles/{id}/diff`).

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

/// What happened to one line going from the old text to the new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffOp {
    Equal,
    Insert,
    Delete,
}

/// One line of a diff, without its line break.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    pub op: DiffOp,
    pub text: String,
}

/// The line diff from `old` to `new` (Myers via `similar`): every line of both texts exactly once, in
/// reading order, deletions before the insertions that replace them.
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| DiffLine {
            op: match change.tag() {
                ChangeTag::Equal => DiffOp::Equal,
                ChangeTag::Insert => DiffOp::Insert,
                ChangeTag::Delete => DiffOp::Delete,
            },
            text: change
                .value()
                .strip_suffix('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l))
                .unwrap_or(change.value())
                .to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(lines: &[DiffLine]) -> String {
        lines
            .iter()
            .map(|l| {
                let sign = match l.op {
                    DiffOp::Equal => ' ',
                    DiffOp::Insert => '+',
                    DiffOp::Delete => '-',
                };
                format!("{sign}{}\n", l.text)
            })
            .collect()
    }

    #[test]
    fn changed_line_is_a_delete_then_an_insert() {
        let d = diff(
            "关闭阀门\n打开窗户\n拨打电话\n",
            "关闭阀门\n开窗通风\n拨打电话\n离开现场",
        );
        assert_eq!(
            ops(&d),
            " 关闭阀门\n-打开窗户\n+开窗通风\n 拨打电话\n+离开现场\n"
        );
    }

    #[test]
    fn identical_and_empty_texts() {
        assert!(diff("", "").is_empty());
        assert!(diff("a\nb", "a\nb").iter().all(|l| l.op == DiffOp::Equal));
        assert_eq!(ops(&diff("", "新\n")), "+新\n");
        assert_eq!(ops(&diff("旧\r\n", "")), "-旧\n");
    }

    #[test]
    fn serializes_with_lowercase_ops() {
        let json = serde_json::to_string(&diff("a\n", "b\n")).unwrap();
        assert_eq!(
            json,
            r#"[{"op":"delete","text":"a"},{"op":"insert","text":"b"}]"#
        );
    }
}
