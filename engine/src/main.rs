//! The `assay` command line.

use assay::assessment::{Assessment, Classification};
use assay::evaluate::Evaluator;
use assay::group_report::{GroupReport, ReportFormat};
use assay::pack::PackSet;
use assay::read::{self, Format};
use assay::validate::Validator;
use assay::write::{OutputFormat, Writer};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "assay",
    version,
    about = "Where an organisation stands under NIS2 and SOC 2, and what to fix first, from facts and rule packs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Assess a portfolio: one assessment per organisation, in input order.
    Assess(AssessArgs),
    /// Generate synthetic data for benchmarks and trials.
    Gen {
        #[command(subcommand)]
        what: GenCommand,
    },
}

#[derive(Subcommand)]
enum GenCommand {
    /// A synthetic portfolio as JSON Lines on standard output.
    Portfolio {
        /// Number of organisations.
        #[arg(long, default_value_t = 1000)]
        n: usize,
        /// Seed: the same seed gives the same portfolio.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(clap::Args)]
struct AssessArgs {
    /// Portfolio file (.csv, .jsonl or .json); `-` reads standard input.
    file: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: OutputFormat,
    /// Write the assessments here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The date the assessment is made as of (YYYY-MM-DD); defaults to today (UTC).
    #[arg(long)]
    as_of: Option<String>,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Load rule packs from this folder instead of the shipped ones.
    #[arg(long)]
    packs: Option<PathBuf>,
    /// Also write a roll-up per group of organisations connected by ownership: Markdown when
    /// PATH ends in .md, JSON when it ends in .json.
    #[arg(long, value_name = "PATH")]
    group_report: Option<PathBuf>,
    /// Plan actions listed per organisation (0 = all); the plan's summary counts them all.
    /// Defaults to 5, and to all for `--format md`.
    #[arg(long)]
    plan_actions: Option<usize>,
    /// Input format, when the file name does not say.
    #[arg(long, value_enum)]
    input_format: Option<InputFormat>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum InputFormat {
    Csv,
    Jsonl,
    Json,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("ASSAY_LOG"))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Assess(args) => match assess(args) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        },
        Command::Gen {
            what: GenCommand::Portfolio { n, seed },
        } => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for v in assay::gen::portfolio(n, seed) {
                if writeln!(out, "{v}").is_err() {
                    return ExitCode::from(2);
                }
            }
            ExitCode::SUCCESS
        }
    }
}

fn assess(args: AssessArgs) -> Result<ExitCode, String> {
    let as_of = match args.as_of {
        Some(d) if is_date(&d) => d,
        Some(d) => {
            return Err(format!(
                "--as-of `{d}` is not a date; write it as YYYY-MM-DD"
            ))
        }
        None => today(),
    };
    let report_format = match &args.group_report {
        Some(path) => Some(ReportFormat::from_path(path).ok_or_else(|| {
            format!(
                "--group-report `{}`: end the file name in .md (Markdown) or .json (JSON)",
                path.display()
            )
        })?),
        None => None,
    };
    let packs = match &args.packs {
        Some(dir) => PackSet::from_dir(dir),
        None => PackSet::shipped(),
    }
    .map_err(|e| e.to_string())?;
    let plan_actions = args.plan_actions.unwrap_or(match args.format {
        OutputFormat::Md => 0,
        _ => assay::evaluate::DEFAULT_PLAN_ACTIONS,
    });
    let evaluator = Evaluator::new(packs)
        .map_err(|e| e.to_string())?
        .with_plan_actions(plan_actions);
    let validator = Validator::new();

    let text = if args.file == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        s
    } else {
        std::fs::read_to_string(&args.file)
            .map_err(|e| format!("cannot read `{}`: {e}", args.file))?
    };
    let format = match args.input_format {
        Some(InputFormat::Csv) => Format::Csv,
        Some(InputFormat::Jsonl) => Format::Jsonl,
        Some(InputFormat::Json) => Format::Json,
        None => Format::from_path(&args.file).unwrap_or_else(|| Format::sniff(&text)),
    };
    if format == Format::Csv {
        for (column, hint) in read::csv::unknown_columns(&text) {
            let hint = hint
                .map(|h| format!("; did you mean `{h}`?"))
                .unwrap_or_default();
            eprintln!("warning: column `{column}` is not a facts field and is not used{hint}");
        }
    }

    if args.jobs > 1024 {
        return Err(format!(
            "--jobs {} is far more threads than any machine has cores; use 0 for one per core",
            args.jobs
        ));
    }
    let pool = assay::pipeline::pool(args.jobs).map_err(|e| e.to_string())?;
    let assessments = pool
        .install(|| assay::pipeline::assess_text(&text, format, &evaluator, &validator, &as_of));

    let out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut writer = Writer::new(out, args.format);
    let written = assessments
        .iter()
        .try_for_each(|a| writer.write(a))
        .and_then(|()| writer.finish().map(drop));
    match written {
        // A reader that stops early (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(format!("cannot write the output: {e}")),
        Ok(()) => {}
    }

    if let (Some(path), Some(report_format)) = (&args.group_report, report_format) {
        let report = GroupReport::build(&read::read(&text, format), &assessments);
        std::fs::write(path, report.render(report_format))
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }

    let errors = summary(&assessments);
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints counts per classification on stderr; returns the number of error records.
fn summary(assessments: &[Assessment]) -> usize {
    let mut counts = [0usize; 5];
    let mut errors = 0;
    for a in assessments {
        if !a.errors.is_empty() {
            errors += 1;
            continue;
        }
        if let Some(n) = &a.nis2 {
            counts[Classification::ALL
                .iter()
                .position(|c| *c == n.classification)
                .unwrap_or(4)] += 1
        }
    }
    let mut err = std::io::stderr().lock();
    let bold = std::io::stderr().is_terminal();
    let _ = writeln!(
        err,
        "{}assessed {} records{}",
        if bold { "\x1b[1m" } else { "" },
        assessments.len(),
        if bold { "\x1b[0m" } else { "" }
    );
    for (c, n) in Classification::ALL.iter().zip(counts) {
        let _ = writeln!(err, "  {:<18} {n:>8}", c.as_str());
    }
    let _ = writeln!(err, "  {:<18} {errors:>8}", "errors");
    if errors > 0 {
        let _ = writeln!(
            err,
            "error records carry `errors` with the line, field and a fix"
        );
    }
    errors
}

/// A calendar date written YYYY-MM-DD: `2026-02-30` has the shape but is no date.
fn is_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Today's date in UTC.
fn today() -> String {
    chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}
