//! The store's own error, so that no sqlx type reaches the domain.

use postline_core::Error;

/// A failure of the database or of data in it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the operation.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored value could not be read back (a bug or a hand-edited database).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The group-commit writer is gone (the store is shutting down).
    #[error("the store is shutting down")]
    Closed,
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Corrupt(what) => Error::Internal(what),
            other => Error::Unavailable(other.to_string()),
        }
    }
}

/// Shorthand for mapping a sqlx error into the domain's error.
pub(crate) fn db(error: sqlx::Error) -> Error {
    StoreError::Database(error).into()
}
