//! A pack's scripts, compiled and checked against the decisions its manifest declares.

use super::{sandbox, Pack};
use crate::error::PackError;
use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, Position, Scope, AST};
use std::collections::BTreeMap;

/// The scripts of one pack, merged into one AST, with the file each function was defined in so
/// that run-time errors can name it.
#[derive(Debug, Clone)]
pub struct Scripts {
    pub pack: String,
    pub ast: AST,
    pub function_files: BTreeMap<String, String>,
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
                Some(_) => {}
            }
        }
        Ok(Scripts {
            pack: id,
            ast,
            function_files,
        })
    }

    /// Calls `function` with prepared arguments and expects the id of a rule back.
    pub fn call_rule(
        &self,
        engine: &Engine,
        decision: &str,
        function: &str,
        args: Vec<Dynamic>,
    ) -> Result<String, PackError> {
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let mut scope = Scope::new();
        let result = engine
            .call_fn_with_options::<Dynamic>(options, &mut scope, &self.ast, function, args)
            .map_err(|e| self.runtime_error(decision, function, &e))?;
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
