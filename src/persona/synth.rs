//! The offline provider's synthesiser: research statements in, personas out,
//! with no network and no randomness beyond the seed.
//!
//! 1. Participants are segmented by role when most of them have one, otherwise
//!    each starts alone. With more roles than personas requested, the largest
//!    roles are kept (one role per persona); segments without a role are
//!    merged (most similar first, by cosine of their term vectors); segments
//!    are split (by experience, else by text similarity) until there are as
//!    many as personas requested.
//! 2. Each statement is sorted into goal, pain point or behaviour by keyword cues.
//! 3. Within a segment the most *central* statements (highest summed similarity to
//!    the others: what several participants say) become the persona's items.
//! 4. Demographics come from the members' fields: occupation is the commonest
//!    role, age range comes from ages or is estimated as 22 + years of experience.
//! 5. Every item is linked to the statements it came from.

use std::collections::BTreeMap;

use rand::seq::IndexedRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::data::{by_participant, Dataset, Statement};
use super::model::{Demographics, Persona};
use super::text::{stable_hash, TermVector};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Complexity {
    Simple,
    #[default]
    Moderate,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DetailLevel {
    Minimal,
    #[default]
    Standard,
    Detailed,
}

impl crate::model::Named for Complexity {
    const VALUES: &'static [(Self, &'static str, &'static str)] = &[
        (
            Complexity::Simple,
            "simple",
            "fewer goals, pain points and behaviours",
        ),
        (Complexity::Moderate, "moderate", "the default"),
        (Complexity::Complex, "complex", "more of each"),
    ];
}

impl crate::model::Named for DetailLevel {
    const VALUES: &'static [(Self, &'static str, &'static str)] = &[
        (DetailLevel::Minimal, "minimal", "short items"),
        (DetailLevel::Standard, "standard", "the default"),
        (DetailLevel::Detailed, "detailed", "longer items"),
    ];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthOptions {
    pub count: usize,
    pub seed: u64,
    pub complexity: Complexity,
    pub detail_level: DetailLevel,
    pub include_reasoning: bool,
}

impl SynthOptions {
    fn items_per_list(&self) -> usize {
        let base: usize = match self.detail_level {
            DetailLevel::Minimal => 2,
            DetailLevel::Standard => 3,
            DetailLevel::Detailed => 5,
        };
        match self.complexity {
            Complexity::Simple => base.saturating_sub(1).max(1),
            Complexity::Moderate => base,
            Complexity::Complex => base + 1,
        }
    }

