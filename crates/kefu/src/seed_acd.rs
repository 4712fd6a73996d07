//! The demo's agent profiles: the demo agent (extension 8001) serves every queue, the supervisor
//! (8002) helps out on general enquiries. Created only for users without a profile, so seeding again
//! changes nothing and an administrator's edits stay.

use std::collections::BTreeMap;

use kefu_store::{Actor, NewAgent, Store};

/// Skills with their levels (1-10).
type Skills = &'static [(&'static str, u8)];

/// (username, extension, skills).
const AGENTS: &[(&str, &str, Skills)] = &[
    (
        "agent",
        "8001",
        &[
            ("general", 5),
            ("billing", 4),
            ("emergency", 5),
            ("complaints", 3),
        ],
    ),
    ("supervisor", "8002", &[("general", 2), ("complaints", 6)]),
];

pub async fn demo_agents(store: &Store) -> anyhow::Result<()> {
    let actor = Actor::system("demo");
    let users = store
        .users(
            None,
            kefu_store::PageRequest {
                page: 1,
                per_page: kefu_store::PageRequest::MAX_PER_PAGE,
            },
        )
        .await?
        .items;
    let extensions: Vec<String> = store
        .extensions()
        .await?
        .into_iter()
        .map(|e| e.number)
        .collect();
    for (username, extension, skills) in AGENTS {
        let Some(user) = users.iter().find(|u| u.username == *username) else {
            continue;
        };
        if store.agent_by_user(user.id).await?.is_some() {
            continue;
        }
        let skills: BTreeMap<String, u8> =
            skills.iter().map(|(k, l)| (k.to_string(), *l)).collect();
        store
            .create_agent(
                &actor,
                NewAgent {
                    username: username.to_string(),
                    extension: extensions
                        .iter()
                        .any(|e| e == extension)
                        .then(|| extension.to_string()),
                    skills,
                    wrap_up_secs: None,
                    max_missed: None,
                    auto_answer: false,
                },
            )
            .await?;
    }
    Ok(())
}
