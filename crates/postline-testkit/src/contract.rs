//! The API contract, loaded from `shared/api/resend-openapi.yaml` (never copied):
//! finds the operation a request hit and validates the response body against the
//! schema the contract gives for its status, and checks error bodies' shape.

use std::{
    path::PathBuf,
    sync::{Arc, OnceLock},
};

use serde_json::{Value, json};

/// The loaded contract.
pub struct Contract {
    document: Value,
}

/// Where the contract file is: `POSTLINE_CONTRACT`, else `shared/api/resend-openapi.yaml`
/// in the nearest ancestor of this crate that has one (the project sits beside
/// `shared/`), else the build machines' `/work/shared`.
pub fn contract_path() -> PathBuf {
    if let Ok(path) = std::env::var("POSTLINE_CONTRACT") {
        return PathBuf::from(path);
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared/api/resend-openapi.yaml");
        if candidate.exists() {
            return candidate;
        }
        if !dir.pop() {
            let machine = PathBuf::from("/work/shared/api/resend-openapi.yaml");
            if machine.exists() {
                return machine;
            }
            panic!(
                "shared/api/resend-openapi.yaml not found above {}; set POSTLINE_CONTRACT to its path",
                env!("CARGO_MANIFEST_DIR")
            );
        }
    }
}

/// The contract, loaded once per test binary.
pub fn contract() -> Arc<Contract> {
    static CONTRACT: OnceLock<Arc<Contract>> = OnceLock::new();
    CONTRACT
        .get_or_init(|| {
            let text = std::fs::read_to_string(contract_path()).expect("read the contract");
            let mut document: Value = serde_yaml::from_str(&text).expect("the contract is YAML");
            extend(&mut document);
            Arc::new(Contract { document })
        })
        .clone()
}

/// Where the reference docs (also part of the contract) go beyond the OpenAPI file,
/// documented in docs/COMPATIBILITY.md: a domain's status can be `temporary_failure`.
fn extend(document: &mut Value) {
    for schema in ["Domain", "CreateDomainResponse", "ListDomainsItem"] {
        if let Some(values) = document["components"]["schemas"][schema]["properties"]["status"]["enum"].as_array_mut() {
            values.push(json!("temporary_failure"));
        }
    }
}

impl Contract {
    /// The path template (e.g. `/emails/{email_id}`) a concrete path matches, if any.
    pub fn template_for(&self, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let paths = self.document["paths"].as_object()?;
        // Prefer templates with more literal segments (`/emails/batch` over `/emails/{id}`).
        let mut candidates: Vec<(&String, usize)> = paths
            .keys()
            .filter_map(|template| {
                let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') {
                        continue;
                    }
                    if part != segment {
                        return None;
                    }
                    literal += 1;
                }
                Some((template, literal))
            })
            .collect();
        candidates.sort_by_key(|(_, literal)| std::cmp::Reverse(*literal));
        candidates.first().map(|(t, _)| (*t).clone())
    }

    /// The response schema the contract gives for this operation and status.
    pub fn response_schema(&self, method: &str, path: &str, status: u16) -> Option<Value> {
        let template = self.template_for(path)?;
        let operation = &self.document["paths"][&template][method.to_ascii_lowercase()];
        let schema = &operation["responses"][status.to_string()]["content"]["application/json"]["schema"];
        (!schema.is_null()).then(|| schema.clone())
    }

    /// Whether the contract describes this method on this path at all.
    pub fn has_operation(&self, method: &str, path: &str) -> bool {
        self.template_for(path).is_some_and(|t| !self.document["paths"][&t][method.to_ascii_lowercase()].is_null())
    }

    /// Panics unless `value` is valid against the named component schema.
    pub fn check_schema(&self, schema: &str, value: &Value) {
        let root = json!({"components": self.document["components"], "$ref": format!("#/components/schemas/{schema}")});
        let validator = jsonschema::validator_for(&root).expect("the contract's schema compiles");
        let errors: Vec<String> =
            validator.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(errors.is_empty(), "does not match {schema}:\n{}\nvalue: {value:#}", errors.join("\n"));
    }

    /// Panics with a readable report unless `body` is valid for the operation's
    /// `status` response, or a well-formed error body for an error status.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) {
        if status >= 400 {
            check_error_body(status, body);
            return;
        }
        assert!(body.get("statusCode").is_none(), "a success body must not carry statusCode: {body}");
        let Some(schema) = self.response_schema(method, path, status) else {
            assert!(
                !self.has_operation(method, path) || status == 200,
                "{method} {path} answered {status}, which the contract does not list"
            );
            return;
        };
        let root = json!({"components": self.document["components"], "allOf": [schema]});
        let validator = jsonschema::validator_for(&root).expect("the contract's schema compiles");
        let errors: Vec<String> =
            validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(
            errors.is_empty(),
            "{method} {path} ({status}) does not match the contract:\n{}\nbody: {body:#}",
            errors.join("\n")
        );
    }
}

fn check_error_body(status: u16, body: &Value) {
    let object = body.as_object().unwrap_or_else(|| panic!("error body must be an object: {body}"));
    assert_eq!(
        object.get("statusCode").and_then(Value::as_u64),
        Some(u64::from(status)),
        "statusCode must echo the status: {body}"
    );
    assert!(object.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty()), "error needs a name: {body}");
    assert!(
        object.get("message").and_then(Value::as_str).is_some_and(|m| !m.is_empty()),
        "error needs a message: {body}"
    );
    assert_eq!(object.len(), 3, "error bodies have exactly statusCode, message and name: {body}");
}
