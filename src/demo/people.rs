//! Northwind Cloud's staff: fictional names from fixed lists, shuffled by the
//! seed, with emails @northwind.example and a team for each person.

use super::rng::Rng;

const FIRST: [&str; 64] = [
    "ava", "ben", "chloe", "daniel", "elena", "felix", "grace", "hugo", "iris", "jonas", "kira", "liam", "maya",
    "noah", "olivia", "pablo", "quinn", "rosa", "samir", "tara", "umar", "vera", "wes", "xenia", "yusuf", "zoe",
    "amir", "bianca", "carlos", "dana", "emil", "farah", "gabriel", "hana", "ivan", "julia", "kofi", "lena", "marco",
    "nina", "oscar", "priya", "rafael", "sofia", "theo", "ulla", "victor", "wen", "yara", "zain", "alba", "bruno",
    "camille", "diego", "esther", "finn", "gemma", "hiro", "ingrid", "jamal", "kai", "lucia", "mateo", "nadia",
];

const LAST: [&str; 64] = [
    "abbott",
    "baker",
    "castillo",
    "dubois",
    "eriksen",
    "fischer",
    "garcia",
    "haddad",
    "ito",
    "jensen",
    "kowalski",
    "lindqvist",
    "moreau",
    "nakamura",
    "okafor",
    "petrov",
    "quintero",
    "rossi",
    "schmidt",
    "tanaka",
    "ulrich",
    "varga",
    "weber",
    "xu",
    "yilmaz",
    "zhang",
    "adeyemi",
    "bergstrom",
    "chen",
    "delgado",
    "evans",
    "ferreira",
    "gupta",
    "hansen",
    "iqbal",
    "johansson",
    "kim",
    "larsen",
    "mendes",
    "novak",
    "oconnor",
    "park",
    "quigley",
    "reyes",
    "silva",
    "torres",
    "urbano",
    "vasquez",
    "walsh",
    "yamada",
    "zimmer",
    "alvarez",
    "brennan",
    "costa",
    "dimitrov",
    "engel",
    "fontaine",
    "greco",
    "holm",
    "ibarra",
    "jovanovic",
    "keller",
    "lopez",
    "murphy",
];

pub const DOMAIN: &str = "northwind.example";

/// Current staff per unit of scale.
pub const STAFF_PER_SCALE: u32 = 600;
/// People who leave during the year per unit of scale (one deprovisioning each).
pub const LEAVERS_PER_SCALE: u32 = 150;

/// Who works at Northwind, by team. Pools hold indices into `staff`.
#[derive(Clone, Debug)]
pub struct Directory {
    pub staff: Vec<String>,
    /// Engineers and SREs: PR authors, reviewers, deployers.
    pub builders: Vec<u32>,
    /// Site reliability engineers: on call, backups, IAM changes.
    pub sre: Vec<u32>,
    /// Security team: scans, vendor reviews, access reviews, IAM.
    pub security: Vec<u32>,
    /// IT administrators: provisioning, IAM.
    pub it_admins: Vec<u32>,
    /// People managers: approve access requests, review access.
    pub managers: Vec<u32>,
    /// People who leave during the year (never sign in, never act).
    pub leavers: Vec<String>,
}

fn local_part(combo: usize, round: usize) -> String {
    let first = FIRST[combo / LAST.len() % FIRST.len()];
    let last = LAST[combo % LAST.len()];
    if round == 0 { format!("{first}.{last}@{DOMAIN}") } else { format!("{first}.{last}{}@{DOMAIN}", round + 1) }
}

impl Directory {
    pub fn new(seed: u64, scale: u32) -> Directory {
        let mut rng = Rng::stream(seed, "people");
        let n_combos = FIRST.len() * LAST.len();
        let mut combos: Vec<usize> = (0..n_combos).collect();
        for i in (1..combos.len()).rev() {
            let j = rng.index(i + 1);
            combos.swap(i, j);
        }
        let n_staff = (STAFF_PER_SCALE * scale) as usize;
        let n_leavers = (LEAVERS_PER_SCALE * scale) as usize;
        let mut names = (0..n_staff + n_leavers).map(|i| local_part(combos[i % n_combos], i / n_combos));
        let staff: Vec<String> = names.by_ref().take(n_staff).collect();
        let leavers: Vec<String> = names.collect();
        let mut d = Directory {
            staff,
            builders: Vec::new(),
            sre: Vec::new(),
            security: Vec::new(),
            it_admins: Vec::new(),
            managers: Vec::new(),
            leavers,
        };
        for i in 0..n_staff as u32 {
            match i % 20 {
                0..=8 => d.builders.push(i),
                9 | 10 => {
                    d.builders.push(i);
                    d.sre.push(i);
                }
                11 => d.security.push(i),
                12 => d.it_admins.push(i),
                13 => d.managers.push(i),
                _ => {}
            }
        }
        d
    }

    pub fn email(&self, i: u32) -> &str {
        &self.staff[i as usize]
    }

    /// Anyone on staff.
    pub fn anyone(&self, rng: &mut Rng) -> u32 {
        rng.index(self.staff.len()) as u32
    }

    /// Someone from `pool`.
    pub fn pick(&self, rng: &mut Rng, pool: &[u32]) -> u32 {
        pool[rng.index(pool.len())]
    }

    /// Someone from `pool` other than `not` (pools have many members).
    pub fn pick_other(&self, rng: &mut Rng, pool: &[u32], not: u32) -> u32 {
        let i = rng.index(pool.len());
        if pool[i] != not { pool[i] } else { pool[(i + 1) % pool.len()] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_emails_and_pools() {
        let d = Directory::new(7, 8);
        let mut all: Vec<&String> = d.staff.iter().chain(d.leavers.iter()).collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
        assert!(d.staff.iter().all(|e| e.ends_with("@northwind.example")));
        for pool in [&d.builders, &d.sre, &d.security, &d.it_admins, &d.managers] {
            assert!(pool.len() >= 2);
        }
    }
}
