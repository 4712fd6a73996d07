//! Who may do what. Roles are fixed by the product; what each role may do is this one table, checked
//! on every API route (the route table in `kefu-api` names a [`Permission`] for each route).

use crate::FieldError;
use crate::keyword_enum;

keyword_enum!(
    Role { Admin = "admin", Supervisor = "supervisor", Agent = "agent", SiteStaff = "site_staff", Auditor = "auditor" }
);

impl Role {
    fn from_chinese(s: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.label_zh() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::Supervisor => "班长",
            Role::Agent => "坐席",
            Role::SiteStaff => "站点人员",
            Role::Auditor => "审计员",
        }
    }

    pub fn can(self, p: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match p {
            // Everyone signed in may see who they are, sign out and change their own password.
            OwnAccount | UnitsRead => true,
            CustomersRead => matches!(self, Admin | Supervisor | Agent | SiteStaff | Auditor),
            CustomersWrite => matches!(self, Admin | Supervisor | Agent),
            PaymentsWrite => matches!(self, Admin | Supervisor),
            ImportsRun => matches!(self, Admin),
            ImportsRead => matches!(self, Admin | Supervisor | Auditor),
            UsersRead => matches!(self, Admin | Supervisor | Auditor),
            UsersWrite | UnitsWrite | TokensManage => matches!(self, Admin),
            AuditRead => matches!(self, Admin | Auditor),
            // Phones, trunks and routing: configured by the administrator, watched by supervisors.
            TelephonyRead => matches!(self, Admin | Supervisor),
            TelephonyManage => matches!(self, Admin),
            // Call records: agents look up the calls they and their colleagues handled; the auditor
            // reads them as everything else. Remote sites work from work orders, not call logs.
            CallsRead => matches!(self, Admin | Supervisor | Agent | Auditor),
            // Work orders: everyone reads (site staff only their own unit's, enforced by the API);
            // the call center creates them; what each person may do to an order is the lifecycle's
            // rule (kefu_workorders::lifecycle), the auditor never acts.
            WorkOrdersRead | NotificationsOwn => true,
            WorkOrdersCreate | StatusQuery => matches!(self, Admin | Supervisor | Agent),
            WorkOrdersAct | AttachmentsUpload => !matches!(self, Auditor),
            WorkOrdersExport => matches!(self, Admin | Supervisor | Agent | Auditor),
            WorkOrderTypesManage => matches!(self, Admin),
            CalendarsManage => matches!(self, Admin | Supervisor),
            // IVR flows and prompts: business staff (supervisors) design and publish them without
            // programming; the auditor reads them and their funnels.
            IvrRead => matches!(self, Admin | Supervisor | Auditor),
            IvrManage => matches!(self, Admin | Supervisor),
            // The ACD: agents see the roster (for transfers) and work their own state, calls and
            // tasks; supervisors watch the wallboard, force states and listen, whisper or barge; the
            // administrator sets up agent profiles and webhooks. Recordings: the agent who took the
            // call (enforced by the API), supervisors, the administrator and the auditor.
            AgentsRead => matches!(self, Admin | Supervisor | Agent | Auditor),
            AgentDesk => matches!(self, Admin | Supervisor | Agent),
            AcdSupervise => matches!(self, Admin | Supervisor),
            AcdReports => matches!(self, Admin | Supervisor | Auditor),
            AgentsManage | WebhooksManage => matches!(self, Admin),
            RecordingsPlay => matches!(self, Admin | Supervisor | Agent | Auditor),
            // The knowledge base: everyone signed in reads it (internal articles included); agents
            // and supervisors write drafts and submit them; supervisors approve (publish); the
            // administrator runs the structure (categories, synonyms, import/export).
            KbRead => true,
            KbEdit => matches!(self, Admin | Supervisor | Agent),
            KbApprove => matches!(self, Admin | Supervisor),
            KbManage => matches!(self, Admin),
        }
    }

    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(|&p| self.can(p))
            .collect()
    }
}

