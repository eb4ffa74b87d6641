//! The `assay` command line.

mod report;

use assay::assessment::Assessment;
use assay::evaluate::Evaluator;
use assay::group_report::{GroupReport, ReportFormat};
use assay::pack::PackSet;
use assay::pipeline::{Context, Options, Stop};
use assay::read::columns::ColumnMap;
use assay::read::stream::{Encoding, Input};
use assay::read::Format;
use assay::shard::Shard;
use assay::validate::Validator;
use assay::write::{OutputFormat, Writer};
use clap::{Parser, Subcommand};
use std::io::Write;
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
    /// Join the JSON Lines outputs of `assess --shard K/N` back into one, in input order.
    Merge {
        /// The shards' outputs, in any order.
        #[arg(required = true)]
        parts: Vec<PathBuf>,
        /// Write the merged assessments here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
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
    /// Portfolio file (.csv, .jsonl, .json or .xlsx); `-` reads standard input.
    file: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: OutputFormat,
    /// Write the assessments here instead of standard output (needed for xlsx).
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
    /// PATH ends in .md, JSON when it ends in .json. The report holds the portfolio in memory.
    #[arg(long, value_name = "PATH")]
    group_report: Option<PathBuf>,
    /// Plan actions listed per organisation (0 = all); the plan's summary counts them all.
    /// Defaults to 5, and to all for `--format md`.
    #[arg(long)]
    plan_actions: Option<usize>,
    /// Input format, when the file name does not say.
    #[arg(long, value_enum)]
    input_format: Option<InputFormat>,
    /// A JSON object mapping your column headers to facts fields, for CSV and spreadsheets:
    /// {"Staff (FTE)": "employees", "Turnover EUR": "annual_turnover_eur"}.
    #[arg(long, value_name = "FILE")]
    columns: Option<PathBuf>,
    /// Text encoding of a CSV or JSON input.
    #[arg(long, value_enum, default_value = "utf8")]
    encoding: Encoding,
    /// Assess only shard K of N (K from 0 to N-1); ownership groups stay in one shard.
    /// Join the outputs with `assay merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum InputFormat {
    Csv,
    Jsonl,
    Json,
    Xlsx,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("ASSAY_LOG"))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Assess(args) => assess(args),
        Command::Merge { parts, out } => merge(&parts, out.as_ref()),
        Command::Gen {
            what: GenCommand::Portfolio { n, seed },
        } => gen_portfolio(n, seed),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn assess(args: AssessArgs) -> Result<ExitCode, String> {
    let as_of = match args.as_of {
        Some(d) if is_date(&d) => d,
        Some(d) => {
            return Err(format!(
                "--as-of `{d}` is not a date; write a real calendar date as YYYY-MM-DD"
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
    if args.group_report.is_some() && args.shard.is_some() {
        return Err(
            "--group-report needs the whole portfolio: run it without --shard, or merge the \
             shards first"
                .into(),
        );
    }
    if args.jobs > 1024 {
        return Err(format!(
            "--jobs {} is far more threads than any machine has cores; use 0 for one per core",
            args.jobs
        ));
    }
    if args.format == OutputFormat::Xlsx && args.out.is_none() {
        return Err("--format xlsx writes a workbook: name the file with --out".into());
    }
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
    let mapping = args.columns.as_deref().map(ColumnMap::load).transpose()?;

    let format = args.input_format.map(|f| match f {
        InputFormat::Csv => Format::Csv,
        InputFormat::Jsonl => Format::Jsonl,
        InputFormat::Json => Format::Json,
        InputFormat::Xlsx => Format::Xlsx,
    });
    let input = Input::open(&args.file, format, mapping.as_ref(), args.encoding)?;
    if let Some(layout) = input.layout() {
        report::column_warnings(layout, mapping.as_ref());
    }

    let pool = assay::pipeline::pool(args.jobs).map_err(|e| e.to_string())?;
    let out: Box<dyn Write + Send> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut writer = Writer::new(out, args.format);
    let cx = Context {
        evaluator: &evaluator,
        validator: &validator,
    };
    let options = Options {
        shard: args.shard,
        ..Options::new(&as_of)
    };
    let bar = report::Progress::new();
    // Only a group report keeps the assessments: streaming keeps nothing else.
    let mut kept: Vec<Assessment> = Vec::new();
    let keep = args.group_report.is_some();
    let run = pool.install(|| {
        assay::pipeline::run(
            &input,
            &cx,
            &options,
            &|done, total| bar.set(done, total),
            &mut |chunk| {
                writer.write_chunk(&chunk)?;
                if keep {
                    kept.extend(chunk);
                }
                Ok(())
            },
        )
    });
    bar.finish();
    let written = run.and_then(|totals| writer.finish().map(|_| totals).map_err(Stop::Write));
    let totals = match written {
        Ok(totals) => totals,
        // A reader that stops early (`| head`) is not an error of ours.
        Err(Stop::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(ExitCode::SUCCESS)
        }
        Err(Stop::Write(e)) => return Err(format!("cannot write the output: {e}")),
        Err(Stop::Read(e)) => return Err(e),
    };
    if totals.records == 0 {
        return Err(format!(
            "`{}` holds no records: nothing was assessed (a CSV file needs a header line and one \
             line per organisation)",
            args.file
        ));
    }
    if let (Some(path), Some(report_format)) = (&args.group_report, report_format) {
        let records = input
            .records()
            .map_err(|e| format!("cannot read the input again: {e}"))?;
        let report = GroupReport::build(&records, &kept);
        std::fs::write(path, report.render(report_format))
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    report::summary(&totals, args.shard);
    Ok(if totals.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn merge(parts: &[PathBuf], out: Option<&PathBuf>) -> Result<ExitCode, String> {
    let mut sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let n = assay::shard::merge(parts, &mut sink)?;
    eprintln!("merged {n} assessments from {} shards", parts.len());
    Ok(ExitCode::SUCCESS)
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

fn gen_portfolio(n: usize, seed: u64) -> Result<ExitCode, String> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for v in assay::gen::portfolio(n, seed) {
        match writeln!(out, "{v}") {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
            Err(e) => return Err(format!("cannot write the output: {e}")),
            Ok(()) => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}
