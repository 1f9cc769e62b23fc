//! The built-in catalogs load through the YAML format and hold exactly what their publishers
//! publish: counts, id formats, parents, props and which requirements are assessable.

mod formats_support;

use std::collections::{BTreeMap, BTreeSet};

use attest_domain::framework::Framework;
use formats_support::{CIS_V8, CSF_11, ISO_2013, ISO_2022, SOC2, children, load, of_kind, shape};

/// Asserts `assessable` is true exactly for the requirements of `leaf_kinds`, and that those
/// are exactly the requirements without children.
fn assert_assessable_leaves(f: &Framework, leaf_kinds: &[&str]) {
    for r in &f.requirements {
        let leaf = children(f, &r.id) == 0;
        assert_eq!(
            r.assessable,
            leaf_kinds.contains(&r.kind.as_str()),
            "{} {} assessable",
            f.id,
            r.id
        );
        assert_eq!(
            r.assessable, leaf,
            "{} {}: assessable must equal having no children",
            f.id, r.id
        );
        assert!(!r.withdrawn, "{} {} withdrawn", f.id, r.id);
    }
}

#[test]
fn iso27001_2022_has_93_annex_a_controls_in_four_themes_and_clauses_4_to_10() {
    let f = load(ISO_2022);
    assert_eq!(
        (f.id.as_str(), f.version.as_str()),
        ("iso27001-2022", "2022")
    );
    let controls = of_kind(&f, "control");
    assert_eq!(controls.len(), 93);
    for c in &controls {
        assert_eq!(shape(&c.id), "A.#.#", "{}", c.id);
        let theme = c.id.split('.').nth(1).unwrap();
        assert!(["5", "6", "7", "8"].contains(&theme), "{}", c.id);
        assert_eq!(
            c.parent.as_deref(),
            Some(format!("A.{theme}").as_str()),
            "{}",
            c.id
        );
    }
    let themes: Vec<&str> = of_kind(&f, "theme").iter().map(|t| t.id.as_str()).collect();
    assert_eq!(themes, ["A.5", "A.6", "A.7", "A.8"]);
    let per_theme: Vec<usize> = themes.iter().map(|t| children(&f, t)).collect();
    assert_eq!(per_theme, [37, 8, 14, 34]);
    // Numbered 1..n within each theme, no gaps.
    for (theme, n) in themes.iter().zip(&per_theme) {
        for i in 1..=*n {
            assert!(
                f.requirement(&format!("{theme}.{i}")).is_some(),
                "{theme}.{i} missing"
            );
        }
    }

    let clauses = of_kind(&f, "clause");
    let top: Vec<&str> = clauses
        .iter()
        .filter(|c| c.parent.is_none())
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(top, ["4", "5", "6", "7", "8", "9", "10"]);
    for c in &clauses {
        assert!(
            ["#", "#.#", "#.#.#"].contains(&shape(&c.id).as_str()),
            "{}",
            c.id
        );
        let parent_id = c.id.rsplit_once('.').map(|(p, _)| p);
        assert_eq!(c.parent.as_deref(), parent_id, "{}", c.id);
    }
    assert_eq!(clauses.len(), 41);
    assert_eq!(f.requirements.len(), 41 + 4 + 93);

    let containers: BTreeSet<&str> = f
        .requirements
        .iter()
        .filter(|r| !r.assessable)
        .map(|r| r.id.as_str())
        .collect();
    let expected: BTreeSet<&str> = [
        "4", "5", "6", "6.1", "7", "7.5", "8", "9", "9.2", "9.3", "10", "A.5", "A.6", "A.7", "A.8",
    ]
    .into();
    assert_eq!(containers, expected);
    assert_eq!(f.assessable().count(), 93 + 30);
    for r in &f.requirements {
        assert_eq!(r.assessable, children(&f, &r.id) == 0, "{}", r.id);
    }
}

#[test]
fn iso27001_2013_has_114_controls_35_objectives_14_domains() {
    let f = load(ISO_2013);
    let domains = of_kind(&f, "domain");
    let objectives = of_kind(&f, "objective");
    let controls = of_kind(&f, "control");
    assert_eq!(
        (domains.len(), objectives.len(), controls.len()),
        (14, 35, 114)
    );
    let domain_ids: Vec<String> = domains.iter().map(|d| d.id.clone()).collect();
    let expected: Vec<String> = (5..=18).map(|n| format!("A.{n}")).collect();
    assert_eq!(domain_ids, expected);
    for d in &domains {
        assert!(d.parent.is_none(), "{}", d.id);
    }
    for o in &objectives {
        assert_eq!(shape(&o.id), "A.#.#", "{}", o.id);
        assert_eq!(
            o.parent.as_deref(),
            o.id.rsplit_once('.').map(|(p, _)| p),
            "{}",
            o.id
        );
    }
    for c in &controls {
        assert_eq!(shape(&c.id), "A.#.#.#", "{}", c.id);
        let objective = c.id.rsplit_once('.').map(|(p, _)| p).unwrap();
        assert_eq!(c.parent.as_deref(), Some(objective), "{}", c.id);
        assert_eq!(
            f.requirement(objective).map(|o| o.kind.as_str()),
            Some("objective")
        );
    }
    assert_eq!(f.requirements.len(), 14 + 35 + 114);
    assert_assessable_leaves(&f, &["control"]);
}

