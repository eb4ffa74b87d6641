//! The Rhai engine every pack runs in.
//!
//! Packs are code from outside the binary, so the engine starts from `Engine::new_raw` and gets
//! only what rules need: the core language, logic, strings, arrays, maps and maths. No module
//! resolver (so no `import` from disk), no `eval`, no time functions (a decision must not depend
//! on the clock), strict variables and failure on a missing map property. The limits are set
//! explicitly so that debug and release builds behave the same: a pack that breaks one fails the
//! entity it was evaluating, with its position, and the batch goes on.

use rhai::packages::{
    BasicArrayPackage, BasicMapPackage, BasicMathPackage, CorePackage, LogicPackage,
    MoreStringPackage, Package,
};
use rhai::{Engine, OptimizationLevel};

/// Limits for one call into a pack. The operation budget is deterministic, unlike a clock: the
/// same pack fails the same way on every machine. A classification takes a few hundred
/// operations; the budget leaves room for a hundredfold more.
pub const MAX_OPERATIONS: u64 = 50_000;
pub const MAX_CALL_LEVELS: usize = 32;
pub const MAX_EXPR_DEPTH: usize = 64;
pub const MAX_FUNCTION_EXPR_DEPTH: usize = 32;
pub const MAX_STRING_SIZE: usize = 10_000;
pub const MAX_ARRAY_SIZE: usize = 10_000;
pub const MAX_MAP_SIZE: usize = 10_000;
pub const MAX_VARIABLES: usize = 256;
pub const MAX_FUNCTIONS: usize = 512;

/// A fresh sandboxed engine. Each worker thread builds its own: sharing one engine across rayon
/// workers stopped the second core from helping in the prototype (reference/performance-baseline.md).
pub fn engine() -> Engine {
    let mut engine = Engine::new_raw();
    engine.register_global_module(CorePackage::new().as_shared_module());
    engine.register_global_module(LogicPackage::new().as_shared_module());
    engine.register_global_module(BasicArrayPackage::new().as_shared_module());
    engine.register_global_module(BasicMapPackage::new().as_shared_module());
    engine.register_global_module(BasicMathPackage::new().as_shared_module());
    engine.register_global_module(MoreStringPackage::new().as_shared_module());

    engine
        .set_max_operations(MAX_OPERATIONS)
        .set_max_call_levels(MAX_CALL_LEVELS)
        .set_max_expr_depths(MAX_EXPR_DEPTH, MAX_FUNCTION_EXPR_DEPTH)
        .set_max_string_size(MAX_STRING_SIZE)
        .set_max_array_size(MAX_ARRAY_SIZE)
        .set_max_map_size(MAX_MAP_SIZE)
        .set_max_variables(MAX_VARIABLES)
        .set_max_functions(MAX_FUNCTIONS)
        .set_max_modules(0)
        .set_strict_variables(true)
        .set_fail_on_invalid_map_property(true)
        .set_optimization_level(OptimizationLevel::Simple);
    engine.disable_symbol("eval");
    engine.disable_symbol("import");
    engine.on_print(|text| tracing::info!(target: "assay::pack", "{text}"));
    engine.on_debug(|text, source, pos| {
        tracing::debug!(target: "assay::pack", "{}:{pos}: {text}", source.unwrap_or("pack"))
    });
    engine
}
