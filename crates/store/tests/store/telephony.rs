//! Extensions, trunks, DID routes and call records, on both backends (listed in `store.rs`).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use kefu_domain::*;
use kefu_store::*;

use super::{admin, audit_count, page, seed_unit, seed_user};

fn secrets(tag: &str) -> DigestSecrets {
    DigestSecrets {
        ha1_md5: format!("md5-{tag}-0123456789abcdef"),
        ha1_sha256: format!("sha-{tag}-0123456789abcdef"),
    }
}

fn new_extension(number: &str, owner: ExtensionOwner) -> NewExtension {
    NewExtension {
        number: ExtensionNumber::parse(number).unwrap(),
        display_name: format!("分机 {number}"),
        owner,
        enabled: true,
        secrets: secrets(number),
    }
}

/// Every audit entry so far, as one JSON text (to look for secrets in it).
async fn audit_text(store: &Store) -> String {
    let all = store
        .audit_entries(
            &AuditQuery::default(),
            PageRequest {
                page: 1,
                per_page: 200,
            },
        )
        .await
        .unwrap();
    all.items
        .iter()
        .map(|e| format!("{} {:?} {:?}", e.action, e.before, e.after))
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn extensions_authenticate_by_number_and_keep_secrets_out_of_the_audit(store: Store) {
    let unit = seed_unit(&store).await;
    let agent = seed_user(&store, &unit, "agent").await;
    let mine = store
        .create_extension(
            &admin(),
            new_extension("8001", ExtensionOwner::User(agent.id)),
        )
        .await
        .unwrap();
    let site = store
        .create_extension(
            &admin(),
            new_extension("8101", ExtensionOwner::Unit(unit.id)),
        )
        .await
        .unwrap();
    assert_eq!(mine.owner, ExtensionOwner::User(agent.id));
    assert_eq!(site.owner.unit_id(), Some(unit.id));
    let numbers: Vec<String> = store
        .extensions()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.number)
        .collect();
    assert_eq!(numbers, ["8001", "8101"]);

    let auth = store.extension_auth("8001").await.unwrap().unwrap();
    assert_eq!(auth.id, mine.id);
    assert_eq!(auth.ha1_md5, secrets("8001").ha1_md5);
    assert_eq!(auth.ha1_sha256, secrets("8001").ha1_sha256);
    assert!(auth.enabled);
    assert!(!format!("{auth:?}").contains("md5-8001"), "Debug hides HA1");
    assert!(store.extension_auth("8002").await.unwrap().is_none());
    assert!(store.extension_auth("8101").await.unwrap().unwrap().enabled);

    // Refused writes change nothing.
    let before = audit_count(&store).await;
    let dup = store
        .create_extension(
            &admin(),
            new_extension("8001", ExtensionOwner::Unit(unit.id)),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let nobody = store
        .create_extension(
            &admin(),
            new_extension("8002", ExtensionOwner::User(UserId::new())),
        )
        .await;
    assert!(
        matches!(nobody, Err(StoreError::NotFound("user"))),
        "{nobody:?}"
    );
    let no_unit = store
        .create_extension(
            &admin(),
            new_extension("8002", ExtensionOwner::Unit(UnitId::new())),
        )
        .await;
    assert!(
        matches!(no_unit, Err(StoreError::NotFound("unit"))),
        "{no_unit:?}"
    );
    let renumber = store
        .update_extension(
            &admin(),
            mine.id,
            ExtensionChanges {
                number: Some(ExtensionNumber::parse("8009").unwrap()),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(renumber, Err(StoreError::Conflict(_))),
        "{renumber:?}"
    );
    let taken = store
        .update_extension(
            &admin(),
            mine.id,
            ExtensionChanges {
                number: Some(ExtensionNumber::parse("8101").unwrap()),
                secrets: Some(secrets("x")),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(audit_count(&store).await, before);
    assert_eq!(store.extensions().await.unwrap().len(), 2);

    // Disabled, or the agent deactivated: the registrar must refuse the phone.
    let off = store
        .update_extension(
            &admin(),
            mine.id,
            ExtensionChanges {
                enabled: Some(false),
                display_name: Some("王晓燕".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!off.enabled);
    assert_eq!(off.display_name, "王晓燕");
    assert!(!store.extension_auth("8001").await.unwrap().unwrap().enabled);
    store
        .update_extension(
            &admin(),
            mine.id,
            ExtensionChanges {
                enabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store
        .update_user(
            &admin(),
            agent.id,
            UserChanges {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!store.extension_auth("8001").await.unwrap().unwrap().enabled);

    // A new password, a new number with it, a new owner.
    store
        .set_extension_secrets(&admin(), mine.id, secrets("new"))
        .await
        .unwrap();
    assert_eq!(
        store.extension_auth("8001").await.unwrap().unwrap().ha1_md5,
        secrets("new").ha1_md5
    );
    let moved = store
        .update_extension(
            &admin(),
            mine.id,
            ExtensionChanges {
                number: Some(ExtensionNumber::parse("8009").unwrap()),
                owner: Some(ExtensionOwner::Unit(unit.id)),
                secrets: Some(secrets("8009")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.number, "8009");
    assert_eq!(moved.owner, ExtensionOwner::Unit(unit.id));
    assert!(store.extension_auth("8001").await.unwrap().is_none());
    assert!(store.extension_auth("8009").await.unwrap().unwrap().enabled);

    store.delete_extension(&admin(), site.id).await.unwrap();
    assert!(store.extension_auth("8101").await.unwrap().is_none());
    assert!(matches!(
        store.extension(site.id).await,
        Err(StoreError::NotFound("extension"))
    ));
    assert!(matches!(
        store.delete_extension(&admin(), site.id).await,
        Err(StoreError::NotFound("extension"))
    ));

    let text = audit_text(&store).await;
    for action in [
        "extension.create",
        "extension.update",
        "extension.password",
        "extension.delete",
    ] {
        assert!(text.contains(action), "{action} audited");
    }
    for secret in ["md5-", "sha-"] {
        assert!(!text.contains(secret), "a digest hash in the audit log");
    }
}

fn new_trunk(name: &str) -> NewTrunk {
    NewTrunk {
        name: name.into(),
        kind: TrunkKind::Carrier,
        enabled: true,
        allowed_sources: vec![
            parse_source("203.0.113.7").unwrap(),
            parse_source("10.20.0.0/16").unwrap(),
        ],
        inbound: Some(InboundDigest {
            username: SipUsername::parse("pbx-in").unwrap(),
            secrets: secrets("trunk"),
        }),
        proxy: Some(SipProxy::parse("sip.carrier.example").unwrap()),
        transport: SipTransport::Udp,
        username: Some(SipUsername::parse("0574880001").unwrap()),
        password: Some(CarrierPassword::parse("carrier-secret-77").unwrap()),
        register: true,
        register_expires: 600,
        caller_id: Some(CallerIdNumber::parse("057496777").unwrap()),
        max_channels: Some(30),
    }
}

pub async fn trunks_give_the_runtime_their_secrets_and_nobody_else(store: Store) {
    let t = store
        .create_trunk(&admin(), new_trunk("电信中继"))
        .await
        .unwrap();
    assert!(t.has_password && t.has_inbound_password);
    assert_eq!(t.allowed_sources, ["203.0.113.7/32", "10.20.0.0/16"]);
    assert_eq!(t.proxy.as_deref(), Some("sip.carrier.example:5060"));
    assert_eq!(t.kind, TrunkKind::Carrier);
    assert_eq!((t.register, t.register_expires), (true, 600));
    assert_eq!(store.trunk(t.id).await.unwrap(), t);

    let runtime = store.trunks_for_runtime().await.unwrap();
    assert_eq!(runtime.len(), 1);
    let c = &runtime[0];
    assert_eq!(c.password.as_deref(), Some("carrier-secret-77"));
    assert_eq!(c.username.as_deref(), Some("0574880001"));
    assert_eq!(c.inbound_username.as_deref(), Some("pbx-in"));
    assert_eq!(
        c.inbound_ha1_md5.as_deref(),
        Some(secrets("trunk").ha1_md5.as_str())
    );
    assert!(c.allowed_sources[1].contains(&"10.20.3.4".parse::<std::net::IpAddr>().unwrap()));
    assert!(
        !format!("{c:?}").contains("carrier-secret"),
        "Debug hides it"
    );

    let before = audit_count(&store).await;
    let dup = store.create_trunk(&admin(), new_trunk("电信中继")).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(audit_count(&store).await, before);

    let pbx = store
        .update_trunk(
            &admin(),
            t.id,
            TrunkChanges {
                kind: Some(TrunkKind::Pbx),
                password: Some(None),
                username: Some(None),
                register: Some(false),
                inbound: Some(None),
                proxy: Some(Some(SipProxy::parse("[2001:db8::5]:5080").unwrap())),
                transport: Some(SipTransport::Tcp),
                allowed_sources: Some(vec![parse_source("127.0.0.1").unwrap()]),
                max_channels: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!pbx.has_password && !pbx.has_inbound_password);
    assert_eq!(pbx.username, None);
    assert_eq!(pbx.allowed_sources, ["127.0.0.1/32"]);
    assert_eq!(pbx.proxy.as_deref(), Some("[2001:db8::5]:5080"));
    assert_eq!(pbx.transport, SipTransport::Tcp);
    assert_eq!(pbx.max_channels, None);
    assert_eq!(pbx.caller_id.as_deref(), Some("057496777"), "kept");
    let c = &store.trunks_for_runtime().await.unwrap()[0];
    assert_eq!(
        (c.password.as_ref(), c.inbound_ha1_md5.as_ref()),
        (None, None)
    );

    // A route names the trunk: it cannot go until the route does.
    let route = store
        .create_did_route(
            &admin(),
            NewDidRoute {
                number: DidNumber::parse("96777").unwrap(),
                target: RouteTarget::parse("flow", "main").unwrap(),
                trunk_id: Some(t.id),
                description: None,
            },
        )
        .await
        .unwrap();
    let before = audit_count(&store).await;
    assert!(matches!(
        store.delete_trunk(&admin(), t.id).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(audit_count(&store).await, before);
    store.delete_did_route(&admin(), route.id).await.unwrap();
    store.delete_trunk(&admin(), t.id).await.unwrap();
    assert!(store.trunks().await.unwrap().is_empty());
    assert!(matches!(
        store.trunk(t.id).await,
        Err(StoreError::NotFound("trunk"))
    ));

    let text = audit_text(&store).await;
    for action in ["trunk.create", "trunk.update", "trunk.delete"] {
        assert!(text.contains(action), "{action} audited");
    }
    for secret in ["carrier-secret", "md5-", "sha-"] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
}

pub async fn routes_map_called_numbers_to_targets(store: Store) {
    let unit = seed_unit(&store).await;
    let main = store
        .create_did_route(
            &admin(),
            NewDidRoute {
                number: DidNumber::parse("96777").unwrap(),
                target: RouteTarget::parse("flow", "main").unwrap(),
                trunk_id: None,
                description: Some("燃气集团客服热线".into()),
            },
        )
        .await
        .unwrap();
    let found = store.route_for_number("96777").await.unwrap().unwrap();
    assert_eq!(found, main);
    assert_eq!(found.target, RouteTarget::parse("flow", "main").unwrap());
    assert!(store.route_for_number("96778").await.unwrap().is_none());
    assert!(store.route_for_number("").await.unwrap().is_none());

    let before = audit_count(&store).await;
    let route = |number: &str, kind: &str, value: &str, trunk_id| NewDidRoute {
        number: DidNumber::parse(number).unwrap(),
        target: RouteTarget::parse(kind, value).unwrap(),
        trunk_id,
        description: None,
    };
    let dup = store
        .create_did_route(&admin(), route("96777", "queue", "general", None))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let no_ext = store
        .create_did_route(&admin(), route("87001", "extension", "8001", None))
        .await;
    assert!(
        matches!(no_ext, Err(StoreError::NotFound("extension"))),
        "{no_ext:?}"
    );
    let no_trunk = store
        .create_did_route(
            &admin(),
            route("87001", "queue", "general", Some(TrunkId::new())),
        )
        .await;
    assert!(
        matches!(no_trunk, Err(StoreError::NotFound("trunk"))),
        "{no_trunk:?}"
    );
    assert_eq!(audit_count(&store).await, before);

    store
        .create_extension(
            &admin(),
            new_extension("8101", ExtensionOwner::Unit(unit.id)),
        )
        .await
        .unwrap();
    let direct = store
        .create_did_route(&admin(), route("057486001101", "extension", "8101", None))
        .await
        .unwrap();
    assert_eq!(direct.target.kind(), "extension");
    let changed = store
        .update_did_route(
            &admin(),
            direct.id,
            DidRouteChanges {
                target: Some(RouteTarget::parse("prompt", "closed-notice").unwrap()),
                description: Some(Some("夜间".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.target.value(), "closed-notice");
    assert_eq!(changed.description.as_deref(), Some("夜间"));
    let taken = store
        .update_did_route(
            &admin(),
            direct.id,
            DidRouteChanges {
                number: Some(DidNumber::parse("96777").unwrap()),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let numbers: Vec<String> = store
        .did_routes()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.number)
        .collect();
    assert_eq!(numbers, ["057486001101", "96777"]);
    store.delete_did_route(&admin(), direct.id).await.unwrap();
    assert!(matches!(
        store.did_route(direct.id).await,
        Err(StoreError::NotFound("route"))
    ));
    let text = audit_text(&store).await;
    for action in ["route.create", "route.update", "route.delete"] {
        assert!(text.contains(action), "{action} audited");
    }
}

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, h, m, s).unwrap()
}

fn leg(caller: &str, callee: &str, start: DateTime<Utc>, answered: bool) -> NewCallRecord {
    NewCallRecord {
        call_id: format!("{}@10.0.0.1", uuid::Uuid::now_v7()),
        call_uuid: uuid::Uuid::now_v7(),
        direction: CallDirection::Inbound,
        caller: caller.into(),
        callee: callee.into(),
        trunk_id: None,
        extension: None,
        started_at: start,
        answered_at: answered.then(|| start + TimeDelta::seconds(5)),
        ended_at: start + TimeDelta::seconds(65),
        disposition: if answered {
            CallDisposition::Answered
        } else {
            CallDisposition::NoAnswer
        },
        hangup_cause: if answered {
            "normal_clearing".into()
        } else {
            "no_answer".into()
        },
        sip_status: (!answered).then_some(480),
        hangup_side: HangupSide::Caller,
        recording_path: answered.then(|| "recordings/2026/11/26/x.wav".into()),
    }
}

pub async fn call_records_are_written_cheaply_and_found_by_any_filter(store: Store) {
    let audit = audit_count(&store).await;
    let trunk = TrunkId::new();
    let a = store
        .insert_call_record(&leg("13812345678", "96777", at(9, 0, 0), true))
        .await
        .unwrap();
    let mut second = leg("13812345678", "96777", at(10, 0, 0), false);
    second.trunk_id = Some(trunk);
    let b = store.insert_call_record(&second).await.unwrap();
    // Two legs of one outbound call: the agent's phone and the carrier.
    let call = uuid::Uuid::now_v7();
    let mut agent_leg = leg("8001", "057487654321", at(11, 0, 0), true);
    agent_leg.call_uuid = call;
    agent_leg.direction = CallDirection::Outbound;
    agent_leg.extension = Some("8001".into());
    agent_leg.hangup_side = HangupSide::Callee;
    let mut carrier_leg = agent_leg.clone();
    carrier_leg.call_id = "carrier-leg".into();
    carrier_leg.caller = "057496777".into();
    carrier_leg.trunk_id = Some(trunk);
    carrier_leg.extension = None;
    store.insert_call_record(&agent_leg).await.unwrap();
    store.insert_call_record(&carrier_leg).await.unwrap();
    assert_eq!(
        audit_count(&store).await,
        audit,
        "call records are not audited"
    );
    assert_eq!(store.call_record_count().await.unwrap(), 4);

    let first = store.call_record(a).await.unwrap();
    assert_eq!(first.duration_ms, 65_000);
    assert_eq!(first.billable_ms, 60_000);
    assert_eq!(first.disposition, CallDisposition::Answered);
    assert_eq!(first.started_at, at(9, 0, 0));
    assert_eq!(
        first.recording_path.as_deref(),
        Some("recordings/2026/11/26/x.wav")
    );
    let missed = store.call_record(b).await.unwrap();
    assert_eq!((missed.billable_ms, missed.sip_status), (0, Some(480)));
    assert_eq!(missed.trunk_id, Some(trunk));
    assert!(matches!(
        store.call_record(CallRecordId::new()).await,
        Err(StoreError::NotFound("call record"))
    ));

    let find = |q: CallQuery| {
        let store = store.clone();
        async move {
            store
                .call_records(&q, page())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|r| r.call_id)
                .collect::<Vec<_>>()
        }
    };
    let all = find(CallQuery::default()).await;
    assert_eq!(all.len(), 4);
    assert_eq!(all[3], first.call_id, "newest first");
    assert_eq!(
        find(CallQuery {
            caller: Some("13812345678".into()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        find(CallQuery {
            number: Some("057487654321".into()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        find(CallQuery {
            number: Some("8001".into()),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        find(CallQuery {
            callee: Some("96777".into()),
            disposition: Some(CallDisposition::NoAnswer),
            ..Default::default()
        })
        .await,
        [missed.call_id.as_str()]
    );
    assert_eq!(
        find(CallQuery {
            direction: Some(CallDirection::Outbound),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        find(CallQuery {
            trunk_id: Some(trunk),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        find(CallQuery {
            call_uuid: Some(call),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        find(CallQuery {
            from: Some(at(9, 30, 0)),
            to: Some(at(11, 0, 0)),
            ..Default::default()
        })
        .await,
        [missed.call_id.as_str()],
        "from inclusive, to exclusive"
    );

    let p2 = store
        .call_records(
            &CallQuery::default(),
            PageRequest {
                page: 2,
                per_page: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!((p2.total, p2.items.len()), (4, 1));
    assert_eq!(p2.items[0].id, a);

    // Header values from the network are cut, and odd times give no negative durations.
    let mut odd = leg(&"1".repeat(500), "96777", at(12, 0, 0), true);
    odd.call_id = "c".repeat(1000);
    odd.ended_at = at(11, 59, 0);
    odd.hangup_cause = "原因".repeat(100);
    let id = store.insert_call_record(&odd).await.unwrap();
    let r = store.call_record(id).await.unwrap();
    assert_eq!(r.caller.len(), 128);
    assert_eq!(r.call_id.len(), 256);
    assert_eq!(r.hangup_cause.chars().count(), 64);
    assert_eq!((r.duration_ms, r.billable_ms), (0, 0));
}
