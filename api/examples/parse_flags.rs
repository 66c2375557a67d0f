//! Parses an agent's `--resources` and (optionally) `--attributes` values and prints what
//! meso makes of them: the canonical text form, the Mesos JSON and the totals.
//!
//! ```sh
//! cargo run -p meso-api --example parse_flags -- \
//!     'cpus:24;gpus:2;mem:24576;disk:409600;ports:[21000-24000,30000-34000];bugs(debug_role):{a,b,c}' \
//!     'rack:abc;zone:west;os:centos5;level:10;keys:[1000-1500]'
//! ```
//!
//! Exits with status 2 and the typed error's message on bad input.

use meso_api::attributes::Attributes;
use meso_api::Resources;

fn main() {
    let mut args = std::env::args().skip(1);
    let resources = args.next().unwrap_or_else(|| {
        "cpus:4;mem:2048;cpus(ops):8;mem(ops):4096;ports:[31000-32000]".to_string()
    });
    let parsed = match Resources::parse(&resources, "*") {
        Ok(r) => r,
        Err(e) => {
            eprintln!("--resources: {e}");
            std::process::exit(2);
        }
    };
    println!("resources: {parsed}");
    println!("json: {}", meso_api::json::to_string(&parsed));
    let show = |v: Option<meso_api::Scalar>| v.map_or("-".to_string(), |s| s.to_string());
    println!(
        "cpus: {}  mem: {} MB  disk: {} MB  ports: {}",
        show(parsed.cpus()),
        show(parsed.mem()),
        show(parsed.disk()),
        parsed.ports().map_or("-".to_string(), |p| p.to_string())
    );
    for (role, reserved) in parsed.reservations() {
        println!("reserved for {role}: {reserved}");
    }
    if let Some(attributes) = args.next() {
        match Attributes::parse(&attributes) {
            Ok(a) => {
                println!("attributes: {a}");
                println!("json: {}", meso_api::json::to_string(&a));
            }
            Err(e) => {
                eprintln!("--attributes: {e}");
                std::process::exit(2);
            }
        }
    }
}
