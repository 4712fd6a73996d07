//! How popular an article is, for ranking and the hot list.

/// Weighted events that saturate engagement at 1: an article read about a thousand times is as
/// popular as it gets for ranking.
const SATURATION: f64 = 1000.0;

/// Popularity in [0, 1], used as `relevance × (1 + 0.3 × popularity)`.
///
/// ```text
/// engagement = min(1, ln(1 + views + 2·clicks + 3·helpful) / ln(1 + 1000))
/// approval   = (helpful + 1) / (helpful + unhelpful + 2)        (0.5 with no votes)
/// popularity = engagement × (0.5 + 0.5 × approval)
/// ```
///
/// Logarithmic so the hundredth view counts less than the first; saturating so a few very popular
/// articles do not drown relevance; votes smoothed (Laplace) so one vote does not swing it. More views,
/// clicks or helpful votes never lower it; more unhelpful votes never raise it; nothing read is 0.
pub fn popularity(views: u64, clicks: u64, helpful: u64, unhelpful: u64) -> f32 {
    let weighted = hot_score(views, clicks, helpful) as f64;
    let engagement = ((1.0 + weighted).ln() / (1.0 + SATURATION).ln()).min(1.0);
    let approval = (helpful as f64 + 1.0) / (helpful as f64 + unhelpful as f64 + 2.0);
    (engagement * (0.5 + 0.5 * approval)).clamp(0.0, 1.0) as f32
}

/// The hot list's score for a period: views + 2 × clicks + 3 × helpful (saturating).
pub fn hot_score(views: u64, clicks: u64, helpful: u64) -> u64 {
    views
        .saturating_add(clicks.saturating_mul(2))
        .saturating_add(helpful.saturating_mul(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_score_weights() {
        assert_eq!(hot_score(10, 2, 1), 17);
        assert_eq!(hot_score(0, 0, 0), 0);
        assert_eq!(hot_score(u64::MAX, 1, 1), u64::MAX);
    }

    #[test]
    fn range_and_fixed_points() {
        assert_eq!(popularity(0, 0, 0, 0), 0.0);
        assert_eq!(popularity(0, 0, 0, 1000), 0.0);
        // 1000 views and no votes: engagement 1, approval 0.5 → 0.75.
        assert!((popularity(1000, 0, 0, 0) - 0.75).abs() < 1e-6);
        assert!(popularity(u64::MAX, u64::MAX, u64::MAX, 0) <= 1.0);
        assert!(popularity(u64::MAX, u64::MAX, u64::MAX, 0) > 0.99);
        for v in [1, 10, 100, 10_000, u64::MAX] {
            for u in [0, 1, 50, u64::MAX] {
                let p = popularity(v, v / 3, v / 7, u);
                assert!((0.0..=1.0).contains(&p), "{v} {u} → {p}");
            }
        }
    }

    #[test]
    fn monotone_in_every_input() {
        let base = (50, 5, 3, 2);
        let p = |(v, c, h, u): (u64, u64, u64, u64)| popularity(v, c, h, u);
        assert!(p((51, 5, 3, 2)) > p(base));
        assert!(p((50, 6, 3, 2)) > p(base));
        assert!(p((50, 5, 4, 2)) > p(base));
        assert!(p((50, 5, 3, 3)) < p(base));
        // Log-scaled: the first ten views add more than views 100 to 110.
        assert!(p((10, 0, 0, 0)) - p((0, 0, 0, 0)) > p((110, 0, 0, 0)) - p((100, 0, 0, 0)));
        // Saturating: past the cap only votes move it.
        assert_eq!(p((5000, 0, 0, 0)), p((9000, 0, 0, 0)));
    }
}