#[test]
fn soc2_tsc_2017_has_61_criteria_each_with_its_category() {
    let f = load(SOC2);
    let criteria = of_kind(&f, "criterion");
    assert_eq!(criteria.len(), 61);
    let mut per_series: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &criteria {
        let (series, number) = c.id.split_once('.').unwrap();
        assert!(
            number.chars().all(|ch| ch.is_ascii_digit()) && !number.is_empty(),
            "{}",
            c.id
        );
        // ^(CC\d|A1|C1|PI1|P\d)\.\d+$
        let series_ok = ["A1", "C1", "PI1"].contains(&series)
            || (shape(series) == "CC#" && series.len() == 3)
            || (shape(series) == "P#" && series.len() == 2);
        assert!(series_ok, "{}", c.id);
        assert_eq!(c.parent.as_deref(), Some(series), "{}", c.id);
        let expected = match series {
            s if s.starts_with("CC") => "security",
            "A1" => "availability",
            "C1" => "confidentiality",
            "PI1" => "processing-integrity",
            _ => "privacy",
        };
        assert_eq!(
            c.props.get("category").map(String::as_str),
            Some(expected),
            "{}",
            c.id
        );
        let family = series.trim_end_matches(|ch: char| ch.is_ascii_digit());
        *per_series.entry(family).or_default() += 1;
    }
    assert_eq!(
        per_series,
        BTreeMap::from([("A", 3), ("C", 2), ("CC", 33), ("P", 18), ("PI", 5)])
    );
    let ids: BTreeSet<&str> = criteria.iter().map(|c| c.id.as_str()).collect();
    for id in [
        "CC1.1", "CC9.2", "A1.3", "C1.2", "PI1.5", "P1.1", "P8.1", "CC6.8", "P6.7",
    ] {
        assert!(ids.contains(id), "{id} missing");
    }
    for id in ["CC9.3", "A1.4", "C1.3", "PI1.6", "P8.2", "CC10.1"] {
        assert!(!ids.contains(id), "{id} should not exist");
    }
    assert_assessable_leaves(&f, &["criterion"]);
}

#[test]
fn cis_v8_has_18_controls_153_safeguards_split_56_74_23() {
    let f = load(CIS_V8);
    let controls: Vec<&str> = of_kind(&f, "control")
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    let expected: Vec<String> = (1..=18).map(|n| n.to_string()).collect();
    assert_eq!(controls, expected);
    let safeguards = of_kind(&f, "safeguard");
    assert_eq!(safeguards.len(), 153);
    let mut groups: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &safeguards {
        assert_eq!(shape(&s.id), "#.#", "{}", s.id);
        assert_eq!(
            s.parent.as_deref(),
            s.id.split_once('.').map(|(c, _)| c),
            "{}",
            s.id
        );
        let ig = s.props.get("ig").map(String::as_str).unwrap_or("none");
        *groups.entry(ig).or_default() += 1;
    }
    assert_eq!(groups, BTreeMap::from([("1", 56), ("2", 74), ("3", 23)]));
    let per_control: Vec<usize> = (1..=18).map(|n| children(&f, &n.to_string())).collect();
    assert_eq!(
        per_control,
        [5, 7, 14, 12, 6, 8, 7, 12, 7, 7, 5, 8, 11, 9, 7, 14, 9, 5]
    );
    assert_assessable_leaves(&f, &["safeguard"]);
}

#[test]
fn nist_csf_1_1_has_5_functions_23_categories_108_subcategories() {
    let f = load(CSF_11);
    let functions: Vec<&str> = of_kind(&f, "function")
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(functions, ["ID", "PR", "DE", "RS", "RC"]);
    let categories = of_kind(&f, "category");
    assert_eq!(categories.len(), 23);
    for c in &categories {
        let (function, code) = c.id.split_once('.').unwrap();
        assert!(
            code.len() == 2 && code.chars().all(|ch| ch.is_ascii_uppercase()),
            "{}",
            c.id
        );
        assert_eq!(c.parent.as_deref(), Some(function), "{}", c.id);
    }
    let subcategories = of_kind(&f, "subcategory");
    assert_eq!(subcategories.len(), 108);
    for s in &subcategories {
        let (category, _) = s.id.split_once('-').unwrap();
        assert_eq!(shape(&s.id), format!("{category}-#"), "{}", s.id);
        assert_eq!(s.parent.as_deref(), Some(category), "{}", s.id);
    }
    assert_eq!(children(&f, "PR.IP"), 12);
    assert_eq!(children(&f, "RS.RP"), 1);
    assert_assessable_leaves(&f, &["subcategory"]);
}
