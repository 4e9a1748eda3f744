//! Confidence intervals: Wilson's for a pass rate, Student's t for a mean over seeds, with
//! the t quantile computed exactly.

/// z for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A mean or a rate with its 95 % confidence interval.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Estimate {
    /// The point estimate.
    pub mean: f64,
    /// Lower bound; `None` when one observation leaves the interval undefined.
    pub low: Option<f64>,
    /// Upper bound.
    pub high: Option<f64>,
    /// Observations.
    pub n: u64,
}

/// The Wilson score interval (95 %) for `passes` out of `n` trials; `None` for no trials.
/// Unlike the normal approximation it stays inside [0, 1] and is not empty at 0 % or 100 %.
pub fn wilson(passes: u64, n: u64) -> Option<Estimate> {
    if n == 0 {
        return None;
    }
    let (k, n_f) = (passes as f64, n as f64);
    let p = k / n_f;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n_f)) / (1.0 + z2 / n_f);
    let half = Z95 / (1.0 + z2 / n_f) * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    Some(Estimate { mean: p, low: Some((centre - half).max(0.0)), high: Some((centre + half).min(1.0)), n })
}

/// The quantile `p` (in `(0, 1)`) of Student's t distribution with `df` degrees of freedom:
/// `t(0.975, 4)` is 2.776, the factor of a 95 % confidence interval over 5 values.
///
/// For integer `df` the distribution function has a closed form as a finite sum
/// (Abramowitz and Stegun 26.7.3 and 26.7.4, over `theta = atan(t / sqrt(df))`), which is
/// inverted by bisection to full double precision: no tables, no approximations, the same
/// bits on every machine. The cost is O(df) per step, fine for the seed counts of a
/// comparison (the normal limit is reached within 0.001 by df = 1000).
///
/// # Panics
/// If `df` is 0 or `p` is not strictly between 0 and 1.
pub fn t_quantile(p: f64, df: u64) -> f64 {
    assert!(df > 0, "Student's t needs at least one degree of freedom");
    assert!(p > 0.0 && p < 1.0, "a quantile is of a probability strictly between 0 and 1, got {p}");
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    // P(|T| < t) = 2p - 1 for the upper quantile.
    let target = 2.0 * p - 1.0;
    let mut hi = 1.0;
    // The bound doubles at most ~1000 times before overflowing to infinity, where A = 1.
    while t_central(hi, df) < target && hi < f64::MAX / 2.0 {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if t_central(mid, df) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// `P(|T| < t)` for Student's t with `df` degrees of freedom and `t >= 0` (Abramowitz and
/// Stegun 26.7.3, 26.7.4).
fn t_central(t: f64, df: u64) -> f64 {
    let theta = (t / (df as f64).sqrt()).atan();
    let (sin, cos) = theta.sin_cos();
    let c2 = cos * cos;
    // Terms of the finite series: odd df starts at cos (factors 2/3, 4/5, ...), even df at 1
    // (factors 1/2, 3/4, ...), up to cos^(df-2).
    let (mut term, mut k, first) = if df % 2 == 1 { (cos, 2u64, 1u64) } else { (1.0, 1u64, 0u64) };
    let mut sum = if df == 1 { 0.0 } else { term };
    let mut power = first;
    while power + 2 <= df.saturating_sub(2) {
        term *= c2 * k as f64 / (k + 1) as f64;
        sum += term;
        k += 2;
        power += 2;
    }
    if df % 2 == 1 {
        2.0 / std::f64::consts::PI * (theta + sin * sum)
    } else {
        sin * sum
    }
}

/// Mean and 95 % t interval of the finite values of `xs` (`None` if there are none; no
/// interval for one).
pub fn mean_ci(xs: impl IntoIterator<Item = f64>) -> Option<Estimate> {
    let xs: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
    let n = xs.len() as u64;
    if n == 0 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Some(Estimate { mean, low: None, high: None, n });
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t_quantile(0.975, n - 1) * (var / n as f64).sqrt();
    Some(Estimate { mean, low: Some(mean - half), high: Some(mean + half), n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables_and_tend_to_the_normal() {
        let close = |got: f64, want: f64| (got - want).abs() < 5e-4;
        for (df, want) in [(1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (9, 2.262), (30, 2.042)] {
            let got = t_quantile(0.975, df);
            assert!(close(got, want), "t(0.975, {df}) = {got}, tables say {want}");
        }
        assert!(close(t_quantile(0.95, 10), 1.812), "{}", t_quantile(0.95, 10));
        assert!(close(t_quantile(0.995, 5), 4.032), "{}", t_quantile(0.995, 5));
        assert!(close(t_quantile(0.975, 100_000), 1.960), "{}", t_quantile(0.975, 100_000));
        // Closed forms: df 1 is Cauchy, df 2 is t = (2p-1) / sqrt(2p(1-p)).
        assert!((t_quantile(0.9, 1) - (0.4 * std::f64::consts::PI).tan()).abs() < 1e-9);
        assert!((t_quantile(0.9, 2) - 0.8 / (2.0 * 0.9 * 0.1f64).sqrt()).abs() < 1e-9);
        assert_eq!(t_quantile(0.5, 7), 0.0);
        assert_eq!(t_quantile(0.025, 4), -t_quantile(0.975, 4));
    }

    #[test]
    fn wilson_intervals_match_a_worked_example_and_stay_in_range() {
        // 8 of 10: Wilson 95 % is [0.490, 0.943].
        let e = wilson(8, 10).unwrap();
        assert!((e.low.unwrap() - 0.490).abs() < 0.001 && (e.high.unwrap() - 0.943).abs() < 0.001, "{e:?}");
        let all = wilson(20, 20).unwrap();
        assert_eq!(all.high, Some(1.0));
        assert!(all.low.unwrap() > 0.8 && all.low.unwrap() < 0.9);
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn mean_intervals_cover_the_mean_and_narrow_with_more_data() {
        let small = mean_ci([1.0, 2.0, 3.0]).unwrap();
        assert_eq!(small.mean, 2.0);
        assert!((small.high.unwrap() - 2.0 - 4.302653 / 3f64.sqrt()).abs() < 1e-5);
        let big = mean_ci((0..30).map(|i| f64::from(i % 3 + 1))).unwrap();
        assert!(big.high.unwrap() - big.low.unwrap() < small.high.unwrap() - small.low.unwrap());
        assert_eq!(mean_ci([5.0, f64::NAN]).unwrap(), Estimate { mean: 5.0, low: None, high: None, n: 1 });
        assert_eq!(mean_ci([]), None);
    }
}
