//! The `assay` command line.

mod console;

use assay::assessment::Assessment;
use assay::evaluate::Evaluator;
use assay::group_report::{Collector, ReportFormat};
use assay::pack::PackSet;
use assay::pipeline::{Context, Options, Stop, Totals};
use assay::read::columns::ColumnMap;
use assay::read::stream::{Encoding, Input};
use assay::read::Format;
use assay::report;
use assay::shard::Shard;
use assay::validate::Validator;
use assay::write::{refuse_overwriting, OutputFile, OutputFormat, Writer};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
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
    /// Reports to hand to clients and boards: one HTML page for the portfolio, one per
    /// organisation and one per group, from assessments or from a portfolio assessed first.
    Report(ReportArgs),
    /// Join the outputs of `assess --shard K/N` (JSON Lines, CSV or XLSX) back into one, in
    /// input order, in the format they were written in.
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
    /// Rule authors' tools: check, test and compare packs.
    Pack {
        #[command(subcommand)]
        what: PackCommand,
    },
    /// The decision trace of one organisation: the rules that fired, in order, with the facts
    /// they read and their citations.
    Explain {
        /// Portfolio file (.csv, .jsonl, .json or .xlsx; `-` for standard input).
        file: String,
        /// The organisation's id.
        #[arg(long)]
        id: String,
        /// Every call into the packs and the whole assessment.
        #[arg(long)]
        full: bool,
        /// A JSON object mapping your column headers to facts fields, as for `assess`.
        #[arg(long, value_name = "FILE")]
        columns: Option<PathBuf>,
        /// Text encoding of a CSV or JSON input.
        #[arg(long, value_enum, default_value = "utf8")]
        encoding: Encoding,
        #[command(flatten)]
        run: RunArgs,
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

#[derive(Subcommand)]
enum PackCommand {
    /// Check a pack: manifest, tables and scripts, every problem at once.
    Check {
        /// The pack folder.
        dir: PathBuf,
    },
    /// Run a pack's test cases (tests/*.jsonl).
    Test {
        /// The pack folder.
        dir: PathBuf,
        /// List the rules and script lines no case reached.
        #[arg(long)]
        coverage: bool,
    },
    /// Which organisations change outcome between two versions of a pack.
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// The portfolio to assess with both.
        #[arg(long)]
        on: String,
        /// The date the assessment is made as of (YYYY-MM-DD); defaults to today (UTC).
        #[arg(long)]
        as_of: Option<String>,
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
    /// Also write a roll-up per group of organisations connected by ownership: Markdown when
    /// PATH ends in .md, JSON when it ends in .json. While the batch streams, the report keeps
    /// a summary of each organisation that takes part in ownership (a few hundred bytes, in
    /// place of its assessment) and reads those organisations again at the end; the others it
    /// neither keeps nor reads again.
    #[arg(long, value_name = "PATH")]
    group_report: Option<PathBuf>,
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
    #[command(flatten)]
    run: RunArgs,
}

/// How a portfolio is assessed; `assess` and `report` share them.
#[derive(clap::Args)]
struct RunArgs {
    /// The date the assessment is made as of (YYYY-MM-DD); defaults to today (UTC).
    #[arg(long)]
    as_of: Option<String>,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Load rule packs from this folder instead of the shipped ones.
    #[arg(long)]
    packs: Option<PathBuf>,
    /// Apply a national overlay pack to the packs it depends on (e.g. `nis2-be`); repeatable.
    #[arg(long)]
    overlay: Vec<String>,
    /// Plan actions listed per organisation (0 = all); the plan's summary counts them all.
    /// Defaults to 5, and to all for `--format md` and for reports.
    #[arg(long)]
    plan_actions: Option<usize>,
    /// Input format, when the file name does not say.
    #[arg(long, value_enum)]
    input_format: Option<InputFormat>,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// Assessments written by `assay assess` (.jsonl or .json), or a portfolio file to assess.
    file: String,
    /// Report format.
    #[arg(long, value_enum, default_value = "html")]
    format: PageFormat,
    /// Folder to write the pages into (created when missing).
    #[arg(long)]
    out: PathBuf,
    /// The portfolio the assessments were made from: adds names, sectors and group trees.
    #[arg(long)]
    facts: Option<String>,
    /// Assessments of an earlier run: the report shows what changed since.
    #[arg(long)]
    previous: Option<String>,
    /// A folder of adapted templates (copied from `engine/templates/`); missing files fall back to
    /// the shipped ones.
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Text encoding of FILE when it is a portfolio (CSV, JSON or JSON Lines), and of the
    /// `--facts` portfolio, as for `assess`.
    #[arg(long, value_enum, default_value = "utf8")]
    encoding: Encoding,
    /// A JSON object mapping your column headers to facts fields, as for `assess`, for FILE and
    /// the `--facts` portfolio when they are CSV files or spreadsheets.
    #[arg(long, value_name = "FILE")]
    columns: Option<PathBuf>,
    /// Used when FILE is a portfolio, which is assessed first.
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PageFormat {
    Html,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum InputFormat {
    Csv,
    Jsonl,
    Json,
    /// A spreadsheet workbook.
    Xlsx,
}

/// mimalloc (engine/src/allocator.rs says why), built without transparent huge pages, which
/// doubled the resident memory.
#[global_allocator]
static ALLOCATOR: assay::allocator::Allocator = assay::allocator::Allocator;

/// Hands the memory freed so far back to the system, on every thread of the current pool:
/// mimalloc keeps freed pages for reuse by the thread that freed them, and between the two
/// passes of a batch they would only add to its peak.
fn release_freed_memory() {
    rayon::broadcast(|_| {
        // SAFETY: `mi_collect` only returns free memory of the calling thread's heap to the
        // system; it is safe to call at any time from any thread.
        unsafe { libmimalloc_sys::mi_collect(true) }
    });
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("ASSAY_LOG"))
        .init();
    // Interrupted (Ctrl-C, or SIGTERM from a scheduler stopping the job): no half-written
    // output is left behind, and whatever `--out` named before the run is kept. Once every
    // output is written, the run finishes with its own exit code (assay::interrupt).
    let _ = ctrlc::set_handler(|| {
        let (_commits_held_off, what) = assay::interrupt::RUN.interrupt();
        if let assay::interrupt::Interrupt::Stop(lines) = what {
            for line in lines {
                eprintln!("{line}");
            }
            std::process::exit(130);
        }
    });
    let cli = Cli::parse();
    match cli.command {
        Command::Assess(args) => match assess(args) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        },
        Command::Report(args) => match report(args) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        },
        Command::Merge { parts, out } => match merge(&parts, out.as_ref()) {
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
                match writeln!(out, "{v}") {
                    // A reader that stops early (`| head`) is not an error of ours.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
                    Err(_) => return ExitCode::from(2),
                    Ok(()) => {}
                }
            }
            ExitCode::SUCCESS
        }
        Command::Pack { what } => match author::pack(what) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        },
        Command::Explain {
            file,
            id,
            full,
            columns,
            encoding,
            run,
        } => match author::explain(&file, &id, full, (columns, encoding), run) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        },
    }
}

