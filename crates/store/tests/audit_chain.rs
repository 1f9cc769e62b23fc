//! The audit trail on both backends: appends, concurrent writers, and tampering detection.

use attest_domain::Timestamp;
use attest_domain::audit::ChainBreak;
use attest_store::audit::{self, NewEntry, VerifyScope};
use attest_store::testing::TestDb;
use attest_store::{Store, backend_test};

async fn append_n(store: &Store, chain: &str, n: usize) {
    for i in 0..n {
        let mut tx = store.begin().await.unwrap();
        let after = format!("{{\"i\":{i}}}");
        audit::append(
            &mut tx,
            &NewEntry {
                chain,
                at: Timestamp::now(),
                actor: "cli",
                action: "thing.create",
                object_type: "thing",
                object_id: &i.to_string(),
                before: "",
                after: &after,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

async fn report(store: &Store, chain: &str) -> (i64, Option<ChainBreak>) {
    let r = audit::verify_all(store, VerifyScope::Full).await.unwrap();
    let r = r
        .into_iter()
        .find(|r| r.chain == chain)
        .expect("chain reported");
    (r.verified, r.broken)
}

async fn exec(db: &TestDb, sql: &'static str) {
    sqlx::query(sql).execute(db.store.pool()).await.unwrap();
}

backend_test!(intact_chain_verifies, |db: TestDb| async move {
    append_n(&db.store, "c1", 5).await;
    append_n(&db.store, "c2", 3).await;
    assert_eq!(report(&db.store, "c1").await, (5, None));
    assert_eq!(report(&db.store, "c2").await, (3, None));
    // The instance chain exists from the first migration.
    assert_eq!(report(&db.store, "instance").await, (0, None));
});

backend_test!(edited_entry_is_detected, |db: TestDb| async move {
    append_n(&db.store, "c1", 5).await;
    exec(&db, "UPDATE audit_log SET entry = REPLACE(entry, 'cli', 'user:mallory') WHERE chain = 'c1' AND seq = 3").await;
    assert_eq!(
        report(&db.store, "c1").await,
        (2, Some(ChainBreak::Altered { seq: 3 }))
    );
});

backend_test!(edited_search_column_is_detected, |db: TestDb| async move {
    append_n(&db.store, "c1", 5).await;
    exec(
        &db,
        "UPDATE audit_log SET object_id = 'elsewhere' WHERE chain = 'c1' AND seq = 4",
    )
    .await;
    assert_eq!(
        report(&db.store, "c1").await,
        (5, Some(ChainBreak::IndexMismatch { seq: 4 }))
    );
    // The chain itself is intact, and listing shows what was recorded, not the edited column.
    let chain_only = audit::verify_all(&db.store, VerifyScope::Chain)
        .await
        .unwrap();
    assert!(chain_only.iter().all(|r| r.broken.is_none()));
});

backend_test!(swapped_hash_is_detected, |db: TestDb| async move {
    append_n(&db.store, "c1", 5).await;
    // Rewrite entry 2 and give it another entry's hash.
    exec(&db, "UPDATE audit_log SET entry = REPLACE(entry, 'cli', 'user:mallory'), hash = (SELECT hash FROM audit_log WHERE chain = 'c1' AND seq = 1) WHERE chain = 'c1' AND seq = 2").await;
    let (verified, broken) = report(&db.store, "c1").await;
    assert_eq!(verified, 1);
    assert_eq!(broken, Some(ChainBreak::Altered { seq: 2 }));
});

backend_test!(deleted_entry_is_detected, |db: TestDb| async move {
    append_n(&db.store, "c1", 5).await;
    exec(&db, "DELETE FROM audit_log WHERE chain = 'c1' AND seq = 2").await;
    let (verified, broken) = report(&db.store, "c1").await;
    assert_eq!(verified, 1);
    assert!(
        matches!(
            broken,
            Some(ChainBreak::Gap {
                expected: 2,
                found: 3,
                ..
            })
        ),
        "{broken:?}"
    );
});

backend_test!(deleted_last_entry_is_detected, |db: TestDb| async move {
    append_n(&db.store, "c1", 5).await;
    exec(&db, "DELETE FROM audit_log WHERE chain = 'c1' AND seq = 5").await;
    assert_eq!(
        report(&db.store, "c1").await,
        (4, Some(ChainBreak::Truncated { last: 4, head: 5 }))
    );
});

backend_test!(reordered_entries_are_detected, |db: TestDb| async move {
    append_n(&db.store, "c1", 5).await;
    exec(
        &db,
        "UPDATE audit_log SET seq = -1 WHERE chain = 'c1' AND seq = 2",
    )
    .await;
    exec(
        &db,
        "UPDATE audit_log SET seq = 2 WHERE chain = 'c1' AND seq = 3",
    )
    .await;
    exec(
        &db,
        "UPDATE audit_log SET seq = 3 WHERE chain = 'c1' AND seq = -1",
    )
    .await;
    assert_eq!(
        report(&db.store, "c1").await,
        (1, Some(ChainBreak::Malformed { seq: 2 }))
    );
});

backend_test!(rewritten_head_is_detected, |db: TestDb| async move {
    append_n(&db.store, "c1", 3).await;
    exec(&db, "UPDATE audit_heads SET hash = (SELECT prev_hash FROM audit_log WHERE chain = 'c1' AND seq = 3) WHERE chain = 'c1'").await;
    let (_, broken) = report(&db.store, "c1").await;
    assert_eq!(broken, Some(ChainBreak::HeadMismatch { seq: 3 }));
});

backend_test!(
    concurrent_writers_append_in_order,
    |db: TestDb| async move {
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let store = db.store.clone();
            tasks.push(tokio::spawn(
                async move { append_n(&store, "busy", 20).await },
            ));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(report(&db.store, "busy").await, (120, None));
    }
);

backend_test!(
    failed_transaction_leaves_no_entry,
    |db: TestDb| async move {
        append_n(&db.store, "c1", 2).await;
        {
            let mut tx = db.store.begin().await.unwrap();
            audit::append(
                &mut tx,
                &NewEntry {
                    chain: "c1",
                    at: Timestamp::now(),
                    actor: "cli",
                    action: "thing.create",
                    object_type: "thing",
                    object_id: "x",
                    before: "",
                    after: "",
                },
            )
            .await
            .unwrap();
            tx.rollback().await.unwrap();
        }
        assert_eq!(report(&db.store, "c1").await, (2, None));
    }
);
