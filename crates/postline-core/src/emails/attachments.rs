//! Attachment rules for sending: content as base64 (or, from the Python SDK, an
//! array of byte values) or a remote `path`; a file name whose extension is not
//! on the forbidden list; `content_id` (inline CID images) under 128 characters;
//! at most 40 MB per email counted after base64 encoding.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::Value;

use crate::{Error, Invalid, Result};

/// Largest email, attachments included, counted after base64 encoding.
pub const MAX_EMAIL_BYTES_BASE64: u64 = 40 * 1024 * 1024;
/// Longest `content_id` accepted (the reference says "less than 128 characters").
pub const MAX_CONTENT_ID_CHARS: usize = 127;
/// Most attachments on one email.
pub const MAX_ATTACHMENTS: usize = 100;
const MAX_FILENAME_CHARS: usize = 255;

/// Extensions that may not be sent (the knowledge base's list).
pub const FORBIDDEN_EXTENSIONS: &[&str] = &[
    "adp", "app", "asp", "bas", "bat", "cer", "chm", "cmd", "com", "cpl", "crt", "csh", "der", "exe", "fxp", "gadget",
    "hlp", "hta", "inf", "ins", "isp", "its", "js", "jse", "ksh", "lib", "lnk", "mad", "maf", "mag", "mam", "maq",
    "mar", "mas", "mat", "mau", "mav", "maw", "mda", "mdb", "mde", "mdt", "mdw", "mdz", "msc", "msh", "msh1", "msh2",
    "mshxml", "msh1xml", "msh2xml", "msi", "msp", "mst", "ops", "pcd", "pif", "plg", "prf", "prg", "reg", "scf", "scr",
    "sct", "shb", "shs", "sys", "ps1", "ps1xml", "ps2", "ps2xml", "psc1", "psc2", "tmp", "url", "vb", "vbe", "vbs",
    "vps", "vsmacros", "vss", "vst", "vsw", "vxd", "ws", "wsc", "wsf", "wsh", "xnk",
];

/// Where an attachment's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Given inline.
    Bytes(Vec<u8>),
    /// To be fetched from this URL before the email is accepted.
    Remote(String),
}

/// A validated attachment, before remote content is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentSpec {
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub content_id: Option<String>,
    pub source: Source,
}

fn invalid(message: impl std::fmt::Display) -> Error {
    Error::invalid(Invalid::Attachment, message)
}

/// The size an attachment of `raw` bytes has once base64-encoded.
pub fn base64_len(raw: u64) -> u64 {
    raw.div_ceil(3) * 4
}

/// Validates one entry of the `attachments` array.
pub fn parse_attachment(index: usize, value: &Value) -> Result<AttachmentSpec> {
    let Value::Object(fields) = value else {
        return Err(invalid(format!("Attachment {index} must be an object.")));
    };
    let text = |names: &[&str]| -> Result<Option<String>> {
        for name in names {
            match fields.get(*name) {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) => return Ok(Some(s.clone())),
                Some(_) => {
                    return Err(invalid(format!("Attachment {index}: `{}` must be a string.", names[0])));
                }
            }
        }
        Ok(None)
    };
    let filename = text(&["filename"])?;
    let content_type = text(&["content_type", "contentType"])?;
    let content_id = text(&["content_id", "contentId", "inline_content_id"])?;
    let path = text(&["path"])?;
    let content = fields.get("content").filter(|v| !v.is_null());

    let source = match (content, path) {
        (Some(_), Some(_)) => {
            return Err(invalid(format!("Attachment {index} must have either `content` or `path`, not both.")));
        }
        (None, None) => {
            return Err(invalid(format!("Attachment {index} must have either `content` or `path`.")));
        }
        (Some(content), None) => Source::Bytes(decode_content(index, content)?),
        (None, Some(path)) => Source::Remote(validate_url(index, &path)?),
    };

    if let Some(name) = &filename
        && (name.trim().is_empty() || name.chars().count() > MAX_FILENAME_CHARS || name.chars().any(char::is_control))
    {
        return Err(invalid(format!(
            "Attachment {index}: `filename` must be 1 to {MAX_FILENAME_CHARS} characters without control characters."
        )));
    }
    let effective_name = filename.clone().or_else(|| match &source {
        Source::Remote(url) => url_file_name(url),
        Source::Bytes(_) => None,
    });
    if let Some(ext) = effective_name.as_deref().and_then(forbidden_extension) {
        return Err(invalid(format!("Attachment {index}: files with the `.{ext}` extension cannot be sent.")));
    }
    if let Some(content_type) = &content_type
        && (content_type.len() > 255 || !content_type.contains('/') || content_type.chars().any(char::is_control))
    {
        return Err(invalid(format!(
            "Attachment {index}: `content_type` must be a MIME type such as `application/pdf`."
        )));
    }
    if let Some(cid) = &content_id
        && (cid.is_empty()
            || cid.chars().count() > MAX_CONTENT_ID_CHARS
            || cid.chars().any(|c| c.is_control() || c == '<' || c == '>' || c.is_whitespace()))
    {
        return Err(invalid(format!(
            "Attachment {index}: `content_id` must be 1 to {MAX_CONTENT_ID_CHARS} characters without spaces or angle brackets."
        )));
    }
    Ok(AttachmentSpec { filename: effective_name, content_type, content_id, source })
}

