//! The built-in catalogs, loaded once at start: our data files for ISO/IEC 27001 (2013 and
//! 2022), SOC 2 TSC 2017, CIS Controls v8 and NIST CSF 1.1; NIST's OSCAL SP 800-53 rev 5 with
//! its four baselines resolved as profiles, and CSF 2.0; NIST's mapping files and ours.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use attest_domain::framework::{Framework, Origin, Problem};
use attest_domain::mapping::MappingSet;

use crate::crosswalk::MappingIndex;
use crate::formats::{self, MappingMeta};
use crate::oscal;
use crate::search::SearchIndex;

macro_rules! nist {
    ($path:literal) => {
        include_bytes!(concat!(env!("ATTEST_NIST_DATA"), "/", $path))
    };
}

const OUR_FRAMEWORKS: &[&str] = &[
    include_str!("../data/frameworks/iso27001-2022.yaml"),
    include_str!("../data/frameworks/iso27001-2013.yaml"),
    include_str!("../data/frameworks/soc2-tsc-2017.yaml"),
    include_str!("../data/frameworks/cis-v8.yaml"),
    include_str!("../data/frameworks/nist-csf-1.1.yaml"),
];

const OUR_MAPPINGS: &[&str] = &[
    include_str!("../data/mappings/iso27001-2013_to_iso27001-2022.yaml"),
    include_str!("../data/mappings/iso27001-2022_to_soc2-tsc-2017.yaml"),
];

const SP800_53: &[u8] = nist!("nist-sp800-53r5/NIST_SP-800-53_rev5_catalog.2021-06-08.json");
const SP800_53_FILE: &str = "NIST_SP-800-53_rev5_catalog.2021-06-08.json";

/// The id of the SP 800-53 rev 5 catalog.
pub const SP800_53_ID: &str = "nist-800-53r5";

const BASELINES: &[(&str, &str, &[u8])] = &[
    (
        "low",
        "LOW",
        nist!("nist-sp800-53r5/NIST_SP-800-53_rev5_LOW-baseline_profile.json"),
    ),
    (
        "moderate",
        "MODERATE",
        nist!("nist-sp800-53r5/NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"),
    ),
    (
        "high",
        "HIGH",
        nist!("nist-sp800-53r5/NIST_SP-800-53_rev5_HIGH-baseline_profile.json"),
    ),
    (
        "privacy",
        "PRIVACY",
        nist!("nist-sp800-53r5/NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json"),
    ),
];

const NIST_MAPPINGS: &[(&str, &str, &str, &str, &[u8])] = &[
    (
        "nist-800-53r5_to_iso27001-2022",
        "NIST SP 800-53 Rev. 5 to ISO/IEC 27001:2022",
        SP800_53_ID,
        "iso27001-2022",
        nist!("mappings/nist-sp800-53r5_to_iso27001-2022.csv"),
    ),
    (
        "nist-csf-2.0_to_iso27001-2022",
        "NIST CSF 2.0 to ISO/IEC 27001:2022",
        "nist-csf-2.0",
        "iso27001-2022",
        nist!("mappings/nist-csf-2.0_to_iso27001-2022.csv"),
    ),
    (
        "nist-csf-1.1_to_nist-csf-2.0",
        "NIST CSF 1.1 to NIST CSF 2.0",
        "nist-csf-1.1",
        "nist-csf-2.0",
        nist!("mappings/nist-csf-1.1_to_nist-csf-2.0.csv"),
    ),
];

fn compact(doc: &serde_json::Value) -> Arc<[u8]> {
    serde_json::to_vec(doc).unwrap_or_default().into()
}

/// The built-in frameworks and mapping sets.
pub struct Catalogs {
    frameworks: Vec<Arc<Framework>>,
    by_id: HashMap<String, usize>,
    /// OSCAL documents as compact JSON: a parsed document takes several times the memory,
    /// and they are only needed for exports and profile imports.
    oscal: HashMap<String, Arc<[u8]>>,
    mappings: MappingIndex,
    search: SearchIndex,
}

impl std::fmt::Debug for Catalogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Catalogs({} frameworks, {} mapping sets)",
            self.frameworks.len(),
            self.mappings.sets().len()
        )
    }
}

fn fail(what: &str, problems: Vec<Problem>) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|p| Problem::new(format!("{what}: {}", p.at), p.message))
        .collect()
}

/// NIST's files as published need two adjustments to meet the catalogs they map: the SP
/// 800-53 file writes enhancements as `ac-17(1)` where the OSCAL catalog says `ac-17.1`, and
/// the CSF 2.0 file lists two links twice (GV.OC-03 and GV.OC-04 to 4.2).
fn normalise_nist(set: &mut MappingSet) {
    let fix = |id: &mut String| {
        if let Some((base, rest)) = id.split_once('(')
            && let Some(n) = rest.strip_suffix(')')
        {
            *id = format!("{base}.{n}");
        }
    };
    let mut seen = std::collections::HashSet::new();
    set.links.retain_mut(|l| {
        fix(&mut l.source);
        fix(&mut l.target);
        seen.insert((l.source.clone(), l.target.clone()))
    });
}

