//! Distributions: `DistSpec` as written, `DistField` checked and built into the kernel's
//! `Dist` while reading.

use super::*;

/// Deepest nesting of `Mixture` inside `Mixture`.
pub(crate) const MIXTURE_DEPTH_MAX: u32 = 8;

pub(super) fn default_startup() -> DistField {
    let spec = DistSpec::Constant(zero());
    let (dist, mixture_depth) = build_dist(&spec).expect("a constant of 0s is a valid distribution");
    DistField { spec, dist, mixture_depth }
}

/// The reference section "Distributions (`dist`)".
pub(crate) const DIST_DOC: Section = (
    "Distributions (`dist`)",
    "Fields of type distribution (`work`, `think`, a `Work` step, a cache's `hit_latency`, and a mixture's `dist`) take one of these. \
     All times are duration strings; samples are whole nanoseconds and never negative.",
    &[
        f("dist.Constant", "duration", "", "Always this value: `Constant(\"5ms\")`."),
        f("dist.Uniform", "struct variant", "", "Uniform between two values: `Uniform(low: \"1ms\", high: \"5ms\")`."),
        f("dist.Uniform.low", "duration", REQ, "Lower bound."),
        f("dist.Uniform.high", "duration, >= low", REQ, "Upper bound."),
        f("dist.Exponential", "struct variant", "", "Exponential: `Exponential(mean: \"5ms\")`."),
        f("dist.Exponential.mean", "duration, > 0", REQ, "Mean."),
        f("dist.Normal", "struct variant", "", "Normal, truncated at zero (negative draws are redrawn): `Normal(mean: \"10ms\", std_dev: \"2ms\")`."),
        f("dist.Normal.mean", "duration, > 0", REQ, "Mean of the untruncated normal."),
        f("dist.Normal.std_dev", "duration", REQ, "Standard deviation of the untruncated normal."),
        f("dist.LogNormal", "struct variant", "", "Log-normal, given either as `LogNormal(median: \"8ms\", p99: \"40ms\")` or as `LogNormal(mu: 1.5, sigma: 0.5, unit: \"ms\")`; exactly one of the two forms."),
        f("dist.LogNormal.median", "duration, > 0", "", "Median (first form, with `p99`)."),
        f("dist.LogNormal.p99", "duration, > median", "", "99th percentile (first form, with `median`)."),
        f("dist.LogNormal.mu", "number", "", "Mean of the natural logarithm of the value measured in `unit` (second form)."),
        f("dist.LogNormal.sigma", "number, >= 0", "", "Standard deviation of that logarithm (second form)."),
        f("dist.LogNormal.unit", "one of `ns`, `us`, `ms`, `s`, `m`, `h`", "", "Unit in which `mu` and `sigma` describe the value (second form)."),
        f("dist.Pareto", "struct variant", "", "Bounded Pareto: `Pareto(scale: \"1ms\", shape: 1.5, max: \"1s\")`."),
        f("dist.Pareto.scale", "duration, > 0", REQ, "Smallest value."),
        f("dist.Pareto.shape", "number, > 0", REQ, "Tail index; smaller means a heavier tail."),
        f("dist.Pareto.max", "duration, > scale", REQ, "Largest value."),
        f("dist.Gamma", "struct variant", "", "Gamma: `Gamma(shape: 2.0, scale: \"5ms\")`, mean `shape * scale`."),
        f("dist.Gamma.shape", "number, > 0", REQ, "Shape k."),
        f("dist.Gamma.scale", "duration, > 0", REQ, "Scale theta."),
        f("dist.Erlang", "struct variant", "", "Erlang, the sum of k exponentials: `Erlang(k: 3, mean: \"6ms\")`."),
        f("dist.Erlang.k", "integer, 1 to 10000", REQ, "Number of exponential phases."),
        f("dist.Erlang.mean", "duration, > 0", REQ, "Mean of the sum."),
        f("dist.Mixture", "list of `(weight, dist)`", "", "Picks a component with probability proportional to its weight, then samples it: `Mixture([(weight: 0.9, dist: Exponential(mean: \"5ms\")), (weight: 0.1, dist: Constant(\"100ms\"))])`. Mixtures nest at most 8 deep."),
        f("dist.Mixture[*].weight", "number, >= 0", REQ, "Relative weight; weights need not sum to 1 but must not all be 0."),
        f("dist.Mixture[*].dist", "distribution", REQ, "The component."),
        f("dist.Empirical", "list of durations, at least one", "", "One of the values, each equally likely: `Empirical([\"1ms\", \"2ms\", \"5ms\"])`."),
        f("dist.Quantiles", "list of `(quantile, duration)`", "", "Piecewise-linear inverse CDF: `Quantiles([(0.0, \"1ms\"), (0.5, \"3ms\"), (1.0, \"50ms\")])`. Quantiles increase from 0 to 1; values do not decrease."),
    ],
);

