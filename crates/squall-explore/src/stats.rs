//! Confidence intervals: Wilson's for a pass rate, Student's t for a mean over seeds.

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

/// The 0.975 quantile of Student's t with `df` degrees of freedom (two-sided 95 %).
/// Exact to three decimals from a table up to 30, then the Cornish-Fisher expansion around
/// the normal quantile, which is within 0.001 of the true value beyond 30.
pub fn t975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df as usize - 1],
        _ => {
            let (z, v) = (Z95, df as f64);
            z + (z.powi(3) + z) / (4.0 * v) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
        }
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
    let half = t975(n - 1) * (var / n as f64).sqrt();
    Some(Estimate { mean, low: Some(mean - half), high: Some(mean + half), n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables_and_tend_to_the_normal() {
        assert_eq!(t975(1), 12.706);
        assert_eq!(t975(4), 2.776);
        assert_eq!(t975(30), 2.042);
        assert!((t975(40) - 2.021).abs() < 0.001, "{}", t975(40));
        assert!((t975(120) - 1.980).abs() < 0.001, "{}", t975(120));
        assert!((t975(1_000_000) - 1.960).abs() < 0.001);
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
        assert!((small.high.unwrap() - 2.0 - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        let big = mean_ci((0..30).map(|i| f64::from(i % 3 + 1))).unwrap();
        assert!(big.high.unwrap() - big.low.unwrap() < small.high.unwrap() - small.low.unwrap());
        assert_eq!(mean_ci([5.0, f64::NAN]).unwrap(), Estimate { mean: 5.0, low: None, high: None, n: 1 });
        assert_eq!(mean_ci([]), None);
    }
}
