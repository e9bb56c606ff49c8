//! Writing `<Op>Response/ResponseMessages/<Op>ResponseMessage` in schema order.

use ews_proto::{Ns, Writer};

use crate::journal::Outcome;
use crate::ops::Reply;
use crate::soap::open_response;
use crate::world::ServerVersion;

/// An EWS error for one response message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MsgError {
    pub(crate) code: String,
    pub(crate) text: String,
    /// `m:MessageXml/t:Value Name=...` pairs.
    pub(crate) values: Vec<(String, String)>,
}

impl MsgError {
    pub(crate) fn new(code: impl Into<String>, text: impl Into<String>) -> Self {
        MsgError {
            code: code.into(),
            text: text.into(),
            values: Vec::new(),
        }
    }

    pub(crate) fn with_value(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.values.push((k.into(), v.into()));
        self
    }
}

impl From<crate::error::StoreError> for MsgError {
    fn from(e: crate::error::StoreError) -> Self {
        match e {
            crate::error::StoreError::Rejected { code, message } => MsgError::new(code, message),
            crate::error::StoreError::ChangeKeyMismatch { .. } => MsgError::new(
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
            ),
            crate::error::StoreError::ItemNotFound(_) => MsgError::new(
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            ),
            other => MsgError::new(other.response_code(), other.to_string()),
        }
    }
}

impl From<MsgError> for crate::error::StoreError {
    fn from(e: MsgError) -> Self {
        crate::error::StoreError::Rejected {
            code: e.code,
            message: e.text,
        }
    }
}

/// Builds a response with one message per input object.
pub(crate) struct Messages {
    w: Writer,
    op: String,
    first_error: Option<String>,
}

impl Messages {
    /// Opens `m:<op>Response` and `m:ResponseMessages`.
    pub(crate) fn new(server: ServerVersion, op: &str) -> Self {
        let mut w = open_response(server);
        w.start(&Ns::Messages, &format!("{op}Response"), &[]);
        w.start(&Ns::Messages, "ResponseMessages", &[]);
        Messages {
            w,
            op: op.to_owned(),
            first_error: None,
        }
    }

    fn element(&self) -> String {
        format!("{}ResponseMessage", self.op)
    }

    /// A `Success` message followed by `payload`.
    pub(crate) fn success(&mut self, payload: impl FnOnce(&mut Writer)) {
        let name = self.element();
        self.w
            .start(&Ns::Messages, &name, &[("ResponseClass", "Success")]);
        self.w.leaf(&Ns::Messages, "ResponseCode", "NoError");
        payload(&mut self.w);
        self.w.end();
    }

    /// An `Error` message (MessageText, ResponseCode, DescriptiveLinkKey, MessageXml) followed
    /// by `payload` (the empty containers Exchange still writes).
    pub(crate) fn error(&mut self, err: &MsgError, payload: impl FnOnce(&mut Writer)) {
        self.with_class("Error", err, payload);
        if self.first_error.is_none() {
            self.first_error = Some(err.code.clone());
        }
    }

    fn with_class(&mut self, class: &str, err: &MsgError, payload: impl FnOnce(&mut Writer)) {
        let name = self.element();
        let w = &mut self.w;
        w.start(&Ns::Messages, &name, &[("ResponseClass", class)]);
        w.leaf(&Ns::Messages, "MessageText", &err.text);
        w.leaf(&Ns::Messages, "ResponseCode", &err.code);
        w.leaf(&Ns::Messages, "DescriptiveLinkKey", "0");
        if !err.values.is_empty() {
            w.start(&Ns::Messages, "MessageXml", &[]);
            for (k, v) in &err.values {
                w.leaf_with_attrs(&Ns::Types, "Value", &[("Name", k)], v);
            }
            w.end();
        }
        payload(w);
        w.end();
    }

    pub(crate) fn finish(self) -> Reply {
        let outcome = match self.first_error {
            None => Outcome::Success,
            Some(code) => Outcome::Error { code },
        };
        Reply::Body {
            bytes: self.w.into_bytes(),
            outcome,
        }
    }
}
