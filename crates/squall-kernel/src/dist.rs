//! Probability distributions for durations and counts.
//!
//! A [`Dist`] is built once (validating its parameters) and sampled many times; sampling never
//! allocates. Samples are `f64` in whatever unit the parameters were given in; callers that
//! want time round them to whole nanoseconds at once (see `time::round_ns`). Every
//! distribution here is non-negative: normals are truncated at zero by rejection.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};
use std::fmt;

/// z such that P(Z <= z) = 0.99 for a standard normal Z.
pub const Z_99: f64 = 2.326_347_874_040_841;

/// A sampled quantity, non-negative.
#[derive(Clone, Debug)]
pub enum Dist {
    /// Always `value`.
    Constant(f64),
    /// Uniform on `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean: f64,
    },
    /// Normal with `mean` and `std_dev`, redrawn while negative.
    Normal {
        /// Mean of the untruncated normal.
        mean: f64,
        /// Standard deviation of the untruncated normal.
        std_dev: f64,
    },
    /// `exp(N(mu, sigma))`.
    LogNormal {
        /// Mean of the logarithm.
        mu: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Pareto with minimum `scale` and tail index `shape`, truncated at `max`.
    BoundedPareto {
        /// Smallest value (`L`).
        scale: f64,
        /// Tail index (`alpha`).
        shape: f64,
        /// Largest value (`H`).
        max: f64,
    },
    /// Gamma with `shape` k and `scale` theta (mean k*theta); Erlang when k is an integer.
    Gamma {
        /// The rand_distr sampler, built once.
        sampler: Gamma<f64>,
        /// k.
        shape: f64,
        /// theta.
        scale: f64,
    },
    /// Pick a component with probability proportional to its weight, then sample it.
    Mixture {
        /// `(cumulative weight, component)`; the last cumulative weight is 1.
        parts: Vec<(f64, Dist)>,
    },
    /// One of `values`, each equally likely.
    Choice {
        /// The values.
        values: Vec<f64>,
    },
    /// Piecewise-linear inverse CDF through `(quantile, value)` points from q=0 to q=1.
    Quantiles {
        /// Points sorted by quantile, first at 0, last at 1, values non-decreasing.
        points: Vec<(f64, f64)>,
    },
}

/// Why a distribution's parameters were refused.
#[derive(Debug, Clone, PartialEq)]
pub struct DistError(pub String);

impl fmt::Display for DistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DistError {}

fn check(ok: bool, msg: impl FnOnce() -> String) -> Result<(), DistError> {
    if ok {
        Ok(())
    } else {
        Err(DistError(msg()))
    }
}

fn finite_non_negative(name: &str, v: f64) -> Result<(), DistError> {
    check(v.is_finite() && v >= 0.0, || format!("{name} must be a finite number >= 0, got {v}"))
}

fn finite_positive(name: &str, v: f64) -> Result<(), DistError> {
    check(v.is_finite() && v > 0.0, || format!("{name} must be a finite number > 0, got {v}"))
}

impl Dist {
    /// Always `value`.
    pub fn constant(value: f64) -> Result<Dist, DistError> {
        finite_non_negative("value", value)?;
        Ok(Dist::Constant(value))
    }

    /// Uniform on `[low, high)`.
    pub fn uniform(low: f64, high: f64) -> Result<Dist, DistError> {
        finite_non_negative("low", low)?;
        finite_non_negative("high", high)?;
        check(high >= low, || format!("high ({high}) must be >= low ({low})"))?;
        Ok(Dist::Uniform { low, high })
    }

    /// Exponential with `mean`.
    pub fn exponential(mean: f64) -> Result<Dist, DistError> {
        finite_positive("mean", mean)?;
        Ok(Dist::Exponential { mean })
    }

    /// Normal truncated at zero. The mean must be positive so that most draws are kept.
    pub fn normal(mean: f64, std_dev: f64) -> Result<Dist, DistError> {
        finite_positive("mean", mean)?;
        finite_non_negative("std_dev", std_dev)?;
        Ok(Dist::Normal { mean, std_dev })
    }

    /// Log-normal by the mean and standard deviation of its logarithm.
    pub fn lognormal(mu: f64, sigma: f64) -> Result<Dist, DistError> {
        check(mu.is_finite(), || format!("mu must be finite, got {mu}"))?;
        finite_non_negative("sigma", sigma)?;
        Ok(Dist::LogNormal { mu, sigma })
    }

    /// Log-normal with the given median and 99th percentile.
    pub fn lognormal_from_median_p99(median: f64, p99: f64) -> Result<Dist, DistError> {
        finite_positive("median", median)?;
        finite_positive("p99", p99)?;
        check(p99 > median, || format!("p99 ({p99}) must be greater than the median ({median})"))?;
        let mu = median.ln();
        Ok(Dist::LogNormal { mu, sigma: (p99.ln() - mu) / Z_99 })
    }

