//! Bar charts as inline SVG: no script, no font file, no colour needed to read them.
//!
//! Each bar carries its label on the left and its number on the right, so a chart reads the
//! same printed in black and white or through a screen reader (the `<title>` and `aria-label`
//! say what the chart counts, and the figure is repeated as a table by the templates).

use std::fmt::Write;

/// One bar: a label, a count and an optional CSS class for its fill (e.g. `essential`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    #[serde(default)]
    pub key: Option<String>,
}

const WIDTH: f64 = 600.0;
const VALUE_WIDTH: f64 = 100.0;
/// About the width of one character of the 13 px sans-serif the stylesheet sets, so that the
/// longest label fits beside its bar without measuring text (which needs the font).
const CHAR_WIDTH: f64 = 8.0;
const ROW: f64 = 26.0;
const BAR: f64 = 18.0;

/// A line across the bars at a value, e.g. a ceiling, with its label.
#[derive(Debug, Clone)]
pub struct Reference {
    pub value: f64,
    pub label: String,
}

/// A horizontal bar chart of `bars`, longest bar (or the reference line) scaled to the plot
/// width; `unit` follows each number (e.g. `%`).
pub fn bars(title: &str, bars: &[Bar], unit: &str, reference: Option<&Reference>) -> String {
    let top = if reference.is_some() { 18.0 } else { 0.0 };
    let height = ROW * bars.len().max(1) as f64 + 8.0 + top;
    let max = bars
        .iter()
        .map(|b| b.value)
        .chain(reference.map(|r| r.value))
        .fold(0.0_f64, f64::max);
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0);
    let label_width = (longest as f64 * CHAR_WIDTH + 16.0).clamp(60.0, 320.0);
    let plot = WIDTH - label_width - VALUE_WIDTH;
    let mut svg = String::new();
    let title = escape(title);
    let _ = write!(
        svg,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" "#
    );
    let _ = write!(
        svg,
        r#"viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" "#
    );
    let _ = write!(svg, r#"aria-label="{title}"><title>{title}</title>"#);
    if bars.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="0" y="18" class="chart-empty">nothing to count</text>"#
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        let y = i as f64 * ROW + 4.0 + top;
        let length = if max > 0.0 {
            (bar.value / max * plot).max(if bar.value > 0.0 { 2.0 } else { 0.0 })
        } else {
            0.0
        };
        let class = bar
            .key
            .as_deref()
            .map(|k| format!("bar bar-{}", css_class(k)))
            .unwrap_or_else(|| "bar".into());
        let text_y = y + BAR - 4.0;
        let (label, value) = (
            escape(&bar.label),
            format!("{}{}", number(bar.value), escape(unit)),
        );
        let (x, vx) = (label_width - 8.0, label_width + length + 6.0);
        let _ = write!(
            svg,
            r#"<g class="row"><text x="{x:.1}" y="{text_y}" text-anchor="end" "#
        );
        let _ = write!(svg, r#"class="chart-label">{label}</text>"#);
        let _ = write!(
            svg,
            r#"<rect class="{class}" x="{label_width:.1}" y="{y}" width="{length:.1}" "#
        );
        let _ = write!(
            svg,
            r#"height="{BAR}"><title>{label}: {value}</title></rect>"#
        );
        let _ = write!(
            svg,
            r#"<text x="{vx:.1}" y="{text_y}" class="chart-value">{value}</text></g>"#
        );
    }
    if let (Some(r), true) = (reference, max > 0.0) {
        let x = label_width + r.value / max * plot;
        let label = escape(&r.label);
        let _ = write!(
            svg,
            r#"<g class="reference"><line x1="{x:.1}" y1="14" x2="{x:.1}" y2="{height}" "#
        );
        let _ = write!(
            svg,
            r#"stroke-dasharray="4 3"/><text x="{x:.1}" y="11" text-anchor="middle" "#
        );
        let _ = write!(svg, r#"class="chart-reference">{label}</text></g>"#);
    }
    svg.push_str("</svg>");
    svg
}

/// 12400000 → "12,400,000"; fractions keep up to two decimals.
pub fn number(x: f64) -> String {
    let negative = x < 0.0;
    let rounded = (x.abs() * 100.0).round() / 100.0;
    let whole = rounded.trunc() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    let fraction = rounded.fract();
    if fraction > 0.0 {
        let f = format!("{fraction:.2}");
        out.push_str(f.trim_start_matches('0').trim_end_matches('0'));
    }
    if negative {
        format!("-{out}")
    } else {
        out
    }
}

/// Keeps letters, digits, `-` and `_`: a class name made from data must not break out of the
/// attribute.
fn css_class(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Escapes text for SVG content and attributes; labels come from client files.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: f64) -> Bar {
        Bar {
            label: label.into(),
            value,
            key: None,
        }
    }

    #[test]
    fn every_bar_shows_its_label_and_number() {
        let svg = bars(
            "per class",
            &[bar("essential", 32.0), bar("important", 29.0)],
            "",
            None,
        );
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(">essential</text>") && svg.contains(">32</text>"));
        assert!(svg.contains(">important</text>") && svg.contains(">29</text>"));
    }

    /// The `width` of each bar, in order.
    fn widths(svg: &str) -> Vec<f64> {
        svg.split("<rect ")
            .skip(1)
            .map(|r| {
                let w = &r[r.find("width=\"").unwrap() + 7..];
                w[..w.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn bars_scale_with_their_values_and_long_labels_get_room() {
        let short = bars("t", &[bar("a", 10.0), bar("b", 5.0)], "", None);
        let w = widths(&short);
        assert!((w[0] / w[1] - 2.0).abs() < 0.01, "{w:?}");
        // A 30-character label takes room from the plot instead of being cut off.
        let long = bars("t", &[bar(&"x".repeat(30), 10.0)], "", None);
        assert!(widths(&long)[0] < w[0], "{long}");
        assert!(long.contains(r#"text x="248.0""#), "{long}");
    }

    #[test]
    fn labels_from_client_files_cannot_inject_markup() {
        let svg = bars("<t>", &[bar("</text><script>x</script>", 1.0)], "", None);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;/text&gt;&lt;script&gt;"));
        let keyed = Bar {
            key: Some("a\" onload=\"x".into()),
            ..bar("a", 1.0)
        };
        assert!(!bars("t", &[keyed], "", None).contains("\" onload"));
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(number(12_400_000.0), "12,400,000");
        assert_eq!(number(999.0), "999");
        assert_eq!(number(1000.0), "1,000");
        assert_eq!(number(3255.8), "3,255.8");
        assert_eq!(number(0.25), "0.25");
    }

    #[test]
    fn an_empty_chart_says_so() {
        assert!(bars("t", &[], "", None).contains("nothing to count"));
    }

    #[test]
    fn a_reference_line_sits_at_its_value_and_bars_carry_the_unit() {
        // 740 % of a ceiling at 100 %: the line sits at 100/740 of the plot.
        let r = Reference {
            value: 100.0,
            label: "ceiling".into(),
        };
        let svg = bars("t", &[bar("staff", 740.0)], "%", Some(&r));
        let label_width = 60.0; // "staff" is short: the narrowest label column
        let x = label_width + 100.0 / 740.0 * (WIDTH - label_width - VALUE_WIDTH);
        assert!(svg.contains(&format!(r#"x1="{x:.1}""#)), "{svg}");
        assert!(svg.contains(">740%</text>") && svg.contains(">ceiling</text>"));
    }
}
