//! `index.html`: one self-contained page per report, with the summary table, the charts
//! inlined as SVG, and links to the data files. It loads nothing from anywhere else.

use crate::fleet::{fleet_services, flow_clients};
use crate::format::html_escape;
use crate::table::summary_table;
use crate::ReportMeta;
use squall_model::RunOutput;
use std::fmt::Write as _;

/// Headings of the plots, by file name; a plot not listed here gets its file name.
const PLOT_HEADINGS: [(&str, &str); 7] = [
    ("outcomes.svg", "Outcomes over time"),
    ("latency.svg", "Latency over time"),
    ("queues.svg", "Queues and busy workers over time"),
    ("amplification.svg", "Attempts per call over time"),
    ("breakers.svg", "Circuit breakers over time"),
    ("fleet.svg", "Instances and answers by version over time"),
    ("flows.svg", "Flows over time"),
];

/// The page for a report whose plots are `plots` (as returned by [`crate::plots`]).
pub(crate) fn index_html(meta: &ReportMeta, out: &RunOutput, plots: &[(String, String)]) -> String {
    let title = html_escape(&format!("{} (seed {})", meta.title(), meta.seed));
    let mut h = String::new();
    // Writing into a String cannot fail, so the fmt::Results below are discarded.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>squall: {title}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em auto; max-width: 960px; padding: 0 1em; color: #222; }}\n\
         pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 13px; }}\n\
         figure {{ margin: 1em 0 2em; }}\n\
         svg {{ max-width: 100%; height: auto; }}\n\
         </style>\n</head>\n<body>\n<h1>squall: {title}</h1>\n"
    );
    let extra: String =
        [("fleet.csv", !fleet_services(out).is_empty()), ("flows.csv", !flow_clients(out).is_empty())]
            .into_iter()
            .filter(|(_, written)| *written)
            .map(|(name, _)| format!(", <a href=\"{name}\">{name}</a>"))
            .collect();
    let _ = writeln!(
        h,
        "<p>Scenario file <code>{}</code>, scenario hash <code>{:016x}</code>, configuration hash \
         <code>{:016x}</code>{}. \
         Data: <a href=\"summary.json\">summary.json</a>, <a href=\"timeseries.csv\">timeseries.csv</a>{extra}.</p>",
        html_escape(&meta.file),
        meta.scenario_hash,
        meta.config_hash,
        overrides_html(&meta.overrides)
    );
    let _ = writeln!(h, "<h2>Summary</h2>\n<pre>{}</pre>", html_escape(&summary_table(meta, out)));
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

/// `, overrides <code>a=1</code>, <code>b=2</code>`, or nothing without overrides.
fn overrides_html(overrides: &[String]) -> String {
    if overrides.is_empty() {
        return String::new();
    }
    let list: Vec<String> = overrides.iter().map(|o| format!("<code>{}</code>", html_escape(o))).collect();
    format!(", overrides {}", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{meta, policy_output, sample_output};

    #[test]
    fn a_variants_page_and_plots_are_titled_with_the_scenario_and_the_variant() {
        let out = sample_output();
        let meta = crate::ReportMeta {
            variant: Some("db-x2".to_string()),
            overrides: vec!["services.db.replicas=2".to_string()],
            ..meta()
        };
        let plots = crate::plots(&meta, &out).unwrap();
        let page = index_html(&meta, &out, &plots);
        assert!(page.contains("<title>squall: retry-storm, variant db-x2 (seed 42)</title>"), "{page}");
        assert!(page.contains("<code>services.db.replicas=2</code>"), "{page}");
        assert!(plots.iter().all(|(_, svg)| svg.contains("retry-storm, variant db-x2 (seed 42)")));
    }

    #[test]
    fn the_page_inlines_the_table_and_plots_and_links_the_data() {
        let out = sample_output();
        let plots = crate::plots(&meta(), &out).unwrap();
        let page = index_html(&meta(), &out, &plots);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>squall: retry-storm (seed 42)</title>"));
        assert!(page.contains("<a href=\"summary.json\">"));
        assert!(page.contains("<a href=\"timeseries.csv\">"));
        assert!(page.contains("<pre>squall  retry-storm"));
        assert_eq!(page.matches("<svg").count(), 3);
        // The only URLs are the SVG namespaces, which browsers do not fetch.
        let namespaces = page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
        assert_eq!(page.matches("http").count(), namespaces);
        assert!(!page.contains("<script"));
    }

    #[test]
    fn policy_plots_are_inlined_under_their_headings_only_when_drawn() {
        let out = policy_output();
        let plots = crate::plots(&meta(), &out).unwrap();
        let page = index_html(&meta(), &out, &plots);
        assert_eq!(page.matches("<svg").count(), 5);
        assert!(page.contains("<h2>Attempts per call over time</h2>"));
        assert!(page.contains("<h2>Circuit breakers over time</h2>"));
        let plain = sample_output();
        let page = index_html(&meta(), &plain, &crate::plots(&meta(), &plain).unwrap());
        assert!(!page.contains("Attempts per call"), "no policy, no amplification plot");
        assert!(!page.contains("fleet") && !page.contains("flows"), "no fleet, no fleet files");
    }

    #[test]
    fn names_are_escaped() {
        let mut m = meta();
        m.scenario = "<b>&".to_string();
        let page = index_html(&m, &sample_output(), &[]);
        assert!(page.contains("&lt;b&gt;&amp;"));
        assert!(!page.contains("<b>&"));
    }
}
