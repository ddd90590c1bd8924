//! Sampling an index in proportion to non-negative weights that change one at a time
//! (a Fenwick tree of partial sums: O(log n) updates and draws).

/// Weights with O(log n) updates and sampling proportional to weight (a Fenwick tree
/// of partial sums).
pub struct WeightTree {
    weights: Vec<f64>,
    tree: Vec<f64>,
}

impl WeightTree {
    pub fn new(weights: Vec<f64>) -> Self {
        let n = weights.len();
        let mut tree = vec![0.0; n + 1];
        for (i, w) in weights.iter().enumerate() {
            let mut k = i + 1;
            while k <= n {
                tree[k] += w;
                k += k & k.wrapping_neg();
            }
        }
        Self { weights, tree }
    }

    pub fn set(&mut self, i: usize, w: f64) {
        let delta = w - self.weights[i];
        self.weights[i] = w;
        let mut k = i + 1;
        while k < self.tree.len() {
            self.tree[k] += delta;
            k += k & k.wrapping_neg();
        }
    }

    pub fn total(&self) -> f64 {
        let mut k = self.weights.len();
        let mut sum = 0.0;
        while k > 0 {
            sum += self.tree[k];
            k -= k & k.wrapping_neg();
        }
        sum
    }

    /// The index whose cumulative weight interval holds `x` (0 ≤ x < total), moved to
    /// the nearest positive weight if rounding lands on a zero one.
    pub fn find(&self, mut x: f64) -> Option<usize> {
        let n = self.weights.len();
        let mut pos = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next] <= x {
                pos = next;
                x -= self.tree[next];
            }
            step >>= 1;
        }
        let i = pos.min(n - 1);
        if self.weights[i] > 0.0 {
            return Some(i);
        }
        (0..i)
            .rev()
            .chain(i + 1..n)
            .find(|&j| self.weights[j] > 0.0)
    }
}
