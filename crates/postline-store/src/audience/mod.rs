//! The audience tables: contacts, contact properties, segments with their members,
//! topics with contacts' choices. A contact's writes and its `contact.*` event go in
//! one transaction.

mod contacts;

pub(crate) use contacts::{COLUMNS as CONTACT_COLUMNS, contact_from};
mod imports;
mod properties;
mod segments;
mod topics;
