//! Notifications out: the dispatcher drains the outbox that alert changes fill, and the
//! Telegram bot delivers it (living messages, replies) and listens for what people do about
//! it (buttons, commands).

pub mod dispatcher;
pub mod order;
pub mod pace;
pub mod telegram;

pub use dispatcher::{Dispatcher, Voice};
