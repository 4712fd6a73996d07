//! What kefu does with an inbound call until the IVR (issue 5) and the ACD (issue 6) exist: a call to
//! an extension rings the phone and is bridged through kefu (B2BUA); a call to a flow, a queue or a
//! prompt is answered with the entry greeting, which plays once before kefu hangs up.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::call::{Call, CallEvent};
use crate::directory::Target;
use crate::sip::{Destination, IncomingCall, OriginateError, Telephony, follow};

/// Settings of the built-in entry points.
#[derive(Clone, Debug)]
pub struct EntryPoints {
    /// Prompt played for flows and queues until they exist.
    pub greeting: String,
    /// Record bridged extension calls (both ways) under the recordings folder.
    pub record_bridged: bool,
}

impl Default for EntryPoints {
    fn default() -> Self {
        EntryPoints {
            greeting: "welcome".into(),
            record_bridged: false,
        }
    }
}

/// Serves inbound calls until the engine stops.
pub async fn serve(
    telephony: Telephony,
    mut incoming: mpsc::Receiver<IncomingCall>,
    entry: EntryPoints,
) {
    let entry = Arc::new(entry);
    while let Some(IncomingCall { call, target }) = incoming.recv().await {
        let telephony = telephony.clone();
        let entry = entry.clone();
        tokio::spawn(async move {
            let result = match target {
                Target::Extension(number) => {
                    ring_extension(&telephony, call.clone(), &number, &entry).await
                }
                Target::Prompt(name) => greet(&call, &name).await,
                Target::Flow(_) | Target::Queue(_) => greet(&call, &entry.greeting).await,
            };
            if let Err(e) = result {
                tracing::info!(error = %e, leg = %call.id(), "entry point ended early");
                let _ = call.hangup().await;
            }
        });
    }
}

async fn greet(call: &Call, prompt: &str) -> anyhow::Result<()> {
    call.answer().await?;
    call.play(&[prompt], false).await?;
    call.hangup().await?;
    Ok(())
}

async fn ring_extension(
    telephony: &Telephony,
    call: Call,
    number: &str,
    entry: &EntryPoints,
) -> anyhow::Result<()> {
    call.ring().await?;
    let mut events = call.events();
    let (caller, call_uuid) = (call.info().caller.clone(), call.info().call_uuid);
    let outbound = telephony.originate(
        Destination::Extension(number.to_string()),
        &caller,
        Some(call_uuid),
    );
    tokio::pin!(outbound);
    let callee = loop {
        tokio::select! {
            r = &mut outbound => break r,
            ev = events.recv() => {
                if matches!(ev, Ok(CallEvent::Ended(_)) | Err(_)) {
                    // The caller gave up while the phone rang: dropping `outbound` would leak the
                    // INVITE, so let it finish and hang the new leg up.
                    if let Ok(c) = outbound.await { let _ = c.hangup().await; }
                    return Ok(());
                }
            }
        }
    };
    match callee {
        Ok(callee) => {
            call.answer().await?;
            let room = telephony.bridge(&call, &callee)?;
            if entry.record_bridged {
                let name = format!(
                    "{}/{}.wav",
                    call.info().started_at.format("%Y-%m-%d"),
                    call.info().call_uuid
                );
                let _ = call.start_recording(
                    std::path::Path::new(&name),
                    std::time::Duration::from_secs(4 * 3600),
                );
            }
            follow(call, callee, room).await;
        }
        Err(OriginateError::Refused { status, .. }) => {
            call.reject(if (400..700).contains(&status) {
                status
            } else {
                480
            })
            .await?;
        }
        Err(OriginateError::NotRegistered(_)) => call.reject(480).await?,
        Err(e) => {
            tracing::info!(error = %e, "ringing the extension failed");
            call.reject(480).await?;
        }
    }
    Ok(())
}
