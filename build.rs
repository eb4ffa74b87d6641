// The shipped packs and schemas are embedded in the binary: rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=schemas");
}
