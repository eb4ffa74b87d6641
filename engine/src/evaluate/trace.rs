//! The decision trace behind `assay explain`: every call the host made into a pack for one
//! organisation, in order, with the prepared facts it passed and the rule that came back.
//!
//! Recording is off unless [`record`] is running on the current thread, so a batch pays one
//! thread-local check per call and nothing else.

use std::cell::RefCell;

/// One call into a pack.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Step {
    pub pack: String,
    pub decision: String,
    pub function: String,
    /// The prepared facts the function received, by parameter name, as the script saw them.
    pub arguments: Vec<(String, String)>,
    /// The rule id the function returned.
    pub rule: String,
    /// The id of the organisation being assessed.
    pub record: String,
}

thread_local! {
    static STEPS: RefCell<Option<Vec<Step>>> = const { RefCell::new(None) };
    static RECORD: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Notes which organisation the following steps are for, when recording.
pub fn start_record(id: &str) {
    if is_recording() {
        RECORD.with(|r| *r.borrow_mut() = id.to_string());
    }
}

/// The organisation being assessed on this thread, while recording.
pub fn current_record() -> String {
    RECORD.with(|r| r.borrow().clone())
}

/// Runs `f` on this thread and returns what it returned with every step recorded meanwhile.
pub fn record<R>(f: impl FnOnce() -> R) -> (R, Vec<Step>) {
    STEPS.with(|s| *s.borrow_mut() = Some(Vec::new()));
    let result = f();
    let steps = STEPS.with(|s| s.borrow_mut().take()).unwrap_or_default();
    (result, steps)
}

/// True while [`record`] runs on this thread.
pub fn is_recording() -> bool {
    STEPS.with(|s| s.borrow().is_some())
}

/// Adds a step when recording; `step` is only built then.
pub fn push(step: impl FnOnce() -> Step) {
    STEPS.with(|s| {
        if let Some(steps) = s.borrow_mut().as_mut() {
            steps.push(step());
        }
    });
}