    fn quotes(&self) -> usize {
        match self.detail_level {
            DetailLevel::Minimal => 1,
            DetailLevel::Standard => 2,
            DetailLevel::Detailed => 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    Goal,
    Pain,
    Behaviour,
    Other,
}

const GOAL_CUES: &[&str] = &[
    "want",
    "need",
    "would love",
    "wish",
    "hope",
    "goal",
    "trying to",
    "like to",
    "prefer",
    "looking for",
    "so that",
    "so i can",
    "important",
    "must",
    "help me",
    "would help",
];
const PAIN_CUES: &[&str] = &[
    "frustrat",
    "annoy",
    "hard",
    "difficult",
    "slow",
    "waste",
    "lose",
    "lost",
    "confus",
    "useless",
    "broken",
    "break",
    "pain",
    "problem",
    "complain",
    "can't",
    "cannot",
    "never",
    "ignore",
    "flaky",
    "inconsistent",
    "out of date",
    "struggle",
    "too many",
    "crash",
    "nobody",
    "tedious",
    "takes me",
    "weeks after",
    "randomly",
];
const BEHAVIOUR_CUES: &[&str] = &[
    "usually",
    "always",
    "often",
    "every ",
    "each ",
    "daily",
    "weekly",
    "i use",
    "i check",
    "i run",
    "i spend",
    "i send",
    "i write",
    "i record",
    "i export",
    "i review",
    "i skim",
    "routine",
    "first hour",
    "morning",
];
const GOAL_LEADS: &[&str] = &[
    "i want to ",
    "i want ",
    "i need to ",
    "i need ",
    "i would love ",
    "i'd love ",
    "i wish i could ",
    "i wish ",
    "i'd like to ",
    "i would like to ",
    "we want to ",
    "we need to ",
    "i hope to ",
    "my goal is to ",
];
const BEHAVIOUR_LEADS: &[&str] = &[
    "i usually ",
    "i always ",
    "i often ",
    "every ",
    "each ",
    "i ",
];

fn count_cues(lower: &str, cues: &[&str]) -> f64 {
    cues.iter().filter(|c| lower.contains(*c)).count() as f64
}

fn classify(text: &str) -> Category {
    let lower = text.to_lowercase();
    let lead = |leads: &[&str]| {
        leads[..leads.len() - 1]
            .iter()
            .any(|l| lower.starts_with(l))
    };
    let goal = count_cues(&lower, GOAL_CUES) + if lead(GOAL_LEADS) { 1.5 } else { 0.0 };
    let pain = count_cues(&lower, PAIN_CUES);
    let behaviour =
        count_cues(&lower, BEHAVIOUR_CUES) + if lead(BEHAVIOUR_LEADS) { 1.5 } else { 0.0 };
    let best = goal.max(pain).max(behaviour);
    if best == 0.0 {
        Category::Other
    } else if pain == best {
        Category::Pain
    } else if goal == best {
        Category::Goal
    } else {
        Category::Behaviour
    }
}

fn capitalise(s: &str) -> String {
    let s = s.trim().trim_end_matches(['.', '!']).trim();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn strip_lead<'a>(text: &'a str, leads: &[&str]) -> &'a str {
    let lower = text.to_lowercase();
    for lead in leads {
        if lower.starts_with(lead) && text.is_char_boundary(lead.len()) {
            return &text[lead.len()..];
        }
    }
    text
}

fn phrase(category: Category, text: &str) -> String {
    match category {
        Category::Goal => capitalise(strip_lead(text, GOAL_LEADS)),
        Category::Behaviour => capitalise(strip_lead(text, &BEHAVIOUR_LEADS[..3])),
        Category::Pain => capitalise(strip_lead(
            text,
            &[
                "it is frustrating that ",
                "it's frustrating that ",
                "i think ",
            ],
        )),
        Category::Other => capitalise(text),
    }
}

struct Participant<'a> {
    id: String,
    statements: Vec<&'a Statement>,
    vector: TermVector,
}

impl Participant<'_> {
    fn role(&self) -> Option<String> {
        self.statements.iter().find_map(|s| s.role.clone())
    }
    fn experience(&self) -> Option<f64> {
        self.statements.iter().find_map(|s| s.experience_years)
    }
}

#[derive(Clone)]
struct Segment {
    members: Vec<usize>,
    /// The roles the segment was grouped by, in order of first appearance.
    roles: Vec<String>,
    /// How it was formed beyond grouping by role: merges and splits.
    steps: Vec<&'static str>,
}

impl Segment {
    fn describe(&self) -> String {
        let mut how = match self.roles.as_slice() {
            [] => "text similarity".to_string(),
            [one] => format!("role '{one}'"),
            many => format!(
                "roles {}",
                many.iter()
                    .map(|r| format!("'{r}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut steps = self.steps.clone();
        steps.dedup();
        for s in steps {
            how.push_str(", ");
            how.push_str(s);
        }
        how
    }
}

fn centroid(parts: &[Participant], members: &[usize]) -> TermVector {
    let mut v = TermVector::default();
    for &m in members {
        v.add(&parts[m].vector);
    }
    v
}

fn initial_segments(parts: &[Participant]) -> Vec<Segment> {
    let with_role = parts.iter().filter(|p| p.role().is_some()).count();
    if with_role * 2 < parts.len() {
        return (0..parts.len())
            .map(|i| Segment {
                members: vec![i],
                roles: Vec::new(),
                steps: Vec::new(),
            })
            .collect();
    }
    let mut segments: Vec<(String, Segment)> = Vec::new();
    let mut roleless = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        match p.role() {
            Some(role) => {
                let key = role.to_lowercase();
                match segments.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, s)) => s.members.push(i),
                    None => segments.push((
                        key,
                        Segment {
                            members: vec![i],
                            roles: vec![role],
                            steps: Vec::new(),
                        },
                    )),
                }
            }
            None => roleless.push(i),
        }
    }
    let mut segments: Vec<Segment> = segments.into_iter().map(|(_, s)| s).collect();
    for i in roleless {
        let best = (0..segments.len())
            .max_by(|&a, &b| {
                let ca = centroid(parts, &segments[a].members).cosine(&parts[i].vector);
                let cb = centroid(parts, &segments[b].members).cosine(&parts[i].vector);
                ca.total_cmp(&cb).then(b.cmp(&a))
            })
            .unwrap_or(0);
        segments[best].members.push(i);
    }
    segments
}

