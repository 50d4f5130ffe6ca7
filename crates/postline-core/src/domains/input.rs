//! Validating `POST /domains` and `PATCH /domains/{id}` bodies with the reference
//! docs' rules: a domain the team owns (no public mailbox providers), a custom
//! return path of at most 63 letters, digits and hyphens that starts with a letter
//! and ends with a letter or digit, a region this installation offers.

use serde_json::{Map, Value};

use super::Tls;
use crate::{Error, Invalid, Result, emails::address::valid_domain};

/// Mailbox providers' domains: nobody can prove they own these.
const PUBLIC_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "ymail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "yandex.ru",
    "yandex.com",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
    "mail.ru",
    "fastmail.com",
    "hey.com",
    "tutanota.com",
];

/// Domains that exist for documentation or testing only.
const RESERVED_DOMAINS: &[&str] = &["example.com", "example.net", "example.org", "test.com", "resend.dev", "localhost"];

/// A validated `POST /domains`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateDomain {
    pub name: String,
    pub region: String,
    pub return_path: String,
    pub open_tracking: bool,
    pub click_tracking: bool,
    pub tls: Tls,
    pub sending: bool,
    pub receiving: bool,
    pub tracking_subdomain: Option<String>,
}

/// A validated `PATCH /domains/{id}`: only what was given changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateDomain {
    pub open_tracking: Option<bool>,
    pub click_tracking: Option<bool>,
    pub tls: Option<Tls>,
    pub sending: Option<bool>,
    pub receiving: Option<bool>,
    pub tracking_subdomain: Option<Option<String>>,
}

fn object(body: &Value) -> Result<&Map<String, Value>> {
    body.as_object().ok_or_else(|| Error::value("The request body must be a JSON object."))
}

fn field<'a>(fields: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| fields.get(*n).filter(|v| !v.is_null()))
}

fn boolean(fields: &Map<String, Value>, names: &[&str]) -> Result<Option<bool>> {
    match field(fields, names) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(Error::value(format!("The `{}` field must be a boolean.", names[0]))),
    }
}

fn string<'a>(fields: &'a Map<String, Value>, names: &[&str]) -> Result<Option<&'a str>> {
    match field(fields, names) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(Error::value(format!("The `{}` field must be a string.", names[0]))),
    }
}

fn tls(fields: &Map<String, Value>) -> Result<Option<Tls>> {
    string(fields, &["tls"])?
        .map(|raw| {
            Tls::parse(raw).ok_or_else(|| Error::value("The `tls` field must be `opportunistic` or `enforced`."))
        })
        .transpose()
}

/// `(sending, receiving)` from `capabilities`, each `enabled` or `disabled`.
fn capabilities(fields: &Map<String, Value>) -> Result<(Option<bool>, Option<bool>)> {
    let Some(value) = field(fields, &["capabilities"]) else { return Ok((None, None)) };
    let Value::Object(caps) = value else {
        return Err(Error::value("The `capabilities` field must be an object with `sending` and `receiving`."));
    };
    let read = |name: &str| -> Result<Option<bool>> {
        match caps.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s == "enabled" => Ok(Some(true)),
            Some(Value::String(s)) if s == "disabled" => Ok(Some(false)),
            Some(_) => Err(Error::value(format!("`capabilities.{name}` must be `enabled` or `disabled`."))),
        }
    };
    Ok((read("sending")?, read("receiving")?))
}

fn tracking_subdomain(raw: &str) -> Result<String> {
    let label = raw.trim().to_ascii_lowercase();
    let ok = !label.is_empty()
        && label.len() <= 63
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    if ok {
        Ok(label)
    } else {
        Err(Error::value("The `tracking_subdomain` field must be one DNS label such as `links`."))
    }
}

/// Validates a custom return path label.
pub fn return_path(raw: &str) -> Result<String> {
    let label = raw.trim().to_ascii_lowercase();
    let valid = !label.is_empty()
        && label.len() <= 63
        && label.starts_with(|c: char| c.is_ascii_alphabetic())
        && label.ends_with(|c: char| c.is_ascii_alphanumeric())
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(label)
    } else {
        Err(Error::value(
            "The `custom_return_path` must be 63 characters or less, start with a letter, end with a letter or number, \
             and contain only letters, numbers, and hyphens.",
        ))
    }
}

/// Validates a domain name a team wants to send from.
pub fn domain_name(raw: &str) -> Result<String> {
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return Err(Error::missing("name"));
    }
    if !valid_domain(&name) || !name.is_ascii() {
        return Err(Error::value(format!("`{name}` is not a valid domain name.")));
    }
    if PUBLIC_MAIL_DOMAINS.contains(&name.as_str())
        || RESERVED_DOMAINS.iter().any(|r| name == *r || name.ends_with(&format!(".{r}")))
    {
        return Err(Error::invalid(
            Invalid::Unprocessable,
            format!(
                "You must own the domain you send from; `{name}` is a public or reserved domain. Use a domain you control."
            ),
        ));
    }
    Ok(name)
}

