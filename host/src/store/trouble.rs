//! Which database failures are the storage's condition rather than a bug: the disk is
//! full, the server cannot be reached, the file cannot be written. They pass by
//! themselves (or by an admin's hand), so a request that meets one is told to come back
//! (503 with `Retry-After`), not that the service broke (500), and `/healthz` names them.

use std::fmt;

/// A condition of the storage that refuses work for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trouble {
    /// SQLite's `SQLITE_FULL` (the disk, or the configured size), PostgreSQL's
    /// `disk_full` and other insufficient resources.
    DiskFull,
    /// No connection within the bound, a connection lost, the server shutting down.
    Unreachable,
    /// The file or the server refuses writes (a read-only mount, a standby).
    ReadOnly,
    /// The operating system failed a read or a write.
    Io,
    /// Another process holds the database's lock.
    Busy,
}

impl Trouble {
    /// The name `/healthz` and `/metrics` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Trouble::DiskFull => "disk-full",
            Trouble::Unreachable => "unreachable",
            Trouble::ReadOnly => "read-only",
            Trouble::Io => "io-error",
            Trouble::Busy => "busy",
        }
    }

    /// What it is, in the words of a person reading `/healthz` or an agent's log.
    pub fn describe(self) -> &'static str {
        match self {
            Trouble::DiskFull => "disk full",
            Trouble::Unreachable => "database unreachable",
            Trouble::ReadOnly => "database read-only",
            Trouble::Io => "disk I/O error",
            Trouble::Busy => "database locked by another process",
        }
    }

    /// The storage condition behind `error`, if any error in its chain of sources is a
    /// database failure of that kind.
    pub fn of(error: &(dyn std::error::Error + 'static)) -> Option<Trouble> {
        let mut next = Some(error);
        while let Some(error) = next {
            if let Some(sqlx) = error.downcast_ref::<sqlx::Error>() {
                return Trouble::of_sqlx(sqlx);
            }
            next = error.source();
        }
        None
    }

    fn of_sqlx(error: &sqlx::Error) -> Option<Trouble> {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Some(Trouble::Unreachable)
            }
            sqlx::Error::Tls(_) => Some(Trouble::Unreachable),
            sqlx::Error::Database(db) => {
                let code = db.code()?;
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    Trouble::of_sqlite(code.parse().ok()?)
                } else {
                    Trouble::of_sqlstate(&code)
                }
            }
            _ => None,
        }
    }

    /// SQLite's result codes: the primary code is the low byte of an extended one.
    fn of_sqlite(code: i64) -> Option<Trouble> {
        match code & 0xff {
            13 => Some(Trouble::DiskFull),
            10 | 14 | 26 => Some(Trouble::Io),
            8 => Some(Trouble::ReadOnly),
            5 | 6 => Some(Trouble::Busy),
            _ => None,
        }
    }

    /// PostgreSQL's SQLSTATEs, classed by their first two characters.
    fn of_sqlstate(code: &str) -> Option<Trouble> {
        match code {
            "25006" => Some(Trouble::ReadOnly),
            "57P01" | "57P02" | "57P03" => Some(Trouble::Unreachable),
            _ if code.starts_with("53") => Some(Trouble::DiskFull),
            _ if code.starts_with("08") => Some(Trouble::Unreachable),
            _ if code.starts_with("58") => Some(Trouble::Io),
            _ => None,
        }
    }
}

impl fmt::Display for Trouble {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_conditions_are_told_from_bugs() {
        assert_eq!(Trouble::of_sqlite(13), Some(Trouble::DiskFull));
        assert_eq!(
            Trouble::of_sqlite(266),
            Some(Trouble::Io),
            "SQLITE_IOERR_READ"
        );
        assert_eq!(
            Trouble::of_sqlite(1032),
            Some(Trouble::ReadOnly),
            "SQLITE_READONLY_DBMOVED"
        );
        assert_eq!(
            Trouble::of_sqlite(2067),
            None,
            "a unique violation is not the storage's"
        );
        assert_eq!(Trouble::of_sqlstate("53100"), Some(Trouble::DiskFull));
        assert_eq!(Trouble::of_sqlstate("08006"), Some(Trouble::Unreachable));
        assert_eq!(Trouble::of_sqlstate("57P01"), Some(Trouble::Unreachable));
        assert_eq!(Trouble::of_sqlstate("23505"), None);
        assert_eq!(
            Trouble::of_sqlx(&sqlx::Error::PoolTimedOut),
            Some(Trouble::Unreachable)
        );
        assert_eq!(Trouble::of_sqlx(&sqlx::Error::RowNotFound), None);
    }

    #[test]
    fn found_anywhere_in_the_chain_of_sources() {
        #[derive(Debug, thiserror::Error)]
        #[error("the alerts service failed: {0}")]
        struct Outer(#[source] super::super::StoreError);
        let wrapped = Outer(super::super::StoreError::Db(sqlx::Error::PoolTimedOut));
        assert_eq!(Trouble::of(&wrapped), Some(Trouble::Unreachable));
        let bug = Outer(super::super::StoreError::Corrupt("x".into()));
        assert_eq!(Trouble::of(&bug), None);
    }
}
