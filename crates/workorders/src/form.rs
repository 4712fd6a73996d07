//! The custom fields a work-order type asks for (defined by administrators in the browser, no code), and
//! the check of a filled-in form against them.

use std::collections::BTreeSet;

use kefu_domain::{FieldErrors, bounded_text, keyword_enum};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Priority;

keyword_enum!(
    /// What a custom field holds. `customer` holds a customer's id, `attachment` a list of attachment ids.
    FieldKind {
        Text = "text",
        Number = "number",
        Date = "date",
        Choice = "choice",
        Customer = "customer",
        Address = "address",
        Attachment = "attachment",
    }
);

impl FieldKind {
    fn from_chinese(s: &str) -> Option<FieldKind> {
        Some(match s {
            "文本" => FieldKind::Text,
            "数字" => FieldKind::Number,
            "日期" => FieldKind::Date,
            "选项" => FieldKind::Choice,
            "客户" => FieldKind::Customer,
            "地址" => FieldKind::Address,
            "附件" => FieldKind::Attachment,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// What is stored (`gas_leak`).
    pub value: String,
    /// What people see (燃气泄漏).
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// The key in the order's `fields` object: `[a-z][a-z0-9_]*`, at most 32 characters.
    pub key: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// The choices of a `choice` field; empty for every other kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
}

/// "When field `field` is `equals`, the order gets `priority`" (故障申告 with 燃气泄漏 → 特急).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityRule {
    pub field: String,
    pub equals: String,
    pub priority: Priority,
}

/// A checked list of field definitions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Form(Vec<FieldDef>);

pub const MAX_FIELDS: usize = 40;
pub const MAX_TEXT: usize = 2000;
pub const MAX_ATTACHMENTS_PER_FIELD: usize = 10;

fn key_ok(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

impl Form {
    /// Checks definitions as an administrator typed them; errors are under `fields[i]…`.
    pub fn parse(defs: Vec<FieldDef>) -> Result<Form, FieldErrors> {
        let mut errors = FieldErrors::new();
        if defs.len() > MAX_FIELDS {
            errors.push("fields", format!("at most {MAX_FIELDS} fields"));
        }
        let mut keys = BTreeSet::new();
        let mut out = Vec::with_capacity(defs.len());
        for (i, mut d) in defs.into_iter().enumerate() {
            let at = |f: &str| format!("fields[{i}].{f}");
            if !key_ok(&d.key) {
                errors.push(
                    at("key"),
                    "a key is 1-32 of a-z, 0-9 and '_', starting with a letter",
                );
            } else if !keys.insert(d.key.clone()) {
                errors.push(at("key"), format!("key '{}' is used twice", d.key));
            }
            if let Some(l) = errors.check(&at("label"), bounded_text(&d.label, 1, 40)) {
                d.label = l;
            }
            if let Some(en) = &d.label_en {
                d.label_en = errors.check(&at("label_en"), bounded_text(en, 1, 60));
            }
            if d.kind == FieldKind::Choice {
                if d.options.is_empty() || d.options.len() > 100 {
                    errors.push(at("options"), "a choice field has 1-100 options");
                }
                let mut values = BTreeSet::new();
                for (j, o) in d.options.iter_mut().enumerate() {
                    let at = |f: &str| format!("fields[{i}].options[{j}].{f}");
                    if !key_ok(&o.value) {
                        errors.push(
                            at("value"),
                            "a value is 1-32 of a-z, 0-9 and '_', starting with a letter",
                        );
                    } else if !values.insert(o.value.clone()) {
                        errors.push(at("value"), format!("value '{}' is used twice", o.value));
                    }
                    if let Some(l) = errors.check(&at("label"), bounded_text(&o.label, 1, 40)) {
                        o.label = l;
                    }
                    if let Some(en) = &o.label_en {
                        o.label_en = errors.check(&at("label_en"), bounded_text(en, 1, 60));
                    }
                }
            } else if !d.options.is_empty() {
                errors.push(at("options"), "only a choice field has options");
            }
            out.push(d);
        }
        errors.into_result().map(|()| Form(out))
    }

    pub fn fields(&self) -> &[FieldDef] {
        &self.0
    }

    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.0.iter().find(|f| f.key == key)
    }

    /// Checks priority rules against this form: each names a choice field and one of its values.
    pub fn check_rules(&self, rules: &[PriorityRule]) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        for (i, r) in rules.iter().enumerate() {
            match self.field(&r.field) {
                Some(f) if f.kind == FieldKind::Choice => {
                    if !f.options.iter().any(|o| o.value == r.equals) {
                        errors.push(
                            format!("priority_rules[{i}].equals"),
                            format!("'{}' is not an option of field '{}'", r.equals, r.field),
                        );
                    }
                }
                _ => errors.push(
                    format!("priority_rules[{i}].field"),
                    format!("'{}' is not a choice field of this type", r.field),
                ),
            }
        }
        errors.into_result()
    }

    /// Checks a filled-in form: an object with only known keys, every required field present and not
    /// empty, each value of its kind. Returns the values cleaned (text trimmed, empty values dropped).
    /// Errors are under `fields.<key>`. Whether a customer or an attachment id exists is the store's
    /// check.
    pub fn check(&self, values: &Value) -> Result<Map<String, Value>, FieldErrors> {
        let mut errors = FieldErrors::new();
        let empty = Map::new();
        let given = match values {
            Value::Object(m) => m,
            Value::Null => &empty,
            _ => {
                errors.push("fields", "must be an object of field values");
                return Err(errors);
            }
        };
        for key in given.keys() {
            if self.field(key).is_none() {
                errors.push(
                    format!("fields.{key}"),
                    "this type has no such field".to_string(),
                );
            }
        }
        let mut out = Map::new();
        for def in &self.0 {
            let at = format!("fields.{}", def.key);
            let value = given.get(&def.key).filter(|v| !is_blank(v));
            let Some(value) = value else {
                if def.required {
                    errors.push(at, format!("{} is required", def.label));
                }
                continue;
            };
            match check_value(def, value) {
                Ok(v) => {
                    out.insert(def.key.clone(), v);
                }
                Err(reason) => errors.push(at, reason),
            }
        }
        errors.into_result().map(|()| out)
    }

    /// The highest priority any rule gives these (checked) values, or `default`.
    pub fn priority(
        rules: &[PriorityRule],
        values: &Map<String, Value>,
        default: Priority,
    ) -> Priority {
        rules
            .iter()
            .filter(|r| values.get(&r.field).and_then(Value::as_str) == Some(r.equals.as_str()))
            .map(|r| r.priority)
            .chain(std::iter::once(default))
            .min_by_key(|p| p.rank())
            .expect("the default is always there")
    }

    /// The attachment ids the values name (for the store to check and link).
    pub fn attachment_ids(&self, values: &Map<String, Value>) -> Vec<uuid::Uuid> {
        self.ids_of(values, FieldKind::Attachment)
    }

    /// The customer ids the values name.
    pub fn customer_ids(&self, values: &Map<String, Value>) -> Vec<uuid::Uuid> {
        self.ids_of(values, FieldKind::Customer)
    }

    fn ids_of(&self, values: &Map<String, Value>, kind: FieldKind) -> Vec<uuid::Uuid> {
        self.0
            .iter()
            .filter(|d| d.kind == kind)
            .filter_map(|d| values.get(&d.key))
            .flat_map(|v| match v {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            })
            .filter_map(|v| v.as_str().and_then(|s| s.parse().ok()))
            .collect()
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn check_value(def: &FieldDef, value: &Value) -> Result<Value, String> {
    let text = |max: usize| -> Result<Value, String> {
        let s = value.as_str().ok_or("must be text")?;
        bounded_text(s, 1, max)
            .map(Value::String)
            .map_err(|e| e.reason)
    };
    let uuid = |v: &Value| -> Result<Value, String> {
        v.as_str()
            .and_then(|s| s.trim().parse::<uuid::Uuid>().ok())
            .map(|u| Value::String(u.to_string()))
            .ok_or_else(|| "must be an id (UUID)".to_string())
    };
    match def.kind {
        FieldKind::Text => text(MAX_TEXT),
        FieldKind::Address => text(200),
        FieldKind::Number => match value {
            Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => Ok(value.clone()),
            _ => Err("must be a number".into()),
        },
        FieldKind::Date => {
            let s = value.as_str().ok_or("must be a date, YYYY-MM-DD")?;
            chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map(|d| Value::String(d.to_string()))
                .map_err(|_| "must be a date, YYYY-MM-DD".into())
        }
        FieldKind::Choice => {
            let s = value.as_str().ok_or("must be one of the options")?;
            def.options
                .iter()
                .find(|o| o.value == s.trim())
                .map(|o| Value::String(o.value.clone()))
                .ok_or_else(|| {
                    format!(
                        "must be one of: {}",
                        def.options
                            .iter()
                            .map(|o| o.value.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
        }
        FieldKind::Customer => uuid(value),
        FieldKind::Attachment => {
            let items = match value {
                Value::Array(items) => items.as_slice(),
                other => std::slice::from_ref(other),
            };
            if items.len() > MAX_ATTACHMENTS_PER_FIELD {
                return Err(format!("at most {MAX_ATTACHMENTS_PER_FIELD} attachments"));
            }
            items
                .iter()
                .map(uuid)
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fault_form() -> Form {
        let defs: Vec<FieldDef> = serde_json::from_value(json!([
            {"key": "category", "label": "故障类别", "kind": "choice", "required": true, "options": [
                {"value": "gas_leak", "label": "燃气泄漏"},
                {"value": "no_gas", "label": "无气"},
                {"value": "meter_fault", "label": "表具故障"}
            ]},
            {"key": "description", "label": "故障描述", "kind": "text", "required": true},
            {"key": "address", "label": "故障地址", "kind": "address"},
            {"key": "reading", "label": "表读数", "kind": "number"},
            {"key": "since", "label": "发生日期", "kind": "date"},
            {"key": "photos", "label": "照片", "kind": "attachment"},
            {"key": "reporter", "label": "报修客户", "kind": "customer"}
        ]))
        .unwrap();
        Form::parse(defs).unwrap()
    }

    #[test]
    fn a_good_form_is_cleaned() {
        let form = fault_form();
        let id = "0193f3a0-0000-7000-8000-000000000001";
        let out = form
            .check(&json!({
                "category": "gas_leak",
                "description": "  厨房有煤气味  ",
                "reading": 1234.5,
                "since": "2026-11-26",
                "photos": [id],
                "reporter": id,
                "address": ""
            }))
            .unwrap();
        assert_eq!(out["description"], "厨房有煤气味");
        assert!(!out.contains_key("address"));
        assert_eq!(form.attachment_ids(&out).len(), 1);
        assert_eq!(form.customer_ids(&out).len(), 1);
        let rules = vec![PriorityRule {
            field: "category".into(),
            equals: "gas_leak".into(),
            priority: Priority::Emergency,
        }];
        form.check_rules(&rules).unwrap();
        assert_eq!(
            Form::priority(&rules, &out, Priority::Normal),
            Priority::Emergency
        );
    }

    #[test]
    fn every_bad_value_is_named() {
        let errors = fault_form()
            .check(&json!({
                "category": "earthquake",
                "reading": "12",
                "since": "26/11/2026",
                "photos": ["not-an-id"],
                "reporter": 7,
                "colour": "red"
            }))
            .unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "fields.colour",
                "fields.category",
                "fields.description",
                "fields.reading",
                "fields.since",
                "fields.photos",
                "fields.reporter"
            ]
        );
        assert!(fault_form().check(&json!([1, 2])).is_err());
    }

    #[test]
    fn bad_definitions_are_refused() {
        let defs: Vec<FieldDef> = serde_json::from_value(json!([
            {"key": "Bad Key", "label": "x", "kind": "text"},
            {"key": "a", "label": "", "kind": "text"},
            {"key": "a", "label": "dup", "kind": "text"},
            {"key": "c", "label": "选项", "kind": "choice"},
            {"key": "d", "label": "文本", "kind": "text", "options": [{"value": "x", "label": "x"}]}
        ]))
        .unwrap();
        let errors = Form::parse(defs).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "fields[0].key",
                "fields[1].label",
                "fields[2].key",
                "fields[3].options",
                "fields[4].options"
            ]
        );
        let form = fault_form();
        let rules = vec![
            PriorityRule {
                field: "description".into(),
                equals: "x".into(),
                priority: Priority::Urgent,
            },
            PriorityRule {
                field: "category".into(),
                equals: "flood".into(),
                priority: Priority::Urgent,
            },
        ];
        assert_eq!(form.check_rules(&rules).unwrap_err().0.len(), 2);
    }
}
