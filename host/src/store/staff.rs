//! Staff accounts and their sessions (kept as digests of the cookie's value).

use sqlx::Row;

use super::{Store, StoreError, duplicate, parse};
use crate::staff::throttle::{self, Failures};
use crate::staff::{Link, NewStaff, Staff};

/// "Another administrator remains", inside a statement about the account `$1`.
const OTHER_ADMINS: &str = "(SELECT COUNT(*) FROM staff WHERE role = 'admin' AND name <> $1) > 0";

/// What a change to an account came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    Done,
    NoSuch,
    /// Refused: it would leave no administrator.
    LastAdmin,
}

/// A live session and whose it is.
#[derive(Debug, Clone)]
pub struct Session {
    pub staff: Staff,
    pub csrf: String,
    pub expires_at: i64,
}

impl Store {
    pub async fn staff_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM staff")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Adds an account; `only_if_none`: only while there is no account at all (the first
    /// start's setup), atomically.
    pub async fn create_staff(
        &self,
        new: &NewStaff,
        now: i64,
        only_if_none: bool,
    ) -> Result<bool, StoreError> {
        let guard = if only_if_none {
            " WHERE NOT EXISTS (SELECT 1 FROM staff)"
        } else {
            ""
        };
        let result = sqlx::query(&format!(
            "INSERT INTO staff (name, password_hash, role, manager, lang, telegram_user_id, \
             created_at) SELECT $1, $2, $3, $4, $5, $6, $7{guard}"
        ))
        .bind(&new.staff.name)
        .bind(&new.password_hash)
        .bind(new.staff.role.as_str())
        .bind(new.staff.manager.as_deref())
        .bind(new.staff.lang.code())
        .bind(new.staff.telegram_user_id)
        .bind(now)
        .execute(&self.writer)
        .await
        .map_err(|e| duplicate(e, &new.staff.name))?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn staff(&self) -> Result<Vec<Staff>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, role, manager, lang, telegram_user_id, time_zone FROM staff ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(staff).collect()
    }

