//! The SOC 2 catalog shipped in assets/: 61 Trust Services Criteria, summarised
//! in our own words. Built into the binary so every workspace agrees on it.

use serde::Deserialize;

const SOC2: &str = include_str!("../../assets/catalog/soc2.toml");

#[derive(Debug, thiserror::Error)]
#[error("assets/catalog/soc2.toml is malformed: {0}")]
pub struct CatalogError(#[from] toml::de::Error);

crate::error::kind!(Internal: CatalogError);

#[derive(Debug, Clone, Deserialize)]
pub struct Catalog {
    pub framework: String,
    pub version: String,
    #[serde(rename = "group")]
    pub groups: Vec<Group>,
    #[serde(rename = "criterion")]
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Group {
    pub id: String,
    pub title: String,
    pub category: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Criterion {
    pub id: String,
    pub group: String,
    pub title: String,
    pub description: String,
}

impl Catalog {
    pub fn soc2() -> Result<Self, CatalogError> {
        Ok(toml::from_str(SOC2)?)
    }

    pub fn criterion(&self, id: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.id == id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.criteria.iter().map(|c| c.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ships_the_61_trust_services_criteria() {
        let catalog = Catalog::soc2().unwrap();
        assert_eq!(catalog.criteria.len(), 61);
        let count = |prefix: &str| catalog.ids().filter(|id| id.starts_with(prefix)).count();
        assert_eq!(count("CC"), 33);
        assert_eq!(count("A1."), 3);
        assert_eq!(count("C1."), 2);
        assert_eq!(count("PI1."), 5);
        assert_eq!(catalog.ids().filter(|id| id.starts_with('P') && !id.starts_with("PI")).count(), 18);
        assert!(catalog.ids().all(|id| !id.starts_with("PP")));
        for c in &catalog.criteria {
            assert!(catalog.groups.iter().any(|g| g.id == c.group), "{} has no group", c.id);
        }
    }
}
