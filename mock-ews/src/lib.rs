//! mock-ews: a fake Exchange Web Services server for calendar workflows.