fn as_of(arg: Option<String>) -> Result<String, String> {
    match arg {
        Some(d) if is_date(&d) => Ok(d),
        Some(d) => Err(format!(
            "--as-of `{d}` is not a date; write it as YYYY-MM-DD"
        )),
        None => Ok(today()),
    }
}

fn load_packs(dir: Option<&PathBuf>) -> Result<PackSet, String> {
    match dir {
        Some(dir) => PackSet::from_dir(dir),
        None => PackSet::shipped(),
    }
    .map_err(|e| e.to_string())
}

/// A file's text, or standard input's for `-`.
fn read_input(file: &str) -> Result<String, String> {
    if file == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(s)
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("cannot read `{file}`: {e}"))
    }
}

fn input_format(given: Option<InputFormat>, file: &str, text: &str) -> Format {
    match given {
        Some(InputFormat::Csv) => Format::Csv,
        Some(InputFormat::Jsonl) => Format::Jsonl,
        Some(InputFormat::Json) => Format::Json,
        Some(InputFormat::Xlsx) => Format::Xlsx,
        None => Format::from_path(file).unwrap_or_else(|| Format::sniff(text)),
    }
}

/// The worker pool, refusing thread counts no machine could use.
fn pool(jobs: usize) -> Result<rayon::ThreadPool, String> {
    if jobs > 1024 {
        return Err(format!(
            "--jobs {jobs} is far more threads than any machine has cores; use 0 for one per core"
        ));
    }
    assay::pipeline::pool(jobs).map_err(|e| e.to_string())
}

