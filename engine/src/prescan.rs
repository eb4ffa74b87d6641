//! The ownership pass: a first, cheap read of the whole portfolio that finds which records take
//! part in ownership, so that the assessing pass can stream everything else.
//!
//! NIS2 sizes an entity with its linked and partner enterprises, and an `owners` entry may name
//! any record of the file, before or after it. This pass reads only each record's id, its
//! owners' ids and whether it declares enterprises outside the batch, and keeps 8 bytes per
//! record (a hash of its id). From that it builds ownership **components**: records connected
//! through `owners`, plus records sharing an id (so that a duplicate is judged where the first
//! one is). The assessing pass holds the facts of a component only until its last record has
//! been read, hands the component to [`crate::group::aggregate`], and releases it.
//!
//! Memory is therefore flat in the number of records for portfolios whose groups sit close
//! together, as exports from registers and consolidation tools do; a group whose members are
//! far apart holds the assessments between them until it is complete.
//!
//! Shards are cut here too: a component goes whole to the shard of its first member's id, any
//! other record to the shard of its own id, so that shard membership does not depend on which
//! machine reads the file or on the thread count.

use crate::read::stream::{Input, Item};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

/// One ownership component.
#[derive(Debug, Clone, Copy)]
pub struct Component {
    /// The ordinal of its last record: once it has been read, the component is complete.
    pub last: usize,
    /// What its shard is chosen by.
    key: u64,
}

#[derive(Debug, Default)]
pub struct Prescan {
    /// Records read (ordinals run from 0 to `records - 1`, in reading order).
    pub records: usize,
    /// A hash of each record's id, 0 when it has none.
    id_hashes: Vec<u64>,
    /// Records in a component, sorted by ordinal, with the component's index.
    members: Vec<(u32, u32)>,
    pub components: Vec<Component>,
    /// Ids found on more than one record (as hashes; the assessing pass compares the ids).
    duplicates: HashSet<u64>,
}

/// FNV-1a: a hash that is the same on every machine and every build, so shards agree.
pub fn stable_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // 0 stands for "no id".
    h.max(1)
}

/// Reads `input` once and finds its ownership components.
pub fn scan(input: &Input, chunk: usize) -> Result<Prescan, String> {
    let mut items = input.items()?;
    let mut id_hashes: Vec<u64> = Vec::new();
    // Records that name owners or enterprises outside the batch, with their owners' id hashes.
    let mut holders: Vec<(usize, Vec<u64>)> = Vec::new();
    loop {
        let chunk = items.next_chunk(chunk);
        if chunk.is_empty() {
            break;
        }
        let heads: Vec<_> = chunk.par_iter().map(Item::head).collect();
        for head in heads {
            let ordinal = id_hashes.len();
            id_hashes.push(head.id.as_deref().map(stable_hash).unwrap_or(0));
            if !head.owners.is_empty() || head.linked_outside {
                holders.push((
                    ordinal,
                    head.owners.iter().map(|o| stable_hash(o)).collect(),
                ));
            }
        }
    }

    let mut sorted = id_hashes.clone();
    sorted.sort_unstable();
    let duplicates: HashSet<u64> = sorted
        .windows(2)
        .filter(|w| w[0] == w[1] && w[0] != 0)
        .map(|w| w[0])
        .collect();
    drop(sorted);

    let referenced: HashSet<u64> = holders
        .iter()
        .flat_map(|(_, o)| o.iter().copied())
        .collect();
    let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
    for (ordinal, &h) in id_hashes.iter().enumerate() {
        if h != 0 && (referenced.contains(&h) || duplicates.contains(&h)) {
            by_hash.entry(h).or_default().push(ordinal);
        }
    }

    // Union-find over the records involved.
    let mut index: HashMap<usize, usize> = HashMap::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut node = |ordinal: usize, parent: &mut Vec<usize>| -> usize {
        *index.entry(ordinal).or_insert_with(|| {
            parent.push(parent.len());
            parent.len() - 1
        })
    };
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    fn union(a: usize, b: usize, parent: &mut [usize]) {
        let (ra, rb) = (root(parent, a), root(parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    for (ordinal, owners) in &holders {
        let a = node(*ordinal, &mut parent);
        for h in owners {
            for &o in by_hash.get(h).into_iter().flatten() {
                let b = node(o, &mut parent);
                union(a, b, &mut parent);
            }
        }
    }
    for ordinals in by_hash.values() {
        let first = node(ordinals[0], &mut parent);
        for &o in &ordinals[1..] {
            let b = node(o, &mut parent);
            union(first, b, &mut parent);
        }
    }

    let mut involved: Vec<(usize, usize)> = index.into_iter().collect();
    involved.sort_unstable();
    let mut component_of_root: HashMap<usize, u32> = HashMap::new();
    let mut components: Vec<Component> = Vec::new();
    let mut members = Vec::with_capacity(involved.len());
    for (ordinal, n) in involved {
        let r = root(&mut parent, n);
        let c = *component_of_root.entry(r).or_insert_with(|| {
            // Members come in ordinal order, so the first seen is the component's first record.
            let key = match id_hashes[ordinal] {
                0 => mix(ordinal as u64),
                h => h,
            };
            components.push(Component { last: ordinal, key });
            (components.len() - 1) as u32
        });
        components[c as usize].last = ordinal;
        members.push((ordinal as u32, c));
    }

    Ok(Prescan {
        records: id_hashes.len(),
        id_hashes,
        members,
        components,
        duplicates,
    })
}

impl Prescan {
    /// The component of the record at `ordinal`, if it is in one.
    pub fn component_of(&self, ordinal: usize) -> Option<u32> {
        self.members
            .binary_search_by_key(&(ordinal as u32), |&(o, _)| o)
            .ok()
            .map(|i| self.members[i].1)
    }

    /// Whether `id` is on more than one record.
    pub fn maybe_duplicate(&self, id: &str) -> bool {
        self.duplicates.contains(&stable_hash(id))
    }

    /// The shard (of `count`) the record at `ordinal` belongs to.
    pub fn shard_of(&self, ordinal: usize, count: usize) -> usize {
        let key = match self.component_of(ordinal) {
            Some(c) => self.components[c as usize].key,
            None => match self.id_hashes[ordinal] {
                0 => mix(ordinal as u64),
                h => h,
            },
        };
        (key % count as u64) as usize
    }
}

/// Spreads record numbers over shards (splitmix64's finaliser).
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
