use std::fmt;

/// Why one input field was rejected. `field` is the name the caller used (a JSON pointer-ish path such
/// as `phones[1]` or a CSV column name), `reason` a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error, re-homed under a parent field (`phones` + `0` → `phones[0]`).
    pub fn under(mut self, parent: &str) -> FieldError {
        self.field = if self.field.is_empty() {
            parent.to_string()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for FieldError {}

/// Collects every field error of one input so the caller learns all of them at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> FieldErrors {
        FieldErrors(Vec::new())
    }

    /// Keeps the value of `result`, or remembers its error under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(FieldError::new(field, e.reason));
                None
            }
        }
    }

    pub fn push(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldError::new(field, reason));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

/// Trims `input` and checks it holds between `min` and `max` characters (not bytes: 张三 is two) and no
/// control characters. Used for every free-text field so an overlong or binary value never reaches the
/// store.
pub fn bounded_text(input: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let trimmed = input.trim();
    let chars = trimmed.chars().count();
    if chars < min {
        return Err(if min == 1 {
            FieldError::new("", "must not be empty")
        } else {
            FieldError::new("", format!("must be at least {min} characters"))
        });
    }
    if chars > max {
        return Err(FieldError::new(
            "",
            format!("must be at most {max} characters (got {chars})"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(FieldError::new("", "must not contain control characters"));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_counts_characters_not_bytes() {
        assert_eq!(bounded_text(" 张三 ", 1, 2).unwrap(), "张三");
        assert!(bounded_text("张三丰", 1, 2).is_err());
        assert!(bounded_text("   ", 1, 2).is_err());
        assert!(bounded_text("a\u{0}b", 1, 5).is_err());
        assert_eq!(
            bounded_text("'; DROP TABLE customers; --", 1, 100).unwrap(),
            "'; DROP TABLE customers; --"
        );
    }

    #[test]
    fn under_builds_paths() {
        assert_eq!(
            FieldError::new("", "x").under("phones[1]").field,
            "phones[1]"
        );
        assert_eq!(
            FieldError::new("number", "x").under("phones[1]").field,
            "phones[1].number"
        );
    }
}