/// The author commands: argument wiring only, the work is in `assay::author`.
mod author {
    use super::*;
    use assay::author;

    pub fn pack(what: PackCommand) -> Result<ExitCode, String> {
        match what {
            PackCommand::Check { dir } => {
                let findings = author::check::check(&dir);
                let color = std::io::stderr().is_terminal();
                let mut errors = 0;
                for f in &findings {
                    if f.severity == miette::Severity::Error {
                        errors += 1;
                    }
                    eprint!("{}", f.render(color));
                }
                let warnings = findings.len() - errors;
                if errors == 0 {
                    println!("{}: ok ({warnings} warnings)", dir.display());
                    Ok(ExitCode::SUCCESS)
                } else {
                    println!("{}: {errors} errors, {warnings} warnings", dir.display());
                    Ok(ExitCode::from(1))
                }
            }
            PackCommand::Test { dir, coverage } => {
                let report = author::test::run(&dir, coverage)?;
                for f in &report.failures {
                    println!("FAILED {}:{} {}", f.file, f.line, f.name);
                    for p in &f.problems {
                        println!("    {p}");
                    }
                }
                println!("{}", report.summary());
                if let Some(c) = &report.coverage {
                    println!(
                        "coverage: {} of {} rules reached, {} of {} script lines run",
                        c.rules_total - c.rules_not_reached.len(),
                        c.rules_total,
                        c.lines_total - c.lines_not_reached.len(),
                        c.lines_total
                    );
                    for r in &c.rules_not_reached {
                        println!("  rule not reached: {r}");
                    }
                    for (file, line, text) in &c.lines_not_reached {
                        println!("  line not run: {file}:{line}: {text}");
                    }
                }
                Ok(if report.failures.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            }
            PackCommand::Diff {
                old,
                new,
                on,
                as_of,
            } => {
                let as_of = super::as_of(as_of)?;
                let text = read_input(&on)?;
                let format = input_format(None, &on, &text);
                let diff = author::diff::diff(&old, &new, &text, format, &as_of)?;
                print!("{}", diff.render());
                Ok(ExitCode::SUCCESS)
            }
        }
    }

    /// The portfolio is read as `assess` reads it: any input format, a column mapping and an
    /// encoding, and a line that is not UTF-8 an error record of its own.
    pub fn explain(
        file: &str,
        id: &str,
        full: bool,
        (columns, encoding): (Option<PathBuf>, Encoding),
        run: RunArgs,
    ) -> Result<ExitCode, String> {
        let as_of = super::as_of(run.as_of)?;
        let evaluator = Evaluator::with_overlays(load_packs(run.packs.as_ref())?, &run.overlay)
            .map_err(|e| e.to_string())?;
        let mapping = columns.as_deref().map(ColumnMap::load).transpose()?;
        let format = run.input_format.map(|f| input_format(Some(f), file, ""));
        let input = Input::open(file, format, mapping.as_ref(), encoding)?;
        let out =
            author::explain::explain(&input, &evaluator, &Validator::new(), &as_of, id, full)?;
        print!("{out}");
        Ok(ExitCode::SUCCESS)
    }
}

/// Bytes gathered before each write to the output.
const OUT_BUFFER: usize = 256 << 10;

fn assess(args: AssessArgs) -> Result<ExitCode, String> {
    let as_of = as_of(args.run.as_of)?;
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
    if args.format == OutputFormat::Xlsx && args.out.is_none() {
        return Err("--format xlsx writes a workbook: name the file with --out".into());
    }
    if args.shard.is_some() && matches!(args.format, OutputFormat::Json | OutputFormat::Md) {
        // JSON Lines records and CSV and workbook rows carry their portfolio line; documents
        // and arrays do not.
        eprintln!(
            "warning: `assay merge` joins JSON Lines, CSV and XLSX shards, not {} parts: write \
             the shards as jsonl (the default), csv or xlsx to merge them",
            format!("{:?}", args.format).to_lowercase()
        );
    }
    if let (Some(out), false) = (&args.out, args.file == "-") {
        refuse_overwriting(out, &[Path::new(&args.file)], "the portfolio")?;
    }
    let plan_actions = args.run.plan_actions.unwrap_or(match args.format {
        OutputFormat::Md => 0,
        _ => assay::evaluate::DEFAULT_PLAN_ACTIONS,
    });
    let evaluator =
        Evaluator::with_overlays(load_packs(args.run.packs.as_ref())?, &args.run.overlay)
            .map_err(|e| e.to_string())?
            .with_plan_actions(plan_actions);
    let validator = Validator::new();
    let mapping = args.columns.as_deref().map(ColumnMap::load).transpose()?;
    let pool = pool(args.run.jobs)?;

    let format = args
        .run
        .input_format
        .map(|f| input_format(Some(f), &args.file, ""));
    let input = Input::open(&args.file, format, mapping.as_ref(), args.encoding)?;
    if let Some(layout) = input.layout() {
        console::column_warnings(layout, mapping.as_ref());
    }
    // `assay merge` puts the shards' records back in order by their portfolio line.
    if let (Some(_), Some(line)) = (args.shard, input.shared_line()) {
        return Err(format!(
            "--shard: `{}` has more than one organisation on line {line}, and shards are merged \
             back in order by line: give it one organisation per line, as JSON Lines (`jq -c \
             '.[]' {} > portfolio.jsonl`), or as an array pretty-printed (`jq . {}`)",
            args.file, args.file, args.file
        ));
    }

    // The receipt names the input as it was when the run began.
    let input_sha256 = match (args.shard, &args.out, input.standard_input_sha256()) {
        (Some(_), Some(_), Some(stdin)) => Some(stdin.to_string()),
        (Some(_), Some(_), None) => Some(assay::shard::file_sha256(Path::new(&args.file))?),
        _ => None,
    };

    let out_file = args.out.as_deref().map(OutputFile::create).transpose()?;
    let out: Box<dyn Write + Send> = match &out_file {
        Some(file) => Box::new(std::io::BufWriter::with_capacity(
            OUT_BUFFER,
            file.writer()?,
        )),
        None => Box::new(std::io::BufWriter::with_capacity(
            OUT_BUFFER,
            std::io::stdout(),
        )),
    };
    let mut writer = Writer::new(out, args.format)
        .dated(&as_of)
        .map_err(|e| e.to_string())?;
    let cx = Context {
        evaluator: &evaluator,
        validator: &validator,
    };
    let options = Options {
        shard: args.shard,
        after_ownership_pass: release_freed_memory,
        ..Options::new(&as_of)
    };
    let bar = console::Progress::new();
    let progress = |done, total| bar.set(done, total);
    let format = args.format;
    // A group report keeps what it shows of the records in ownership components, which the
    // ownership pass finds (`group_report::Collector`), and reads those records again once the
    // run is over. Without one, a thread of its own writes, so that copying the output overlaps
    // the next chunk's work.
    let scan = (args.group_report.as_ref())
        .map(|_| pool.install(|| assay::pipeline::scan(&input, &options)))
        .transpose();
    let scan = match scan {
        Ok(scan) => scan,
        Err(stop) => return stopped(stop),
    };
    let mut collector = scan.as_ref().map(Collector::new);
    let run = if let (Some(scan), Some(collector)) = (&scan, &mut collector) {
        let run = pool.install(|| {
            let mut emit = |chunk: Vec<Assessment>| {
                writer.write_chunk(&chunk)?;
                collector.take(&chunk);
                Ok(())
            };
            assay::pipeline::run_scanned(&input, scan, &cx, &options, &progress, &Ok, &mut emit)
        });
        run.and_then(|totals| finish_output(writer, totals))
    } else {
        let (run, written) = writer.on_own_thread(|sink| {
            pool.install(|| {
                assay::pipeline::run_finished(
                    &input,
                    &cx,
                    &options,
                    &progress,
                    &|a| format.prepare(a),
                    sink,
                )
            })
        });
        // The writer's own error says more than the pipeline's "the writer stopped".
        match (run, written) {
            (Err(Stop::Read(e)), _) => Err(Stop::Read(e)),
            (_, Err(e)) => Err(Stop::Write(e)),
            (run, Ok(writer)) => run.and_then(|totals| finish_output(writer, totals)),
        }
    };
    bar.finish();
    let totals = match run {
        Ok(totals) => totals,
        Err(stop) => return stopped(stop),
    };
    if totals.records == 0 {
        return Err(no_records(&args.file, input.format));
    }
    if let Some(file) = out_file {
        file.commit()?;
    }

    if let (Some(path), Some(report_format), Some(collector)) =
        (&args.group_report, report_format, collector)
    {
        // The workers' heaps still hold what the assessing pass freed; the report is read on
        // this thread, which could not reuse it.
        pool.install(release_freed_memory);
        let report = collector
            .finish(&input)
            .map_err(|e| format!("cannot read the input again: {e}"))?;
        // Under a temporary name until whole, as `--out`: an interrupt or a full disk leaves
        // what the name held.
        let file = OutputFile::create(path)?;
        let mut out = std::io::BufWriter::with_capacity(OUT_BUFFER, file.writer()?);
        let written = (report.write(report_format, &mut out)).and_then(|()| out.flush());
        written.map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        drop(out);
        file.commit()?;
    }

    if let (Some(shard), Some(path), Some(input_sha256)) = (args.shard, &args.out, input_sha256) {
        let receipt = assay::shard::Receipt {
            shard: shard.index,
            of: shard.count,
            records: totals.records,
            assessed: Some(totals.assessed),
            input_sha256: Some(input_sha256),
            as_of: as_of.clone(),
            packs: serde_json::to_value(evaluator.pack_refs()).ok(),
        };
        assay::shard::write_receipt(path, &receipt)?;
    }
    console::summary(&totals, args.shard);
    Ok(if totals.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Why an input with no records is refused, in words that say what such a file should hold.
fn no_records(file: &str, format: Format) -> String {
    let shape = match format {
        // Standard input that held nothing has no shape to go by.
        _ if file == "-" => {
            "give it JSON Lines, one JSON object per organisation and line, or a CSV file with a \
             header line and one line per organisation"
        }
        Format::Csv => "a CSV file needs a header line and one line per organisation",
        Format::Xlsx => {
            "a workbook needs a header row and one row per organisation on its first sheet"
        }
        Format::Json => {
            "a JSON file holds one array with a JSON object per organisation, \
             `[{\"id\": \"org-1\", …}, …]`"
        }
        Format::Jsonl => "JSON Lines hold one JSON object per organisation, one per line",
    };
    let what = if file == "-" {
        "standard input".to_string()
    } else {
        format!("`{file}`")
    };
    format!("{what} holds no records: nothing was assessed ({shape})")
}

/// Finishes the output of `assess`, unless the input held no records: that run is refused with
/// exit code 2 below, and a failed run writes nothing to standard output, not even the header
/// row (CSV) or `[]` (JSON) that the output of a shard with none of the records still has.
fn finish_output<W: Write>(writer: Writer<W>, totals: Totals) -> Result<Totals, Stop> {
    if totals.records > 0 {
        writer.finish().map_err(Stop::Write)?;
    }
    Ok(totals)
}

fn merge(parts: &[PathBuf], out: Option<&PathBuf>) -> Result<ExitCode, String> {
    if let Some(out) = out {
        let paths: Vec<&Path> = parts.iter().map(PathBuf::as_path).collect();
        refuse_overwriting(out, &paths, "the part")?;
        let receipts: Vec<PathBuf> = parts
            .iter()
            .map(|p| assay::shard::receipt_path(p))
            .collect();
        let receipts: Vec<&Path> = receipts.iter().map(PathBuf::as_path).collect();
        refuse_overwriting(out, &receipts, "the receipt")?;
    }
    let format = assay::shard::PartFormat::of_parts(parts)?;
    if format == assay::shard::PartFormat::Xlsx && out.is_none() {
        return Err("the parts are workbooks: name the merged workbook with --out".into());
    }
    // Every shard must be here and whole: a retried pod that never wrote its part, or a part
    // cut short, must not pass unseen.
    let count = parts.len();
    let parts = assay::shard::Parts::open(parts, format)?;
    let as_of = assay::shard::check_parts(&parts)?;
    if as_of.is_none() {
        use assay::shard::PartFormat;
        let rows = match format {
            PartFormat::Jsonl => "",
            PartFormat::Csv | PartFormat::Xlsx => {
                ", nor that they were assessed with the same packs and --as-of (rows do not say)"
            }
        };
        let dated = match format {
            PartFormat::Xlsx => "; the merged workbook is dated today, not by their --as-of",
            PartFormat::Jsonl | PartFormat::Csv => "",
        };
        eprintln!(
            "warning: cannot check that every shard is here and whole{rows}: shards written with \
             --out leave a `.shard.json` receipt beside their output, and these parts have none\
             {dated}"
        );
    }

    let out_file = out.map(|p| OutputFile::create(p)).transpose()?;
    let mut sink: Box<dyn Write> = match &out_file {
        Some(file) => Box::new(std::io::BufWriter::new(file.writer()?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let totals = match assay::shard::merge(parts, as_of.as_deref(), &mut sink) {
        Ok(totals) => totals,
        Err(stop) => return stopped(stop),
    };
    drop(sink);
    if let Some(file) = out_file {
        file.commit()?;
    }
    eprintln!(
        "merged {} assessments from {} shards",
        totals.assessed, count
    );
    console::summary(&totals, None);
    // As `assess`: 1 when some records are error records, the output being complete.
    Ok(if totals.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// How a run that stopped ends: a reader that stops early (`| head`) is not an error of ours,
/// whatever the format.
fn stopped(stop: Stop) -> Result<ExitCode, String> {
    match stop {
        Stop::Write(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Stop::Write(e) => Err(format!("cannot write the output: {e}")),
        Stop::Read(e) => Err(e),
    }
}

fn report(args: ReportArgs) -> Result<ExitCode, String> {
    use report::source::{self, Given};
    let PageFormat::Html = args.format;
    // Templates first: a broken one should stop the run before any assessment is made.
    let templates = match &args.templates {
        Some(dir) => report::templates::Templates::from_dir(dir),
        None => report::templates::Templates::embedded(),
    }
    .map_err(|e| e.to_string())?;
    let packs = load_packs(args.run.packs.as_ref())?;
    let mut inputs = report::Inputs {
        obligations: source::obligations(&packs),
        sectors: source::sectors(&packs),
        size_classes: source::size_classes(&packs),
        ..Default::default()
    };
    let mapping = args.columns.as_deref().map(ColumnMap::load).transpose()?;
    // A portfolio, FILE or `--facts`, is read as `assess` reads it.
    let open = |portfolio: &source::Portfolio, file: &str| {
        let format = (args.run.input_format).map(|f| input_format(Some(f), file, ""));
        portfolio.open(format, mapping.as_ref(), args.encoding)
    };
    let loaded = match source::open(&args.file).map_err(|e| e.to_string())? {
        Given::Assessments(loaded) => loaded,
        Given::Portfolio(portfolio) => {
            let as_of = as_of(args.run.as_of)?;
            // A report shows the whole plan by phase, so it lists every action by default.
            let evaluator = Evaluator::with_overlays(packs, &args.run.overlay)
                .map_err(|e| e.to_string())?
                .with_plan_actions(args.run.plan_actions.unwrap_or(0));
            let input = open(&portfolio, &args.file)?;
            let pool = pool(args.run.jobs)?;
            let (loaded, facts) = pool
                .install(|| source::assess_input(&input, &evaluator, &Validator::new(), &as_of))?;
            // As `assess` does: a report of nothing is a wrong file more often than not.
            if loaded.summaries.is_empty() {
                return Err(no_records(&args.file, input.format));
            }
            inputs.facts = facts;
            loaded
        }
    };
    inputs.assessments = loaded.summaries;
    if let Some(file) = &args.facts {
        let input = open(&source::Portfolio::File(file.clone()), file)?;
        inputs.facts = source::facts_of(&input.records()?);
    }
    if let Some(file) = &args.previous {
        inputs.previous = Some(source::previous(file).map_err(|e| e.to_string())?);
    }
    // Written in place: an interrupt can only say that the folder is incomplete.
    assay::interrupt::RUN.folder(&args.out);
    let written = report::write_html(&inputs, loaded.full.records(), &templates, &args.out);
    assay::interrupt::RUN.folder_done(&args.out, written.is_ok());
    let written = written.map_err(|e| e.to_string())?;
    for w in &written.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "wrote {} with {} organisation and {} group pages to `{}`",
        written.portfolio.display(),
        written.organisations.len(),
        written.groups.len(),
        args.out.display()
    );
    let errors = inputs
        .assessments
        .iter()
        .filter(|a| a.get("nis2").is_none())
        .count();
    Ok(if errors > 0 || !written.warnings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
