//! Peak position and full width at half maximum of a binned spectrum.

/// (peak wavelength, FWHM) of `values` on bin centres `nm`, or `None` for an empty
/// (all-zero) spectrum. The half-maximum crossings are interpolated linearly between
/// bins; a spectrum that does not fall to half its peak inside the window has its
/// width measured to the window's edge.
pub fn peak_and_fwhm(nm: &[f64], values: &[f64]) -> Option<(f64, f64)> {
    half_maximum(nm, values).map(|(peak, left, right)| (peak, right - left))
}

/// The peak wavelength of a spectrum: the vertex of the parabola through its highest
/// bin and the two beside it (the bin's centre at the window's edge), a smooth
/// function of the counts where the highest bin's centre jumps from bin to bin.
pub fn interpolated_peak(nm: &[f64], values: &[f64]) -> Option<f64> {
    let (i, &max) = values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    if max <= 0.0 {
        return None;
    }
    if i == 0 || i + 1 == values.len() {
        return Some(nm[i]);
    }
    let (a, b, c) = (values[i - 1], values[i], values[i + 1]);
    let curvature = a - 2.0 * b + c;
    let offset = if curvature < 0.0 {
        (0.5 * (a - c) / curvature).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    Some(nm[i] + offset * (nm[i + 1] - nm[i]))
}

/// The midpoint of the half-maximum crossings: the centre of a broad line, steadier
/// than the peak bin of a noisy flat-topped spectrum.
pub fn half_maximum_centre(nm: &[f64], values: &[f64]) -> Option<f64> {
    half_maximum(nm, values).map(|(_, left, right)| 0.5 * (left + right))
}

/// (peak wavelength, left and right half-maximum crossings).
fn half_maximum(nm: &[f64], values: &[f64]) -> Option<(f64, f64, f64)> {
    let (peak, &max) = values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    if max <= 0.0 {
        return None;
    }
    let half = 0.5 * max;
    let crossing = |i: usize, j: usize| {
        // Between bins i (≥ half) and j (< half).
        let t = (values[i] - half) / (values[i] - values[j]);
        nm[i] + t * (nm[j] - nm[i])
    };
    let left = (0..peak)
        .rev()
        .find(|&j| values[j] < half)
        .map_or(nm[0], |j| crossing(j + 1, j));
    let right = (peak + 1..values.len())
        .find(|&j| values[j] < half)
        .map_or(nm[values.len() - 1], |j| crossing(j - 1, j));
    Some((nm[peak], left, right))
}
