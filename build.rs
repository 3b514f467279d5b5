//! The web app's built assets are embedded in the binary (src/http/web.rs). When they
//! have not been built (`make web`), a placeholder page stands in, so the service
//! still compiles and runs; `make run` and `make test` always build the real app.

use std::path::Path;

fn main() {
    let dist = Path::new("web/dist");
    println!("cargo:rerun-if-changed=web/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(dist).expect("create web/dist");
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Authenticon</title></head>\
             <body><h1>Authenticon</h1><p>The web app has not been built: run <code>make web</code> \
             (or <code>make run</code>) and restart.</p></body></html>\n",
        )
        .expect("write placeholder");
    }
}