impl Catalogs {
    /// The built-in catalogs, loaded on first use and shared.
    pub fn shared() -> Arc<Catalogs> {
        static SHARED: OnceLock<Arc<Catalogs>> = OnceLock::new();
        SHARED
            .get_or_init(|| match Catalogs::load() {
                Ok(c) => Arc::new(c),
                // Built-in data is checked by the test suite; failing here is a build defect.
                Err(problems) => panic!("the built-in catalogs are invalid: {problems:?}"),
            })
            .clone()
    }

    /// Loads and checks every built-in catalog and mapping set.
    pub fn load() -> Result<Catalogs, Vec<Problem>> {
        let mut frameworks: Vec<Framework> = Vec::new();
        let mut oscal_docs = HashMap::new();
        for text in OUR_FRAMEWORKS {
            frameworks.push(
                formats::parse_framework_yaml(text, Origin::BuiltIn)
                    .map_err(|p| fail("built-in framework", p))?,
            );
        }
        frameworks.push(
            oscal::parse_csf2_xml(
                std::str::from_utf8(nist!("nist-csf-2.0/NIST_CSF_v2.0_catalog.xml"))
                    .unwrap_or_default(),
            )
            .map_err(|p| fail("NIST CSF 2.0", p))?,
        );
        let sp = oscal::parse_catalog(SP800_53, SP800_53_ID, Origin::BuiltIn)
            .map_err(|p| fail("NIST SP 800-53", p))?;
        let sp_doc = Arc::new(sp.document);
        let mut base = sp.framework;
        base.name = "NIST SP 800-53 Rev. 5".into();
        base.publisher = "NIST".into();
        frameworks.push(base);
        for (slug, label, profile) in BASELINES {
            let doc = sp_doc.clone();
            let resolved = oscal::resolve_profile(profile, &|href: &str| {
                (href.ends_with(SP800_53_FILE)
                    || href.ends_with("NIST_SP-800-53_rev5_catalog.json"))
                .then(|| (*doc).clone())
            })
            .map_err(|p| fail(label, p))?;
            let id = format!("{SP800_53_ID}-{slug}");
            let bytes = serde_json::to_vec(&resolved).unwrap_or_default();
            let mut parsed =
                oscal::parse_catalog(&bytes, &id, Origin::BuiltIn).map_err(|p| fail(label, p))?;
            parsed.framework.name = format!("NIST SP 800-53 Rev. 5 {label} baseline");
            parsed.framework.publisher = "NIST".into();
            parsed.framework.profile_of = Some(SP800_53_ID.into());
            oscal_docs.insert(id, compact(&parsed.document));
            frameworks.push(parsed.framework);
        }
        oscal_docs.insert(SP800_53_ID.to_owned(), compact(&sp_doc));
        drop(sp_doc);

        let mut sets: Vec<MappingSet> = Vec::new();
        for text in OUR_MAPPINGS {
            sets.push(
                formats::parse_mapping_yaml(text).map_err(|p| fail("built-in mapping set", p))?,
            );
        }
        for (id, name, source, target, csv) in NIST_MAPPINGS {
            let meta = MappingMeta {
                id: (*id).into(),
                name: (*name).into(),
                source_framework: (*source).into(),
                target_framework: (*target).into(),
                authority: "NIST".into(),
                reference: "NIST's published mapping (National Online Informative References / CPRT), shipped as published".into(),
                date: "2024-02-26".into(),
            };
            let mut set =
                formats::parse_mapping_csv(std::str::from_utf8(csv).unwrap_or_default(), meta)
                    .map_err(|p| fail(name, p))?;
            normalise_nist(&mut set);
            sets.push(set);
        }
        let by_id: HashMap<String, usize> = frameworks
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.clone(), i))
            .collect();
        let mut problems = Vec::new();
        for s in &sets {
            match (
                by_id.get(&s.source_framework),
                by_id.get(&s.target_framework),
            ) {
                (Some(a), Some(b)) => problems.extend(fail(
                    &s.id,
                    formats::check_mapping_set(s, &frameworks[*a], &frameworks[*b]),
                )),
                _ => problems.push(Problem::new(
                    &s.id,
                    "names a framework that is not built in",
                )),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let search = SearchIndex::new(frameworks.iter());
        Ok(Catalogs {
            frameworks: frameworks.into_iter().map(Arc::new).collect(),
            by_id,
            oscal: oscal_docs,
            mappings: MappingIndex::new(sets.into_iter().map(Arc::new).collect()),
            search,
        })
    }

    /// Every built-in framework.
    pub fn frameworks(&self) -> &[Arc<Framework>] {
        &self.frameworks
    }

    /// A built-in framework by id.
    pub fn framework(&self, id: &str) -> Option<&Arc<Framework>> {
        self.by_id.get(id).map(|i| &self.frameworks[*i])
    }

    /// The OSCAL document a built-in framework is published as (SP 800-53 and its baselines).
    pub fn oscal_document(&self, id: &str) -> Option<serde_json::Value> {
        self.oscal
            .get(id)
            .and_then(|d| serde_json::from_slice(d).ok())
    }

    /// The mapping sets.
    pub fn mappings(&self) -> &MappingIndex {
        &self.mappings
    }

    /// Search over every built-in requirement.
    pub fn search(&self) -> &SearchIndex {
        &self.search
    }
}
