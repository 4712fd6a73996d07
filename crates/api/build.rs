//! The web app is embedded from `web/dist` at compile time (rust-embed). Cargo tracks the embedded
//! files, but not files that did not exist yet: a kefu-api built before `npm run build` kept serving the
//! "web app not built" page. Watching the folder rebuilds it when the web app is (re)built.
fn main() {
    println!("cargo:rerun-if-changed=../../web/dist");
}