/// With more role segments than personas, keeps the `count` largest (most
/// participants, then most statements, then first seen), in their order:
/// a persona stands for one role rather than a blend of several.
fn keep_largest_roles(parts: &[Participant], segments: &mut Vec<Segment>, count: usize) {
    if segments.len() <= count || segments.iter().any(|s| s.roles.is_empty()) {
        return;
    }
    let size = |s: &Segment| {
        (
            s.members.len(),
            s.members
                .iter()
                .map(|&m| parts[m].statements.len())
                .sum::<usize>(),
        )
    };
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by(|&a, &b| size(&segments[b]).cmp(&size(&segments[a])).then(a.cmp(&b)));
    let mut keep: Vec<usize> = order.into_iter().take(count).collect();
    keep.sort_unstable();
    let mut kept: Vec<Segment> = keep.into_iter().map(|i| segments[i].clone()).collect();
    for s in &mut kept {
        s.steps.push("one of the largest roles");
    }
    *segments = kept;
}

fn merge_to(parts: &[Participant], segments: &mut Vec<Segment>, count: usize) {
    // Centroids and pairwise similarities are kept up to date incrementally:
    // only the merged segment's row changes after a merge.
    let mut cents: Vec<TermVector> = segments
        .iter()
        .map(|s| centroid(parts, &s.members))
        .collect();
    let mut sim: Vec<Vec<f64>> = cents
        .iter()
        .map(|a| cents.iter().map(|b| a.cosine(b)).collect())
        .collect();
    while segments.len() > count {
        let mut best = (0, 1, f64::MIN);
        for (i, row) in sim.iter().enumerate() {
            for (j, &v) in row.iter().enumerate().skip(i + 1) {
                if v > best.2 {
                    best = (i, j, v);
                }
            }
        }
        let (i, j, _) = best;
        let absorbed = segments.remove(j);
        let absorbed_cent = cents.remove(j);
        sim.remove(j);
        for row in &mut sim {
            row.remove(j);
        }
        segments[i].members.extend(absorbed.members);
        segments[i].roles.extend(absorbed.roles);
        segments[i].steps.extend(absorbed.steps);
        segments[i].steps.push("merged by text similarity");
        cents[i].add(&absorbed_cent);
        for k in 0..segments.len() {
            let v = cents[i].cosine(&cents[k]);
            sim[i][k] = v;
            sim[k][i] = v;
        }
    }
}

fn split_to(parts: &[Participant], segments: &mut Vec<Segment>, count: usize) {
    while segments.len() < count {
        let Some(idx) = (0..segments.len())
            .filter(|&i| segments[i].members.len() >= 2)
            .max_by(|&a, &b| {
                segments[a]
                    .members
                    .len()
                    .cmp(&segments[b].members.len())
                    .then(b.cmp(&a))
            })
        else {
            return;
        };
        let seg = segments[idx].clone();
        let exps: Vec<Option<f64>> = seg.members.iter().map(|&m| parts[m].experience()).collect();
        let (a, b, how) = if exps.iter().all(Option::is_some)
            && exps.iter().flatten().any(|e| Some(*e) != exps[0])
        {
            let mut sorted = seg.members.clone();
            sorted.sort_by(|&x, &y| {
                parts[x]
                    .experience()
                    .unwrap_or(0.0)
                    .total_cmp(&parts[y].experience().unwrap_or(0.0))
                    .then(x.cmp(&y))
            });
            let half = sorted.len() / 2;
            let (lo, hi) = sorted.split_at(half);
            (lo.to_vec(), hi.to_vec(), "split by years of experience")
        } else {
            // Two-means seeded with the least similar pair.
            let mut far = (seg.members[0], seg.members[1], f64::MAX);
            for (n, &x) in seg.members.iter().enumerate() {
                for &y in &seg.members[n + 1..] {
                    let s = parts[x].vector.cosine(&parts[y].vector);
                    if s < far.2 {
                        far = (x, y, s);
                    }
                }
            }
            let (mut a, mut b) = (vec![far.0], vec![far.1]);
            for &m in &seg.members {
                if m == far.0 || m == far.1 {
                    continue;
                }
                let sa = parts[m].vector.cosine(&parts[far.0].vector);
                let sb = parts[m].vector.cosine(&parts[far.1].vector);
                if sa >= sb {
                    a.push(m)
                } else {
                    b.push(m)
                }
            }
            a.sort_unstable();
            b.sort_unstable();
            (a, b, "split by text similarity")
        };
        let mut steps = seg.steps.clone();
        steps.push(how);
        segments[idx] = Segment {
            members: a,
            roles: seg.roles.clone(),
            steps: steps.clone(),
        };
        segments.insert(
            idx + 1,
            Segment {
                members: b,
                roles: seg.roles,
                steps,
            },
        );
    }
}