    /// Pareto with minimum `scale`, tail index `shape`, truncated at `max`.
    pub fn bounded_pareto(scale: f64, shape: f64, max: f64) -> Result<Dist, DistError> {
        finite_positive("scale", scale)?;
        finite_positive("shape", shape)?;
        finite_positive("max", max)?;
        check(max > scale, || format!("max ({max}) must be greater than scale ({scale})"))?;
        Ok(Dist::BoundedPareto { scale, shape, max })
    }

    /// Gamma with shape k and scale theta.
    pub fn gamma(shape: f64, scale: f64) -> Result<Dist, DistError> {
        finite_positive("shape", shape)?;
        finite_positive("scale", scale)?;
        let sampler = Gamma::new(shape, scale).map_err(|e| DistError(format!("gamma: {e}")))?;
        Ok(Dist::Gamma { sampler, shape, scale })
    }

    /// Erlang: the sum of `k` exponentials, with overall `mean`.
    pub fn erlang(k: u32, mean: f64) -> Result<Dist, DistError> {
        check(k >= 1, || "k must be at least 1".to_string())?;
        finite_positive("mean", mean)?;
        Dist::gamma(f64::from(k), mean / f64::from(k))
    }

    /// A weighted mixture of components.
    pub fn mixture(parts: Vec<(f64, Dist)>) -> Result<Dist, DistError> {
        check(!parts.is_empty(), || "a mixture needs at least one component".to_string())?;
        let mut total = 0.0;
        for (w, _) in &parts {
            finite_non_negative("weight", *w)?;
            total += w;
        }
        check(total > 0.0, || "mixture weights must not all be zero".to_string())?;
        let mut acc = 0.0;
        let n = parts.len();
        let parts = parts
            .into_iter()
            .enumerate()
            .map(|(i, (w, d))| {
                acc += w / total;
                // The last component takes whatever rounding left over.
                (if i + 1 == n { 1.0 } else { acc }, d)
            })
            .collect();
        Ok(Dist::Mixture { parts })
    }

    /// One of `values`, uniformly.
    pub fn choice(values: Vec<f64>) -> Result<Dist, DistError> {
        check(!values.is_empty(), || "an empirical list needs at least one value".to_string())?;
        for v in &values {
            finite_non_negative("value", *v)?;
        }
        Ok(Dist::Choice { values })
    }

    /// Inverse CDF through `(quantile, value)` points.
    pub fn quantiles(points: Vec<(f64, f64)>) -> Result<Dist, DistError> {
        check(points.len() >= 2, || "quantile points need at least two entries".to_string())?;
        check(points[0].0 == 0.0, || format!("the first quantile must be 0, got {}", points[0].0))?;
        let last = points[points.len() - 1].0;
        check(last == 1.0, || format!("the last quantile must be 1, got {last}"))?;
        for pair in points.windows(2) {
            let ((q0, v0), (q1, v1)) = (pair[0], pair[1]);
            check(q1 > q0, || format!("quantiles must increase: {q0} then {q1}"))?;
            check(v1 >= v0, || format!("values must not decrease: {v0} then {v1}"))?;
        }
        for (_, v) in &points {
            finite_non_negative("value", *v)?;
        }
        Ok(Dist::Quantiles { points })
    }

