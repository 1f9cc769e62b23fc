//! YAML, CSV and XLSX frameworks and mapping sets: Attest's own file formats, read with every
//! problem of the input reported where it is, and written so that reading back gives the same.

mod framework_csv;
mod framework_xlsx;
mod framework_yaml;
mod mapping;
mod table;
mod yaml_value;

use std::collections::HashSet;

use attest_domain::framework::{Framework, Problem, Requirement};

pub use framework_csv::{export_csv, parse_framework_csv};
pub use framework_xlsx::{export_xlsx, parse_framework_xlsx};
pub use framework_yaml::{framework_to_yaml, parse_framework_yaml};
pub use mapping::{
    MappingMeta, check_mapping_set, parse_mapping_csv, parse_mapping_yaml,
    parse_mapping_yaml_checked,
};

/// The names `Framework::problems` uses as `at` for problems of the framework as a whole.
const FRAMEWORK_FIELDS: [&str; 4] = ["id", "name", "version", "requirements"];

/// Sets `assessable` where the file left it open: a requirement is assessable when it has no
/// children, because containers (themes, domains, series) are not what controls are linked to.
fn default_assessable(requirements: &mut [Requirement], explicit: &[Option<bool>]) {
    let parents: HashSet<String> = requirements
        .iter()
        .filter_map(|r| r.parent.clone())
        .collect();
    for (r, given) in requirements.iter_mut().zip(explicit) {
        r.assessable = given.unwrap_or(!parents.contains(&r.id));
    }
}

/// Adds the catalog's own shape problems (duplicates, parents, cycles, titles) to those the
/// format found, and returns the framework only when there are none at all.
fn finish(
    framework: Framework,
    mut problems: Vec<Problem>,
    locate: &dyn Fn(usize) -> String,
    relocate: &dyn Fn(&str) -> String,
) -> Result<Framework, Vec<Problem>> {
    for p in framework.problems(locate) {
        // Framework-level problems come back at a field name (`id`, `name`, `requirements`);
        // each format says where that field lives in its own file.
        let at = if FRAMEWORK_FIELDS.contains(&p.at.as_str()) {
            relocate(&p.at)
        } else {
            p.at
        };
        problems.push(Problem::new(at, p.message));
    }
    if problems.is_empty() {
        Ok(framework)
    } else {
        Err(problems)
    }
}
