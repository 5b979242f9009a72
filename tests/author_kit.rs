//! A plugin author's loop, exactly as `sdk/README.md` tells it: its `author-loop` commands
//! run in an empty directory with only the `reveille` binary (this build's) on the PATH and
//! the Rust toolchain, against a service holding a month of a test fleet's reports. The
//! check the scaffold makes is then replayed over that month, installed, and fires on the
//! next report through the API.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use reveille::clock::ManualClock;
use reveille_tests::{ADMIN_TOKEN, Options, Service, at};

/// The shell blocks of `sdk/README.md` that follow an `<!-- author-loop -->` marker.
fn author_loop() -> String {
    let guide = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/README.md");
    let text = std::fs::read_to_string(&guide).expect("the SDK guide");
    let mut commands = String::new();
    for part in text.split("<!-- author-loop -->").skip(1) {
        let block = part
            .split_once("```sh\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(block, _)| block)
            .expect("a ```sh block after the marker");
        commands.push_str(block);
    }
    assert!(commands.contains("reveille plugin new"), "{commands}");
    commands
}

/// A directory holding `reveille`: this build's program, as an author installs it.
fn bin_dir(root: &Path) -> PathBuf {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_reveille-under-test"),
        bin.join("reveille"),
    )
    .unwrap();
    bin
}

fn report(installation: &str, at: i64, free_mb: i64) -> String {
    let generated = jiff::Timestamp::from_millisecond(at).unwrap();
    format!(
        r#"<report schema="1" agent="report-agent" generated-at="{generated}">
             <installation id="{installation}"><client>ООО «Вектор»</client></installation>
             <disk path="D:\Kodeks" free-mb="{free_mb}" total-mb="102400"/>
           </report>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_takes_an_author_from_an_empty_directory_to_a_loaded_check() {
    const DAY: i64 = 86_400_000;
    let start = at("2026-11-01T00:00:00Z");
    let clock = Arc::new(ManualClock::new(start + 30 * DAY));
    let service = Service::start(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    // Three roomy disks; two filling by 200 MB a day (below 1024 MB from day 20 on); one
    // that dipped once, on day 10. The scaffold's check (minimum 1024 MB) fires on the
    // two filling ones, still open at the end, and on the dip, resolved at the next report.
    let fleet = [
        ("roomy-1", "roomy"),
        ("roomy-2", "roomy"),
        ("roomy-3", "roomy"),
        ("filling-1", "filling"),
        ("filling-2", "filling"),
        ("dip", "dip"),
    ];
    for (id, kind) in fleet {
        service.installation(id).await;
        for k in 0..60 {
            let day = k / 2;
            let free = match kind {
                "filling" => 5_000 - 200 * day,
                "dip" if k == 20 => 900,
                _ => 5_000,
            };
            let at = start + k * DAY / 2;
            service.seed_report(id, at, &report(id, at, free)).await;
        }
    }

    let root = tempfile::tempdir().unwrap();
    let bin = bin_dir(root.path());
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = author_loop();
    let started = Instant::now();
    let commands = script.clone();
    let base = service.base.clone();
    let kit = work.clone();
    let output = tokio::task::spawn_blocking(move || {
        let mut bash = Command::new("bash");
        bash.args(["-euo", "pipefail", "-c", &commands])
            .current_dir(&work)
            .env("PATH", path)
            .env("REVEILLE_URL", base)
            .env("REVEILLE_ADMIN_TOKEN", ADMIN_TOKEN);
        // An author's shell: none of what cargo tells this test about its own build (the
        // registry's settings, and rustup's, stay).
        const OURS: [&str; 9] = [
            "CARGO_PKG_",
            "CARGO_BIN_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_PRIMARY_",
            "CARGO_TARGET_",
            "CARGO_RUSTC_",
            "RUSTC",
            "RUSTFLAGS",
        ];
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key == "CARGO" || OURS.iter().any(|prefix| key.starts_with(prefix)) {
                bash.env_remove(&*key);
            }
        }
        bash.output().expect("bash runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the guide's commands failed:\n{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    println!(
        "the author's loop took {:.1} s:\n{stdout}",
        started.elapsed().as_secs_f64()
    );
    // The report format came with the kit, and the crate's README says where.
    let format = std::fs::read_to_string(kit.join("reveille-sdk/sdk/REPORT-FORMAT.md"))
        .expect("the report format beside the SDK's guide");
    assert!(format.contains("## When a report is judged"), "{format}");
    let readme = std::fs::read_to_string(kit.join("disk-space/README.md")).unwrap();
    assert!(
        readme.contains("../reveille-sdk/sdk/REPORT-FORMAT.md"),
        "{readme}"
    );
    // `plugin test` on the fixture, then the replay over the month.
    assert!(
        stdout.contains("[Warning] below-minimum: disk/@free-mb is 812, below 1024"),
        "{stdout}"
    );
    assert!(stdout.contains("6 installations, 360 reports"), "{stdout}");
    assert!(
        stdout.contains("fired 3, resolved 1, still open at the end 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("disk-space 0.1.0 installed (active, API 1.2.0"),
        "{stdout}"
    );

    // Installed on the service, it fires on the next report through the API.
    let token = service.installation("newcomer").await;
    let accepted = service
        .post_report(
            &token,
            report("newcomer", start + 30 * DAY, 500).into_bytes(),
        )
        .await;
    assert_eq!(accepted.status(), 202);
    service.settle().await;
    let alerts = service
        .alerts("installation=newcomer&plugin=disk-space")
        .await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["plugin"], "disk-space");
    assert_eq!(alerts[0]["summary"], "disk/@free-mb is 500, below 1024");
}
