//! The people who log in to the board: their roles, what each may see and do, their
//! passwords (argon2id, never stored or logged in clear) and how long a login attempt
//! must wait (`throttle.rs`). Sessions are the web's (`web/session.rs`); the store keeps
//! accounts, sessions and failed attempts.

pub mod throttle;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::Serialize;

use crate::i18n::Lang;
use crate::names::named;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, the admin pages included.
    Admin,
    /// Their own clients only (installations whose manager they are); may acknowledge.
    Manager,
    /// Everything, read-only.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Viewer];
}

named!(Role, "staff role", {
    Admin => "admin",
    Manager => "manager",
    Viewer => "viewer",
});

/// What a one-time link from the bot or an administrator does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Logs its owner in (`/login` in Telegram).
    Login,
    /// Lets its owner set a new password, then logs them in (an administrator's reset).
    Password,
    /// Ties its owner's account to the Telegram user who sends it to the bot (`/link`),
    /// so nobody types a Telegram id.
    Telegram,
}

impl Link {
    /// As the `login_links` table keeps it.
    pub fn sets_password(self) -> i32 {
        match self {
            Link::Login => 0,
            Link::Password => 1,
            Link::Telegram => 2,
        }
    }
}

/// A staff account, as a request sees it once logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Staff {
    pub name: String,
    pub role: Role,
    /// A manager's name as installations carry it in `manager`.
    pub manager: Option<String>,
    pub lang: Lang,
    /// Their Telegram user id, for login links from the bot.
    pub telegram_user_id: Option<i64>,
    /// The IANA zone they read times in on pages; `None`: the service's `time_zone`.
    pub zone: Option<String>,
}

impl Staff {
    /// Whether installations managed by `manager` are theirs to see.
    pub fn sees(&self, manager: &str) -> bool {
        match self.role {
            Role::Manager => self.manager.as_deref() == Some(manager),
            Role::Admin | Role::Viewer => true,
        }
    }

    /// Acknowledge, snooze, write updates.
    pub fn can_act(&self) -> bool {
        self.role != Role::Viewer
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A new account as someone asked for it, checked.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub staff: Staff,
    pub password_hash: String,
}

impl NewStaff {
    /// Checks the fields and hashes the password; the error names the field.
    pub fn new(
        name: &str,
        password: &str,
        role: Role,
        manager: Option<&str>,
        lang: Lang,
        telegram_user_id: Option<i64>,
    ) -> Result<NewStaff, String> {
        Ok(NewStaff {
            staff: Staff::checked(name, role, manager, lang, telegram_user_id)?,
            password_hash: hash_password(password)?,
        })
    }
}

impl Staff {
    /// An account's fields, checked (new, or changed by an administrator); the error
    /// names the field. A manager name is kept only on a manager's account.
    pub fn checked(
        name: &str,
        role: Role,
        manager: Option<&str>,
        lang: Lang,
        telegram_user_id: Option<i64>,
    ) -> Result<Staff, String> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err("name: 1 to 64 characters, no control characters".into());
        }
        let manager = manager.map(str::trim).filter(|m| !m.is_empty());
        if role == Role::Manager && manager.is_none() {
            return Err(
                "manager: a manager account needs the manager name its installations carry".into(),
            );
        }
        Ok(Staff {
            name: name.to_string(),
            role,
            manager: manager
                .filter(|_| role == Role::Manager)
                .map(str::to_string),
            lang,
            telegram_user_id: telegram_user_id.filter(|id| *id > 0),
            zone: None,
        })
    }
}

/// The PHC string of `password` (argon2id, a random salt).
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!("password: at least {MIN_PASSWORD} characters"));
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| format!("password: cannot hash it: {e}"))
}

/// Whether `password` is the one `hash` was made from.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_and_checked() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("horse"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batter", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert!(hash_password("short").unwrap_err().starts_with("password:"));
    }

    #[test]
    fn a_manager_sees_only_their_own() {
        let anna = NewStaff::new(
            "anna",
            "a long password",
            Role::Manager,
            Some("Anna"),
            Lang::Ru,
            Some(42),
        )
        .unwrap()
        .staff;
        assert_eq!(anna.telegram_user_id, Some(42));
        assert!(anna.sees("Anna"));
        assert!(!anna.sees("Boris"));
        assert!(anna.can_act() && !anna.is_admin());
        let viewer = NewStaff::new(
            "v",
            "a long password",
            Role::Viewer,
            Some("x"),
            Lang::En,
            None,
        )
        .unwrap()
        .staff;
        assert!(viewer.sees("Boris") && !viewer.can_act());
        assert_eq!(viewer.manager, None);
        assert!(
            NewStaff::new("m", "a long password", Role::Manager, None, Lang::En, None).is_err()
        );
    }
}
