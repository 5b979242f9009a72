//! `/api/v1/chats/{chat_id}/members`: the Telegram users allowed to acknowledge and snooze
//! alerts in a chat. Anyone else pressing a button is refused.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::error::ApiError;
use crate::app::input;
use crate::store::ChatMember;

fn number(what: &str, text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} `{text}` is not a number")))
}

pub async fn list(
    State(state): State<AppState>,
    Path(chat_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let chat_id = number("chat id", &chat_id)?;
    let members = state.store.chat_members(chat_id).await?;
    Ok(Json(json!({ "chat_id": chat_id, "members": members })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberBody {
    /// How the user appears to admins.
    name: String,
}

/// `PUT /api/v1/chats/{chat_id}/members/{user_id}` with `{"name": "..."}`.
pub async fn put(
    State(state): State<AppState>,
    Path((chat_id, user_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let chat_id = number("chat id", &chat_id)?;
    let user_id = number("user id", &user_id)?;
    if user_id <= 0 {
        return Err(ApiError::bad_request(format!(
            "user id {user_id}: Telegram user ids are positive"
        )));
    }
    let body: MemberBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    input::name("name", &body.name)?;
    let member = ChatMember {
        user_id,
        name: body.name.trim().to_string(),
        added_at: state.clock.now_ms(),
    };
    state.store.put_chat_member(chat_id, &member).await?;
    Ok((
        StatusCode::OK,
        Json(json!({ "chat_id": chat_id, "member": member })),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Path((chat_id, user_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let chat_id = number("chat id", &chat_id)?;
    let user_id = number("user id", &user_id)?;
    if !state.store.remove_chat_member(chat_id, user_id).await? {
        return Err(ApiError::not_found(format!(
            "user {user_id} is not authorized in chat {chat_id}"
        )));
    }
    Ok(Json(json!({ "chat_id": chat_id, "removed": user_id })))
}