const FIRST_NAMES: &[&str] = &[
    "Alex", "Priya", "Jonas", "Mei", "Samuel", "Amara", "Lucas", "Ines", "Kenji", "Fatima",
    "Oliver", "Zanele", "Mateo", "Hana", "Noah", "Leila", "Erik", "Sofia", "Tariq", "Chloe",
    "Diego", "Aiko", "Ravi", "Nora", "Kwame", "Elena", "Yusuf", "Grace", "Hugo", "Ana",
];
const LAST_NAMES: &[&str] = &[
    "Rivera",
    "Sharma",
    "Berg",
    "Chen",
    "Okafor",
    "Mensah",
    "Silva",
    "Moreau",
    "Tanaka",
    "Haddad",
    "Novak",
    "Dlamini",
    "Garcia",
    "Kim",
    "Fischer",
    "Rahimi",
    "Lindqvist",
    "Rossi",
    "Aziz",
    "Dubois",
    "Lopez",
    "Sato",
    "Iyer",
    "Kowalski",
    "Boateng",
    "Petrova",
    "Demir",
    "Walsh",
    "Laurent",
    "Costa",
];

fn age_bucket(age: f64) -> (u32, Option<u32>) {
    match age {
        a if a < 25.0 => (18, Some(24)),
        a if a < 35.0 => (25, Some(34)),
        a if a < 45.0 => (35, Some(44)),
        a if a < 55.0 => (45, Some(54)),
        a if a < 65.0 => (55, Some(64)),
        _ => (65, None),
    }
}

fn age_range(statements: &[&Statement], members: &[&Participant]) -> (String, Vec<&'static str>) {
    let ages: Vec<f64> = members
        .iter()
        .filter_map(|p| p.statements.iter().find_map(|s| s.age))
        .collect();
    let (values, how) = if !ages.is_empty() {
        (ages, vec!["Age range from the participants' ages."])
    } else {
        let est: Vec<f64> = members
            .iter()
            .filter_map(|p| p.experience())
            .map(|e| 22.0 + e)
            .collect();
        (
            est,
            vec!["Age range estimated as 22 + years of experience."],
        )
    };
    let _ = statements;
    if values.is_empty() {
        return ("Not stated".into(), vec![]);
    }
    let lo = values.iter().copied().fold(f64::MAX, f64::min);
    let hi = values.iter().copied().fold(f64::MIN, f64::max);
    let (from, _) = age_bucket(lo);
    let (_, to) = age_bucket(hi);
    let range = match to {
        Some(to) => format!("{from}-{to}"),
        None => format!("{from}+"),
    };
    (range, how)
}

/// The most common value, first seen winning ties; up to two when tied.
fn mode(values: &[String]) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for v in values {
        match counts.iter_mut().find(|(k, _)| k == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((v.clone(), 1)),
        }
    }
    let max = counts.iter().map(|(_, n)| *n).max()?;
    let top: Vec<String> = counts
        .into_iter()
        .filter(|(_, n)| *n == max)
        .map(|(k, _)| k)
        .take(2)
        .collect();
    Some(top.join(" / "))
}

struct Scored<'a> {
    statement: &'a Statement,
    category: Category,
    score: f64,
}

fn reference(s: &Statement) -> String {
    format!("{} ({})", s.source, s.participant)
}