    /// Draws one value.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                mean * e
            }
            Dist::Normal { mean, std_dev } => {
                // The mean is positive, so each draw is kept with probability > 1/2; the
                // bound only guards against a pathological stream.
                for _ in 0..64 {
                    let z: f64 = StandardNormal.sample(rng);
                    let x = mean + std_dev * z;
                    if x >= 0.0 {
                        return x;
                    }
                }
                0.0
            }
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::BoundedPareto { scale, shape, max } => {
                let u: f64 = rng.random();
                let ratio = (scale / max).powf(*shape);
                scale / (1.0 - u * (1.0 - ratio)).powf(1.0 / shape)
            }
            Dist::Gamma { sampler, .. } => sampler.sample(rng),
            Dist::Mixture { parts } => {
                let u: f64 = rng.random();
                let (_, d) = parts.iter().find(|(cum, _)| u < *cum).unwrap_or(&parts[parts.len() - 1]);
                d.sample(rng)
            }
            Dist::Choice { values } => values[rng.random_range(0..values.len())],
            Dist::Quantiles { points } => {
                let u: f64 = rng.random();
                let i = points.partition_point(|(q, _)| *q <= u).clamp(1, points.len() - 1);
                let ((q0, v0), (q1, v1)) = (points[i - 1], points[i]);
                v0 + (v1 - v0) * (u - q0) / (q1 - q0)
            }
        }
    }

    /// The mean, where it has a closed form (the truncated normal is approximated by its
    /// untruncated mean when truncation is negligible, and left out otherwise).
    pub fn mean(&self) -> Option<f64> {
        match self {
            Dist::Constant(v) => Some(*v),
            Dist::Uniform { low, high } => Some((low + high) / 2.0),
            Dist::Exponential { mean } => Some(*mean),
            Dist::Normal { mean, std_dev } => (*mean >= 4.0 * std_dev).then_some(*mean),
            Dist::LogNormal { mu, sigma } => Some((mu + sigma * sigma / 2.0).exp()),
            Dist::BoundedPareto { scale, shape, max } => {
                let (l, h, a) = (*scale, *max, *shape);
                let denom = 1.0 - (l / h).powf(a);
                if (a - 1.0).abs() < 1e-12 {
                    Some(l * h / (h - l) * (h / l).ln())
                } else {
                    Some(l.powf(a) / denom * a / (a - 1.0) * (1.0 / l.powf(a - 1.0) - 1.0 / h.powf(a - 1.0)))
                }
            }
            Dist::Gamma { shape, scale, .. } => Some(shape * scale),
            Dist::Mixture { parts } => {
                let mut prev = 0.0;
                let mut total = 0.0;
                for (cum, d) in parts {
                    total += (cum - prev) * d.mean()?;
                    prev = *cum;
                }
                Some(total)
            }
            Dist::Choice { values } => Some(values.iter().sum::<f64>() / values.len() as f64),
            Dist::Quantiles { points } => {
                Some(points.windows(2).map(|p| (p[1].0 - p[0].0) * (p[0].1 + p[1].1) / 2.0).sum())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    /// Sample mean over n draws, compared with the closed form within 5 standard errors
    /// (a false failure has probability below 1e-6).
    fn mean_matches(d: &Dist, std_dev: f64) {
        let n = 200_000;
        let mut rng = stream(1, "dist-test");
        let sum: f64 = (0..n).map(|_| d.sample(&mut rng)).sum();
        let got = sum / n as f64;
        let want = d.mean().expect("closed-form mean");
        let tol = 5.0 * std_dev / (n as f64).sqrt();
        assert!((got - want).abs() < tol, "{d:?}: sample mean {got}, expected {want} +- {tol}");
    }

    #[test]
    fn sample_means_match_closed_forms() {
        mean_matches(&Dist::exponential(2.0).unwrap(), 2.0);
        mean_matches(&Dist::uniform(1.0, 3.0).unwrap(), 0.58);
        mean_matches(&Dist::normal(10.0, 1.0).unwrap(), 1.0);
        mean_matches(&Dist::erlang(4, 2.0).unwrap(), 1.0);
        mean_matches(&Dist::lognormal(0.0, 0.5).unwrap(), 0.61);
        mean_matches(&Dist::bounded_pareto(1.0, 1.5, 100.0).unwrap(), 3.0);
        mean_matches(&Dist::bounded_pareto(1.0, 1.0, 10.0).unwrap(), 2.5);
        let mix =
            Dist::mixture(vec![(3.0, Dist::constant(1.0).unwrap()), (1.0, Dist::constant(5.0).unwrap())]);
        mean_matches(&mix.unwrap(), 1.8);
        mean_matches(&Dist::choice(vec![1.0, 2.0, 6.0]).unwrap(), 2.2);
        mean_matches(&Dist::quantiles(vec![(0.0, 0.0), (0.5, 1.0), (1.0, 4.0)]).unwrap(), 1.2);
    }

    #[test]
    fn lognormal_from_median_and_p99_hits_both() {
        let d = Dist::lognormal_from_median_p99(8.0, 40.0).unwrap();
        let mut rng = stream(2, "lognormal");
        let mut xs: Vec<f64> = (0..400_000).map(|_| d.sample(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        let median = xs[xs.len() / 2];
        let p99 = xs[xs.len() * 99 / 100];
        assert!((median / 8.0 - 1.0).abs() < 0.01, "median {median}");
        assert!((p99 / 40.0 - 1.0).abs() < 0.03, "p99 {p99}");
    }

    #[test]
    fn bounded_pareto_stays_in_bounds() {
        let d = Dist::bounded_pareto(2.0, 0.8, 50.0).unwrap();
        let mut rng = stream(3, "pareto");
        for _ in 0..100_000 {
            let x = d.sample(&mut rng);
            assert!((2.0..=50.0).contains(&x), "{x}");
        }
    }

    #[test]
    fn truncated_normal_is_never_negative() {
        let d = Dist::normal(1.0, 5.0).unwrap();
        let mut rng = stream(4, "normal");
        assert!((0..100_000).all(|_| d.sample(&mut rng) >= 0.0));
    }

    #[test]
    fn bad_parameters_are_refused_with_a_reason() {
        assert!(Dist::exponential(0.0).unwrap_err().0.contains("mean"));
        assert!(Dist::lognormal_from_median_p99(10.0, 5.0).unwrap_err().0.contains("p99"));
        assert!(Dist::uniform(3.0, 1.0).is_err());
        assert!(Dist::quantiles(vec![(0.0, 1.0), (0.9, 2.0)]).is_err());
        assert!(Dist::quantiles(vec![(0.0, 3.0), (1.0, 2.0)]).is_err());
        assert!(Dist::mixture(vec![]).is_err());
        assert!(Dist::bounded_pareto(5.0, 1.0, 5.0).is_err());
        assert!(Dist::constant(f64::NAN).is_err());
        assert!(Dist::erlang(0, 1.0).is_err());
    }
}
