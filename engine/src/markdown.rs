//! `--format md`: each assessment as a document a client's management can read — the three
//! determinations in plain words with their grounds, then the plan by phase.

use crate::assessment::{Assessment, Nis2, Plan, Soc2};
use std::fmt::Write;

/// Renders one assessment; documents are separated by a horizontal rule.
pub fn render(a: &Assessment) -> String {
    let mut s = String::new();
    // Ids and names come from client files: one line each, so they cannot start a heading.
    let one_line = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let id = a.id.as_deref().map(one_line);
    let _ = writeln!(
        s,
        "# {}\n",
        id.as_deref().unwrap_or("(record without an id)")
    );
    let packs: Vec<String> = a
        .packs
        .iter()
        .map(|p| format!("{} {} (sha256 {})", p.id, p.version, &p.sha256[..12]))
        .collect();
    let _ = writeln!(
        s,
        "Assessed as of {} (input line {}) with {}.\n",
        a.as_of,
        a.line,
        packs.join(", ")
    );
    if !a.errors.is_empty() {
        let _ = writeln!(s, "## Problems with the facts\n");
        for e in &a.errors {
            let field = e
                .field
                .as_deref()
                .map(|f| format!("`{f}`: "))
                .unwrap_or_default();
            let _ = writeln!(s, "- line {}: {field}{}", e.line, e.message);
        }
        s.push('\n');
    }
    if let Some(n) = &a.nis2 {
        nis2(&mut s, n);
    }
    if let Some(x) = &a.soc2 {
        soc2(&mut s, x);
        // The window start is a deadline the plan may not meet at its capacity: say so here,
        // beside the date, not only at the end of the plan.
        let late = a.plan.as_ref().is_some_and(|p| {
            p.notes
                .iter()
                .any(|n| n.contains("do not fit before their deadline"))
        });
        if x.needed == Some(true) && late {
            let _ = writeln!(
                s,
                "> At the plan's capacity not every control can operate by the window start: \
                 start the window later or add people (see the plan's notes).\n"
            );
        }
    }
    if let Some(p) = &a.plan {
        plan(&mut s, p);
    }
    for w in &a.warnings {
        let _ = writeln!(s, "> Note on the input: {w}\n");
    }
    s.push_str("---\n\n");
    s
}

fn headline(class: &str) -> &'static str {
    match class {
        "essential" => "an **essential entity** under NIS2",
        "important" => "an **important entity** under NIS2",
        "registration_only" => "**not an essential or important entity**, but it must register",
        "out_of_scope" => "**outside NIS2**",
        _ => "**not yet determined**: a fact that decides it is missing",
    }
}

/// ISO 8601 durations of the obligations table, in words.
fn due(d: &str) -> String {
    match d {
        "PT24H" => "within 24 hours".into(),
        "PT72H" => "within 72 hours".into(),
        "P1M" => "within one month".into(),
        "ongoing" => "continuing".into(),
        other => other.into(),
    }
}

fn nis2(s: &mut String, n: &Nis2) {
    let _ = writeln!(s, "## NIS2\n");
    let _ = writeln!(
        s,
        "The organisation is {}.\n",
        headline(n.classification.as_str())
    );
    if !n.possible.is_empty() {
        let could: Vec<&str> = n.possible.iter().map(|c| c.as_str()).collect();
        let _ = writeln!(
            s,
            "It could be: {}.\n",
            could.join(" or ").replace('_', " ")
        );
    }
    if !n.missing.is_empty() {
        let _ = writeln!(s, "**To settle it, provide:** {}.\n", n.missing.join(", "));
    }
    let _ = writeln!(s, "Grounds:\n");
    for g in &n.grounds {
        let _ = writeln!(s, "- {} ({}).", g.says, g.cites);
    }
    s.push('\n');
    let size = match n.size.class {
        Some(c) => format!("{c} ({} figures)", n.size.basis),
        None if !n.size.possible.is_empty() => {
            format!("one of {} (figures missing)", n.size.possible.join(", "))
        }
        None => "unknown".into(),
    };
    let own = match (n.size.basis, n.size.own_class) {
        ("aggregated", Some(c)) => format!("; on its own figures alone: {c}"),
        _ => String::new(),
    };
    let _ = writeln!(s, "Size: {size}{own} (Rec. 2003/361/EC Annex Art. 2).\n");
    if let Some(c) = &n.carve_out {
        let _ = writeln!(
            s,
            "If the member state weighs its independence from its group ({}): {}.\n",
            c.cites,
            headline(c.classification.as_str())
        );
    }
    if !n.jurisdiction.is_empty() {
        let _ = writeln!(
            s,
            "Supervised by: {} (NIS2 Art. 26).\n",
            n.jurisdiction.join(", ")
        );
    }
    if !n.lex_specialis.is_empty() {
        let _ = writeln!(
            s,
            "Sector law that takes precedence (NIS2 Art. 4): {}.\n",
            n.lex_specialis.join(", ")
        );
    }
    if !n.obligations.is_empty() {
        let _ = writeln!(s, "| Obligation | Legal basis | When |\n|---|---|---|");
        for o in &n.obligations {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                o.id.replace('_', " "),
                o.cites,
                due(o.due)
            );
        }
        s.push('\n');
    }
    if let Some(f) = n.max_fine_eur {
        let _ = writeln!(
            s,
            "Maximum administrative fine: EUR {} (NIS2 Art. 34(4)-(5)).\n",
            thousands(f)
        );
    }
    if let Some(x) = &n.supplier_exposure {
        let _ = writeln!(s, "As a supplier: {} ({}).\n", x.says, x.cites);
        if let Some(q) = &x.question {
            let _ = writeln!(s, "**Question to settle:** {q}\n");
        }
    }
    for note in &n.notes {
        let _ = writeln!(s, "> {note}\n");
    }
}

