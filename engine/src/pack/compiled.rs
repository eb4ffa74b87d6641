//! A pack's scripts, compiled and checked against the decisions its manifest declares.

use super::{sandbox, Pack};
use crate::error::PackError;
use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, ImmutableString, Position, Scope, AST};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The scripts of one pack, merged into one AST, with the file each function was defined in so
/// that run-time errors can name it.
///
/// A decision is a pure function of the prepared facts it receives: the sandbox gives scripts
/// no state that outlives a call, no clock and no I/O. So each worker remembers the rule every
/// decision returned for the arguments it was given, and a later call with the same arguments
/// (the same entity type, size class and flags: most of a portfolio) skips the interpreter.
#[derive(Debug, Clone)]
pub struct Scripts {
    pub pack: String,
    pub ast: AST,
    pub function_files: BTreeMap<String, String>,
    memo: RefCell<Memo>,
}

/// Rules already decided, keyed by function and arguments; bounded, cleared when full.
#[derive(Debug, Clone, Default)]
struct Memo {
    rules: foldhash::HashMap<String, ImmutableString>,
    key: String,
}

const MEMO_CAPACITY: usize = 65_536;

/// The memo key of a call, or false when an argument is of a type not worth keying.
fn memo_key(key: &mut String, function: &str, args: &[Dynamic]) -> bool {
    key.clear();
    key.push_str(function);
    for a in args {
        key.push('\u{1f}');
        if let Ok(b) = a.as_bool() {
            key.push(if b { 'T' } else { 'F' });
        } else if let Ok(i) = a.as_int() {
            let _ = write!(key, "i{i}");
        } else if let Some(s) = a.read_lock::<ImmutableString>() {
            key.push('s');
            key.push_str(&s);
        } else if a.is_unit() {
            key.push('u');
        } else {
            return false;
        }
    }
    true
}

impl Scripts {
    /// Compiles every script of the pack and checks that each declared decision names a function
    /// with as many parameters as the manifest lists arguments.
    pub fn compile(engine: &Engine, pack: &Pack) -> Result<Scripts, PackError> {
        let id = pack.manifest.id.clone();
        let mut ast = AST::empty();
        let mut function_files = BTreeMap::new();
        for file in &pack.manifest.scripts {
            let source = pack.text(file)?;
            let mut part = engine.compile(source).map_err(|e| {
                let (line, column) = line_col(e.position());
                PackError::Script {
                    pack: id.clone(),
                    file: file.clone(),
                    line,
                    column,
                    message: e.err_type().to_string(),
                }
            })?;
            part.set_source(file.as_str());
            for f in part.iter_functions() {
                if let Some(other) = function_files.insert(f.name.to_string(), file.clone()) {
                    return Err(PackError::Manifest {
                        pack: id.clone(),
                        message: format!(
                            "function `{}` is defined in both `{other}` and `{file}`",
                            f.name
                        ),
                    });
                }
            }
            ast = ast.merge(&part);
        }

        for (name, decision) in &pack.manifest.decisions {
            let found = ast.iter_functions().find(|f| f.name == decision.function);
            match found {
                None => {
                    return Err(PackError::Manifest {
                        pack: id.clone(),
                        message: format!(
                            "decision `{name}` calls `{}`, which no script defines",
                            decision.function
                        ),
                    })
                }
                Some(f) if f.params.len() != decision.arguments.len() => {
                    return Err(PackError::Manifest {
                        pack: id.clone(),
                        message: format!(
                            "decision `{name}`: `{}` takes {} parameters but pack.json passes {} \
                             arguments ({})",
                            decision.function,
                            f.params.len(),
                            decision.arguments.len(),
                            decision.arguments.join(", ")
                        ),
                    })
                }
                Some(f) => {
                    if let Some(i) = f
                        .params
                        .iter()
                        .zip(&decision.arguments)
                        .position(|(p, a)| p != a)
                    {
                        let hint = if decision.arguments.iter().any(|a| a == f.params[i]) {
                            "the same names in another order: the host passes arguments by \
                             position, so the function would read one fact under another's name"
                                .to_string()
                        } else {
                            format!(
                                "rename the parameter or the argument so that they agree{}",
                                crate::validate::did_you_mean(
                                    f.params[i],
                                    decision.arguments.iter().map(String::as_str)
                                )
                                .map(|m| format!(" (did you mean `{m}`?)"))
                                .unwrap_or_default()
                            )
                        };
                        return Err(PackError::Manifest {
                            pack: id.clone(),
                            message: format!(
                                "decision `{name}`: parameter {} of `{}` is `{}` but pack.json \
                                 passes `{}` there: {hint}; pack.json passes ({}), the function \
                                 takes ({})",
                                i + 1,
                                decision.function,
                                f.params[i],
                                decision.arguments[i],
                                decision.arguments.join(", "),
                                f.params.join(", ")
                            ),
                        });
                    }
                }
            }
        }
        Ok(Scripts {
            pack: id,
            ast,
            function_files,
            memo: RefCell::default(),
        })
    }

    /// Calls `function` with prepared arguments and expects the id of a rule back.
    pub fn call_rule(
        &self,
        engine: &Engine,
        decision: &str,
        function: &str,
        args: impl Fn() -> Vec<Dynamic>,
    ) -> Result<String, PackError> {
        let args_now = args();
        let keyed = {
            let mut memo = self.memo.borrow_mut();
            let Memo { rules, key } = &mut *memo;
            if memo_key(key, function, &args_now) {
                if let Some(rule) = rules.get(key.as_str()) {
                    return Ok(rule.to_string());
                }
                true
            } else {
                false
            }
        };
        let rule = self.call_uncached(engine, decision, function, args_now, &args)?;
        if keyed {
            let mut memo = self.memo.borrow_mut();
            let Memo { rules, key } = &mut *memo;
            if rules.len() >= MEMO_CAPACITY {
                rules.clear();
            }
            rules.insert(key.clone(), ImmutableString::from(rule.as_str()));
        }
        Ok(rule)
    }

