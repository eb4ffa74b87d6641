//! The HTML reports in a real browser (issue 7): headless Chromium loads the fixture
//! portfolio's pages from disk, and the test checks that they load without console messages,
//! that the charts are there, and that the numbers on the page are those of the assessment.
//!
//! Chromium is Debian's `chromium` package; `.ci/run` installs it. A machine without it fails
//! this test, in CI always; elsewhere only `ASSAY_SKIP_BROWSER=1` lets it pass, saying so.
//! `ASSAY_UPDATE_SCREENSHOTS=1` copies the screenshots taken into `docs/`.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Flags that keep Chromium off the network and away from Google's services.
const FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

/// `CHROMIUM` when set (and then only it), else Debian's path.
fn chromium() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os("CHROMIUM") {
        Some(path) => vec![PathBuf::from(path)],
        None => vec![
            "/usr/bin/chromium".into(),
            "/usr/bin/chromium-browser".into(),
        ],
    };
    candidates.into_iter().find(|p| p.is_file())
}

/// Runs Chromium on one local page; returns (standard output, the console lines it logged).
/// A hung browser is killed after two minutes so that the test fails instead of hanging.
fn run(browser: &Path, profile: &Path, page: &Path, extra: &[String]) -> (String, Vec<String>) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = Command::new(browser)
        .args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--enable-logging=stderr", "--v=0"])
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("chromium status").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish loading {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let console = std::fs::read_to_string(&err)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(String::from)
        .collect();
    (stdout, console)
}

/// The text of the element carrying `attr="key"`, as Chromium serialised the DOM.
fn data<'a>(dom: &'a str, attr: &str, key: &str) -> Option<&'a str> {
    let marker = format!("{attr}=\"{key}\">");
    let start = dom.find(&marker)? + marker.len();
    let end = dom[start..].find('<')? + start;
    Some(dom[start..end].trim())
}

/// "EUR 12,400,000" or "1,850" → 12400000.0 or 1850.0.
fn figure(text: &str) -> f64 {
    text.trim_start_matches("EUR ")
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("`{text}` is not a figure"))
}