/// A distribution as written; [`DistField`] checks it and builds the kernel's [`Dist`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Distribution",
    expecting = "a distribution, as in Exponential(mean: \"5ms\")",
    deny_unknown_fields
)]
pub(crate) enum DistSpec {
    Constant(Dur),
    Uniform {
        low: Dur,
        high: Dur,
    },
    Exponential {
        mean: Dur,
    },
    Normal {
        mean: Dur,
        std_dev: Dur,
    },
    LogNormal {
        #[serde(default)]
        median: Option<Dur>,
        #[serde(default)]
        p99: Option<Dur>,
        #[serde(default)]
        mu: Option<f64>,
        #[serde(default)]
        sigma: Option<f64>,
        #[serde(default)]
        unit: Option<UnitSpec>,
    },
    Pareto {
        scale: Dur,
        shape: f64,
        max: Dur,
    },
    Gamma {
        shape: f64,
        scale: Dur,
    },
    Erlang {
        k: Count<1, 10_000>,
        mean: Dur,
    },
    Mixture(Vec<MixturePartSpec>),
    Empirical(Vec<Dur>),
    Quantiles(Vec<(f64, Dur)>),
}

/// `(weight: 0.9, dist: Exponential(mean: "5ms"))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "MixtureComponent",
    expecting = "a mixture component, as in (weight: 0.9, dist: Exponential(mean: \"5ms\"))",
    deny_unknown_fields
)]
pub(crate) struct MixturePartSpec {
    pub weight: f64,
    pub dist: DistField,
}

/// A checked distribution: the spec as written (for overrides and docs) and the built
/// [`Dist`] in nanoseconds.
#[derive(Clone, Debug)]
pub(crate) struct DistField {
    pub spec: DistSpec,
    pub dist: Dist,
    /// Levels of `Mixture`: 0 for a plain distribution.
    pub mixture_depth: u32,
}

impl<'de> Deserialize<'de> for DistField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spec = DistSpec::deserialize(d)?;
        let (dist, mixture_depth) = build_dist(&spec).map_err(de::Error::custom)?;
        Ok(DistField { spec, dist, mixture_depth })
    }
}

impl Serialize for DistField {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.spec.serialize(s)
    }
}

fn positive(name: &str, d: &Dur) -> Result<f64, String> {
    if d.ns == 0 {
        return Err(format!("{name} must be greater than zero, got \"{}\"", d.text));
    }
    Ok(d.ns as f64)
}

fn kernel<T>(r: Result<T, squall_kernel::DistError>) -> Result<T, String> {
    r.map_err(|e| e.0)
}

