//! Both migration trees stay in step.

use std::collections::BTreeSet;
use std::path::Path;

fn tree(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let name = e.file_name().into_string().unwrap();
            for f in ["up.sql", "down.sql"] {
                assert!(e.path().join(f).is_file(), "{backend}/{name} has no {f}");
            }
            name
        })
        .collect()
}

#[test]
fn both_migration_trees_hold_the_same_names() {
    let sqlite = tree("sqlite");
    let postgres = tree("postgres");

    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres differ");
}
