//! The audience tables: contacts, contact properties, segments with their members,
//! topics with contacts' choices. A contact's writes and its `contact.*` event go in
//! one transaction.

mod contacts;
mod imports;
mod properties;
mod segments;
mod topics;
