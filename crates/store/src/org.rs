//! The organization (units), the people who sign in (users) and their bearer credentials.

use chrono::{DateTime, Utc};
use kefu_domain::{CredentialId, Role, UnitId, UserId, Username};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;

use crate::entities::{credential, unit, user};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, audit, contains_pattern};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    pub id: UnitId,
    pub code: String,
    pub name: String,
    /// call_center, headquarters, branch_office, pipe_network_office, repair_crew, department.
    pub kind: String,
    pub parent_id: Option<UnitId>,
    /// Whether its people answer queue calls (the call center) or only receive transfers (remote sites).
    pub takes_queue_calls: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUnit {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<UnitId>,
    pub takes_queue_calls: bool,
}

#[derive(Debug, Clone, Default)]
pub struct UnitChanges {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub parent_id: Option<Option<UnitId>>,
    pub takes_queue_calls: Option<bool>,
    pub active: Option<bool>,
}

impl From<unit::Model> for Unit {
    fn from(m: unit::Model) -> Unit {
        Unit {
            id: UnitId(m.id),
            code: m.code,
            name: m.name,
            kind: m.kind,
            parent_id: m.parent_id.map(UnitId),
            takes_queue_calls: m.takes_queue_calls,
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A person who signs in. The password hash never leaves the store except through [`Store::login_lookup`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: UnitId,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn user_from(m: user::Model) -> User {
    User {
        id: UserId(m.id),
        username: m.username,
        display_name: m.display_name,
        // Roles are written only from `Role::as_str`; an unknown one (a newer version's) reads as the
        // least privileged.
        role: Role::parse(&m.role).unwrap_or(Role::Auditor),
        unit_id: UnitId(m.unit_id),
        active: m.active,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub unit_id: UnitId,
}

#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub unit_id: Option<UnitId>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A web login: sent as an HttpOnly cookie.
    Session,
    /// An integration's token: sent as `Authorization: Bearer`.
    ApiToken,
}

impl CredentialKind {
    fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::ApiToken => "api_token",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Credential {
    pub id: CredentialId,
    pub kind: CredentialKind,
    pub user_id: UserId,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn credential_from(m: credential::Model) -> Credential {
    Credential {
        id: CredentialId(m.id),
        kind: if m.kind == "api_token" {
            CredentialKind::ApiToken
        } else {
            CredentialKind::Session
        },
        user_id: UserId(m.user_id),
        name: m.name,
        created_at: m.created_at,
        expires_at: m.expires_at,
        last_used_at: m.last_used_at,
        revoked_at: m.revoked_at,
    }
}

/// How often `last_used_at` is written for a busy credential: not on every request.
const LAST_USED_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

impl Store {
    pub async fn units(&self) -> Result<Vec<Unit>> {
        let rows = unit::Entity::find()
            .order_by_asc(unit::Column::Code)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(Unit::from).collect())
    }

    pub async fn unit(&self, id: UnitId) -> Result<Unit> {
        unit::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .map(Unit::from)
            .ok_or(StoreError::NotFound("unit"))
    }

    pub async fn unit_by_code(&self, code: &str) -> Result<Option<Unit>> {
        Ok(unit::Entity::find()
            .filter(unit::Column::Code.eq(code))
            .one(&self.db)
            .await?
            .map(Unit::from))
    }

    pub async fn create_unit(&self, actor: &Actor, new: NewUnit) -> Result<Unit> {
        let tx = self.db.begin().await?;
        if let Some(parent) = new.parent_id {
            unit::Entity::find_by_id(parent.0)
                .one(&tx)
                .await?
                .ok_or(StoreError::NotFound("parent unit"))?;
        }
        let now = Utc::now();
        let model = unit::ActiveModel {
            id: Set(UnitId::new().0),
            code: Set(new.code),
            name: Set(new.name),
            kind: Set(new.kind),
            parent_id: Set(new.parent_id.map(|p| p.0)),
            takes_queue_calls: Set(new.takes_queue_calls),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, "a unit with this code"))?;
        let unit = Unit::from(model);
        audit::record(
            &tx,
            actor,
            "unit.create",
            "unit",
            Some(unit.id.to_string()),
            None::<&()>,
            Some(&unit),
        )
        .await?;
        tx.commit().await?;
        Ok(unit)
    }

    pub async fn update_unit(&self, actor: &Actor, id: UnitId, ch: UnitChanges) -> Result<Unit> {
        let tx = self.db.begin().await?;
        let before = unit::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("unit"))?;
        if let Some(Some(parent)) = ch.parent_id {
            if parent == id {
                return Err(StoreError::Conflict(
                    "a unit cannot be its own parent".into(),
                ));
            }
            unit::Entity::find_by_id(parent.0)
                .one(&tx)
                .await?
                .ok_or(StoreError::NotFound("parent unit"))?;
        }
        let mut am: unit::ActiveModel = before.clone().into();
        if let Some(v) = ch.name {
            am.name = Set(v);
        }
        if let Some(v) = ch.kind {
            am.kind = Set(v);
        }
        if let Some(v) = ch.parent_id {
            am.parent_id = Set(v.map(|p| p.0));
        }
        if let Some(v) = ch.takes_queue_calls {
            am.takes_queue_calls = Set(v);
        }
        if let Some(v) = ch.active {
            am.active = Set(v);
        }
        am.updated_at = Set(Utc::now());
        let after = Unit::from(am.update(&tx).await?);
        let before = Unit::from(before);
        audit::record(
            &tx,
            actor,
            "unit.update",
            "unit",
            Some(id.to_string()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User> {
        let tx = self.db.begin().await?;
        unit::Entity::find_by_id(new.unit_id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("unit"))?;
        let now = Utc::now();
        let model = user::ActiveModel {
            id: Set(UserId::new().0),
            username: Set(new.username.as_str().to_string()),
            display_name: Set(new.display_name),
            password_hash: Set(new.password_hash),
            role: Set(new.role.as_str().to_string()),
            unit_id: Set(new.unit_id.0),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(|e| StoreError::from_write(e, "a user with this username"))?;
        let user = user_from(model);
        audit::record(
            &tx,
            actor,
            "user.create",
            "user",
            Some(user.id.to_string()),
            None::<&()>,
            Some(&user),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn user(&self, id: UserId) -> Result<User> {
        user::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .map(user_from)
            .ok_or(StoreError::NotFound("user"))
    }

    /// For sign-in only: the user and their password hash.
    pub async fn login_lookup(&self, username: &str) -> Result<Option<(User, String)>> {
        let row = user::Entity::find()
            .filter(user::Column::Username.eq(username.to_ascii_lowercase()))
            .one(&self.db)
            .await?;
        Ok(row.map(|m| {
            let hash = m.password_hash.clone();
            (user_from(m), hash)
        }))
    }

    /// `q` matches a username or display-name fragment.
    pub async fn users(&self, q: Option<&str>, page: PageRequest) -> Result<Page<User>> {
        let mut sel = user::Entity::find();
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            let pat = contains_pattern(q);
            sel = sel.filter(
                Condition::any()
                    .add(
                        Expr::col(user::Column::Username)
                            .like(sea_orm::sea_query::LikeExpr::new(pat.clone()).escape('\\')),
                    )
                    .add(
                        Expr::col(user::Column::DisplayName)
                            .like(sea_orm::sea_query::LikeExpr::new(pat).escape('\\')),
                    ),
            );
        }
        let total = sel.clone().count(&self.db).await?;
        let rows = sel
            .order_by_asc(user::Column::Username)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?;
        Ok(Page {
            items: rows.into_iter().map(user_from).collect(),
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    pub async fn update_user(&self, actor: &Actor, id: UserId, ch: UserChanges) -> Result<User> {
        let tx = self.db.begin().await?;
        let before = user::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        if let Some(u) = ch.unit_id {
            unit::Entity::find_by_id(u.0)
                .one(&tx)
                .await?
                .ok_or(StoreError::NotFound("unit"))?;
        }
        let mut am: user::ActiveModel = before.clone().into();
        if let Some(v) = ch.display_name {
            am.display_name = Set(v);
        }
        if let Some(v) = ch.role {
            am.role = Set(v.as_str().to_string());
        }
        if let Some(v) = ch.unit_id {
            am.unit_id = Set(v.0);
        }
        let deactivated = ch.active == Some(false) && before.active;
        if let Some(v) = ch.active {
            am.active = Set(v);
        }
        am.updated_at = Set(Utc::now());
        let after = user_from(am.update(&tx).await?);
        if deactivated {
            revoke_all(&tx, id, None).await?;
        }
        let before = user_from(before);
        audit::record(
            &tx,
            actor,
            "user.update",
            "user",
            Some(id.to_string()),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Sets a new password hash and ends the user's web sessions (all but `keep`, the session that made
    /// the change, if any). API tokens stay valid: integrations are not tied to a person's password.
    pub async fn set_password(
        &self,
        actor: &Actor,
        id: UserId,
        hash: String,
        keep: Option<CredentialId>,
    ) -> Result<()> {
        let tx = self.db.begin().await?;
        let before = user::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        let mut am: user::ActiveModel = before.into();
        am.password_hash = Set(hash);
        am.updated_at = Set(Utc::now());
        am.update(&tx).await?;
        revoke_all(&tx, id, keep).await?;
        // The hash itself is never written to the audit log.
        audit::record(
            &tx,
            actor,
            "user.password",
            "user",
            Some(id.to_string()),
            None::<&()>,
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a new credential. Only the token's hash is kept.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_credential(
        &self,
        actor: &Actor,
        kind: CredentialKind,
        user_id: UserId,
        name: Option<String>,
        token_hash: String,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Credential> {
        let tx = self.db.begin().await?;
        let model = credential::ActiveModel {
            id: Set(CredentialId::new().0),
            kind: Set(kind.as_str().to_string()),
            user_id: Set(user_id.0),
            name: Set(name),
            token_hash: Set(token_hash),
            created_at: Set(Utc::now()),
            expires_at: Set(expires_at),
            last_used_at: Set(None),
            revoked_at: Set(None),
            source_ip: Set(actor.source_ip.clone()),
        }
        .insert(&tx)
        .await?;
        let cred = credential_from(model);
        let action = match kind {
            CredentialKind::Session => "auth.login",
            CredentialKind::ApiToken => "token.create",
        };
        audit::record(
            &tx,
            actor,
            action,
            "credential",
            Some(cred.id.to_string()),
            None::<&()>,
            Some(&cred),
        )
        .await?;
        tx.commit().await?;
        Ok(cred)
    }

    /// The live credential with this hash and its (active) user, or `None`: unknown, revoked, expired,
    /// or the user is deactivated.
    pub async fn authenticate(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Credential, User)>> {
        let Some(cred) = credential::Entity::find()
            .filter(credential::Column::TokenHash.eq(token_hash))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(user) = user::Entity::find_by_id(cred.user_id).one(&self.db).await? else {
            return Ok(None);
        };
        if cred.revoked_at.is_some() || cred.expires_at.is_some_and(|e| e <= now) || !user.active {
            return Ok(None);
        }
        if cred
            .last_used_at
            .is_none_or(|t| now - t >= LAST_USED_RESOLUTION)
        {
            credential::Entity::update_many()
                .col_expr(credential::Column::LastUsedAt, Expr::value(now))
                .filter(credential::Column::Id.eq(cred.id))
                .exec(&self.db)
                .await?;
        }
        Ok(Some((credential_from(cred), user_from(user))))
    }

    pub async fn api_tokens(&self) -> Result<Vec<Credential>> {
        let rows = credential::Entity::find()
            .filter(credential::Column::Kind.eq(CredentialKind::ApiToken.as_str()))
            .order_by_desc(credential::Column::CreatedAt)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(credential_from).collect())
    }

    pub async fn credential(&self, id: CredentialId) -> Result<Credential> {
        credential::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .map(credential_from)
            .ok_or(StoreError::NotFound("credential"))
    }

    /// Revokes one credential (logout, or an admin revoking a token). Revoking twice is not an error.
    pub async fn revoke_credential(&self, actor: &Actor, id: CredentialId) -> Result<()> {
        let tx = self.db.begin().await?;
        let before = credential::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("credential"))?;
        if before.revoked_at.is_none() {
            let mut am: credential::ActiveModel = before.clone().into();
            am.revoked_at = Set(Some(Utc::now()));
            let after = credential_from(am.update(&tx).await?);
            let action = if after.kind == CredentialKind::Session {
                "auth.logout"
            } else {
                "token.revoke"
            };
            let before = credential_from(before);
            audit::record(
                &tx,
                actor,
                action,
                "credential",
                Some(id.to_string()),
                Some(&before),
                Some(&after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed sign-in in the audit log (no transaction of its own to join).
    pub async fn audit_login_failure(
        &self,
        actor: &Actor,
        username: &str,
        reason: &str,
    ) -> Result<()> {
        let detail = serde_json::json!({ "username": username, "reason": reason });
        audit::record(
            &self.db,
            actor,
            "auth.login_failed",
            "user",
            None,
            None::<&()>,
            Some(&detail),
        )
        .await
    }
}

/// Ends every web session of `user` except `keep`.
async fn revoke_all(
    db: &impl sea_orm::ConnectionTrait,
    user: UserId,
    keep: Option<CredentialId>,
) -> Result<()> {
    let mut upd = credential::Entity::update_many()
        .col_expr(credential::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(credential::Column::UserId.eq(user.0))
        .filter(credential::Column::Kind.eq(CredentialKind::Session.as_str()))
        .filter(credential::Column::RevokedAt.is_null());
    if let Some(k) = keep {
        upd = upd.filter(credential::Column::Id.ne(k.0));
    }
    upd.exec(db).await?;
    Ok(())
}