    /// An account and its password hash, for logging in.
    pub async fn staff_login(&self, name: &str) -> Result<Option<(Staff, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT name, role, manager, lang, telegram_user_id, time_zone, password_hash FROM staff \
             WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((staff(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    /// Removes an account unless it is the last administrator (checked in the same
    /// statement, so two admins removing each other cannot both succeed).
    pub async fn delete_staff(&self, name: &str) -> Result<Changed, StoreError> {
        let result = sqlx::query(&format!(
            "DELETE FROM staff WHERE name = $1 AND (role <> 'admin' OR {OTHER_ADMINS})"
        ))
        .bind(name)
        .execute(&self.writer)
        .await?;
        self.changed(name, result.rows_affected()).await
    }

    /// Changes an account's role, manager name, language and Telegram id; an update that
    /// would leave no administrator is refused in the same statement.
    pub async fn update_staff(&self, staff: &Staff) -> Result<Changed, StoreError> {
        let result = sqlx::query(&format!(
            "UPDATE staff SET role = $2, manager = $3, lang = $4, telegram_user_id = $5 \
             WHERE name = $1 AND ($2 = 'admin' OR role <> 'admin' OR {OTHER_ADMINS})"
        ))
        .bind(&staff.name)
        .bind(staff.role.as_str())
        .bind(staff.manager.as_deref())
        .bind(staff.lang.code())
        .bind(staff.telegram_user_id)
        .execute(&self.writer)
        .await?;
        self.changed(&staff.name, result.rows_affected()).await
    }

    async fn changed(&self, name: &str, rows: u64) -> Result<Changed, StoreError> {
        if rows == 1 {
            return Ok(Changed::Done);
        }
        Ok(match self.staff_login(name).await? {
            Some(_) => Changed::LastAdmin,
            None => Changed::NoSuch,
        })
    }

    /// Ties an account to a Telegram user (the account's owner sent its link code).
    pub async fn set_staff_telegram(&self, name: &str, user_id: i64) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE staff SET telegram_user_id = $1 WHERE name = $2")
            .bind(user_id)
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn set_password(&self, name: &str, password_hash: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE staff SET password_hash = $1 WHERE name = $2")
            .bind(password_hash)
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn set_staff_lang(
        &self,
        name: &str,
        lang: crate::i18n::Lang,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff SET lang = $1 WHERE name = $2")
            .bind(lang.code())
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The zone `name` reads times in; `None`: the service's.
    pub async fn set_staff_zone(&self, name: &str, zone: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff SET time_zone = $1 WHERE name = $2")
            .bind(zone)
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        staff: &str,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        // Expired sessions go whenever someone logs in: no sweeper needed.
        sqlx::query("DELETE FROM staff_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, staff, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(staff)
        .bind(csrf)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The session whose cookie digests to `token_hash`, if it has not expired.
    pub async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT s.name, s.role, s.manager, s.lang, s.telegram_user_id, s.time_zone, x.csrf, x.expires_at \
             FROM staff_sessions x JOIN staff s ON s.name = x.staff \
             WHERE x.token_hash = $1 AND x.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Session {
                staff: staff(&row)?,
                csrf: row.try_get("csrf")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// The account whose Telegram user id is `user_id`.
    pub async fn staff_by_telegram(&self, user_id: i64) -> Result<Option<Staff>, StoreError> {
        let row = sqlx::query(
            "SELECT name, role, manager, lang, telegram_user_id, time_zone FROM staff \
             WHERE telegram_user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(staff).transpose()
    }

    /// A one-time link for `staff`; `sets_password`: it leads to a new password (a reset),
    /// not only into the board.
    pub async fn create_login_link(
        &self,
        link: Link,
        token_hash: &str,
        staff: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM login_links WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO login_links (token_hash, staff, expires_at, sets_password) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(staff)
        .bind(expires_at)
        .bind(link.sets_password())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether a link of this kind would work now, without spending it.
    pub async fn login_link_open(
        &self,
        link: Link,
        token_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM login_links WHERE token_hash = $1 AND expires_at > $2 \
             AND sets_password = $3",
        )
        .bind(token_hash)
        .bind(now)
        .bind(link.sets_password())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Spends a login link: whose it was, if it exists and has not expired. A link works
    /// once, whatever the answer.
    pub async fn take_login_link(
        &self,
        link: Link,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Staff>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM login_links WHERE token_hash = $1 AND sets_password = $2 \
             RETURNING staff, expires_at",
        )
        .bind(token_hash)
        .bind(link.sets_password())
        .fetch_optional(&self.writer)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at <= now {
            return Ok(None);
        }
        let name: String = row.try_get("staff")?;
        Ok(self.staff_login(&name).await?.map(|(staff, _)| staff))
    }

    /// The failed logins that count against `account` tried from `address` at `now`.
    pub async fn login_failures(
        &self,
        account: &str,
        address: &str,
        now: i64,
    ) -> Result<Failures, StoreError> {
        let since = now - throttle::FORGET_AFTER_MS;
        let here = sqlx::query(
            "SELECT failures, last_at FROM login_failures \
             WHERE account = $1 AND address = $2 AND last_at > $3",
        )
        .bind(account)
        .bind(address)
        .bind(since)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| Ok::<_, StoreError>((row.try_get("failures")?, row.try_get("last_at")?)))
        .transpose()?;
        let strangers = sqlx::query(
            "SELECT CAST(SUM(f.failures) AS BIGINT) AS failures, MAX(f.last_at) AS last_at \
             FROM login_failures f WHERE f.account = $1 AND f.last_at > $2 \
             AND NOT EXISTS (SELECT 1 FROM login_addresses k WHERE k.account = f.account \
                             AND k.address = f.address AND k.last_ok_at > $3)",
        )
        .bind(account)
        .bind(since)
        .bind(now - throttle::KNOWN_FOR_MS)
        .fetch_one(&self.pool)
        .await?;
        let count: Option<i64> = strangers.try_get("failures")?;
        let last: Option<i64> = strangers.try_get("last_at")?;
        let known = sqlx::query(
            "SELECT 1 AS known FROM login_addresses \
             WHERE account = $1 AND address = $2 AND last_ok_at > $3",
        )
        .bind(account)
        .bind(address)
        .bind(now - throttle::KNOWN_FOR_MS)
        .fetch_optional(&self.pool)
        .await?
        .is_some();
        Ok(Failures {
            here,
            strangers: count.zip(last),
            known,
        })
    }

    /// Counts a failed login to `account` from `address` at `now`; failures older than
    /// the throttle forgets start again.
    pub async fn login_failed(
        &self,
        account: &str,
        address: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_failures (account, address, failures, last_at) \
             VALUES ($1, $2, 1, $3) ON CONFLICT (account, address) DO UPDATE SET \
             failures = CASE WHEN $3 - login_failures.last_at >= $4 THEN 1 \
                             ELSE login_failures.failures + 1 END, \
             last_at = $3",
        )
        .bind(account)
        .bind(address)
        .bind(now)
        .bind(throttle::FORGET_AFTER_MS)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// `account` logged in from `address`: that address's failures are forgotten, and it
    /// is the owner's from now on.
    pub async fn login_succeeded(
        &self,
        account: &str,
        address: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM login_failures WHERE account = $1 AND address = $2")
            .bind(account)
            .bind(address)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO login_addresses (account, address, last_ok_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account, address) DO UPDATE SET last_ok_at = excluded.last_ok_at",
        )
        .bind(account)
        .bind(address)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

fn staff(row: &sqlx::any::AnyRow) -> Result<Staff, StoreError> {
    Ok(Staff {
        name: row.try_get("name")?,
        role: parse(row, "role")?,
        manager: row.try_get("manager")?,
        lang: parse(row, "lang")?,
        telegram_user_id: row.try_get("telegram_user_id")?,
        zone: row.try_get("time_zone")?,
    })
}
