//! Catalog speed: loading every built-in catalog and mapping set at start (target under
//! 200 ms) and searching across all catalogs (target under 10 ms).
//! Run: `cargo bench -p attest-catalog --bench catalog`.
//!
//! Baselines measured in the same run: parsing the SP 800-53 OSCAL JSON alone with serde_json
//! (the largest input; the load cannot be faster than reading it), and a plain substring scan
//! of every requirement's text (the floor for a search that is not an index lookup).

use std::time::{Duration, Instant};

use attest_catalog::registry::Catalogs;

const SP800_53: &[u8] = include_bytes!(concat!(
    env!("ATTEST_NIST_DATA"),
    "/nist-sp800-53r5/NIST_SP-800-53_rev5_catalog.2021-06-08.json"
));

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn main() {
    let runs = 9;
    let mut base = Vec::new();
    let mut load = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let v: serde_json::Value = serde_json::from_slice(SP800_53).unwrap();
        base.push(t.elapsed());
        std::hint::black_box(v);
        let t = Instant::now();
        let c = Catalogs::load().unwrap();
        load.push(t.elapsed());
        std::hint::black_box(c);
    }
    let (b, l) = (median(base), median(load));
    println!(
        "load      every built-in catalog   median {:7.2} ms   (baseline: parse SP 800-53 JSON {:.2} ms, ratio {:.2}x)  target 200 ms -> {}",
        ms(l),
        ms(b),
        ms(l) / ms(b),
        if ms(l) < 200.0 { "met" } else { "NOT met" }
    );

    let c = Catalogs::load().unwrap();
    let index = c.search();
    let texts: Vec<String> = c
        .frameworks()
        .iter()
        .flat_map(|f| f.requirements.iter())
        .map(|r| format!("{} {}", r.title, r.text.as_deref().unwrap_or_default()).to_lowercase())
        .collect();
    println!("search    {} requirements indexed", index.len());
    let queries = [
        "A.5.15",
        "ac-2",
        "cc6",
        "access control",
        "incident response plan",
        "encrypt",
        "supply chain risk",
        "no such words anywhere",
    ];
    let mut worst = Duration::ZERO;
    for q in queries {
        let mut s = Vec::new();
        let mut floor = Vec::new();
        let mut hits = 0;
        for _ in 0..200 {
            let t = Instant::now();
            hits = index.search(q, 50).len();
            s.push(t.elapsed());
            let t = Instant::now();
            let n = texts.iter().filter(|x| x.contains(q)).count();
            floor.push(t.elapsed());
            std::hint::black_box(n);
        }
        let (s, f) = (median(s), median(floor));
        worst = worst.max(s);
        println!(
            "search    {:<26} {:>3} hits  median {:6.3} ms  (baseline scan {:6.3} ms, ratio {:.2}x)",
            format!("{q:?}"),
            hits,
            ms(s),
            ms(f),
            ms(s) / ms(f)
        );
    }
    println!(
        "search    slowest query median {:.3} ms  target 10 ms -> {}",
        ms(worst),
        if ms(worst) < 10.0 { "met" } else { "NOT met" }
    );
}
