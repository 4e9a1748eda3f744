//! The comparison's `index.html`: the side-by-side table (and the figures over the seeds,
//! when there are several), the overlays inlined as SVG, and links to the data files and to
//! each variant's own report. Like a run's page, it loads
//! nothing from anywhere else.

use super::{comparison_table, seeds_table, CompareMeta, Emphasis, OverSeeds};
use crate::format::{html_escape, url_segment};
use squall_model::RunOutput;
use std::fmt::Write as _;

/// Headings of the overlays, by file name; one not listed here gets its file name.
const PLOT_HEADINGS: [(&str, &str); 3] = [
    ("compare_goodput.svg", "Goodput (ok and degraded answers) over time"),
    ("compare_errors.svg", "Failed answers over time"),
    ("compare_p99.svg", "p99 latency over time"),
];

/// The page for a comparison whose overlays are `plots` (as returned by
/// [`super::comparison_plots`]); each variant's report is linked at `<variant>/index.html`.
pub(crate) fn comparison_html(
    meta: &CompareMeta,
    runs: &[(String, RunOutput)],
    seeds: Option<&OverSeeds>,
    plots: &[(String, String)],
) -> String {
    let m = &meta.scenario;
    let title = html_escape(&format!("{} (seed {}), {} variants", m.scenario, m.seed, runs.len()));
    let mut h = String::new();
    // Writing into a String cannot fail, so the fmt::Results below are discarded.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>squall compare: {title}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em auto; max-width: 960px; padding: 0 1em; color: #222; }}\n\
         pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 13px; }}\n\
         figure {{ margin: 1em 0 2em; }}\n\
         svg {{ max-width: 100%; height: auto; }}\n\
         </style>\n</head>\n<body>\n<h1>squall compare: {title}</h1>\n"
    );
    let _ = writeln!(
        h,
        "<p>Scenario file <code>{}</code>, scenario hash <code>{:016x}</code>. \
         Data: <a href=\"comparison.json\">comparison.json</a>, \
         <a href=\"comparison.csv\">comparison.csv</a>.</p>",
        html_escape(&m.file),
        m.scenario_hash
    );
    h.push_str("<h2>Variants</h2>\n<ul>\n");
    for ((name, _), overrides) in runs.iter().zip(&meta.overrides) {
        let what = if overrides.is_empty() {
            "no overrides".to_string()
        } else {
            overrides
                .iter()
                .map(|o| format!("<code>{}</code>", html_escape(o)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            h,
            "<li><a href=\"{}/index.html\">{}</a>: {what}</li>",
            html_escape(&url_segment(name)),
            html_escape(name)
        );
    }
    h.push_str("</ul>\n");
    let _ = writeln!(
        h,
        "<h2>Side by side</h2>\n<pre>{}</pre>",
        html_escape(&comparison_table(meta, runs, Emphasis::Plain))
    );
    if let Some(over) = seeds {
        let _ = writeln!(
            h,
            "<h2>Over the seeds</h2>\n<p>Each variant ran with the same seeds; figures are the mean \
             and its 95 % confidence interval (Student t), then each variant's difference from the \
             baseline paired seed by seed, also in <a href=\"seeds.csv\">seeds.csv</a>.</p>\n<pre>{}</pre>",
            html_escape(seeds_table(over).trim_start())
        );
    }
    for (name, svg) in plots {
        let heading = PLOT_HEADINGS.iter().find(|(n, _)| n == name).map_or(name.as_str(), |(_, t)| t);
        let name = html_escape(name);
        let _ = writeln!(
            h,
            "<h2>{heading}</h2>\n<figure>\n{}\n<figcaption><a href=\"{name}\">{name}</a></figcaption>\n</figure>",
            svg.trim_end()
        );
    }
    h.push_str("</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{compare_meta, variants};

    #[test]
    fn the_page_links_every_variant_and_the_data_and_inlines_the_overlays() {
        let runs = variants();
        let plots = super::super::comparison_plots(&compare_meta(), &runs).unwrap();
        let page = comparison_html(&compare_meta(), &runs, None, &plots);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>squall compare: retry-storm (seed 42), 2 variants</title>"));
        assert!(page.contains("<a href=\"baseline/index.html\">baseline</a>: no overrides"));
        assert!(page.contains(
            "<a href=\"db-x2/index.html\">db-x2</a>: <code>services.db.replicas=2</code>, \
             <code>services.api.workers=6</code>"
        ));
        assert!(page.contains("<a href=\"comparison.json\">"));
        assert!(page.contains("<a href=\"comparison.csv\">"));
        assert!(page.contains("<pre>squall compare  retry-storm"));
        assert_eq!(page.matches("<svg").count(), 3);
        let namespaces = page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
        assert_eq!(page.matches("http").count(), namespaces, "nothing is loaded from elsewhere");
        assert!(!page.contains('\x1b'), "no terminal escapes in a page");
    }

    #[test]
    fn variant_names_are_escaped_in_text_and_encoded_in_links() {
        let mut runs = variants();
        runs[1].0 = "a b&<c>".to_string();
        let page = comparison_html(&compare_meta(), &runs, None, &[]);
        assert!(page.contains("<a href=\"a%20b%26%3Cc%3E/index.html\">a b&amp;&lt;c&gt;</a>"), "{page}");
    }
}
