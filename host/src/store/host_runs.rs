//! The host's own uptime: one row per run, so the time the host itself was down can be
//! told apart from an installation's silence.

use sqlx::Row;

use super::{Store, StoreError};

/// The periods the host was down, oldest first: `(from, until)` in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Downtime(pub Vec<(i64, i64)>);

impl Downtime {
    /// The gaps no run covers, from runs `(started, last seen)` ordered by start.
    fn between(runs: &[(i64, i64)]) -> Downtime {
        let mut gaps = Vec::new();
        let mut covered = None::<i64>;
        for &(started, seen) in runs {
            match covered {
                Some(until) if started > until => {
                    gaps.push((until, started));
                    covered = Some(seen);
                }
                Some(until) => covered = Some(until.max(seen)),
                None => covered = Some(seen),
            }
        }
        Downtime(gaps)
    }

    /// How much of `[from, to]` the host spent down.
    pub fn within(&self, from: i64, to: i64) -> i64 {
        self.0
            .iter()
            .map(|&(down, up)| (up.min(to) - down.max(from)).max(0))
            .sum()
    }
}

impl Store {
    /// Records that the host started at `now`; returns the run's id for heartbeats.
    pub async fn record_start(&self, now: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO host_runs (started_at, last_seen) VALUES ($1, $2) RETURNING id",
        )
        .bind(now)
        .bind(now)
        .fetch_one(&self.writer)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Records that run `run` was alive at `now`.
    pub async fn heartbeat(&self, run: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE host_runs SET last_seen = $1 WHERE id = $2")
            .bind(now)
            .bind(run)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// When no run was up: several nodes' runs overlap, and only a time none of them
    /// covered is the host's downtime.
    pub async fn downtime(&self) -> Result<Downtime, StoreError> {
        let rows =
            sqlx::query("SELECT started_at, last_seen FROM host_runs ORDER BY started_at, id")
                .fetch_all(&self.pool)
                .await?;
        let runs: Vec<(i64, i64)> = rows
            .iter()
            .map(|r| Ok((r.try_get("started_at")?, r.try_get("last_seen")?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Downtime::between(&runs))
    }
}

#[cfg(test)]
mod tests {
    use super::Downtime;

    #[test]
    fn counts_only_the_downtime_inside_the_window() {
        let downtime = Downtime(vec![(100, 200), (500, 800)]);
        assert_eq!(downtime.within(0, 1000), 400);
        assert_eq!(downtime.within(150, 600), 150);
        assert_eq!(downtime.within(300, 400), 0);
        assert_eq!(downtime.within(900, 1000), 0);
    }

    #[test]
    fn overlapping_runs_of_several_nodes_leave_only_the_time_none_was_up() {
        // Node a up 0–100; node b 10–50 (killed), back 60–200; node a again 300–400.
        let runs = [(0, 100), (10, 50), (60, 200), (300, 400)];
        assert_eq!(Downtime::between(&runs), Downtime(vec![(200, 300)]));
        assert_eq!(
            Downtime::between(&[(0, 10), (20, 30)]),
            Downtime(vec![(10, 20)])
        );
        assert_eq!(Downtime::between(&[]), Downtime(vec![]));
    }
}