/// Builds the kernel distribution, in nanoseconds, with messages in the file's own units.
pub(super) fn build_dist(spec: &DistSpec) -> Result<(Dist, u32), String> {
    let dist = match spec {
        DistSpec::Constant(v) => kernel(Dist::constant(v.ns as f64))?,
        DistSpec::Uniform { low, high } => {
            if high.ns < low.ns {
                return Err(format!("high ({}) must not be below low ({})", high.text, low.text));
            }
            kernel(Dist::uniform(low.ns as f64, high.ns as f64))?
        }
        DistSpec::Exponential { mean } => kernel(Dist::exponential(positive("mean", mean)?))?,
        DistSpec::Normal { mean, std_dev } => {
            kernel(Dist::normal(positive("mean", mean)?, std_dev.ns as f64))?
        }
        DistSpec::LogNormal { median, p99, mu, sigma, unit } => lognormal(median, p99, *mu, *sigma, unit)?,
        DistSpec::Pareto { scale, shape, max } => {
            let scale_ns = positive("scale", scale)?;
            if max.ns <= scale.ns {
                return Err(format!("max ({}) must be greater than scale ({})", max.text, scale.text));
            }
            kernel(Dist::bounded_pareto(scale_ns, *shape, max.ns as f64))?
        }
        DistSpec::Gamma { shape, scale } => kernel(Dist::gamma(*shape, positive("scale", scale)?))?,
        DistSpec::Erlang { k, mean } => {
            let k = u32::try_from(k.0).map_err(|_| format!("k is too large: {}", k.0))?;
            kernel(Dist::erlang(k, positive("mean", mean)?))?
        }
        DistSpec::Mixture(parts) => {
            let depth = 1 + parts.iter().map(|p| p.dist.mixture_depth).max().unwrap_or(0);
            if depth > MIXTURE_DEPTH_MAX {
                return Err(format!("mixtures are nested {depth} deep; the limit is {MIXTURE_DEPTH_MAX}"));
            }
            let parts = parts.iter().map(|p| (p.weight, p.dist.dist.clone())).collect();
            return Ok((kernel(Dist::mixture(parts))?, depth));
        }
        DistSpec::Empirical(values) => kernel(Dist::choice(values.iter().map(|v| v.ns as f64).collect()))?,
        DistSpec::Quantiles(points) => {
            for pair in points.windows(2) {
                let ((q0, v0), (q1, v1)) = (&pair[0], &pair[1]);
                if v1.ns < v0.ns {
                    return Err(format!(
                        "values must not decrease: {} at quantile {q0}, then {} at quantile {q1}",
                        v0.text, v1.text
                    ));
                }
            }
            kernel(Dist::quantiles(points.iter().map(|(q, v)| (*q, v.ns as f64)).collect()))?
        }
    };
    Ok((dist, 0))
}

fn lognormal(
    median: &Option<Dur>,
    p99: &Option<Dur>,
    mu: Option<f64>,
    sigma: Option<f64>,
    unit: &Option<UnitSpec>,
) -> Result<Dist, String> {
    let quantile_form = median.is_some() || p99.is_some();
    let log_form = mu.is_some() || sigma.is_some() || unit.is_some();
    match (quantile_form, log_form) {
        (true, true) => {
            Err("give either `median` and `p99`, or `mu`, `sigma` and `unit`, not both".to_string())
        }
        (false, false) => {
            Err("LogNormal needs either `median` and `p99` (durations) or `mu`, `sigma` and `unit`"
                .to_string())
        }
        (true, false) => {
            let (Some(median), Some(p99)) = (median, p99) else {
                return Err("give both `median` and `p99`".to_string());
            };
            let median_ns = positive("median", median)?;
            if p99.ns <= median.ns {
                return Err(format!("p99 ({}) must be greater than the median ({})", p99.text, median.text));
            }
            kernel(Dist::lognormal_from_median_p99(median_ns, p99.ns as f64))
        }
        (false, true) => {
            let (Some(mu), Some(sigma), Some(unit)) = (mu, sigma, unit) else {
                return Err("give all of `mu`, `sigma` and `unit` (the unit of the values whose logarithm has mean mu, e.g. \"ms\")".to_string());
            };
            // ln(x_ns) = ln(x_unit) + ln(ns per unit), so only mu moves.
            let mu_ns = mu + (unit.ns as f64).ln();
            kernel(Dist::lognormal(mu_ns, sigma))
        }
    }
}

/// A time unit for `LogNormal(mu, sigma, unit)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct UnitSpec {
    pub text: String,
    pub ns: u64,
}

impl TryFrom<String> for UnitSpec {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        match unit_ns(text.trim()) {
            Some(ns) => Ok(UnitSpec { text, ns }),
            None => Err(unknown_unit(&text)),
        }
    }
}

impl From<UnitSpec> for String {
    fn from(u: UnitSpec) -> Self {
        u.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_by_mu_and_sigma_shifts_mu_into_nanoseconds() {
        let ms = UnitSpec::try_from("ms".to_string()).unwrap();
        let d = lognormal(&None, &None, Some(1.5), Some(0.5), &Some(ms)).unwrap();
        let Dist::LogNormal { mu, sigma } = d else { panic!("{d:?}") };
        assert!((mu - (1.5 + 1e6f64.ln())).abs() < 1e-12);
        assert_eq!(sigma, 0.5);
    }
}