fn assay(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("assay runs");
    assert!(
        out.status.success(),
        "assay {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Browser {
    path: PathBuf,
    profile: tempfile::TempDir,
}

impl Browser {
    fn page(&self, page: &Path, extra: &[String]) -> (String, Vec<String>) {
        run(&self.path, self.profile.path(), page, extra)
    }

    /// Loads a page, asserts that it logged nothing to the console, returns its DOM.
    fn dom(&self, page: &Path) -> String {
        let (dom, console) = self.page(page, &["--dump-dom".into()]);
        assert!(
            console.is_empty(),
            "{} logged to the console:\n{}",
            page.display(),
            console.join("\n")
        );
        assert!(dom.contains("</html>"), "{} did not load", page.display());
        dom
    }

    fn screenshot(&self, page: &Path, png: &Path, height: u32) {
        let (_, console) = self.page(
            page,
            &[
                format!("--screenshot={}", png.display()),
                format!("--window-size=1200,{height}"),
            ],
        );
        assert!(console.is_empty(), "{}", console.join("\n"));
        let bytes = std::fs::read(png).expect("screenshot written");
        assert!(
            bytes.starts_with(b"\x89PNG"),
            "{} is not a PNG",
            png.display()
        );
        // A blank 1200-pixel-wide page compresses to a few kilobytes; a page of text and charts
        // to far more.
        assert!(bytes.len() > 50_000, "{} looks blank", png.display());
    }
}

fn browser() -> Option<Browser> {
    match chromium() {
        Some(path) => Some(Browser {
            path,
            profile: tempfile::tempdir().expect("profile folder"),
        }),
        None if std::env::var_os("CI").is_none()
            && std::env::var_os("ASSAY_SKIP_BROWSER").is_some() =>
        {
            eprintln!("SKIPPED: chromium is not installed and ASSAY_SKIP_BROWSER is set");
            None
        }
        None => panic!(
            "chromium is not installed: `apt-get install -y chromium` (`.ci/run` does this), or \
             set CHROMIUM to its path; ASSAY_SKIP_BROWSER=1 skips this test outside CI"
        ),
    }
}

#[test]
fn the_console_check_catches_what_it_is_meant_to() {
    // The check below is only worth something if a page that breaks the rules is caught: this
    // one tries to load a stylesheet from elsewhere and to run a script, both of which the
    // reports' Content-Security-Policy forbids, and the browser says so on the console.
    let Some(browser) = browser() else { return };
    let dir = tempfile::tempdir().expect("temporary folder");
    let page = dir.path().join("canary.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <link rel=\"stylesheet\" href=\"https://example.invalid/x.css\"></head>\
         <body><script>console.error('canary')</script></body></html>",
    )
    .expect("canary page");
    let (_, console) = browser.page(&page, &["--dump-dom".into()]);
    assert!(console.len() >= 2, "console lines: {console:?}");
}

#[test]
fn fixture_portfolio_reports_load_in_chromium_with_the_assessed_numbers() {
    let Some(browser) = browser() else { return };
    let dir = tempfile::tempdir().expect("temporary folder");
    let assessments = dir.path().join("assessments.jsonl");
    let previous = dir.path().join("previous.jsonl");
    let out = dir.path().join("report");

    // The README's commands: assess, then report from the assessments with the facts beside.
    assay(&[
        "assess",
        "fixtures/portfolio.csv",
        "--as-of",
        AS_OF,
        "--out",
        assessments.to_str().unwrap(),
    ]);
    let records: Vec<Value> = std::fs::read_to_string(&assessments)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    // An earlier run in which pf-001 was still important: the report must show the change.
    let earlier: Vec<String> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if r["id"] == "pf-001" {
                r["nis2"]["classification"] = "important".into();
            }
            r["as_of"] = "2026-06-01".into();
            r.to_string()
        })
        .collect();
    std::fs::write(&previous, earlier.join("\n")).unwrap();
    assay(&[
        "report",
        assessments.to_str().unwrap(),
        "--facts",
        "fixtures/portfolio.csv",
        "--previous",
        previous.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);

    // The portfolio page: counts per class and per member state as `assay assess` wrote them.
    let dom = browser.dom(&out.join("index.html"));
    let mut classes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut states: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &records {
        *classes
            .entry(r["nis2"]["classification"].as_str().unwrap())
            .or_default() += 1;
        for s in r["nis2"]["jurisdiction"].as_array().unwrap() {
            *states.entry(s.as_str().unwrap()).or_default() += 1;
        }
    }
    assert_eq!(
        data(&dom, "data-figure", "total"),
        Some(records.len().to_string().as_str())
    );
    for class in [
        "essential",
        "important",
        "registration_only",
        "out_of_scope",
        "undetermined",
    ] {
        let shown = data(&dom, "data-class", class).map(figure);
        let expected = classes.get(class).copied().unwrap_or(0) as f64;
        assert_eq!(shown, Some(expected), "{class} on the portfolio page");
    }
    for (state, n) in &states {
        let shown = data(&dom, "data-state", state).map(figure);
        assert_eq!(shown, Some(*n as f64), "{state} on the portfolio page");
    }
    // Charts: per classification, per sector, per member state, each bar a rect.
    assert!(
        dom.matches("<svg").count() >= 3,
        "charts on the portfolio page"
    );
    assert!(
        dom.matches("<rect").count() >= 5 + states.len(),
        "one bar per class and per member state"
    );
    // Every organisation is linked, and the change since the earlier run is shown.
    for r in &records {
        let id = r["id"].as_str().unwrap();
        assert!(
            dom.contains(&format!("href=\"org-{id}.html\"")),
            "link to {id}"
        );
    }
    assert!(dom.contains("Changed since the assessment of 2026-06-01"));
    let change = &dom[dom.find("id=\"changes\"").unwrap()..];
    assert!(
        change.contains("Rheinland Netz GmbH") && change.contains("<strong>essential</strong>")
    );

    // An organisation page: pf-001 is essential in DE, EUR 12.4 m maximum fine (2 % of EUR 620 m
    // turnover, NIS2 Art. 34(4); fixtures/portfolio.expected.csv gives the class).
    let pf001 = &records[0];
    let dom = browser.dom(&out.join("org-pf-001.html"));
    assert_eq!(
        data(&dom, "data-classification", "essential").is_some(),
        pf001["nis2"]["classification"] == "essential"
    );
    assert_eq!(
        data(&dom, "data-figure", "jurisdiction"),
        Some(pf001["nis2"]["jurisdiction"][0].as_str().unwrap())
    );
    assert_eq!(
        data(&dom, "data-figure", "max_fine_eur").map(figure),
        pf001["nis2"]["max_fine_eur"].as_f64()
    );
    assert_eq!(
        data(&dom, "data-figure", "employees").map(figure),
        pf001["nis2"]["size"]["employees"].as_f64()
    );
    let obligations = pf001["nis2"]["obligations"].as_array().unwrap();
    assert_eq!(dom.matches("data-obligation=").count(), obligations.len());
    assert!(dom.contains("within 24 hours") && dom.contains("within 72 hours"));
    assert!(dom.contains("<svg"), "the size chart");
    assert!(dom.contains(&pf001["packs"][0]["sha256"].as_str().unwrap().to_string()));

    // An undetermined organisation names the facts that would settle it.
    let undetermined = records
        .iter()
        .find(|r| r["nis2"]["classification"] == "undetermined")
        .expect("the fixture has undetermined organisations");
    let id = undetermined["id"].as_str().unwrap();
    let dom = browser.dom(&out.join(format!("org-{id}.html")));
    for fact in undetermined["nis2"]["missing"].as_array().unwrap() {
        assert!(dom.contains(fact.as_str().unwrap()), "{id} names {fact}");
    }

    // "Print to PDF" gives a document (issue 7 item 6); its look is in the print stylesheet.
    let pdf = dir.path().join("portfolio.pdf");
    let (_, console) = browser.page(
        &out.join("index.html"),
        &[
            "--no-pdf-header-footer".into(),
            format!("--print-to-pdf={}", pdf.display()),
        ],
    );
    assert!(console.is_empty(), "{}", console.join("\n"));
    let bytes = std::fs::read(&pdf).expect("PDF written");
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");
    let pages = bytes
        .windows(12)
        .filter(|w| w.starts_with(b"/Type /Page") && w[11] != b's')
        .count();
    assert!(pages >= 2, "the portfolio prints on {pages} pages");

    let shots = dir.path().join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    browser.screenshot(
        &out.join("index.html"),
        &shots.join("report-portfolio.png"),
        2000,
    );
    // pf-018, an exchange whose customers demand SOC 2, shows every part of the page.
    browser.screenshot(
        &out.join("org-pf-018.html"),
        &shots.join("report-organisation.png"),
        3400,
    );
    update_docs(&shots);
}