keyword_enum!(
    Permission {
        OwnAccount = "own_account",
        UnitsRead = "units.read",
        UnitsWrite = "units.write",
        UsersRead = "users.read",
        UsersWrite = "users.write",
        CustomersRead = "customers.read",
        CustomersWrite = "customers.write",
        PaymentsWrite = "payments.write",
        ImportsRun = "imports.run",
        ImportsRead = "imports.read",
        AuditRead = "audit.read",
        TokensManage = "tokens.manage",
        TelephonyRead = "telephony.read",
        TelephonyManage = "telephony.manage",
        CallsRead = "calls.read",
        WorkOrdersRead = "work_orders.read",
        WorkOrdersCreate = "work_orders.create",
        WorkOrdersAct = "work_orders.act",
        WorkOrdersExport = "work_orders.export",
        WorkOrderTypesManage = "work_order_types.manage",
        CalendarsManage = "calendars.manage",
        StatusQuery = "work_orders.status_query",
        AttachmentsUpload = "attachments.upload",
        NotificationsOwn = "notifications.own",
        IvrRead = "ivr.read",
        IvrManage = "ivr.manage",
        AgentsRead = "agents.read",
        AgentDesk = "agents.desk",
        AcdSupervise = "acd.supervise",
        AcdReports = "acd.reports",
        AgentsManage = "agents.manage",
        WebhooksManage = "webhooks.manage",
        RecordingsPlay = "recordings.play",
        KbRead = "kb.read",
        KbEdit = "kb.edit",
        KbApprove = "kb.approve",
        KbManage = "kb.manage",
    }
);

impl Permission {
    fn from_chinese(_: &str) -> Option<Permission> {
        None
    }
}

/// A login name: 3-32 of `a-z 0-9 . _ -`, lower-case, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(input: &str) -> Result<Username, FieldError> {
        let s = input.trim().to_ascii_lowercase();
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        let ok_first = s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
        if (3..=32).contains(&s.len()) && ok_chars && ok_first {
            Ok(Username(s))
        } else {
            Err(FieldError::new(
                "",
                "a username has 3-32 characters: a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditor_reads_but_never_writes() {
        for p in Permission::ALL {
            let writes = matches!(
                p,
                Permission::UnitsWrite
                    | Permission::UsersWrite
                    | Permission::CustomersWrite
                    | Permission::PaymentsWrite
                    | Permission::ImportsRun
                    | Permission::TokensManage
                    | Permission::TelephonyManage
                    | Permission::WorkOrdersCreate
                    | Permission::WorkOrdersAct
                    | Permission::WorkOrderTypesManage
                    | Permission::CalendarsManage
                    | Permission::StatusQuery
                    | Permission::AttachmentsUpload
                    | Permission::AgentDesk
                    | Permission::AcdSupervise
                    | Permission::AgentsManage
                    | Permission::WebhooksManage
                    | Permission::KbEdit
                    | Permission::KbApprove
                    | Permission::KbManage
            );
            if writes {
                assert!(!Role::Auditor.can(*p), "auditor must not have {p}");
            }
        }
        assert!(Role::Auditor.can(Permission::AuditRead));
        assert!(Role::Auditor.can(Permission::CallsRead));
    }

    #[test]
    fn only_the_admin_configures_telephony() {
        for r in Role::ALL {
            assert_eq!(r.can(Permission::TelephonyManage), *r == Role::Admin, "{r}");
        }
        assert!(Role::Supervisor.can(Permission::TelephonyRead));
        assert!(!Role::Agent.can(Permission::TelephonyRead));
        assert!(Role::Agent.can(Permission::CallsRead));
        assert!(!Role::SiteStaff.can(Permission::CallsRead));
    }

    #[test]
    fn usernames() {
        assert_eq!(Username::parse("Agent01").unwrap().as_str(), "agent01");
        for bad in ["ab", "-abc", "a b c", "张三丰", "x'; --"] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }
}
