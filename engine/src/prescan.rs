//! The ownership pass: a first, cheap read of the whole portfolio that finds which records take
//! part in ownership, so that the assessing pass can stream everything else.
//!
//! NIS2 sizes an entity with its linked and partner enterprises, and an `owners` entry may name
//! any record of the file, before or after it. This pass reads only each record's id, its
//! owners' ids and whether it declares enterprises outside the batch, and keeps 8 bytes per
//! record (a hash of its id). From that it builds ownership **components**: records connected
//! through `owners`. The assessing pass holds the facts of a component only until its last
//! record has been read, hands the component to [`crate::group::aggregate`], and releases it.
//! Ids that may be on more than one record are noted too, so that the assessing pass can tell
//! a duplicate from the first record with its id without keeping every id.
//!
//! Memory is therefore flat in the number of records for portfolios whose groups sit close
//! together, as exports from registers and consolidation tools do; a group whose members are
//! far apart holds the assessments between them until it is complete.
//!
//! Shards are cut here too: a component, with every record that shares an id with one of its
//! members, goes whole to the shard of its first member's id; any other record goes to the shard
//! of its own id. Shard membership depends only on the file, not on the machine or the thread
//! count.

use crate::read::head::{self, Head};
use crate::read::stream::{head_by_serde, Input};
use rayon::prelude::*;

/// One ownership component.
#[derive(Debug, Clone, Copy)]
pub struct Component {
    /// The ordinal of its last record: once it has been read, the component is complete.
    pub last: usize,
}

/// A record in a component.
#[derive(Debug, Clone, Copy)]
struct Member {
    ordinal: u32,
    component: u32,
    /// What its shard is chosen by: shared by its ownership group and by records with its id.
    key: u64,
}

/// What the pass keeps: about 8 bytes per record, and some 30 per record in a group.
#[derive(Debug, Default)]
pub struct Prescan {
    /// Records read (ordinals run from 0 to `records - 1`, in reading order).
    pub records: usize,
    /// A hash of each record's id, 0 when it has none; kept only when the scan was asked for
    /// shards (8 MB at a million records that an unsharded run does not need).
    id_hashes: Vec<u64>,
    /// Records in a component, sorted by ordinal.
    members: Vec<Member>,
    pub components: Vec<Component>,
    /// Hashes of ids that may be on more than one record, sorted (two ids may share a hash:
    /// the assessing pass compares the ids themselves).
    repeated: Vec<u64>,
}

/// FNV-1a: a hash that is the same on every machine and every build, so shards agree.
pub fn stable_hash(text: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // 0 stands for "no id".
    h.max(1)
}

/// The id hashes on more than one record, sorted: found by sorting a copy of them on the
/// workers once the pass is over (8 bytes a record more, until then), not by looking each one
/// up as it is read, which left the other workers waiting.
fn repeated_hashes(id_hashes: &[u64]) -> Vec<u64> {
    // Room for them all at once: grown as it fills, the copy would take twice its size.
    let mut sorted: Vec<u64> = Vec::with_capacity(id_hashes.len());
    sorted.extend(id_hashes.iter().copied().filter(|&h| h != 0));
    sorted.par_sort_unstable();
    let mut repeated: Vec<u64> = (sorted.windows(2))
        .filter(|pair| pair[0] == pair[1])
        .map(|pair| pair[0])
        .collect();
    repeated.dedup();
    repeated
}

/// Bytes of JSON Lines read at a time, in both passes: some 2,400 records of the size
/// `gen portfolio` writes, enough work for every worker between two blocks.
pub(crate) const BLOCK: usize = 1 << 20;

/// Heads a worker finds at a time in a block: few enough that the workers finish a block
/// together (each block ends in a join), where rayon's own halving would leave one worker a
/// quarter of the block while the other waits.
const HEADS: usize = 64;

/// Reads `input` once and finds its ownership components; with `shards`, keeps what
/// [`Prescan::shard_of`] needs.
pub fn scan(input: &Input, chunk: usize, shards: bool) -> Result<Prescan, String> {
    scan_by(input, chunk, shards, Some(BLOCK))
}

