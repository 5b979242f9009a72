//! A contact: the person's Telegram id, or a group (and topic) to write to instead.

use super::Context;
use crate::alerts::directory::Contact;
use crate::web::form::{Group, Layout, Problems, Sent, Widget, read};

pub fn sent(contact: &Contact) -> Sent {
    let mut sent = Sent::default();
    sent.set("telegram_user_id", contact.telegram_user_id.to_string());
    if let Some(id) = contact.group_chat_id {
        sent.set("group_chat_id", id.to_string());
    }
    if let Some(id) = contact.thread_id {
        sent.set("thread_id", id.to_string());
    }
    sent
}

pub fn parse(sent: &Sent, p: &mut Problems) -> Option<Contact> {
    let user = p.required(sent, "telegram_user_id", read::whole);
    let group = p.optional(sent, "group_chat_id", read::whole);
    let thread = p.optional(sent, "thread_id", read::whole);
    if matches!(user, Some(id) if id <= 0) {
        p.add("telegram_user_id", "form-user-id-positive", &[]);
    }
    if matches!(group, Ok(Some(id)) if id >= 0) {
        p.add("group_chat_id", "form-group-id-negative", &[]);
    }
    if matches!((&group, &thread), (Ok(None), Ok(Some(_)))) {
        p.add("thread_id", "form-topic-needs-group", &[]);
    }
    if !p.is_empty() {
        return None;
    }
    Some(Contact {
        telegram_user_id: user?,
        group_chat_id: group.ok()?,
        thread_id: thread.ok()?,
    })
}

pub fn layout(l: &Layout) -> Vec<Group> {
    vec![Group {
        legend: None,
        fields: vec![
            l.hinted(
                "telegram_user_id",
                "form-user-id",
                Widget::Number,
                "form-user-id-hint",
            )
            .needed(),
            l.hinted(
                "group_chat_id",
                "form-group-id",
                Widget::Suggest("chats"),
                "form-group-id-hint",
            ),
            l.field("thread_id", "form-topic", Widget::Number),
        ],
    }]
}

pub fn summary(contact: &Contact, name: &str, ctx: &Context) -> String {
    let lang = ctx.lang;
    let started = ctx.started.get(name).copied().unwrap_or(false);
    let id = contact.telegram_user_id.to_string();
    let mut parts = vec![lang.t_with("summary-user", &[("id", id.into())])];
    if let Some(group) = contact.group_chat_id {
        parts.push(lang.t_with("summary-group", &[("id", group.to_string().into())]));
    }
    parts.push(if contact.reachable(started) {
        lang.t("summary-reachable")
    } else {
        lang.t("summary-not-started")
    });
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn a_contact_reads_back_as_it_was_stored() {
        let contact = Contact {
            telegram_user_id: 501,
            group_chat_id: Some(-1001),
            thread_id: Some(7),
        };
        let mut p = Problems::new(Lang::En);
        assert_eq!(parse(&sent(&contact), &mut p), Some(contact));
    }

    #[test]
    fn each_wrong_id_is_named() {
        let mut s = Sent::default();
        s.set("telegram_user_id", "-5");
        s.set("group_chat_id", "1001");
        let mut p = Problems::new(Lang::Ru);
        assert_eq!(parse(&s, &mut p), None);
        assert_eq!(p.count(), 2);
        assert!(p.of("group_chat_id").is_some());
    }
}
