//! SOAP Autodiscover `GetUserSettingsResponseMessage` (EWS.md §8), read so the decode CLI
//! and the engine can show what a server advertised. Kept small: codes and name/value
//! settings.

use serde::{Deserialize, Serialize};

use crate::xml::{Element, Ns, ParseError, Writer};

/// The SOAP Autodiscover namespace.
pub const AUTODISCOVER_NS: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";

/// One `UserSetting` (`Name`, `Value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSetting {
    /// `Name`, e.g. `CasVersion`.
    pub name: String,
    /// `Value` (absent for non-string settings).
    pub value: Option<String>,
    /// `i:type`, e.g. `StringSetting`.
    pub setting_type: Option<String>,
}

/// One `UserResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserResponse {
    /// `ErrorCode`
    pub error_code: String,
    /// `ErrorMessage`
    pub error_message: String,
    /// `UserSettings/UserSetting`
    pub settings: Vec<UserSetting>,
}

/// `GetUserSettingsResponseMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetUserSettingsResponse {
    /// `Response/ErrorCode`
    pub error_code: String,
    /// `Response/ErrorMessage`
    pub error_message: String,
    /// `Response/UserResponses/UserResponse`
    pub user_responses: Vec<UserResponse>,
}

fn ns() -> Ns {
    Ns::Other(AUTODISCOVER_NS.to_owned())
}

fn text(e: &Element, name: &str) -> String {
    e.text_of(&ns(), name).unwrap_or_default().to_owned()
}

impl GetUserSettingsResponse {
    /// Reads `GetUserSettingsResponseMessage`.
    pub fn from_xml(e: &Element) -> Result<GetUserSettingsResponse, ParseError> {
        let a = ns();
        let resp = e.required_child(&a, "Response")?;
        let mut user_responses = Vec::new();
        if let Some(list) = resp.child(&a, "UserResponses") {
            for u in list.children_named(&a, "UserResponse") {
                let settings = match u.child(&a, "UserSettings") {
                    Some(s) => s
                        .children_named(&a, "UserSetting")
                        .map(|s| {
                            Ok(UserSetting {
                                name: s.required_text(&a, "Name")?.to_owned(),
                                value: s.child(&a, "Value").map(|v| v.text.clone()),
                                setting_type: s.attr("i:type").map(str::to_owned),
                            })
                        })
                        .collect::<Result<Vec<_>, ParseError>>()?,
                    None => Vec::new(),
                };
                user_responses.push(UserResponse {
                    error_code: text(u, "ErrorCode"),
                    error_message: text(u, "ErrorMessage"),
                    settings,
                });
            }
        }
        Ok(GetUserSettingsResponse {
            error_code: text(resp, "ErrorCode"),
            error_message: text(resp, "ErrorMessage"),
            user_responses,
        })
    }

    /// Writes `GetUserSettingsResponseMessage` (Autodiscover default-namespace shape).
    pub fn write(&self, w: &mut Writer) {
        let a = ns();
        w.start(&a, "GetUserSettingsResponseMessage", &[]);
        w.start(
            &a,
            "Response",
            &[("xmlns:i", "http://www.w3.org/2001/XMLSchema-instance")],
        );
        w.leaf(&a, "ErrorCode", &self.error_code);
        w.leaf(&a, "ErrorMessage", &self.error_message);
        w.start(&a, "UserResponses", &[]);
        for u in &self.user_responses {
            w.start(&a, "UserResponse", &[]);
            w.leaf(&a, "ErrorCode", &u.error_code);
            w.leaf(&a, "ErrorMessage", &u.error_message);
            w.start(&a, "UserSettings", &[]);
            for s in &u.settings {
                let mut attrs = Vec::new();
                if let Some(t) = &s.setting_type {
                    attrs.push(("i:type", t.as_str()));
                }
                w.start(&a, "UserSetting", &attrs);
                w.leaf(&a, "Name", &s.name);
                if let Some(v) = &s.value {
                    w.leaf(&a, "Value", v);
                }
                w.end();
            }
            w.end();
            w.end();
        }
        w.end();
        w.end();
        w.end();
    }
}
