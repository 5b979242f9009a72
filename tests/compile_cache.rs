//! A restart with the same plugins takes their compiled code from the cache, and only an
//! artifact the host wrote itself is ever loaded from it.

use std::time::Instant;

use reveille_tests::{Options, Service};
use serde_json::Value;

fn summary(plugins: &[Value]) -> String {
    plugins
        .iter()
        .map(|p| {
            format!(
                "{} {} ms (cache: {})",
                p["name"], p["compile_ms"], p["from_cache"]
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_reuses_the_compile_cache_and_refuses_tampered_entries() {
    let started = Instant::now();
    let service = Service::start(Options {
        own_compile_cache: true,
        ..Options::default()
    })
    .await;
    let cold = started.elapsed();
    let first = service.plugins().await;
    assert!(!first.is_empty());
    assert!(first.iter().all(|p| p["from_cache"] == false), "{first:#?}");

    let started = Instant::now();
    let service = service.restart().await;
    let warm = started.elapsed();
    let second = service.plugins().await;
    assert!(
        second.iter().all(|p| p["from_cache"] == true),
        "{second:#?}"
    );
    assert_eq!(
        first.iter().map(|p| &p["sha256"]).collect::<Vec<_>>(),
        second.iter().map(|p| &p["sha256"]).collect::<Vec<_>>()
    );
    eprintln!("cold start {cold:?}: {}", summary(&first));
    eprintln!("warm start {warm:?}: {}", summary(&second));

    for entry in std::fs::read_dir(service.data_dir.join("cache")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "cwasm") {
            let mut bytes = std::fs::read(&path).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 0xff;
            std::fs::write(&path, bytes).unwrap();
        }
    }
    let service = service.restart().await;
    let third = service.plugins().await;
    assert!(
        third
            .iter()
            .all(|p| p["from_cache"] == false && p["state"] == "active"),
        "a tampered cache entry was loaded: {third:#?}"
    );
}