/// What the pass keeps of a record: the hash of its id (0 for none), those of its owners'
/// ids, and whether it declares enterprises outside the batch.
type Key = (u64, Vec<u64>, bool);

fn key(head: Head) -> Key {
    let owners = head
        .owners
        .iter()
        .map(|o| stable_hash(o.as_bytes()))
        .collect();
    let h = head
        .id
        .as_deref()
        .map_or(0, |id| stable_hash(id.as_bytes()));
    (h, owners, head.linked_outside)
}

/// The key of a JSON line of a block: the id alone when that is all the line has
/// ([`head::id_alone`]), else from the plain reading's bytes, which copies nothing and checks
/// only the strings that are not ASCII; a line it leaves goes to serde_json.
fn key_of_line(line: &[u8]) -> Key {
    if let Some(id) = head::id_alone(line) {
        return (stable_hash(id), Vec::new(), false);
    }
    match head::plain(line) {
        Some(plain) => (
            plain.id.map_or(0, stable_hash),
            plain.owners.into_iter().map(stable_hash).collect(),
            false,
        ),
        None => key(head_by_serde(line)),
    }
}

/// As [`scan`]; a JSON Lines file in UTF-8 is read in blocks of `block` bytes, when given,
/// else record by record, as any other input is.
fn scan_by(
    input: &Input,
    chunk: usize,
    shards: bool,
    block: Option<usize>,
) -> Result<Prescan, String> {
    let mut id_hashes: Vec<u64> = Vec::new();
    // Records that name owners or enterprises outside the batch, and (owner hash, owned record).
    let mut holders: Vec<u32> = Vec::new();
    let mut edges: Vec<(u64, u32)> = Vec::new();
    // Reading the next chunk overlaps finding this one's heads on the workers; only the
    // bookkeeping below runs on one thread.
    let mut note = |keys: Vec<Key>| {
        for (h, owners, linked_outside) in keys {
            let ordinal = id_hashes.len() as u32;
            id_hashes.push(h);
            if !owners.is_empty() || linked_outside {
                holders.push(ordinal);
                edges.extend(owners.into_iter().map(|o| (o, ordinal)));
            }
        }
    };
    let blocks = match block {
        Some(size) => input.line_blocks(size)?,
        None => None,
    };
    match blocks {
        Some(blocks) => {
            let read = blocks.read_ahead(|block| {
                note(
                    (block.records(1).0.into_par_iter())
                        .with_max_len(HEADS)
                        .map(|(_, record)| key_of_line(record))
                        .collect(),
                );
                Ok::<(), std::convert::Infallible>(())
            });
            let Ok(()) = read.map_err(|e| format!("cannot read the portfolio: {e}"))?;
        }
        None => {
            let read = input.read_ahead(chunk, |chunk| {
                note(
                    (chunk.into_par_iter())
                        .map(|item| key(item.head()))
                        .collect(),
                );
                Ok::<(), std::convert::Infallible>(())
            })?;
            let Ok(()) = read;
        }
    }
    let repeated = repeated_hashes(&id_hashes);

    // The records that carry an owner's id or a repeated id, by hash.
    let mut wanted: Vec<u64> = edges
        .iter()
        .map(|e| e.0)
        .chain(repeated.iter().copied())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut carriers: Vec<(u64, u32)> = id_hashes
        .iter()
        .enumerate()
        .filter(|(_, h)| **h != 0 && wanted.binary_search(h).is_ok())
        .map(|(o, h)| (*h, o as u32))
        .collect();
    drop(wanted);
    carriers.sort_unstable();
    let carriers_of = |h: u64| {
        let start = carriers.partition_point(|c| c.0 < h);
        carriers[start..].iter().take_while(move |c| c.0 == h)
    };

    // Union-find over the records involved: `own` joins owners and what they own (the
    // components), `shard` also joins records with the same id (so they share a shard).
    let mut nodes: Vec<u32> = holders
        .iter()
        .copied()
        .chain(carriers.iter().map(|c| c.1))
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    let node = |o: u32| nodes.binary_search(&o).unwrap_or_default();
    let mut own: Vec<u32> = (0..nodes.len() as u32).collect();
    let mut shard = own.clone();
    for &(h, owned) in &edges {
        for &(_, owner) in carriers_of(h) {
            union(&mut own, node(owned), node(owner));
            union(&mut shard, node(owned), node(owner));
        }
    }
    for &h in &repeated {
        let mut same = carriers_of(h);
        if let Some(&(_, first)) = same.next() {
            for &(_, other) in same {
                union(&mut shard, node(first), node(other));
            }
        }
    }
    drop(edges);

    // Nodes come in ordinal order, so the first node of a class is its first record.
    let mut component_of_root = vec![u32::MAX; nodes.len()];
    let mut key_of_root = vec![0u64; nodes.len()];
    let mut components: Vec<Component> = Vec::new();
    let mut members = Vec::with_capacity(nodes.len());
    for (n, &ordinal) in nodes.iter().enumerate() {
        let r = root(&mut own, n) as usize;
        if component_of_root[r] == u32::MAX {
            component_of_root[r] = components.len() as u32;
            components.push(Component { last: 0 });
        }
        let component = component_of_root[r];
        components[component as usize].last = ordinal as usize;
        let s = root(&mut shard, n) as usize;
        if key_of_root[s] == 0 {
            key_of_root[s] = match id_hashes[ordinal as usize] {
                0 => mix(u64::from(ordinal)),
                h => h,
            };
        }
        members.push(Member {
            ordinal,
            component,
            key: key_of_root[s],
        });
    }

    let records = id_hashes.len();
    if !shards {
        id_hashes = Vec::new();
    }
    Ok(Prescan {
        records,
        id_hashes,
        members,
        components,
        repeated,
    })
}

