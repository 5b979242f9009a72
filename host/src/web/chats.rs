//! A chat named in a form by the one-time code the bot gave in it (`chat_codes`): the form
//! turns it into the chat's id before reading it.

use super::form::{Problems, Sent};
use crate::app::AppState;
use crate::chat_codes;
use crate::store::StoreError;

/// Replaces every chat code among the fields sent with the id of the chat it names,
/// spending it, so the form is read (and shown again) with the id; a code that names
/// nothing is a problem of its field.
pub async fn take_codes(
    state: &AppState,
    sent: &mut Sent,
    problems: &mut Problems,
) -> Result<(), StoreError> {
    let now = state.clock.now_ms();
    for (field, code) in sent.matching(chat_codes::is_code) {
        match chat_codes::take(&state.store, &code, now).await? {
            Some(chat_id) => sent.set(field, chat_id.to_string()),
            None => problems.add(&field, "chat-code-unknown", &[("value", code.into())]),
        }
    }
    Ok(())
}
