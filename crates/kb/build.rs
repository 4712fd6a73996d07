//! Rebuild when the demo KB changes: rust-embed compiles `demo/` in, and a new file there is not
//! something cargo would otherwise notice.
fn main() {
    println!("cargo:rerun-if-changed=demo");
}
