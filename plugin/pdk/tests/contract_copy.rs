//! The crate carries its own copy of the contract (`wit/forum.wit`) so that it can be published; inside the Cadre
//! repository that copy must stay byte for byte `wit/0.2.0/forum.wit`, the version the host speaks. (Outside the
//! repository, e.g. from crates.io, there is nothing to compare with and the test says so.)

use std::path::Path;

#[test]
fn the_carried_wit_is_the_repositorys_wit_0_2_0_byte_for_byte() {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit/0.2.0/forum.wit");
    let Ok(expected) = std::fs::read_to_string(&repository) else {
        eprintln!("not inside the Cadre repository ({} is absent): nothing to compare", repository.display());
        return;
    };
    assert!(
        cadre_pdk::WIT == expected,
        "plugin/pdk/wit/forum.wit differs from wit/0.2.0/forum.wit: copy it again \
         (cp wit/0.2.0/forum.wit plugin/pdk/wit/forum.wit)"
    );
    assert!(expected.contains("package cadre:forum@0.2.0;"), "the contract version is {}", cadre_pdk::CONTRACT);
}
