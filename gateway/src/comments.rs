//! The protos' own comments, read from the descriptor set's source info, for
//! the OpenAPI document: a summary (the first sentence) and a description per
//! operation, with the `Errors:` paragraph turned into a list of `CODE/REASON`
//! and the HTTP status the gateway answers for each (from `errors::http_status`,
//! the one table).

use std::collections::HashMap;

use prost_reflect::DescriptorPool;
use tonic::Code;

/// Leading comments by (file name, descriptor path).
#[derive(Debug, Default)]
pub struct Comments(HashMap<(String, Vec<i32>), String>);

impl Comments {
    pub fn new(pool: &DescriptorPool) -> Self {
        let mut map = HashMap::new();
        for file in pool.files() {
            let Some(info) = &file.file_descriptor_proto().source_code_info else {
                continue;
            };
            for location in &info.location {
                let text = location.leading_comments.as_deref().map(clean);
                if let Some(text) = text.filter(|t| !t.is_empty()) {
                    map.insert((file.name().to_owned(), location.path.clone()), text);
                }
            }
        }
        Self(map)
    }

    /// The comment above the descriptor at `path` in `file`.
    pub fn of(&self, file: &str, path: &[i32]) -> Option<&str> {
        self.0
            .get(&(file.to_owned(), path.to_vec()))
            .map(String::as_str)
    }
}

/// Comment lines without the space protoc keeps after `//`, ends trimmed.
fn clean(raw: &str) -> String {
    raw.lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// The first sentence of a comment's first paragraph.
pub fn summary(text: &str) -> String {
    let first = text.split("\n\n").next().unwrap_or("").replace('\n', " ");
    match first.find(". ") {
        Some(end) => first[..=end].to_owned(),
        None => first.trim().to_owned(),
    }
}

/// The whole comment as Markdown paragraphs, the `Errors:` one as a list.
pub fn description(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| {
            let flat = paragraph.replace('\n', " ");
            match flat.strip_prefix("Errors:") {
                Some(items) => errors_list(items),
                None => flat,
            }
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// `CODE/REASON (why), CODE/REASON, …` as one list item each, with its HTTP status.
fn errors_list(items: &str) -> String {
    let mut out = vec!["**Errors**".to_owned(), String::new()];
    for item in split_outside_parentheses(items) {
        let item = item.trim().trim_end_matches('.');
        if item.is_empty() {
            continue;
        }
        let (head, why) = match item.find(" (") {
            Some(at) => (&item[..at], item[at + 2..].trim_end_matches(')')),
            None => (item, ""),
        };
        let http = code_named(head.split('/').next().unwrap_or(""))
            .map(|c| format!(" → HTTP {}", crate::errors::http_status(c).as_u16()))
            .unwrap_or_default();
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(": {why}")
        };
        out.push(format!("- `{head}`{http}{why}"));
    }
    out.join("\n")
}

/// Splits on commas that are not inside parentheses.
fn split_outside_parentheses(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth <= 0 => {
                parts.push(&text[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The gRPC code with this name (`NOT_FOUND`).
fn code_named(name: &str) -> Option<Code> {
    (0..=16)
        .map(Code::from_i32)
        .find(|c| crate::errors::code_name(*c) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_become_a_list_with_http_statuses() {
        let text = "Builds the board. Safe to retry.\n\nErrors: NOT_FOUND/TEAM_NOT_FOUND (team missing,\ncaller not a member), INVALID_ARGUMENT/VALIDATION_FAILED.";
        assert_eq!(summary(text), "Builds the board.");
        let d = description(text);
        assert!(
            d.starts_with("Builds the board. Safe to retry.\n\n**Errors**\n\n"),
            "{d}"
        );
        assert!(
            d.contains(
                "- `NOT_FOUND/TEAM_NOT_FOUND` → HTTP 404: team missing, caller not a member"
            ),
            "{d}"
        );
        assert!(
            d.contains("- `INVALID_ARGUMENT/VALIDATION_FAILED` → HTTP 400"),
            "{d}"
        );
    }
}
