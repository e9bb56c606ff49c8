//! The standard response skeleton (EWS.md §1.4): `m:{Op}Response / m:ResponseMessages /
//! m:{Op}ResponseMessage*`, each a [`ResponseStatus`] followed by an operation payload.

use serde::{Deserialize, Serialize};

use crate::error::ResponseStatus;
use crate::xml::{Element, Ns, ParseError, Writer};

/// The payload after the status children of one `{Op}ResponseMessage`.
pub trait Payload: Sized {
    /// The operation name, e.g. `FindItem` (gives `FindItemResponse` and
    /// `FindItemResponseMessage`).
    const OPERATION: &'static str;

    /// Reads the payload from the message element. Error messages usually carry empty or
    /// no payload containers, so implementations treat every part as optional.
    fn from_message(msg: &Element) -> Result<Self, ParseError>;

    /// Writes the payload children (after the status).
    fn write(&self, w: &mut Writer);
}

/// One `{Op}ResponseMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseMessage<T> {
    /// Class, code, text and `MessageXml`.
    pub status: ResponseStatus,
    /// The operation's payload.
    pub payload: T,
}

impl<T> ResponseMessage<T> {
    /// A success message with `NoError`.
    pub fn success(payload: T) -> ResponseMessage<T> {
        ResponseMessage {
            status: ResponseStatus::success(),
            payload,
        }
    }
}

/// Writes an `{Op}Response` message by message, for a server that writes each payload as it
/// computes it (a calendar view's items straight from its store) instead of building the
/// whole [`Responses`] first. The `m:` and `t:` prefixes are in scope inside messages.
pub struct ResponsesWriter<'w> {
    w: &'w mut Writer,
    tag: String,
}

impl<'w> ResponsesWriter<'w> {
    /// Opens `m:{operation}Response` and `m:ResponseMessages`.
    pub fn open(w: &'w mut Writer, operation: &str) -> ResponsesWriter<'w> {
        Self::open_named(w, &format!("{operation}Response"), operation)
    }

    fn open_named(w: &'w mut Writer, element_name: &str, operation: &str) -> ResponsesWriter<'w> {
        let m = Ns::Messages;
        w.start_declaring(&m, element_name, &[], &[Ns::Types]);
        w.start(&m, "ResponseMessages", &[]);
        ResponsesWriter {
            w,
            tag: format!("{operation}ResponseMessage"),
        }
    }

    /// Writes one `{Op}ResponseMessage`: the status, then what `payload` writes.
    pub fn message(&mut self, status: &ResponseStatus, payload: impl FnOnce(&mut Writer)) {
        status.start(self.w, &self.tag);
        payload(self.w);
        self.w.end();
    }

    /// Closes `m:ResponseMessages` and the response element.
    pub fn close(self) {
        self.w.end();
        self.w.end();
    }
}

/// A whole `{Op}Response`: one message per input object, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Responses<T> {
    /// The messages.
    pub messages: Vec<ResponseMessage<T>>,
}

impl<T: Payload> Responses<T> {
    /// A response with one message.
    pub fn single(message: ResponseMessage<T>) -> Responses<T> {
        Responses {
            messages: vec![message],
        }
    }

    /// The response element name, e.g. `FindItemResponse`.
    pub fn element_name() -> String {
        format!("{}Response", T::OPERATION)
    }

    /// Reads `m:{Op}Response`.
    pub fn from_xml(e: &Element) -> Result<Responses<T>, ParseError> {
        Self::from_xml_named(e, &Self::element_name())
    }

    /// Reads the skeleton under another element name (`m:SendNotification` carries a
    /// response body).
    pub fn from_xml_named(e: &Element, expected: &str) -> Result<Responses<T>, ParseError> {
        if !e.is(&Ns::Messages, expected) {
            return Err(e.unexpected(format!("m:{expected}")));
        }
        let list = e.required_child(&Ns::Messages, "ResponseMessages")?;
        let mut messages = Vec::new();
        for msg in &list.children {
            if msg.ns != Ns::Messages || !msg.name.ends_with("ResponseMessage") {
                return Err(msg.unexpected(format!("m:{}ResponseMessage", T::OPERATION)));
            }
            messages.push(ResponseMessage {
                status: ResponseStatus::from_xml(msg)?,
                payload: T::from_message(msg)?,
            });
        }
        Ok(Responses { messages })
    }

    /// Writes `m:{Op}Response`.
    pub fn write(&self, w: &mut Writer) {
        self.write_named(w, &Self::element_name());
    }

    /// Writes the skeleton under another element name.
    pub fn write_named(&self, w: &mut Writer, element_name: &str) {
        self.write_named_with(w, element_name, |_, payload, w| payload.write(w));
    }

    fn write_named_with(
        &self,
        w: &mut Writer,
        element_name: &str,
        mut write_payload: impl FnMut(usize, &T, &mut Writer),
    ) {
        let mut out = ResponsesWriter::open_named(w, element_name, T::OPERATION);
        for (i, msg) in self.messages.iter().enumerate() {
            out.message(&msg.status, |w| write_payload(i, &msg.payload, w));
        }
        out.close();
    }
}