#[test]
fn group_report_shows_the_tree_and_loads_in_chromium() {
    let Some(browser) = browser() else { return };
    // fixtures/group.csv: Nordhaven Holding with nine subsidiaries, a chain, a partner in the
    // batch and one outside it, and a 10 % minority.
    let dir = tempfile::tempdir().expect("temporary folder");
    let out = dir.path().join("report");
    assay(&[
        "report",
        "fixtures/group.csv",
        "--as-of",
        AS_OF,
        "--out",
        out.to_str().unwrap(),
    ]);
    let dom = browser.dom(&out.join("group-nh-holding.html"));

    // Every member with the classification and aggregated staff of group.expected.csv, whose
    // `reason` column gives the Rec. 2003/361/EC Annex Art. 6(2) arithmetic.
    let expected = fixture("group.expected.csv");
    let mut rows = csv::Reader::from_reader(expected.as_bytes());
    let mut members = 0;
    for row in rows.records().map(|r| r.expect("expected row")) {
        let (id, class, employees) = (&row[0], &row[1], &row[5]);
        let at = dom
            .rfind(&format!("<tr data-member=\"{id}\""))
            .unwrap_or_else(|| panic!("{id} in the sizing table"));
        let tr = &dom[at..at + dom[at..].find("</tr>").unwrap()];
        assert!(
            tr.contains(&format!("badge {class}")),
            "{id}: {class}\n{tr}"
        );
        let awu: f64 = employees.parse().unwrap();
        let shown = format!(">{}<", assay::report::chart::number(awu));
        assert!(tr.contains(&shown), "{id}: {employees} AWU\n{tr}");
        members += 1;
    }
    assert!(members >= 10, "{members} members");

    // The relation on each edge (Annex Art. 3): votes decide over capital, 10 % stays autonomous.
    assert!(dom.contains("40 % of capital, 51 % of votes (linked)"));
    assert!(dom.contains("40 % of capital (partner)"));
    assert!(dom.contains("10 % of capital (below 25 %)"));
    assert!(dom.contains("<svg"), "the staff chart");

    // The member's own page lists the enterprises counted with it, the fund outside the batch
    // included (30 % of its figures, Annex Art. 6(2)).
    let dom = browser.dom(&out.join("org-nh-cloud-ie.html"));
    assert!(dom.contains("data-enterprise=\"Alder Infrastructure Fund\""));

    browser.screenshot(
        &out.join("group-nh-holding.html"),
        &dir.path().join("report-group.png"),
        1600,
    );
    update_docs(dir.path());
}

/// With ASSAY_UPDATE_SCREENSHOTS=1, the screenshots taken go to `docs/` for the README.
fn update_docs(from: &Path) {
    if std::env::var_os("ASSAY_UPDATE_SCREENSHOTS").is_none() {
        return;
    }
    let docs = root().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "png") {
            std::fs::copy(e.path(), docs.join(e.file_name())).unwrap();
        }
    }
}
