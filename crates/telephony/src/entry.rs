//! What kefu does with an inbound call: a call to an extension rings the phone and is bridged through
//! kefu (B2BUA); a call to a flow or a queue goes to the [`FlowRunner`] the binary plugs in (the IVR);
//! without one, or for a prompt, the entry greeting plays once before kefu hangs up.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::call::{Call, CallEvent};
use crate::directory::Target;
use crate::sip::{Destination, IncomingCall, OriginateError, Telephony, follow};

/// Runs calls routed to IVR flows and queues (the binary implements it over the IVR and the store).
#[async_trait::async_trait]
pub trait FlowRunner: Send + Sync {
    /// The call is still ringing; the runner answers it.
    async fn run_flow(&self, call: Call, flow: String);
    async fn run_queue(&self, call: Call, queue: String);
}

/// Settings of the built-in entry points.
#[derive(Clone)]
pub struct EntryPoints {
    /// Prompt played for flows and queues until they exist.
    pub greeting: String,
    /// Record bridged extension calls (both ways) under the recordings folder.
    pub record_bridged: bool,
    /// Flows and queues; `None`: they get the greeting.
    pub runner: Option<Arc<dyn FlowRunner>>,
}

impl std::fmt::Debug for EntryPoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryPoints")
            .field("greeting", &self.greeting)
            .field("record_bridged", &self.record_bridged)
            .field("runner", &self.runner.is_some())
            .finish()
    }
}

impl Default for EntryPoints {
    fn default() -> Self {
        EntryPoints {
            greeting: "welcome".into(),
            record_bridged: false,
            runner: None,
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
                Target::Flow(flow) if entry.runner.is_some() => {
                    let runner = entry.runner.clone().expect("checked");
                    runner.run_flow(call.clone(), flow).await;
                    Ok(())
                }
                Target::Queue(queue) if entry.runner.is_some() => {
                    let runner = entry.runner.clone().expect("checked");
                    runner.run_queue(call.clone(), queue).await;
                    Ok(())
                }
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
