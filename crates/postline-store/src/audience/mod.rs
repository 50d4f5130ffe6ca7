//! The audience tables: contacts, contact properties, segments with their members,
//! topics with contacts' choices. A contact's writes and its `contact.*` event go in
//! one transaction.

mod contacts;
mod imports;
mod properties;
mod segments;
mod topics;

use postline_core::Result;
use sqlx::any::AnyRow;

use crate::rows;

/// A 0/1 integer column as a boolean.
pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool> {
    Ok(rows::get::<i32>(row, column)? != 0)
}
