//! The `attest` binary as a user runs it: a fresh data directory, SQLite, the program commands.

use std::path::Path;
use std::process::{Command, Output};

fn attest(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attest"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("ATTEST_CONFIG")
        .env_remove("ATTEST_ORG")
        .env_remove("ATTEST_DATABASE_URL")
        .output()
        .expect("run attest")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = attest(dir, args);
    assert!(
        out.status.success(),
        "attest {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().unwrap();
    assert!(ok(dir.path(), &["--version"]).contains(env!("CARGO_PKG_VERSION")));
    let help = ok(dir.path(), &["--help"]);
    for cmd in [
        "serve",
        "init",
        "verify",
        "backup",
        "framework",
        "control",
        "coverage",
    ] {
        assert!(help.contains(cmd), "--help lists {cmd}:\n{help}");
    }
}

#[test]
fn frameworks_controls_and_coverage_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        d,
        &["init", "--org", "Acme Cloud", "--email", "owner@acme.test"],
    );

    let list: serde_json::Value =
        serde_json::from_str(&ok(d, &["framework", "list", "--format", "json"])).unwrap();
    let count = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing from {list}"))["requirement_count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("soc2-tsc-2017"), 61);
    assert_eq!(count("iso27001-2013"), 114);
    for f in list.as_array().unwrap() {
        for k in ["id", "name", "version", "publisher"] {
            assert!(f[k].as_str().is_some_and(|s| !s.is_empty()), "{k} of {f}");
        }
    }

    ok(
        d,
        &[
            "control",
            "add",
            "AC-01",
            "--title",
            "Access control policy",
            "--status",
            "implemented",
        ],
    );
    // Proposals are made for the frameworks the organisation uses.
    ok(d, &["framework", "use", "soc2-tsc-2017"]);
    ok(d, &["control", "link", "AC-01", "iso27001-2022", "A.5.15"]);
    let show: serde_json::Value =
        serde_json::from_str(&ok(d, &["control", "show", "AC-01", "--format", "json"])).unwrap();
    assert!(
        show.to_string().contains("CC6.1"),
        "the mappings propose CC6.1: {show}"
    );
    ok(d, &["control", "accept", "AC-01", "soc2-tsc-2017", "CC6.1"]);
    let cov = ok(d, &["coverage", "--framework", "soc2-tsc-2017"]);
    let line = cov
        .lines()
        .find(|l| l.contains("CC6.1"))
        .unwrap_or_else(|| panic!("CC6.1 in:\n{cov}"));
    assert!(line.to_lowercase().contains("partial"), "{line}");

    // A bad import exits non-zero, names every problem, and imports nothing.
    let bad = d.join("bad.yaml");
    std::fs::write(
        &bad,
        "id: bad\nname: Bad\nversion: \"1\"\npublisher: Me\nrequirements:\n  - id: X-1\n    title: A\n  - id: X-1\n    title: B\n",
    )
    .unwrap();
    let out = attest(d, &["framework", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("X-1"), "{err}");
    assert!(!ok(d, &["framework", "list"]).contains("bad "));

    // The MODERATE baseline exports as its resolved catalog.
    let file = d.join("moderate.json");
    ok(
        d,
        &[
            "framework",
            "export",
            "nist-800-53r5-moderate",
            "--format",
            "oscal",
            "--output",
            file.to_str().unwrap(),
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(doc["catalog"]["groups"].is_array());

    // The audit trail holds all of it and verifies.
    ok(d, &["verify"]);
}

fn blob_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join("blobs")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn evidence_from_the_command_line_and_verify_finds_damaged_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        d,
        &["init", "--org", "Proof", "--email", "owner@proof.test"],
    );
    ok(
        d,
        &[
            "control",
            "add",
            "BK-1",
            "--title",
            "Backups",
            "--status",
            "implemented",
        ],
    );
    let file = d.join("restore-test.txt");
    std::fs::write(&file, "restore test passed\n").unwrap();
    let out = ok(
        d,
        &[
            "evidence",
            "add",
            "--control",
            "BK-1",
            "--from",
            "2026-01-01",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.contains("added restore-test.txt"), "{out}");
    assert!(out.contains("text/plain"), "{out}");
    let list: serde_json::Value =
        serde_json::from_str(&ok(d, &["evidence", "list", "--format", "json"])).unwrap();
    assert_eq!(list[0]["source"], "cli");
    assert_eq!(list[0]["effective_from"], "2026-01-01");
    let bad = attest(
        d,
        &[
            "evidence",
            "add",
            "--control",
            "NOPE",
            file.to_str().unwrap(),
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("NOPE"));

    let verify = ok(d, &["verify"]);
    assert!(verify.contains("1 evidence files"), "{verify}");

    // Corrupt the file on disk: verify fails and names it.
    let blobs = blob_files(d);
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    std::fs::write(&blobs[0], "tampered\n").unwrap();
    let out = attest(d, &["verify"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CORRUPT"), "{text}");

    // Delete it: missing. A file nobody recorded: orphaned.
    std::fs::remove_file(&blobs[0]).unwrap();
    let org_dir = blobs[0].parent().unwrap().parent().unwrap();
    std::fs::create_dir_all(org_dir.join("ab")).unwrap();
    std::fs::write(
        org_dir.join("ab").join("ab".repeat(32)),
        "who put this here",
    )
    .unwrap();
    let out = attest(d, &["verify"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("MISSING"), "{text}");
    assert!(text.contains("ORPHANED"), "{text}");
}

#[test]
fn risks_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        d,
        &["init", "--org", "Risk Co", "--email", "owner@risk.test"],
    );
    ok(d, &["control", "add", "PM-1", "--title", "Patching"]);
    let added = ok(
        d,
        &[
            "risk",
            "add",
            "R-1",
            "--title",
            "Ransomware",
            "--inherent",
            "5,4",
            "--residual",
            "4,3",
            "--control",
            "PM-1",
        ],
    );
    assert!(added.contains("residual score 12"), "{added}");
    let list = ok(d, &["risk", "list"]);
    assert!(
        list.contains("R-1") && list.contains("DECISION NEEDED"),
        "{list}"
    );
    assert!(list.contains("1 above appetite"), "{list}");

    // A rating off the scale is refused with the reason, and nothing is added.
    let out = attest(
        d,
        &[
            "risk",
            "add",
            "R-2",
            "--title",
            "X",
            "--inherent",
            "6,1",
            "--residual",
            "1,1",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("inherent likelihood must be from 1 to 5"),
        "{err}"
    );

    // An acceptance holds three years at most.
    let out = attest(
        d,
        &[
            "risk",
            "accept",
            "R-1",
            "--justification",
            "x",
            "--until",
            "2099-01-01",
        ],
    );
    assert!(!out.status.success());
    let until = attest_domain::evidence::day_text(
        time::OffsetDateTime::now_utc().date() + time::Duration::days(365),
    );
    let accepted = ok(
        d,
        &[
            "risk",
            "accept",
            "R-1",
            "--justification",
            "Monitored until the hosts are replaced",
            "--until",
            &until,
        ],
    );
    assert!(accepted.contains("Accepted R-1"), "{accepted}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(d, &["risk", "list", "--format", "json"])).unwrap();
    assert_eq!(json["risks"].as_array().unwrap().len(), 1);
    assert_eq!(json["needing_decision"], 0);
    assert_eq!(json["risks"][0]["acceptance"]["state"], "valid");

    // The register as a sheet, and back.
    let sheet = d.join("risks.xlsx");
    ok(
        d,
        &[
            "risk",
            "export",
            "--format",
            "xlsx",
            "-o",
            sheet.to_str().unwrap(),
        ],
    );
    let back = ok(d, &["risk", "import", sheet.to_str().unwrap()]);
    assert!(
        back.contains("0 risk(s) added, 0 changed, 1 already"),
        "{back}"
    );
    let scope = ok(d, &["isms", "scope"]);
    assert!(scope.contains("No ISMS scope yet"), "{scope}");
    let ncs = ok(d, &["isms", "nonconformities"]);
    assert!(ncs.contains("0 nonconformit(ies), 0 open"), "{ncs}");
    let csv = ok(d, &["risk", "export"]);
    assert!(
        csv.starts_with("ref,title,") && csv.contains("R-1,Ransomware"),
        "{csv}"
    );
}

fn refused_by(d: &Path, args: &[&str], rule: &str) {
    let out = attest(d, args);
    assert!(!out.status.success(), "attest {args:?} should be refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(rule), "attest {args:?}: {err}");
}

#[test]
fn engagements_and_bridge_letters_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        d,
        &["init", "--org", "Report Co", "--email", "owner@report.test"],
    );
    let soc2 = [
        "engagement",
        "create",
        "--kind",
        "soc2-type2",
        "--start",
        "2025-10-01",
        "--end",
        "2026-09-30",
        "--firm",
        "Example LLP",
    ];
    // Rule 1: a Type 2 covers at most 12 months; a Type 1 is as of a date.
    let mut long = soc2;
    long[7] = "2026-10-01";
    refused_by(d, &long, "rule-1");
    refused_by(
        d,
        &[
            "engagement",
            "create",
            "--kind",
            "soc2-type1",
            "--start",
            "2026-01-01",
            "--end",
            "2026-02-01",
            "--firm",
            "X",
        ],
        "rule-1",
    );
    ok(d, &soc2);
    // Rule 2: no SOC 3 before the SOC 2 is issued with an unqualified opinion.
    let soc3 = [
        "engagement",
        "create",
        "--kind",
        "soc3",
        "--start",
        "2025-10-01",
        "--end",
        "2026-09-30",
        "--firm",
        "Example LLP",
    ];
    refused_by(d, &soc3, "rule-2");
    refused_by(d, &["engagement", "issue", "ENG-001"], "opinion-required");
    ok(d, &["engagement", "opinion", "ENG-001", "unqualified"]);
    let link = ok(
        d,
        &[
            "engagement",
            "invite-auditor",
            "ENG-001",
            "--email",
            "lead@example-llp.test",
            "--until",
            "2099-12-31",
        ],
    );
    assert!(link.contains("/invitations/"), "{link}");
    ok(d, &["engagement", "issue", "ENG-001"]);
    // An issued report's workpapers and OSCAL exports; no auditor joins it any more.
    let zip = d.join("workpapers.zip");
    ok(
        d,
        &[
            "engagement",
            "export",
            "ENG-001",
            "--output",
            zip.to_str().unwrap(),
        ],
    );
    assert!(std::fs::read(&zip).unwrap().starts_with(b"PK"));
    let poam = d.join("poam.json");
    ok(
        d,
        &[
            "engagement",
            "export",
            "ENG-001",
            "--what",
            "poam",
            "--output",
            poam.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&poam).unwrap()).unwrap();
    assert!(v["plan-of-action-and-milestones"]["poam-items"].is_array());
    refused_by(
        d,
        &[
            "engagement",
            "invite-auditor",
            "ENG-001",
            "--email",
            "late@example-llp.test",
        ],
        "engagement-closed",
    );
    ok(d, &soc3);
    let list: serde_json::Value =
        serde_json::from_str(&ok(d, &["engagement", "list", "--format", "json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(list.to_string().contains("\"basis_id\""));

    // Rule 4: from the day after the period, at most three months.
    refused_by(
        d,
        &[
            "bridge-letter",
            "create",
            "--report",
            "ENG-001",
            "--until",
            "2027-01-01",
        ],
        "rule-4",
    );
    let pdf = d.join("bridge.pdf");
    let out = attest(
        d,
        &[
            "bridge-letter",
            "create",
            "--report",
            "ENG-001",
            "--until",
            "2026-12-31",
            "--signer",
            "Kim Minji, CISO",
            "--output",
            pdf.to_str().unwrap(),
            "--document",
        ],
    );
    assert!(out.status.success());
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    // The letter is also a document of its report, which the portal publishes.
    let err = String::from_utf8_lossy(&out.stderr);
    let doc = err
        .split("added as document ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{err}"))
        .to_owned();
    assert!(ok(d, &["portal", "publish", &doc]).contains("published on the trust portal"));
    assert!(ok(d, &["portal", "publish", &doc, "--off"]).contains("is off the trust portal"));
    // A penetration test is an engagement too: a window, a testing firm, no opinion.
    ok(
        d,
        &[
            "engagement",
            "create",
            "--kind",
            "pentest",
            "--start",
            "2026-08-03",
            "--end",
            "2026-08-21",
            "--firm",
            "Example Offensive Security",
        ],
    );
    ok(d, &["engagement", "issue", "ENG-003"]);
    refused_by(
        d,
        &["engagement", "opinion", "ENG-003", "unqualified"],
        "SOC",
    );

    // Rule 5 and rule 3 from the command line.
    refused_by(
        d,
        &[
            "certificate",
            "add",
            "--number",
            "C-1",
            "--body",
            "Cert Co",
            "--scope",
            "All",
            "--issued",
            "2025-01-10",
            "--expires",
            "2028-01-10",
        ],
        "rule-5",
    );
    let cert = ok(
        d,
        &[
            "certificate",
            "add",
            "--number",
            "C-1",
            "--body",
            "Cert Co",
            "--scope",
            "All",
            "--issued",
            "2025-01-10",
            "--expires",
            "2028-01-09",
        ],
    );
    assert!(cert.contains("surveillance-1 2026-01-10"), "{cert}");
    let plan = ok(
        d,
        &[
            "engagement",
            "program",
            "soc2",
            "--end",
            "03-31",
            "--end",
            "09-30",
        ],
    );
    assert!(plan.starts_with("2026-04-01 – 2027-03-31"), "{plan}");
}

#[test]
fn portal_customers_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["demo", "load"]);
    let out = ok(
        d,
        &[
            "portal",
            "invite",
            "buyer@customer.test",
            "--name",
            "Buyer One",
            "--company",
            "Customer Ltd",
        ],
    );
    assert!(out.contains("/trust/hanbit-cloud/invitation/"), "{out}");
    refused_by(
        d,
        &[
            "portal",
            "invite",
            "buyer@customer.test",
            "--name",
            "Buyer One",
            "--company",
            "Customer Ltd",
        ],
        "already has a portal account",
    );
    refused_by(
        d,
        &[
            "portal",
            "invite",
            "not-an-address",
            "--name",
            "X",
            "--company",
            "Y",
        ],
        "e-mail address",
    );
    assert!(ok(d, &["portal", "requests"]).is_empty(), "no request yet");

    // The logo: a PNG is taken, anything else refused with the reason; removed again.
    let text = d.join("logo.png");
    std::fs::write(&text, b"not an image").unwrap();
    refused_by(
        d,
        &["portal", "logo", text.to_str().unwrap()],
        "PNG or JPEG",
    );
    let logo = d.join("real.png");
    image::RgbImage::from_pixel(64, 20, image::Rgb([15, 118, 110]))
        .save(&logo)
        .unwrap();
    let out = ok(d, &["portal", "logo", logo.to_str().unwrap()]);
    assert!(out.contains("Logo set (image/png"), "{out}");
    assert!(ok(d, &["portal", "logo", "--remove"]).contains("Logo removed"));
    refused_by(d, &["portal", "logo"], "<FILE>");
    refused_by(d, &["portal", "publish", "no-such-document"], "not found");
    // The portal's own host name.
    refused_by(d, &["portal", "host", "not a host"], "not a host name");
    let out = ok(d, &["portal", "host", "Trust.Hanbit.Example"]);
    assert!(out.contains("answers on trust.hanbit.example"), "{out}");
    assert!(ok(d, &["portal", "host", "--remove"]).contains("no host name"));
}