fn root(parent: &mut [u32], x: usize) -> u32 {
    let mut x = x as u32;
    while parent[x as usize] != x {
        parent[x as usize] = parent[parent[x as usize] as usize];
        x = parent[x as usize];
    }
    x
}

fn union(parent: &mut [u32], a: usize, b: usize) {
    let (ra, rb) = (root(parent, a), root(parent, b));
    if ra != rb {
        parent[ra.max(rb) as usize] = ra.min(rb);
    }
}

impl Prescan {
    fn member(&self, ordinal: usize) -> Option<&Member> {
        self.members
            .binary_search_by_key(&(ordinal as u32), |m| m.ordinal)
            .ok()
            .map(|i| &self.members[i])
    }

    /// The records in a component among the ordinals of `range`, in order: each one's ordinal
    /// and component, found with one search for the whole range.
    pub fn components_in(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (usize, u32)> + '_ {
        let start = self
            .members
            .partition_point(|m| (m.ordinal as usize) < range.start);
        self.members[start..]
            .iter()
            .map(|m| (m.ordinal as usize, m.component))
            .take_while(move |(ordinal, _)| *ordinal < range.end)
    }

    /// Whether `id` may be on more than one record.
    pub fn maybe_duplicate(&self, id: &str) -> bool {
        self.repeated
            .binary_search(&stable_hash(id.as_bytes()))
            .is_ok()
    }

    /// The shard (of `count`) the record at `ordinal` belongs to; the scan must have been asked
    /// for shards.
    pub fn shard_of(&self, ordinal: usize, count: usize) -> usize {
        let key = match self.member(ordinal) {
            Some(m) => m.key,
            None => match self.id_hashes[ordinal] {
                0 => mix(ordinal as u64),
                h => h,
            },
        };
        (key % count as u64) as usize
    }
}

