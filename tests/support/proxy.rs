//! A TCP proxy a test can cut: the road between the service and its PostgreSQL server,
//! so a test can take the database away and bring it back while the service runs.
//!
//! Cut, it drops every connection it carries and holds new ones open without forwarding
//! a byte (as a dead route or a silent firewall does: nothing refuses, nothing answers).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    /// `host:port` to connect to instead of the target.
    pub addr: std::net::SocketAddr,
    cut: Arc<AtomicBool>,
    /// Bumped at every cut: the connections carried until then end.
    generation: watch::Sender<u64>,
}

impl Proxy {
    /// Forwards to `target` (`host:port`).
    pub async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a proxy");
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let (generation, _) = watch::channel(0u64);
        let accepting = (cut.clone(), generation.clone());
        tokio::spawn(async move {
            let (cut, generation) = accepting;
            let mut held = Vec::new();
            while let Ok((client, _)) = listener.accept().await {
                if cut.load(Ordering::SeqCst) {
                    held.push(client);
                    continue;
                }
                held.clear();
                let mut ended = generation.subscribe();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = ended.changed() => {
                            let _ = client.set_zero_linger();
                            let _ = client.shutdown().await;
                        }
                    }
                });
            }
        });
        Proxy {
            addr,
            cut,
            generation,
        }
    }

    /// Drops every connection and holds new ones unanswered.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Forwards again (connections held while cut stay dead).
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}