fn decode_content(index: usize, content: &Value) -> Result<Vec<u8>> {
    match content {
        Value::String(encoded) => {
            let compact: String = encoded.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            STANDARD
                .decode(compact.as_bytes())
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.as_bytes()))
                .map_err(|_| invalid(format!("Attachment {index}: `content` is not valid base64.")))
        }
        // The Python SDK sends bytes as a JSON array of integers.
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_u64().and_then(|n| u8::try_from(n).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| invalid(format!("Attachment {index}: `content` must be base64 or an array of bytes."))),
        _ => Err(invalid(format!("Attachment {index}: `content` must be base64 or an array of bytes."))),
    }
}

fn validate_url(index: usize, raw: &str) -> Result<String> {
    let lower = raw.trim().to_ascii_lowercase();
    if raw.len() > 2048 || !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(invalid(format!("Attachment {index}: `path` must be an http or https URL.")));
    }
    Ok(raw.trim().to_string())
}

fn url_file_name(url: &str) -> Option<String> {
    let without_query = url.split(['?', '#']).next()?;
    let after_scheme = without_query.split_once("://")?.1;
    let (_, path) = after_scheme.split_once('/')?;
    let last = path.rsplit('/').next()?;
    (!last.is_empty()).then(|| last.to_string())
}

/// The forbidden extension of a file name, if it has one.
pub fn forbidden_extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    let ext = ext.trim().to_ascii_lowercase();
    FORBIDDEN_EXTENSIONS.contains(&ext.as_str()).then_some(ext)
}

/// The content type to record: the given one, else one guessed from the file name.
pub fn effective_content_type(spec_type: Option<&str>, filename: Option<&str>, fetched: Option<&str>) -> String {
    spec_type
        .map(str::to_string)
        .or_else(|| filename.and_then(|n| mime_guess::from_path(n).first_raw().map(str::to_string)))
        .or_else(|| fetched.map(|t| t.split(';').next().unwrap_or(t).trim().to_string()))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_and_byte_arrays_decode_to_the_same_bytes() {
        let a = parse_attachment(0, &json!({"content": "aGk=", "filename": "a.txt"})).unwrap();
        let b = parse_attachment(0, &json!({"content": [104, 105], "filename": "a.txt"})).unwrap();
        assert_eq!(a.source, Source::Bytes(b"hi".to_vec()));
        assert_eq!(a.source, b.source);
    }

    #[test]
    fn forbidden_extensions_are_refused_from_the_name_or_the_url() {
        assert!(parse_attachment(0, &json!({"content": "aGk=", "filename": "setup.EXE"})).is_err());
        assert!(parse_attachment(0, &json!({"path": "https://x.io/run.bat?x=1"})).is_err());
        assert!(parse_attachment(0, &json!({"content": "aGk=", "filename": "invoice.pdf"})).is_ok());
        assert_eq!(forbidden_extension("a.tar.js").as_deref(), Some("js"));
        assert_eq!(forbidden_extension("README"), None);
    }

    #[test]
    fn content_or_path_is_required_but_not_both() {
        assert!(parse_attachment(0, &json!({"filename": "a.txt"})).is_err());
        assert!(
            parse_attachment(0, &json!({"filename": "a.txt", "content": "aGk=", "path": "https://x.io/a"})).is_err()
        );
        assert!(parse_attachment(0, &json!({"content": "not base64!!", "filename": "a.txt"})).is_err());
        assert!(parse_attachment(0, &json!({"content": [1, 256], "filename": "a.txt"})).is_err());
        assert!(parse_attachment(0, &json!({"path": "file:///etc/passwd"})).is_err());
    }

    #[test]
    fn content_ids_are_bounded() {
        let ok = "c".repeat(127);
        let long = "c".repeat(128);
        assert!(parse_attachment(0, &json!({"content": "aGk=", "filename": "a.png", "content_id": ok})).is_ok());
        assert!(parse_attachment(0, &json!({"content": "aGk=", "filename": "a.png", "content_id": long})).is_err());
        let camel = parse_attachment(0, &json!({"content": "aGk=", "filename": "a.png", "contentId": "logo"})).unwrap();
        assert_eq!(camel.content_id.as_deref(), Some("logo"));
    }

    #[test]
    fn content_types_are_derived_from_names() {
        assert_eq!(effective_content_type(None, Some("a.pdf"), None), "application/pdf");
        assert_eq!(effective_content_type(Some("text/csv"), Some("a.pdf"), None), "text/csv");
        assert_eq!(effective_content_type(None, None, Some("image/png; q=1")), "image/png");
        assert_eq!(effective_content_type(None, None, None), "application/octet-stream");
    }
}