fn soc2(s: &mut String, x: &Soc2) {
    let _ = writeln!(s, "## SOC 2\n");
    match x.needed {
        Some(true) => {
            let _ = writeln!(
                s,
                "A **SOC 2 {}** report is needed, on {}.\n",
                x.report_type.map(type_words).unwrap_or("?"),
                x.criteria.join(", ")
            );
        }
        Some(false) => {
            let _ = writeln!(s, "No SOC 2 report is needed.\n");
            if let Some(i) = &x.instead {
                let _ = writeln!(s, "What serves instead: {i}.\n");
            }
        }
        None => {
            let _ = writeln!(
                s,
                "Whether a SOC 2 report is needed is **not yet determined**. To settle it, \
                 provide: {}.\n",
                x.missing.join(", ")
            );
            if let Some(i) = &x.if_needed {
                let _ = writeln!(
                    s,
                    "If it is needed: a {} report on {}.\n",
                    type_words(i.report_type),
                    i.criteria.join(", ")
                );
            }
        }
    }
    if x.needed.is_none() {
        // The grounds of each answer the missing facts leave open, not all true at once.
        let _ = writeln!(s, "What each possible answer would rest on:\n");
    } else {
        let _ = writeln!(s, "Why:\n");
    }
    for g in &x.why {
        let _ = writeln!(s, "- {} ({}).", g.says, g.cites);
    }
    s.push('\n');
    if let Some(r) = &x.current_report {
        let _ = writeln!(
            s,
            "Latest report: period ending {}, {} — current until {}, a bridge letter can cover \
             until {}.\n",
            r.period_end,
            match r.status {
                "current" => "current",
                "bridge_letter" => "no longer current, bridge letter needed",
                _ => "stale",
            },
            r.current_until,
            r.bridge_letter_until
        );
    }
    if !x.milestones.is_empty() {
        let _ = writeln!(s, "| Date | Milestone |\n|---|---|");
        for m in &x.milestones {
            let _ = writeln!(s, "| {} | {} |", m.date, m.says);
        }
        s.push('\n');
    }
}

fn type_words(t: &str) -> &'static str {
    match t {
        "type1" => "Type 1",
        _ => "Type 2",
    }
}

fn plan(s: &mut String, p: &Plan) {
    let _ = writeln!(s, "## Remediation plan\n");
    if p.frameworks.is_empty() {
        let _ = writeln!(
            s,
            "No framework applies, so there is nothing to remediate.\n"
        );
    } else {
        let _ = writeln!(
            s,
            "| Framework | Why it applies | Basis | Deadline |\n|---|---|---|---|"
        );
        for f in &p.frameworks {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                f.framework, f.says, f.basis, f.due
            );
        }
        s.push('\n');
    }
    if !p.coverage.is_empty() {
        let _ = writeln!(
            s,
            "| Coverage | Requirements | Met | Evidence only | Open | Evidence in place | Of which from the ISO 27001 certificate |\n\
             |---|---|---|---|---|---|---|"
        );
        for (name, c) in &p.coverage {
            let name = match *name {
                "nis2_art21" => "NIS2 Art. 21 alone",
                other => other,
            };
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} | {} | {:.1}% | {} |",
                c.requirements,
                c.met,
                c.partial,
                c.open,
                c.evidence_pct,
                c.from_certificate_evidence_pct
                    .map(|x| format!("{x:.1}%"))
                    .unwrap_or_else(|| "-".into())
            );
        }
        let _ = writeln!(
            s,
            "\n_Met_ needs a control written for the requirement; ISO 27001 controls are evidence \
             towards NIS2 and SOC 2 requirements, never compliance by themselves (ENISA: its \
             mapping is not a measure of equivalence).\n"
        );
    }
    if !p.actions.is_empty() {
        let _ = writeln!(
            s,
            "Actions are numbered by priority. Each phase holds what a team can do in it \
             (the plan pack's capacity), so a small action can be done earlier than a larger \
             one ranked above it.\n"
        );
    }
    for (phase, title) in [
        ("now", "Now (0-3 months)"),
        ("next", "Next (3-6 months)"),
        ("later", "Later (6-12 months)"),
    ] {
        let actions: Vec<_> = p.actions.iter().filter(|a| a.phase == phase).collect();
        if actions.is_empty() {
            continue;
        }
        let _ = writeln!(s, "### {title}\n");
        for a in actions {
            let _ = writeln!(
                s,
                "{}. **{}** {} — closes {}. _{}: {}_",
                a.rank,
                a.control,
                a.title,
                a.closes.iter().map(|r| r.id).collect::<Vec<_>>().join(", "),
                a.basis,
                a.why
            );
        }
        s.push('\n');
    }
    if p.summary.listed < p.summary.actions {
        let _ = writeln!(
            s,
            "{} of {} actions listed; run with `--plan-actions 0` for all.\n",
            p.summary.listed, p.summary.actions
        );
    }
    for n in &p.notes {
        let _ = writeln!(s, "> {n}\n");
    }
}

fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
