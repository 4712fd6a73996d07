//! The SLA sweep: every few seconds, the orders whose SLA milestone time has come get their reminders,
//! breaches, escalations and reassignments (kefu_store::Store::sweep_sla). Time comes from the clock
//! here, at the edge; the rules themselves take it as an input.

use std::time::Duration;

use chrono::Utc;
use kefu_store::Store;

/// Orders handled per database round; a backlog is worked off in rounds back to back.
const BATCH: u64 = 500;

/// Sweeps every `every` until the process stops; a failed round is logged and retried next time.
pub async fn sweep_forever(store: Store, state: kefu_api::AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // A bounded number of rounds per tick, so a row that keeps failing cannot spin the loop.
        for _ in 0..20 {
            match store.sweep_sla(Utc::now(), BATCH).await {
                Ok(report) => {
                    if report.reminders + report.breaches + report.reassigned > 0 {
                        tracing::info!(?report, "SLA sweep");
                        state.notify_changed();
                    }
                    if (report.examined as u64) < BATCH {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "SLA sweep failed; retrying next round");
                    break;
                }
            }
        }
    }
}
