//! The goal board's rate and ranking rules.

/// Done and required missions of a member (or of a member in one bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub done: i32,
    pub required: i32,
}

/// done / required, when something was required (a skip is not done).
pub fn rate(c: Option<Counts>) -> Option<f64> {
    c.filter(|c| c.required > 0)
        .map(|c| f64::from(c.done) / f64::from(c.required))
}

/// The team rate: the mean of the member rates that exist.
pub fn team_rate(rates: &[Option<f64>]) -> Option<f64> {
    let known: Vec<f64> = rates.iter().flatten().copied().collect();
    (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
}

/// Ranks by rate, highest first; equal rates share a rank (1, 2, 2, 4); members
/// with no rate yet come last, sharing the rank after everyone rated.
pub fn ranking(rates: &[(String, Option<f64>)]) -> Vec<(String, i32)> {
    let mut sorted: Vec<&(String, Option<f64>)> = rates.iter().collect();
    sorted.sort_by(|a, b| {
        b.1.unwrap_or(-1.0)
            .total_cmp(&a.1.unwrap_or(-1.0))
            .then(a.0.cmp(&b.0))
    });
    let mut out = Vec::with_capacity(sorted.len());
    let mut rank = 0;
    let mut last: Option<Option<f64>> = None;
    for (i, (id, r)) in sorted.iter().enumerate() {
        let same = last.is_some_and(|l| match (l, r) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-9,
            (None, None) => true,
            _ => false,
        });
        if !same {
            rank = i as i32 + 1;
        }
        last = Some(*r);
        out.push((id.clone(), rank));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_a_rank_and_unrated_members_come_last() {
        let r = ranking(&[
            ("a".into(), Some(0.5)),
            ("b".into(), Some(1.0)),
            ("c".into(), Some(0.5)),
            ("d".into(), None),
            ("e".into(), Some(0.25)),
        ]);
        assert_eq!(
            r,
            vec![
                ("b".into(), 1),
                ("a".into(), 2),
                ("c".into(), 2),
                ("e".into(), 4),
                ("d".into(), 5),
            ]
        );
    }
}
