//! Compiles every `.proto` under `moing/` (and the vendored `google/` files they
//! import) into Rust, and writes one descriptor set for reflection and REST
//! transcoding. protoc comes from `protoc-bin-vendored`, so no system install is needed.

use std::{
    env,
    error::Error,
    fs,
    path::{Path, PathBuf},
};

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Box<dyn Error>> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let mut protos = Vec::new();
    collect_protos(&root.join("moing"), &mut protos)?;
    protos.sort();

    // The workspace forbids `unsafe`, so protoc is handed to prost-build's
    // config rather than through `set_var("PROTOC")`.
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let wkt = protoc_bin_vendored::include_path()?;

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("moing_descriptor.bin"))
        .include_file("moing_include.rs")
        // Methods a service has not implemented yet answer UNIMPLEMENTED.
        .generate_default_stubs(true)
        .compile_well_known_types(false)
        .compile_with_config(config, &protos, &[root.clone(), wkt])?;

    println!("cargo:rerun-if-changed=moing");
    println!("cargo:rerun-if-changed=google");
    Ok(())
}
