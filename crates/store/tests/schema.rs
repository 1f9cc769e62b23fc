//! Schema-wide checks on both backends.

use attest_domain::org::{Organisation, Slug};
use attest_domain::{OrgId, Timestamp};
use attest_store::testing::TestDb;
use attest_store::{StoreError, backend_test, backup, org};

backend_test!(backup_lists_every_table, |db: TestDb| async move {
    let mut actual = backup::actual_tables(&db.store).await.unwrap();
    actual.sort();
    let mut listed: Vec<String> = backup::TABLES.iter().map(|t| t.name.to_string()).collect();
    listed.sort();
    assert_eq!(
        actual, listed,
        "backup::TABLES must list every table the migrations create"
    );
});

backend_test!(duplicate_slug_names_the_field, |db: TestDb| async move {
    let make = || Organisation {
        id: OrgId::new(),
        slug: Slug::parse("acme").unwrap(),
        name: "Acme".into(),
        created_at: Timestamp::now(),
    };
    let mut tx = db.store.begin().await.unwrap();
    org::insert(&mut tx, &make()).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let err = org::insert(&mut tx, &make()).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Unique { field } if field == "slug"),
        "{err:?}"
    );
});

backend_test!(fresh_database_is_empty, |db: TestDb| async move {
    assert!(backup::is_empty(&db.store).await.unwrap());
    // Migrating twice is harmless.
    assert!(db.store.migrate().await.unwrap().is_empty());
});
