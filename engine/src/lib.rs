//! assay: where an organisation stands under NIS2 and SOC 2, and what to fix first, from facts
//! and versioned rule packs.
//!
//! The pipeline, one module per step:
//!
//! - [`read`]: CSV, JSON Lines, a JSON array or a spreadsheet → records, each with its source
//!   line, streamed a chunk at a time;
//! - [`validate`]: the facts schema and semantic checks → [`facts::Facts`] or error records;
//! - [`group`]: figures aggregated with linked and partner enterprises across the batch;
//! - [`evaluate`]: per entity, pure and in parallel, the rule packs of [`pack`] decide;
//! - [`write`]: assessments out, in input order ([`markdown`] renders the readable document;
//!   [`report`] makes HTML reports of them).
//!
//! [`pipeline`] runs the steps over a batch, streaming, after [`prescan`] has found the records
//! that ownership ties together; [`shard`] splits a batch over machines and merges the parts;
//! [`group_report`] rolls the assessments up per group; `main.rs` is the command line.

pub mod allocator;
pub mod assessment;
pub mod author;
pub mod error;
pub mod evaluate;
pub mod facts;
pub mod gen;
pub mod group;
pub mod group_report;
pub mod intern;
pub mod interrupt;
mod json_line;
pub mod markdown;
pub mod nace;
pub mod pack;
pub mod pipeline;
pub mod prescan;
pub mod read;
pub mod report;
pub mod shard;
pub mod validate;
pub mod write;
