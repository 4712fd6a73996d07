//! The demo's IVR data: the queues the hotline flow transfers to and the documents callers can ask
//! for (fax-on-demand). Each is created only when its key is missing, so seeding again changes
//! nothing and an administrator's edits stay.

use kefu_store::{Actor, NewDocument, NewQueue, Store};

use crate::seed::DEMO_USER_EXTENSIONS;

/// (key, name, max wait in seconds).
const QUEUES: &[(&str, &str, i32)] = &[
    ("general", "综合服务", 120),
    ("billing", "账务查询", 120),
    ("emergency", "抢修应急", 60),
    ("complaints", "投诉建议", 180),
];

const PRICE_LIST: &str = "\
燃气价目表（居民生活用气，含税）

一、管道天然气（按年度累计用气量阶梯计价）
第一档：0－310 立方米（含），3.45 元/立方米
第二档：310－520 立方米（含），4.14 元/立方米
第三档：520 立方米以上，5.18 元/立方米
家庭人口 5 人及以上的用户，凭户口簿到营业厅申请后，每增加 1 人各档用气量增加 60 立方米。
执行居民气价的学校、养老院等非居民用户：3.82 元/立方米。

二、瓶装液化石油气（含配送到户）
5 公斤装：45 元/瓶
15 公斤装：118 元/瓶
50 公斤装（商业用户）：385 元/瓶
钢瓶押金：15 公斤瓶 150 元/只，50 公斤瓶 400 元/只（退瓶时凭押金单全额退还）。
6 层及以上无电梯楼层，每层加收上楼费 2 元。

三、其他
燃气表检定、改管、移表等服务按物价部门核定标准收费，收费前工作人员会出示收费标准。
以上价格自 2026 年 1 月 1 日起执行，如有调整以物价部门公布为准。
缴费方式：营业厅、银行代扣、微信、支付宝。客服热线 96777（24 小时）。";

const APPLICATION_FORM: &str = "\
开户申请须知（居民管道燃气）

一、需携带的材料
1. 产权人身份证原件及复印件；
2. 房屋产权证明（不动产权证或购房合同）原件及复印件；
3. 租户办理：另需租赁合同及产权人同意书；
4. 委托他人办理：另需委托书及受托人身份证原件。

二、办理步骤
1. 提交申请：到就近营业厅填写《开户申请表》，或拨打 96777 预约；
2. 现场勘察：受理后 3 个工作日内上门勘察，确定管道走向和表位；
3. 缴纳费用：按勘察结果缴纳安装费（物价部门核定标准）；
4. 施工安装：缴费后 7 个工作日内完成安装；
5. 通气验收：通气前进行安全检查和安全用气宣传，签订《供用气合同》，领取燃气卡。

三、注意事项
燃气具须选用带熄火保护装置的合格产品；禁止私自改装、拆除燃气管道和燃气表。
营业时间：周一至周五 8:30－12:00，13:00－17:30（法定节假日除外）。";

/// Seeds the demo's queues (with the demo agents' extensions that exist as members) and documents
/// whose keys are missing.
pub async fn demo_ivr_data(store: &Store) -> anyhow::Result<()> {
    let actor = Actor::system("demo");
    let existing: Vec<String> = store
        .extensions()
        .await?
        .into_iter()
        .map(|e| e.number)
        .collect();
    let members: Vec<String> = DEMO_USER_EXTENSIONS
        .iter()
        .map(|(_, n)| n.to_string())
        .filter(|n| existing.contains(n))
        .collect();
    for (key, name, max_wait_secs) in QUEUES {
        if store.get_queue_by_key(key).await?.is_none() {
            store
                .create_queue(
                    &actor,
                    NewQueue {
                        key: (*key).into(),
                        name: (*name).into(),
                        members: members.clone(),
                        max_wait_secs: *max_wait_secs,
                        active: true,
                    },
                )
                .await?;
        }
    }
    for (key, title, body) in [
        ("price_list", "燃气价目表", PRICE_LIST),
        ("application_form", "开户申请表", APPLICATION_FORM),
    ] {
        if store.get_document_by_key(key).await?.is_none() {
            store
                .create_document(
                    &actor,
                    NewDocument {
                        key: key.into(),
                        title: title.into(),
                        body: body.into(),
                        file: None,
                    },
                )
                .await?;
        }
    }
    Ok(())
}
