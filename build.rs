// The shipped packs, schemas and report templates are embedded in the binary: rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=schemas");
    println!("cargo:rerun-if-changed=engine/templates");
}
