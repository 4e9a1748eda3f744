//! How numbers and names are printed: fixed precision for files, human units for people, and
//! escaping for CSV and HTML.
//!
//! Every float that reaches a file goes through [`fixed`] (or the JSON rounding built on
//! [`round_fixed`]), so the same run prints the same bytes on every machine.

/// Decimals of every float in `summary.json` and `timeseries.csv`: 6 keeps nanoseconds when
/// the unit is milliseconds, and micro-units of rates and ratios.
pub(crate) const DECIMALS: usize = 6;

/// `v` rounded to [`DECIMALS`] places, with `-0` folded into `0` so it never prints a sign.
pub(crate) fn round_fixed(v: f64) -> f64 {
    assert!(v.is_finite(), "a non-finite number reached the report: {v}");
    let scale = 10f64.powi(DECIMALS as i32);
    let r = (v * scale).round() / scale;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// `v` with exactly [`DECIMALS`] decimals, never `-0.000000`.
pub(crate) fn fixed(v: f64) -> String {
    format!("{:.*}", DECIMALS, round_fixed(v))
}

/// A latency in nanoseconds in the largest readable unit with three significant digits:
/// `850ns`, `12.3us`, `1.05ms`, `250ms`, `1.20s`.
pub(crate) fn human_ns(ns: f64) -> String {
    assert!(ns.is_finite(), "a non-finite latency reached the table: {ns}");
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "us")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    // Three significant digits; a value that rounds up to 1000 stays in the smaller unit
    // ("1000us") rather than jumping units, which reads fine and keeps this simple.
    let decimals = if v >= 99.95 {
        0
    } else if v >= 9.995 {
        1
    } else {
        2
    };
    if unit == "ns" {
        format!("{ns:.0}ns")
    } else {
        format!("{v:.decimals$}{unit}")
    }
}

/// A latency given in milliseconds, printed like [`human_ns`]; `None` prints `-`.
pub(crate) fn human_ms(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".to_string(), |v| human_ns(v * 1e6))
}

/// A ratio as a percentage with two decimals; a positive ratio too small to show prints
/// `<0.01%` so a rare failure is never hidden as `0.00%`. `None` prints `-`.
pub(crate) fn percent(ratio: Option<f64>) -> String {
    match ratio {
        None => "-".to_string(),
        Some(r) if r > 0.0 && r < 0.00005 => "<0.01%".to_string(),
        Some(r) => format!("{:.2}%", round_fixed(r * 100.0)),
    }
}

/// A float with `decimals` places for the table; `None` prints `-`.
pub(crate) fn decimal(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{:.decimals$}", round_fixed(v)))
}

/// Seconds with three decimals and the unit, for tables: `2.700 s`.
pub(crate) fn seconds(v: f64) -> String {
    format!("{:.3} s", round_fixed(v))
}

/// A number in at most four significant digits, for chart labels where space is short:
/// `0`, `0.25`, `12.35`, `1234`, `12.3k`, `4.5M`, `1.20e-5`. Magnitudes from 10^4 take a
/// k/M/G suffix with three significant digits; below 10^-3 or from 10^12 it switches to
/// scientific notation. Never prints `-0`.
pub(crate) fn compact(v: f64) -> String {
    assert!(v.is_finite(), "a non-finite number reached a chart label: {v}");
    let a = v.abs();
    let s = if a == 0.0 {
        "0".to_string()
    } else if !(1e-3..1e12).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 1e4 {
        // A value that rounds up to the next unit takes that unit: `1M`, not `1000k`.
        let (scale, suffix) = [(1e9, "G"), (1e6, "M"), (1e3, "k")]
            .into_iter()
            .find(|(scale, _)| a >= *scale * 0.9995)
            .map_or((1e3, "k"), |x| x);
        format!("{}{suffix}", significant(v / scale, 3))
    } else {
        significant(v, 4)
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s
    }
}

/// `v` (finite, non-zero, below 10^4 in magnitude) rounded to `digits` significant digits,
/// trailing zeros dropped.
fn significant(v: f64, digits: i32) -> String {
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A count with thousands separators: `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One CSV field, quoted (with quotes doubled) when it holds a comma, a quote or a line break.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Text made safe to put inside HTML elements and attribute values.
pub(crate) fn html_escape(s: &str) -> String {
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

/// A name made safe as one segment of a relative URL: every byte outside the unreserved set
/// (`A-Z a-z 0-9 - . _ ~`) is percent-encoded.
pub(crate) fn url_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_prints_six_decimals_and_no_negative_zero() {
        assert_eq!(fixed(1.0 / 3.0), "0.333333");
        assert_eq!(fixed(-1e-12), "0.000000");
        assert_eq!(fixed(60.0), "60.000000");
    }

    #[test]
    fn latencies_print_in_human_units_with_three_digits() {
        assert_eq!(human_ns(850.0), "850ns");
        assert_eq!(human_ns(12_345.0), "12.3us");
        assert_eq!(human_ns(1_050_000.0), "1.05ms");
        assert_eq!(human_ns(250_000_000.0), "250ms");
        assert_eq!(human_ns(1_200_000_000.0), "1.20s");
        assert_eq!(human_ms(None), "-");
    }

    #[test]
    fn percentages_never_hide_a_rare_event_as_zero() {
        assert_eq!(percent(Some(0.95)), "95.00%");
        assert_eq!(percent(Some(0.000001)), "<0.01%");
        assert_eq!(percent(Some(0.0)), "0.00%");
        assert_eq!(percent(None), "-");
    }

    #[test]
    fn compact_numbers_keep_four_significant_digits_or_take_a_suffix() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (0.25, "0.25"),
            (1.0 / 3.0, "0.3333"),
            (12.345, "12.35"),
            (1234.0, "1234"),
            (9999.0, "9999"),
            (12_345.0, "12.3k"),
            (250_000.0, "250k"),
            (999_999.0, "1M"),
            (4_500_000.0, "4.5M"),
            (-2.5e9, "-2.5G"),
            (0.0005, "5.00e-4"),
            (1.2e-5, "1.20e-5"),
            (3e13, "3.00e13"),
            (-0.00001, "-1.00e-5"),
        ];
        for (v, want) in cases {
            assert_eq!(compact(v), want, "{v}");
        }
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn url_segments_encode_everything_but_unreserved_characters() {
        assert_eq!(url_segment("db-x2_v1.0~"), "db-x2_v1.0~");
        assert_eq!(url_segment("a b/c"), "a%20b%2Fc");
        assert_eq!(url_segment("é"), "%C3%A9");
    }
}
