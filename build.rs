// `sqlx::migrate!` embeds migrations/ at compile time, but on stable Rust the
// compiler does not know it read those files: without this, editing a
// migration would not rebuild the binary that embeds it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
