//! Generates the Kotlin and Swift bindings from the compiled library.
fn main() {
    uniffi::uniffi_bindgen_main()
}
