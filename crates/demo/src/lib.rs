//! The demo tenant that `kefu serve --demo` seeds: the gas group's organization, one user per role,
//! and any number of customers with a year of bills and payments.
//!
//! Architecture invariant: this crate does no I/O and reads no clock. `today` and `seed` are
//! parameters, and the same `(count, seed, today)` always yields the same data — tests, screenshots and
//! benchmarks rely on it. Every value is built through the `kefu-domain` parsers, so the demo data
//! passes the checks user input does. The caller persists it.

mod customers;
mod rng;
mod words;

use kefu_domain::Role;

pub use customers::{Customers, MAX_CUSTOMERS, customers};

/// The password of every demo user. The demo is for trying kefu out, never for production data.
pub const DEMO_PASSWORD: &str = "Kefu@2026";

/// One unit of the organization. `kind` is one of `call_center`, `headquarters`, `branch_office`,
/// `pipe_network_office`, `repair_crew`; `parent_code` names another unit of [`units`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitSeed {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub parent_code: Option<&'static str>,
    pub takes_queue_calls: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserSeed {
    pub username: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub unit_code: &'static str,
}

/// The organization of VISION.md, parents before children: the group headquarters at the root, the
/// call center, two branch offices, the pipe network office and its repair crews.
pub fn units() -> Vec<UnitSeed> {
    let unit = |code, name, kind, parent_code, takes_queue_calls| UnitSeed {
        code,
        name,
        kind,
        parent_code,
        takes_queue_calls,
    };
    vec![
        unit("HQ", "集团公司", "headquarters", None, false),
        unit("CC", "客服中心", "call_center", Some("HQ"), true),
        unit("BL", "北仑分理处", "branch_office", Some("HQ"), false),
        unit("ZH", "镇海分理处", "branch_office", Some("HQ"), false),
        unit("PN", "管网所", "pipe_network_office", Some("HQ"), false),
        unit("RC1", "抢修一班", "repair_crew", Some("PN"), false),
        unit("RC2", "抢修二班", "repair_crew", Some("PN"), false),
        unit("RC3", "北仑抢修班", "repair_crew", Some("BL"), false),
    ]
}

/// One user per role, all with [`DEMO_PASSWORD`].
pub fn users() -> Vec<UserSeed> {
    let user = |username, display_name, role, unit_code| UserSeed {
        username,
        display_name,
        role,
        unit_code,
    };
    vec![
        user("admin", "周建明", Role::Admin, "HQ"),
        user("supervisor", "陈丽娟", Role::Supervisor, "CC"),
        user("agent", "王晓燕", Role::Agent, "CC"),
        user("site", "俞国平", Role::SiteStaff, "BL"),
        user("auditor", "林海峰", Role::Auditor, "HQ"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::Username;

    #[test]
    fn units_hold_the_organization_of_the_vision() {
        let units = units();
        for name in ["集团公司", "客服中心", "北仑分理处", "镇海分理处", "管网所"]
        {
            assert!(units.iter().any(|u| u.name == name), "{name} missing");
        }
        assert!(units.iter().any(|u| u.kind == "repair_crew"));
        let kinds = [
            "call_center",
            "headquarters",
            "branch_office",
            "pipe_network_office",
            "repair_crew",
        ];
        for (i, u) in units.iter().enumerate() {
            assert!(kinds.contains(&u.kind), "{}: {}", u.code, u.kind);
            assert_eq!(
                units.iter().filter(|v| v.code == u.code).count(),
                1,
                "{} twice",
                u.code
            );
            // Parents come first, so the caller can insert in order.
            if let Some(p) = u.parent_code {
                assert!(
                    units[..i].iter().any(|v| v.code == p),
                    "{}: parent {p}",
                    u.code
                );
            }
        }
        assert_eq!(units.iter().filter(|u| u.parent_code.is_none()).count(), 1);
        let queue: Vec<_> = units
            .iter()
            .filter(|u| u.takes_queue_calls)
            .map(|u| u.code)
            .collect();
        assert_eq!(queue, ["CC"]);
    }

    #[test]
    fn one_user_per_role() {
        let users = users();
        let units = units();
        for role in Role::ALL {
            assert_eq!(
                users.iter().filter(|u| u.role == *role).count(),
                1,
                "{role}"
            );
        }
        assert_eq!(users.len(), Role::ALL.len());
        for u in &users {
            assert_eq!(Username::parse(u.username).unwrap().as_str(), u.username);
            assert!(
                units.iter().any(|unit| unit.code == u.unit_code),
                "{}",
                u.unit_code
            );
            assert!(kefu_domain::bounded_text(u.display_name, 1, 60).is_ok());
        }
        let site = users.iter().find(|u| u.role == Role::SiteStaff).unwrap();
        assert_eq!(
            units
                .iter()
                .find(|u| u.code == site.unit_code)
                .unwrap()
                .kind,
            "branch_office"
        );
    }
}
