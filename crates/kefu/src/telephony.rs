//! Wiring the telephony engine to the store: extensions, trunks and DID routes are read from the
//! database, call records written to it.

use async_trait::async_trait;
use kefu_domain::{CallDirection, CallDisposition, HangupSide, RouteTarget, SipTransport, TrunkId};
use kefu_store::{NewCallRecord, Store};
use kefu_telephony as tel;

pub struct StoreDirectory {
    pub store: Store,
}

#[async_trait]
impl tel::Directory for StoreDirectory {
    async fn extension(&self, number: &str) -> anyhow::Result<Option<tel::ExtensionAuth>> {
        Ok(self
            .store
            .extension_auth(number)
            .await?
            .map(|e| tel::ExtensionAuth {
                number: e.number,
                display_name: e.display_name,
                ha1_md5: e.ha1_md5,
                ha1_sha256: e.ha1_sha256,
                enabled: e.enabled,
            }))
    }

    async fn trunks(&self) -> anyhow::Result<Vec<tel::Trunk>> {
        Ok(self
            .store
            .trunks_for_runtime()
            .await?
            .into_iter()
            .map(|t| tel::Trunk {
                id: t.id.0,
                name: t.name,
                enabled: t.enabled,
                allowed_sources: t.allowed_sources,
                inbound_username: t.inbound_username,
                inbound_ha1_md5: t.inbound_ha1_md5,
                inbound_ha1_sha256: t.inbound_ha1_sha256,
                proxy: t.proxy,
                transport: match t.transport {
                    SipTransport::Udp => tel::TrunkTransport::Udp,
                    SipTransport::Tcp => tel::TrunkTransport::Tcp,
                },
                username: t.username,
                password: t.password,
                register: t.register,
                register_expires: t.register_expires,
                caller_id: t.caller_id,
                max_channels: t.max_channels,
            })
            .collect())
    }

    async fn route(&self, number: &str) -> anyhow::Result<Option<tel::Route>> {
        Ok(self
            .store
            .route_for_number(number)
            .await?
            .map(|r| tel::Route {
                number: r.number,
                target: match r.target {
                    RouteTarget::Flow { name } => tel::Target::Flow(name.as_str().to_string()),
                    RouteTarget::Queue { name } => tel::Target::Queue(name.as_str().to_string()),
                    RouteTarget::Extension { number } => {
                        tel::Target::Extension(number.as_str().to_string())
                    }
                    RouteTarget::Prompt { name } => tel::Target::Prompt(name.as_str().to_string()),
                },
                trunk_id: r.trunk_id.map(|t| t.0),
            }))
    }

    async fn record(&self, r: tel::CallRecord) -> anyhow::Result<()> {
        let record = NewCallRecord {
            call_id: r.sip_call_id,
            call_uuid: r.call_uuid,
            direction: match r.direction {
                tel::Direction::Inbound => CallDirection::Inbound,
                tel::Direction::Outbound => CallDirection::Outbound,
            },
            caller: r.caller,
            callee: r.callee,
            trunk_id: r.trunk_id.map(TrunkId),
            extension: r.extension,
            started_at: r.started_at,
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            disposition: match r.disposition {
                tel::Disposition::Answered => CallDisposition::Answered,
                tel::Disposition::NoAnswer => CallDisposition::NoAnswer,
                tel::Disposition::Busy => CallDisposition::Busy,
                tel::Disposition::Cancelled => CallDisposition::Cancelled,
                tel::Disposition::Rejected => CallDisposition::Rejected,
                tel::Disposition::Failed => CallDisposition::Failed,
            },
            hangup_cause: r.hangup_cause,
            sip_status: r.sip_status,
            hangup_side: match r.hangup_side {
                tel::Side::Caller => HangupSide::Caller,
                tel::Side::Callee => HangupSide::Callee,
                tel::Side::System => HangupSide::System,
            },
            recording_path: r.recording_path,
        };
        self.store.insert_call_record(&record).await?;
        Ok(())
    }
}

/// The running engine as the API sees it.
pub struct LiveEngine(pub tel::Telephony);

impl kefu_api::telephony::LiveTelephony for LiveEngine {
    fn registrations(&self) -> Vec<kefu_api::telephony::RegistrationView> {
        self.0
            .registrations()
            .into_iter()
            .map(|b| kefu_api::telephony::RegistrationView {
                extension: b.extension,
                contact: b.contact,
                source: b.source.to_string(),
                transport: b.transport.as_str().to_string(),
                user_agent: b.user_agent,
                registered_at: b.registered_at,
                expires_at: b.expires_at,
            })
            .collect()
    }

    fn active_calls(&self) -> Vec<kefu_api::telephony::ActiveCallView> {
        let mut calls: Vec<kefu_api::telephony::ActiveCallView> = self
            .0
            .calls()
            .into_iter()
            .map(|c| {
                let info = c.info();
                kefu_api::telephony::ActiveCallView {
                    call_uuid: info.call_uuid,
                    direction: match info.direction {
                        tel::Direction::Inbound => CallDirection::Inbound,
                        tel::Direction::Outbound => CallDirection::Outbound,
                    },
                    caller: info.caller.clone(),
                    callee: info.callee.clone(),
                    state: c.state_name().to_string(),
                    started_at: info.started_at,
                    answered_at: c.answered_at(),
                }
            })
            .collect();
        calls.sort_by_key(|c| c.started_at);
        calls
    }

    fn config_changed(&self) {
        self.0.reload();
    }
}
