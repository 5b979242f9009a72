//! One story per installation (story 4 of DOMAIN.md), end to end: while an installation
//! has an open alert, its later alerts reply in the thread of the first, so the chat reads
//! as one conversation; each still resolves on its own.

use fake_telegram::ChatMessage;
use reveille_tests::{Session, report_xml};

use crate::nights::{MOSCOW, OFFICE, VECTOR, World, start_at};

/// The installation's full report at `time`: shell `shell`, content updated at `operup`,
/// and `broken` swapping the healthy service and law base for the broken ones.
fn full(time: &str, shell: &str, operup: &str, broken: bool) -> Vec<u8> {
    let (service, law) = if broken {
        (
            r#"<service state="error" http-status="500" run-as="user"/>"#,
            r#"state="error" error-code="2020""#,
        )
    } else {
        (
            r#"<service state="running" http-status="200"/>"#,
            r#"state="ok""#,
        )
    };
    report_xml(
        "report-agent",
        time,
        &format!(
            r#"<product name="Техэксперт" shell-version="{shell}"/>
  {service}
  <protection kind="senselock" state="present" forwarding="usb-over-network"/>
  <users limit="25" in-use="12" peak="20" refused="0"/>
  <bases>
    <base code="KDS-SNIP" name="Строительство" update="4287" operup-at="{operup}" state="ok"/>
    <base code="KDS-LAW" name="Законодательство" update="4287" operup-at="{operup}" {law}/>
  </bases>"#
        ),
    )
    .into_bytes()
}

/// Waits for the living message whose `plugin/key` starts with `code`.
async fn living(world: &World, code: &str) -> ChatMessage {
    assert!(
        world
            .fake
            .wait_for(std::time::Duration::from_secs(20), |_| !messages_about(
                world, code
            )
            .is_empty())
            .await,
        "no {code} message: {:#?}",
        world.fake.bot_messages(OFFICE)
    );
    messages_about(world, code).remove(0)
}

fn messages_about(world: &World, code: &str) -> Vec<ChatMessage> {
    world
        .fake
        .bot_messages(OFFICE)
        .into_iter()
        .filter(|m| m.versions[0].contains(&format!("<code>{code}")))
        .collect()
}

/// Story 4, the February upgrade: day 2 the status of the service tells at once
/// (`service-down`); the base error that same day, the silence from day 4 and the stale
/// updates of day 5 join its thread; when the client is fixed every alert resolves once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_4_the_upgrade_gone_wrong_is_one_thread() {
    let world = start_at(
        "2023-02-01T23:00:00+03:00",
        "[plugins.version-minimum]\nminimum = \"6.4.3.59\"\n",
        None,
    )
    .await;
    let token = world
        .installation("vector-main", VECTOR, MOSCOW, OFFICE)
        .await;
    let day1 = "2023-02-01T23:00:00+03:00";
    world
        .post(
            &token,
            full(day1, "6.4.3.59", "2023-02-01T22:40:00+03:00", false),
        )
        .await;
    assert!(world.fake.bot_messages(OFFICE).is_empty());

    let day2 = "2023-02-02T11:00:00+03:00";
    world.clock.set(reveille_tests::at(day2));
    world
        .post(
            &token,
            full(day2, "6.4.3.60", "2023-02-01T22:40:00+03:00", true),
        )
        .await;
    let head = living(&world, "service-down/").await;
    assert!(head.text.contains("Service in error"), "{}", head.text);
    assert_eq!(head.reply_to, None, "the story starts with the service");
    let base = living(&world, "stale-updates/base-error").await;
    assert_eq!(
        base.reply_to,
        Some(head.id),
        "the base error joins the thread"
    );

    for day in ["2023-02-03", "2023-02-04", "2023-02-05", "2023-02-06"] {
        world.tick_at(&format!("{day}T12:00:00+03:00")).await;
    }
    let stale = living(&world, "stale-updates/stale-updates").await;
    let stopped = living(&world, "reports-stopped/").await;
    for joined in [&stale, &stopped] {
        assert_eq!(joined.reply_to, Some(head.id), "{}", joined.text);
    }
    let open = world
        .service
        .alerts("installation=vector-main&state=open")
        .await;
    assert_eq!(open.len(), 4, "{open:#?}");
    let story = open.iter().find(|a| a["plugin"] == "service-down").unwrap()["id"].clone();
    assert!(open.iter().all(|a| a["story_id"] == story), "{open:#?}");
    let together = world.service.alerts(&format!("story={story}")).await;
    assert_eq!(together.len(), 4, "{together:#?}");
    // On the board, each alert's page lists the rest of its thread.
    let admin = Session::first_admin(&world.service, "admin", "correct horse battery").await;
    for alert in &together {
        let page = admin
            .text(&world.service, &format!("/alerts/{}", alert["id"]))
            .await;
        for other in together.iter().filter(|o| o["id"] != alert["id"]) {
            assert!(
                page.contains(&format!("href=\"/alerts/{}\"", other["id"])),
                "alert {}'s page does not list {} of its thread",
                alert["id"],
                other["id"]
            );
        }
    }

    let fixed = "2023-02-07T10:00:00+03:00";
    world.clock.set(reveille_tests::at(fixed));
    world
        .post(
            &token,
            full(fixed, "6.4.3.60", "2023-02-07T06:00:00+03:00", false),
        )
        .await;
    world.tick_at("2023-02-07T10:05:00+03:00").await;
    assert!(
        world
            .service
            .alerts("installation=vector-main&state=open")
            .await
            .is_empty()
    );
    for code in [
        "service-down/",
        "stale-updates/base-error",
        "stale-updates/stale-updates",
        "reports-stopped/",
    ] {
        let living = messages_about(&world, code);
        assert_eq!(living.len(), 1, "{code}: one message");
        assert!(
            living[0].text.starts_with("✅ RESOLVED"),
            "{code}: {}",
            living[0].text
        );
        let resolutions = world
            .fake
            .bot_messages(OFFICE)
            .into_iter()
            .filter(|m| m.reply_to == Some(living[0].id) && m.text.starts_with("✅ Resolved after"))
            .count();
        assert_eq!(resolutions, 1, "{code}: one resolution");
    }
}
