//! Must provoke: contract mismatch at load. Exports `cadre:forum/program@0.9.0`, a version this host does not speak (it speaks 0.1.0 and 0.2.0).
#![no_std]

extern crate alloc;
extern crate cadre_guest_rt;

wit_bindgen::generate!({
    path: "wit",
    world: "plugin",
});

struct WrongVersion;

impl exports::cadre::forum::program::Guest for WrongVersion {
    fn describe() -> alloc::string::String {
        "wrong-version".into()
    }
}

export!(WrongVersion);