/// Spreads record numbers over shards (splitmix64's finaliser).
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::stream::Encoding;

    /// What a scan found, record by record: its shard of 7 and its component's last record.
    fn found(scan: &Prescan) -> Vec<(usize, Option<usize>)> {
        let mut components = vec![None; scan.records];
        for (o, c) in scan.components_in(0..scan.records) {
            components[o] = Some(c);
        }
        (0..scan.records)
            .map(|o| {
                let last = components[o].map(|c| scan.components[c as usize].last);
                (scan.shard_of(o, 7), last)
            })
            .collect()
    }

    /// A hash on two records or more is repeated once; one on a single record is not, and
    /// neither is 0, which stands for records without an id.
    #[test]
    fn repeated_ids_are_the_hashes_found_twice() {
        assert_eq!(repeated_hashes(&[0, 0, 5, 3, 5, 5, 9, 3, 0]), vec![3, 5]);
        assert_eq!(repeated_hashes(&[7, 8, 9]), Vec::<u64>::new());
        assert_eq!(repeated_hashes(&[]), Vec::<u64>::new());
    }

    /// Read in blocks, a JSON Lines file yields the same records, ids, owners and components
    /// as read record by record (the assessing pass's reading, which numbers the records): on
    /// line ends `\n` and `\r\n`, blank and white lines, a byte-order mark, lines that are not
    /// UTF-8 (whose ids and owners are salvaged), a last line without its end, and blocks
    /// smaller than a line.
    #[test]
    fn blocks_find_what_records_find() {
        let mut text = Vec::new();
        text.extend_from_slice(b"\xEF\xBB\xBF{\"id\":\"a\",\"employees\":3}\r\n");
        text.extend_from_slice(b"\n   \r\n\t\n");
        text.extend_from_slice(b"{\"id\":\"b\",\"owners\":[{\"id\":\"a\",\"share_pct\":60}]}\n");
        text.extend_from_slice(
            b"{\"id\":\"c\",\"name\":\"M\xFCller\",\"owners\":[{\"id\":\"b\"}]}\n",
        );
        text.extend_from_slice(b"not json\n{\"id\":\"a\"}\n");
        text.extend_from_slice(b"{\"id\":\"d\",\"linked_enterprises\":[{\"name\":\"x\"}]}\r\r\n");
        text.extend_from_slice(crate::gen::portfolio_jsonl(300, 3).as_bytes());
        text.extend_from_slice(b"{\"id\":\"e\",\"owners\":[{\"id\":\"d\"}]}");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("portfolio.jsonl");
        std::fs::write(&path, &text).expect("write");
        let input =
            Input::open(path.to_str().expect("path"), None, None, Encoding::Utf8).expect("open");
        let by_records = scan_by(&input, 64, true, None).expect("scan");
        // Six lines above the generator's 300 and one after them are records; the blank and
        // white lines are none (DESIGN.md "Behaviour on bad input": one output per record).
        assert_eq!(by_records.records, 307);
        // `b`, `c` and the first `a` are one component, `d` and `e` another; `a` repeats.
        assert!(by_records.components.len() >= 2);
        assert!(by_records.maybe_duplicate("a"));
        for size in [7, 40, 1000, BLOCK] {
            let by_blocks = scan_by(&input, 64, true, Some(size)).expect("scan");
            assert_eq!(by_blocks.records, by_records.records, "blocks of {size}");
            assert_eq!(found(&by_blocks), found(&by_records), "blocks of {size}");
            assert_eq!(by_blocks.repeated, by_records.repeated, "blocks of {size}");
        }
        // The assessing pass asks for a chunk's records at a time: any range gives the records
        // the whole file's range gives within it, and only those.
        let whole: Vec<(usize, u32)> = by_records.components_in(0..307).collect();
        assert!(whole.len() >= 5, "b, c, a, d and e are in components");
        for (start, end) in [
            (0, 1),
            (0, 3),
            (1, 2),
            (2, 6),
            (5, 100),
            (100, 307),
            (306, 307),
        ] {
            let within: Vec<(usize, u32)> = (whole.iter().copied())
                .filter(|(o, _)| (start..end).contains(o))
                .collect();
            let range: Vec<(usize, u32)> = by_records.components_in(start..end).collect();
            assert_eq!(range, within, "records {start}..{end}");
        }
    }
}
