//! The demo's IVR flow: the gas company's hotline (`kefu_ivr::demo`), saved as version 1 of flow
//! `main` (what the service number 96777 is routed to) and published.

use kefu_store::{Actor, NewIvrFlow, Store};

/// Seeds flow `main` unless a flow with that key exists. Returns whether it seeded.
pub async fn demo_flows(store: &Store) -> anyhow::Result<bool> {
    if store.unit_by_code("CC").await?.is_none() || store.ivr_flow_by_key("main").await?.is_some() {
        return Ok(false);
    }
    let actor = Actor::system("demo");
    let flow = store
        .create_ivr_flow(
            &actor,
            NewIvrFlow {
                key: "main".into(),
                name: "燃气服务热线 96777".into(),
                description: "主菜单：1 业务咨询，2 账单查询，3 故障报修（燃气泄漏直转抢修），4 工单进度，5 投诉建议，6 资料索取，0 人工；人工服务后满意度评价。".into(),
                graph: Some(kefu_ivr::demo::main_flow()),
                note: "演示流程".into(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo IVR flow: {e}"))?;
    store
        .publish_ivr_version(&actor, flow.id, 1)
        .await
        .map_err(|e| anyhow::anyhow!("publishing the demo IVR flow: {e}"))?;
    tracing::info!("demo IVR flow `main` seeded and published");
    Ok(true)
}
