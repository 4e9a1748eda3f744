//! Writes a benchmark scenario with N independent services, each with its own client group,
//! sharing a fixed total arrival rate, so that the number of events does not depend on N
//! and `squall bench` shows the cost per event as the model grows:
//!
//! ```text
//! cargo run --release --example many_services -- 1000 > /tmp/services-1000.ron
//! target/release/squall bench /tmp/services-1000.ron
//! ```
//!
//! Arguments: the number of services (default 1000) and the total rate per second (default
//! 3000). Each service has 2 replicas of 4 workers and exponential work with a 2 ms mean.

use std::fmt::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().map_or(1000, |a| a.parse().expect("the number of services"));
    let rate: f64 = args.next().map_or(3000.0, |a| a.parse().expect("the total rate per second"));
    assert!(n > 0, "at least one service");
    let per = rate / f64::from(n);
    let mut out = String::new();
    writeln!(out, "Scenario(\n    name: \"services-{n}\",\n    seed: 3,\n    duration: \"60s\",")
        .expect("writing to a String cannot fail");
    out.push_str("    services: {\n");
    for i in 0..n {
        writeln!(
            out,
            "        \"s{i}\": (replicas: 2, workers: 4, endpoints: {{\"get\": (work: Exponential(mean: \"2ms\"))}}),"
        )
        .expect("writing to a String cannot fail");
    }
    out.push_str("    },\n    clients: {\n");
    for i in 0..n {
        writeln!(
            out,
            "        \"c{i}\": (target: (service: \"s{i}\", endpoint: \"get\"), arrivals: Poisson(rate: {per})),"
        )
        .expect("writing to a String cannot fail");
    }
    out.push_str("    },\n)\n");
    print!("{out}");
}
