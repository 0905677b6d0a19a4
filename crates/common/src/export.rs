//! A member's data download (PRODUCT.md §7, data rights): each service answers
//! its `ExportMember…Data` internal RPC with one JSON document of what it holds
//! about the member, and auth's ExportMyData puts the documents together.
//!
//! A service lists its parts as named queries ([`Part`]) that take the member
//! id; [`member_document`] runs them and turns every row into a JSON object by
//! the columns' own types (16-byte ids as UUID text, times as RFC 3339 in UTC,
//! dates as `YYYY-MM-DD`, numbers, booleans, text). The queries choose what is
//! exported: the member's own rows, never another member's id, name or words.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};
use sqlx::{Column, MySqlPool, Row, TypeInfo, mysql::MySqlRow};
use uuid::Uuid;

/// One list of the document: its name and the query filling it, with `?`
/// placeholders that all take the member id.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    pub name: &'static str,
    pub sql: &'static str,
}

/// `{"member_id": …, "<part>": [rows…], …}` as UTF-8 JSON.
pub async fn member_document(
    pool: &MySqlPool,
    member: Uuid,
    parts: &[Part],
) -> Result<Vec<u8>, sqlx::Error> {
    let mut doc = Map::new();
    doc.insert("member_id".into(), Value::String(member.to_string()));
    for part in parts {
        let binds = part.sql.matches('?').count();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(part.sql));
        for _ in 0..binds {
            q = q.bind(member);
        }
        let rows = q.fetch_all(pool).await?;
        doc.insert(
            part.name.into(),
            Value::Array(rows.iter().map(|r| Value::Object(row_json(r))).collect()),
        );
    }
    serde_json::to_vec(&Value::Object(doc)).map_err(|e| sqlx::Error::Protocol(e.to_string()))
}

/// One row as an object, each column by its type (NULL as null).
pub fn row_json(row: &MySqlRow) -> Map<String, Value> {
    let mut out = Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let ty = col.type_info().name().to_ascii_uppercase();
        let v = match ty.as_str() {
            "BINARY" | "VARBINARY" | "BLOB" => row
                .try_get::<Option<Vec<u8>>, _>(i)
                .ok()
                .flatten()
                .map(|b| match Uuid::from_slice(&b) {
                    Ok(u) => Value::String(u.to_string()),
                    Err(_) => Value::String(String::from_utf8_lossy(&b).into_owned()),
                }),
            "DATETIME" | "TIMESTAMP" => row
                .try_get::<Option<NaiveDateTime>, _>(i)
                .ok()
                .flatten()
                .map(|t| Value::String(t.and_utc().to_rfc3339())),
            "DATE" => row
                .try_get::<Option<NaiveDate>, _>(i)
                .ok()
                .flatten()
                .map(|d| Value::String(d.to_string())),
            "BOOLEAN" | "TINYINT" => row
                .try_get::<Option<bool>, _>(i)
                .ok()
                .flatten()
                .map(Value::Bool)
                .or_else(|| {
                    row.try_get::<Option<i8>, _>(i)
                        .ok()
                        .flatten()
                        .map(Value::from)
                }),
            t if t.contains("INT") => row
                .try_get::<Option<i64>, _>(i)
                .ok()
                .flatten()
                .map(Value::from)
                .or_else(|| {
                    row.try_get::<Option<u64>, _>(i)
                        .ok()
                        .flatten()
                        .map(Value::from)
                }),
            "DOUBLE" | "FLOAT" | "DECIMAL" => row
                .try_get::<Option<f64>, _>(i)
                .ok()
                .flatten()
                .map(Value::from),
            _ => row
                .try_get::<Option<String>, _>(i)
                .ok()
                .flatten()
                .map(Value::String),
        };
        out.insert(col.name().to_owned(), v.unwrap_or(Value::Null));
    }
    out
}
