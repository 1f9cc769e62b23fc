//! Writing the audit trail from use cases, reading it, and verifying it.

use attest_domain::audit::{INSTANCE_CHAIN, canonical_json};
use attest_domain::{OrgId, Timestamp};
use attest_store::Tx;
use attest_store::audit::{
    self as store_audit, ChainReport, Entry, EntryFilter, NewEntry, VerifyScope,
};
use serde::Serialize;

use crate::{App, AppResult, Caller, Permission};

/// The chain an event goes to: an organisation's, or the instance's.
#[derive(Debug, Clone, Copy)]
pub enum Chain {
    /// An organisation's chain.
    Org(OrgId),
    /// Events outside any organisation.
    Instance,
}

impl Chain {
    fn id(self) -> String {
        match self {
            Chain::Org(o) => o.to_string(),
            Chain::Instance => INSTANCE_CHAIN.to_owned(),
        }
    }
}

/// An audit event about to be recorded.
pub struct Event<'a> {
    /// The chain.
    pub chain: Chain,
    /// The action (`member.role_change`).
    pub action: &'a str,
    /// The kind of object.
    pub object_type: &'a str,
    /// The object's id.
    pub object_id: String,
    /// The object before (serialised canonically), if any.
    pub before: Option<serde_json::Value>,
    /// The object after, if any.
    pub after: Option<serde_json::Value>,
}

impl<'a> Event<'a> {
    /// An event in an organisation's chain.
    pub fn org(
        org: OrgId,
        action: &'a str,
        object_type: &'a str,
        object_id: impl ToString,
    ) -> Self {
        Self {
            chain: Chain::Org(org),
            action,
            object_type,
            object_id: object_id.to_string(),
            before: None,
            after: None,
        }
    }

    /// An event in the instance chain.
    pub fn instance(action: &'a str, object_type: &'a str, object_id: impl ToString) -> Self {
        Self {
            chain: Chain::Instance,
            action,
            object_type,
            object_id: object_id.to_string(),
            before: None,
            after: None,
        }
    }

    /// With the object's state before.
    pub fn before<T: Serialize>(mut self, v: &T) -> Self {
        self.before = serde_json::to_value(v).ok();
        self
    }

    /// With the object's state after.
    pub fn after<T: Serialize>(mut self, v: &T) -> Self {
        self.after = serde_json::to_value(v).ok();
        self
    }
}

/// Appends an event inside the use case's transaction.
pub(crate) async fn record(tx: &mut Tx, caller: &Caller, e: Event<'_>) -> AppResult<()> {
    let before = e.before.as_ref().map(canonical_json).unwrap_or_default();
    let after = e.after.as_ref().map(canonical_json).unwrap_or_default();
    let chain = e.chain.id();
    let actor = caller.actor_text();
    store_audit::append(
        tx,
        &NewEntry {
            chain: &chain,
            at: Timestamp::now(),
            actor: &actor,
            action: e.action,
            object_type: e.object_type,
            object_id: &e.object_id,
            before: &before,
            after: &after,
        },
    )
    .await?;
    Ok(())
}

impl App {
    /// The organisation's audit trail, newest first.
    pub async fn audit_entries(
        &self,
        caller: &Caller,
        filter: &EntryFilter,
    ) -> AppResult<Vec<Entry>> {
        let org = caller.require(Permission::AuditTrailRead)?;
        Ok(store_audit::list(&self.store, &org.to_string(), filter).await?)
    }

    /// Verifies every chain of the instance (the `attest verify` command).
    pub async fn verify_audit_trail(&self, scope: VerifyScope) -> AppResult<Vec<ChainReport>> {
        Ok(store_audit::verify_all(&self.store, scope).await?)
    }
}

impl App {
    /// Records a refused request (a forged CSRF token, a cross-site request) in the caller's
    /// organisation's chain, or the instance chain when nobody is signed in.
    pub async fn record_refusal(
        &self,
        caller: &Caller,
        action: &str,
        detail: serde_json::Value,
    ) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        let subject = caller
            .user
            .map(|u| u.to_string())
            .unwrap_or_else(|| caller.ip.clone().unwrap_or_default());
        let e = match caller.org {
            Some(org) => Event::org(org, action, "request", subject),
            None => Event::instance(action, "request", subject),
        };
        record(&mut tx, caller, e.after(&detail)).await?;
        tx.commit().await?;
        Ok(())
    }
}
