//! Inventory TOML (validated against both built-in catalogs), from any bytes
//! read as lossy UTF-8 like a user's file would be after decoding.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

use flowlint::catalog::CatalogSet;
use flowlint::inventory::Inventory;

fn catalogs() -> &'static CatalogSet {
    static CATALOGS: OnceLock<CatalogSet> = OnceLock::new();
    CATALOGS.get_or_init(|| CatalogSet::load(&[]).expect("built-in catalogs load"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(inv) = Inventory::parse(&text, "fuzz.toml", catalogs()) {
        // Port changes are applied to a copy as `check` does.
        let mut set = catalogs().clone();
        let _ = set.apply_port_changes(&inv.port_changes);
        let _ = inv.lookup("192.0.2.1".parse().expect("address"));
        let _ = inv.lookup("2001:db8::1".parse().expect("address"));
    }
});
