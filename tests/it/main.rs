//! Workspace-level end-to-end and property tests of ews-kit.