/// Builds `opts.count` personas from the dataset. Never fails for a non-empty
/// dataset: when a segment lacks goals or pain points, the closest ones from
/// the rest of the data are used and the evidence says where they came from.
pub fn synthesise(data: &Dataset, opts: &SynthOptions) -> Vec<Persona> {
    let parts: Vec<Participant> = by_participant(data)
        .into_iter()
        .map(|(id, statements)| {
            let mut vector = TermVector::default();
            for s in &statements {
                vector.add(&TermVector::of(&s.text));
            }
            Participant {
                id,
                statements,
                vector,
            }
        })
        .collect();
    let count = opts.count.max(1);
    let mut segments = initial_segments(&parts);
    keep_largest_roles(&parts, &mut segments, count);
    merge_to(&parts, &mut segments, count);
    split_to(&parts, &mut segments, count);

    // Every statement, classified once, for borrowing across segments.
    let all: Vec<(Category, &Statement, TermVector)> = data
        .statements
        .iter()
        .map(|s| (classify(&s.text), s, TermVector::of(&s.text)))
        .collect();

    let mut used_names: Vec<String> = Vec::new();
    let mut personas = Vec::with_capacity(count);
    for k in 0..count {
        let seg = &segments[k % segments.len()];
        let variant = k / segments.len();
        let members: Vec<&Participant> = seg.members.iter().map(|&m| &parts[m]).collect();
        let statements: Vec<&Statement> = members
            .iter()
            .flat_map(|p| p.statements.iter().copied())
            .collect();
        let vectors: Vec<TermVector> = statements.iter().map(|s| TermVector::of(&s.text)).collect();
        let mut scored: Vec<Scored> = statements
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let score: f64 = vectors
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, v)| v.cosine(&vectors[i]))
                    .sum();
                Scored {
                    statement: s,
                    category: classify(&s.text),
                    score,
                }
            })
            .collect();
        // Most central first; source order breaks ties so the output is stable.
        scored.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.statement.source.cmp(&b.statement.source))
        });

        let per_list = opts.items_per_list();
        let mut evidence: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut notes: Vec<String> = Vec::new();
        let seg_vector = centroid(&parts, &seg.members);
        let pick =
            |category: Category, field: &str, evidence: &mut BTreeMap<String, Vec<String>>| {
                let mut candidates: Vec<&Statement> = scored
                    .iter()
                    .filter(|s| s.category == category)
                    .map(|s| s.statement)
                    .collect();
                if !candidates.is_empty() && variant > 0 {
                    let shift = (variant * per_list) % candidates.len();
                    candidates.rotate_left(shift);
                }
                let mut borrowed = false;
                if candidates.is_empty() && matches!(category, Category::Goal | Category::Pain) {
                    // Borrow the closest statement of this category from the rest of the data.
                    let best = all
                        .iter()
                        .filter(|(c, _, _)| *c == category)
                        .max_by(|a, b| {
                            seg_vector
                                .cosine(&a.2)
                                .total_cmp(&seg_vector.cosine(&b.2))
                                .then_with(|| b.1.source.cmp(&a.1.source))
                        });
                    if let Some((_, s, _)) = best {
                        candidates.push(s);
                        borrowed = true;
                    }
                }
                let mut items: Vec<String> = Vec::new();
                let mut chosen: Vec<TermVector> = Vec::new();
                for s in candidates {
                    if items.len() == per_list {
                        break;
                    }
                    let v = TermVector::of(&s.text);
                    if chosen.iter().any(|c| c.cosine(&v) > 0.8) {
                        continue;
                    }
                    evidence.insert(format!("{field}[{}]", items.len()), vec![reference(s)]);
                    items.push(phrase(category, &s.text));
                    chosen.push(v);
                }
                (items, borrowed)
            };
        let (goals, borrowed_goals) = pick(Category::Goal, "goals", &mut evidence);
        let (pain_points, borrowed_pains) = pick(Category::Pain, "pain_points", &mut evidence);
        let (behaviours, _) = pick(Category::Behaviour, "behaviours", &mut evidence);
        if borrowed_goals {
            notes.push("no goal was stated in this segment; the closest goal from other participants is used".into());
        }
        if borrowed_pains {
            notes.push("no pain point was stated in this segment; the closest one from other participants is used".into());
        }

        let mut quotes = Vec::new();
        for s in scored.iter().map(|s| s.statement) {
            if quotes.len() == opts.quotes() {
                break;
            }
            if s.text.len() <= 200 && !quotes.contains(&s.text) {
                evidence.insert(format!("quotes[{}]", quotes.len()), vec![reference(s)]);
                quotes.push(s.text.clone());
            }
        }

        let roles: Vec<String> = members.iter().filter_map(|p| p.role()).collect();
        let occupation = mode(&roles).unwrap_or_else(|| "Research participant".into());
        let role_refs: Vec<String> = statements
            .iter()
            .filter(|s| s.role.is_some())
            .map(|s| reference(s))
            .take(3)
            .collect();
        if !role_refs.is_empty() {
            evidence.insert("demographics.occupation".into(), role_refs);
        }
        let locations: Vec<String> = members
            .iter()
            .filter_map(|p| p.statements.iter().find_map(|s| s.location.clone()))
            .collect();
        let location = mode(&locations).unwrap_or_else(|| "Not stated".into());
        let loc_refs: Vec<String> = statements
            .iter()
            .filter(|s| s.location.is_some())
            .map(|s| reference(s))
            .take(3)
            .collect();
        if !loc_refs.is_empty() {
            evidence.insert("demographics.location".into(), loc_refs);
        }
        let (age, age_how) = age_range(&statements, &members);
        if !age_how.is_empty() {
            let refs: Vec<String> = statements
                .iter()
                .filter(|s| s.age.is_some() || s.experience_years.is_some())
                .map(|s| reference(s))
                .take(3)
                .collect();
            evidence.insert("demographics.age_range".into(), refs);
        }

        let ids: Vec<&str> = members.iter().map(|p| p.id.as_str()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ stable_hash(&ids) ^ variant as u64);
        let name = loop {
            let first = FIRST_NAMES.choose(&mut rng).copied().unwrap_or("Alex");
            let last = LAST_NAMES.choose(&mut rng).copied().unwrap_or("Rivera");
            let candidate = format!("{first} {last}");
            if !used_names.contains(&candidate)
                || used_names.len() >= FIRST_NAMES.len() * LAST_NAMES.len()
            {
                break candidate;
            }
        };
        used_names.push(name.clone());

        let reasoning = opts.include_reasoning.then(|| {
            let mut r = format!(
                "Built from {} participant(s) ({}) grouped by {}; {} statements ranked by how much they share with the rest of the segment.",
                members.len(),
                ids.join(", "),
                seg.describe(),
                statements.len()
            );
            if let Some(how) = age_how.first() {
                r.push(' ');
                r.push_str(how);
            }
            if variant > 0 {
                r.push_str(&format!(
                    " More personas were requested than there are segments, so this is variant {} of the segment, using its next-ranked statements.",
                    variant + 1
                ));
            }
            for n in &notes {
                r.push_str(&format!(" Note: {n}."));
            }
            r
        });

        personas.push(Persona {
            id: format!("persona-{:02}", k + 1),
            name,
            demographics: Demographics {
                age_range: age,
                occupation,
                location,
            },
            goals,
            pain_points,
            behaviours,
            quotes,
            evidence,
            reasoning,
        });
    }
    personas
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persona::data::{embedded_sample, load, InputFile};
    use crate::persona::model::validate;

    fn opts(count: usize) -> SynthOptions {
        SynthOptions {
            count,
            seed: 42,
            complexity: Complexity::Moderate,
            detail_level: DetailLevel::Standard,
            include_reasoning: true,
        }
    }

    #[test]
    fn classification_cues() {
        assert_eq!(classify("I want faster builds"), Category::Goal);
        assert_eq!(
            classify("It is frustrating that builds are slow"),
            Category::Pain
        );
        assert_eq!(
            classify("I usually run tests before lunch"),
            Category::Behaviour
        );
        assert_eq!(classify("The sky was blue"), Category::Other);
        assert_eq!(
            phrase(Category::Goal, "I want to see every request in one place."),
            "See every request in one place"
        );
    }

    #[test]
    fn sample_gives_role_based_personas_with_evidence() {
        let data = load(&embedded_sample()).unwrap();
        let personas = synthesise(&data, &opts(5));
        assert_eq!(personas.len(), 5);
        validate(&personas).unwrap();
        let occupations: Vec<&str> = personas
            .iter()
            .map(|p| p.demographics.occupation.as_str())
            .collect();
        assert_eq!(
            occupations,
            [
                "Product Manager",
                "Software Engineer",
                "UX Designer",
                "Customer Support Lead",
                "Data Analyst"
            ]
        );
        for p in &personas {
            for i in 0..p.goals.len() {
                assert!(p.evidence.contains_key(&format!("goals[{i}]")), "{p:?}");
            }
            for i in 0..p.pain_points.len() {
                assert!(p.evidence.contains_key(&format!("pain_points[{i}]")));
            }
        }
        // Experience of the product managers (4, 6, 7, 9 years) gives 25-34.
        assert_eq!(personas[0].demographics.age_range, "25-34");
    }

    #[test]
    fn fewer_personas_than_roles_keep_one_role_each() {
        let data = load(&embedded_sample()).unwrap();
        for n in [1, 2, 4] {
            let personas = synthesise(&data, &opts(n));
            assert_eq!(personas.len(), n);
            for p in &personas {
                // Every quote comes from a participant of the persona's one role.
                for (i, q) in p.quotes.iter().enumerate() {
                    let s = data.statements.iter().find(|s| &s.text == q).unwrap();
                    assert_eq!(
                        s.role.as_deref(),
                        Some(p.demographics.occupation.as_str()),
                        "quotes[{i}] of {} ({n} personas)",
                        p.name
                    );
                }
            }
        }
        // One persona: the role with the most participants.
        let mut roles: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
        for s in &data.statements {
            if let Some(r) = &s.role {
                roles.entry(r).or_default().insert(&s.participant);
            }
        }
        let most = roles.values().map(|p| p.len()).max().unwrap();
        let one = synthesise(&data, &opts(1));
        assert_eq!(roles[one[0].demographics.occupation.as_str()].len(), most);
    }

    #[test]
    fn count_is_honoured_by_merging_and_splitting() {
        let data = load(&embedded_sample()).unwrap();
        for n in [1, 2, 7, 10, 25] {
            let personas = synthesise(&data, &opts(n));
            assert_eq!(personas.len(), n);
            validate(&personas).unwrap();
            let mut names: Vec<_> = personas.iter().map(|p| &p.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), n, "names are unique");
        }
    }

    #[test]
    fn different_data_gives_different_personas() {
        let a = load(&embedded_sample()).unwrap();
        let b = load(&[InputFile {
            name: "nurses.csv".into(),
            bytes: b"id,role,quote\nN1,Nurse,I want shift swaps to take one tap\nN1,Nurse,Paper rotas are frustrating and always out of date\nN2,Nurse,I usually check the rota on my break\nN2,Nurse,I need to know who is on call tonight\nN2,Nurse,It is hard to find cover when someone is ill\n".to_vec(),
        }])
        .unwrap();
        let pa = synthesise(&a, &opts(1));
        let pb = synthesise(&b, &opts(1));
        assert_ne!(pa, pb);
        assert_eq!(pb[0].demographics.occupation, "Nurse");
        assert!(
            pb[0].goals.iter().any(|g| g.contains("Shift swaps")),
            "{:?}",
            pb[0].goals
        );
        assert!(pb[0].evidence["goals[0]"][0].starts_with("nurses.csv:row"));
    }

    #[test]
    fn seed_changes_names_not_content() {
        let data = load(&embedded_sample()).unwrap();
        let a = synthesise(&data, &opts(3));
        let mut o = opts(3);
        o.seed = 7;
        let b = synthesise(&data, &o);
        assert_eq!(a, synthesise(&data, &opts(3)));
        assert_ne!(
            a.iter().map(|p| &p.name).collect::<Vec<_>>(),
            b.iter().map(|p| &p.name).collect::<Vec<_>>()
        );
        assert_eq!(a[0].goals, b[0].goals);
    }

    #[test]
    fn detail_level_changes_list_length() {
        let data = load(&embedded_sample()).unwrap();
        let mut o = opts(1);
        o.detail_level = DetailLevel::Minimal;
        o.complexity = Complexity::Simple;
        let small = synthesise(&data, &o);
        o.detail_level = DetailLevel::Detailed;
        o.complexity = Complexity::Complex;
        let large = synthesise(&data, &o);
        assert_eq!(small[0].goals.len(), 1);
        assert!(large[0].goals.len() > 3, "{:?}", large[0].goals);
    }
}