    fn call_uncached(
        &self,
        engine: &Engine,
        decision: &str,
        function: &str,
        first_args: Vec<Dynamic>,
        args: &impl Fn() -> Vec<Dynamic>,
    ) -> Result<String, PackError> {
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let mut scope = Scope::new();
        let result = engine
            .call_fn_with_options::<Dynamic>(options, &mut scope, &self.ast, function, first_args)
            .map_err(|e| {
                let mut error = self.runtime_error(decision, function, &e);
                if is_unplaced(&e) {
                    if let (
                        Some((innermost, l, c)),
                        PackError::Script {
                            file,
                            line,
                            column,
                            message,
                            ..
                        },
                    ) = (self.locate_failure(function, args()), &mut error)
                    {
                        *file = self.file_of(&innermost);
                        *line = l;
                        *column = c;
                        if !message.contains(&format!("`{innermost}`")) {
                            message.push_str(&format!(" (in function `{innermost}`)"));
                        }
                    }
                }
                error
            })?;
        match result.into_immutable_string() {
            Ok(rule) => Ok(rule.to_string()),
            Err(type_name) => Err(PackError::Script {
                pack: self.pack.clone(),
                file: self.file_of(function),
                line: 0,
                column: 0,
                message: format!(
                    "decision `{decision}`: `{function}` returned a value of type `{type_name}`; \
                     it must return the id of a rule in tables/rules.json"
                ),
            }),
        }
    }

    fn file_of(&self, function: &str) -> String {
        self.function_files
            .get(function)
            .cloned()
            .unwrap_or_else(|| "?".into())
    }

    /// Where a call that failed without a position (the operation budget, the call depth, a
    /// size limit) was when it failed: the call runs again in a sandbox with the same limits and
    /// a debugger that notes each step, and the last step noted is the place. Limits count
    /// operations, not time, so the run fails the same way again. Returns the innermost
    /// function, line and column, or `None` when the run does not fail again.
    pub fn locate_failure(
        &self,
        function: &str,
        args: Vec<Dynamic>,
    ) -> Option<(String, usize, usize)> {
        use std::sync::{Arc, Mutex};
        let last: Arc<Mutex<Option<(String, Position)>>> = Arc::new(Mutex::new(None));
        let mut engine = sandbox::engine();
        let sink = last.clone();
        #[allow(deprecated)] // rhai marks the debugger interface volatile, not deprecated
        engine.register_debugger(
            |_, debugger| debugger,
            move |context, event, _node, _source, position| {
                use rhai::debugger::DebuggerEvent;
                // Function exits report the end of the function, not the failing step.
                let step = matches!(event, DebuggerEvent::Start | DebuggerEvent::Step);
                if step && !position.is_none() {
                    let function = context
                        .global_runtime_state()
                        .debugger()
                        .call_stack()
                        .last()
                        .map(|frame| frame.fn_name.to_string())
                        .unwrap_or_default();
                    if let Ok(mut slot) = sink.lock() {
                        *slot = Some((function, position));
                    }
                }
                Ok(rhai::debugger::DebuggerCommand::StepInto)
            },
        );
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let failed = engine
            .call_fn_with_options::<Dynamic>(options, &mut Scope::new(), &self.ast, function, args)
            .is_err();
        let found = last.lock().ok()?.clone();
        let (innermost, position) = found.filter(|_| failed)?;
        let innermost = if innermost.is_empty() {
            function.to_string()
        } else {
            innermost
        };
        let (line, column) = line_col(position);
        Some((innermost, line, column))
    }

    /// Turns a Rhai error into one that names the pack, the file, the position and the decision.
    /// The innermost function call decides the file, because positions are relative to it.
    fn runtime_error(&self, decision: &str, function: &str, error: &EvalAltResult) -> PackError {
        let mut innermost = function.to_string();
        let mut current = error;
        // The innermost position wins; some limits (the operation budget) report none, and then
        // the nearest call site says where the failing function was entered.
        let mut position = error.position();
        while let EvalAltResult::ErrorInFunctionCall(name, _, inner, _) = current {
            innermost = name.clone();
            current = inner;
            if !current.position().is_none() {
                position = current.position();
            }
        }
        let (line, column) = line_col(position);
        PackError::Script {
            pack: self.pack.clone(),
            file: self.file_of(&innermost),
            line,
            column,
            message: format!("decision `{decision}` (function `{innermost}`): {current}"),
        }
    }
}

/// A limit error whose innermost position Rhai leaves out or gives only approximately: the
/// operation budget, call depth and size limits.
fn is_unplaced(error: &EvalAltResult) -> bool {
    let mut current = error;
    while let EvalAltResult::ErrorInFunctionCall(_, _, inner, _) = current {
        current = inner;
    }
    current.position().is_none()
        || matches!(
            current,
            EvalAltResult::ErrorTooManyOperations(..)
                | EvalAltResult::ErrorStackOverflow(..)
                | EvalAltResult::ErrorDataTooLarge(..)
        )
}

fn line_col(pos: Position) -> (usize, usize) {
    (pos.line().unwrap_or(0), pos.position().unwrap_or(0))
}

/// Compiles every pack of a set once, to report every script error before any work starts.
pub fn check_all(packs: &super::PackSet) -> Result<(), PackError> {
    let engine = sandbox::engine();
    for pack in packs.packs.values() {
        Scripts::compile(&engine, pack)?;
    }
    Ok(())
}