impl CreateDomain {
    /// Validates a body against the installation's regions (the first is the default).
    pub fn parse(body: &Value, regions: &[String]) -> Result<Self> {
        let fields = object(body)?;
        let name = match string(fields, &["name"])? {
            None => return Err(Error::missing("name")),
            Some(raw) => domain_name(raw)?,
        };
        let region = match string(fields, &["region"])? {
            None => regions.first().cloned().unwrap_or_else(|| "us-east-1".into()),
            Some(raw) if regions.iter().any(|r| r == raw) => raw.to_string(),
            Some(raw) => {
                return Err(Error::invalid(
                    Invalid::Region,
                    format!("`{raw}` is not a region this installation offers; choose one of: {}.", regions.join(", ")),
                ));
            }
        };
        let return_path = match string(fields, &["custom_return_path", "customReturnPath"])? {
            None => "send".to_string(),
            Some(raw) => return_path(raw)?,
        };
        let (sending, receiving) = capabilities(fields)?;
        let (sending, receiving) = (sending.unwrap_or(true), receiving.unwrap_or(false));
        if !sending && !receiving {
            return Err(Error::value("At least one capability (`sending` or `receiving`) must be enabled."));
        }
        Ok(CreateDomain {
            name,
            region,
            return_path,
            open_tracking: boolean(fields, &["open_tracking", "openTracking"])?.unwrap_or(false),
            click_tracking: boolean(fields, &["click_tracking", "clickTracking"])?.unwrap_or(false),
            tls: tls(fields)?.unwrap_or_default(),
            sending,
            receiving,
            tracking_subdomain: string(fields, &["tracking_subdomain", "trackingSubdomain"])?
                .map(tracking_subdomain)
                .transpose()?,
        })
    }
}

impl UpdateDomain {
    /// Validates a body.
    pub fn parse(body: &Value) -> Result<Self> {
        let fields = object(body)?;
        let (sending, receiving) = capabilities(fields)?;
        Ok(UpdateDomain {
            open_tracking: boolean(fields, &["open_tracking", "openTracking"])?,
            click_tracking: boolean(fields, &["click_tracking", "clickTracking"])?,
            tls: tls(fields)?,
            sending,
            receiving,
            tracking_subdomain: match field(fields, &["tracking_subdomain", "trackingSubdomain"]) {
                None => None,
                Some(Value::String(s)) if s.is_empty() => Some(None),
                Some(Value::String(s)) => Some(Some(tracking_subdomain(s)?)),
                Some(_) => return Err(Error::value("The `tracking_subdomain` field must be a string.")),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn regions() -> Vec<String> {
        vec!["us-east-1".into(), "eu-west-1".into()]
    }

    #[test]
    fn return_paths_follow_the_reference_rules() {
        assert_eq!(return_path("Outbound").unwrap(), "outbound");
        assert!(return_path(&"a".repeat(63)).is_ok());
        for bad in ["", "1abc", "abc-", "a_b", "a.b", &"a".repeat(64)] {
            assert!(return_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn public_and_reserved_domains_are_refused() {
        for bad in ["gmail.com", "Outlook.com", "example.com", "mail.example.org", "resend.dev", "not a domain", "a..b"]
        {
            assert!(domain_name(bad).is_err(), "{bad}");
        }
        assert_eq!(domain_name("Updates.Acme.dev.").unwrap(), "updates.acme.dev");
    }

    #[test]
    fn regions_and_capabilities_are_checked() {
        let ok = CreateDomain::parse(&json!({"name": "acme.dev"}), &regions()).unwrap();
        assert_eq!(
            (ok.region.as_str(), ok.return_path.as_str(), ok.sending, ok.receiving),
            ("us-east-1", "send", true, false)
        );
        let err = CreateDomain::parse(&json!({"name": "acme.dev", "region": "mars-1"}), &regions()).unwrap_err();
        assert!(matches!(err, Error::Invalid { kind: Invalid::Region, .. }));
        let none = json!({"name": "acme.dev", "capabilities": {"sending": "disabled"}});
        assert!(CreateDomain::parse(&none, &regions()).is_err());
        let camel = json!({"name": "acme.dev", "customReturnPath": "bounce", "tls": "enforced"});
        let parsed = CreateDomain::parse(&camel, &regions()).unwrap();
        assert_eq!((parsed.return_path.as_str(), parsed.tls), ("bounce", Tls::Enforced));
    }
}
